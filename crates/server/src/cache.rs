//! What every title page shows, kept in memory and dropped the moment any of it changes: the
//! film, its aggregates and its three most helpful reviews, plus, for signed-out visitors, the
//! finished page. A signed-out request for a cached film touches no database at all, which is
//! what lets a page with a histogram and ranked reviews be served about as fast as a file; a
//! signed-in request adds only the queries about that viewer, so its cost does not depend on
//! the film either.
//!
//! Each film has a version that every invalidation bumps. A reader records the version (a
//! [`Ticket`]) before it reads the database, and what it read is stored only if the version is
//! unchanged when it finishes, so data older than a concurrent write is never cached.

use bytes::Bytes;
use marquee_domain::MovieId;
use marquee_store::{MediaRecord, Movie, MovieStats, Review};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// A page ready to send.
#[derive(Clone)]
pub struct CachedPage {
    pub html: Bytes,
    pub etag: String,
}

/// The part of a title page that is the same for everyone.
#[derive(Debug)]
pub struct TitleData {
    pub movie: Movie,
    pub stats: MovieStats,
    /// The most helpful reviews, best first.
    pub top: Vec<Review>,
    /// The film's playable file, when it has one.
    pub media: Option<MediaRecord>,
}

struct Entry {
    /// The address the entry was read for: after a film's address changes on another instance,
    /// the old address may still point here and must not serve it.
    slug: String,
    data: Arc<TitleData>,
    page: Option<CachedPage>,
}

#[derive(Default)]
struct Inner {
    slugs: HashMap<String, MovieId>,
    entries: HashMap<MovieId, Entry>,
    versions: HashMap<MovieId, u64>,
    /// Bumped by [`PageCache::clear`], which invalidates every film at once.
    generation: u64,
}

impl Inner {
    fn entry(&self, slug: &str) -> Option<(MovieId, &Entry)> {
        let id = *self.slugs.get(slug)?;
        self.entries
            .get(&id)
            .filter(|e| e.slug == slug)
            .map(|e| (id, e))
    }

    fn ticket(&self, movie: MovieId) -> Ticket {
        Ticket {
            movie,
            version: self.versions.get(&movie).copied().unwrap_or(0),
            generation: self.generation,
        }
    }

    fn current(&self, t: Ticket) -> bool {
        self.versions.get(&t.movie).copied().unwrap_or(0) == t.version
            && self.generation == t.generation
    }
}

pub struct PageCache {
    inner: RwLock<Inner>,
    capacity: usize,
}

/// The state of a film's cache entry when a read began.
#[derive(Clone, Copy, Debug)]
pub struct Ticket {
    movie: MovieId,
    version: u64,
    generation: u64,
}

impl PageCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: RwLock::default(),
            capacity,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The finished signed-out page.
    pub fn get_page(&self, slug: &str) -> Option<CachedPage> {
        self.read().entry(slug).and_then(|(_, e)| e.page.clone())
    }

    /// The shared data, with the ticket it is valid under.
    pub fn get_data(&self, slug: &str) -> Option<(Ticket, Arc<TitleData>)> {
        let inner = self.read();
        inner
            .entry(slug)
            .map(|(id, e)| (inner.ticket(id), e.data.clone()))
    }

    /// Call before reading what the page shows.
    pub fn ticket(&self, movie: MovieId) -> Ticket {
        self.read().ticket(movie)
    }

    /// Stores data read under `ticket`, unless the film changed meanwhile.
    pub fn put_data(&self, ticket: Ticket, slug: &str, data: Arc<TitleData>) {
        let mut inner = self.write();
        if !inner.current(ticket) {
            return;
        }
        if inner.entries.len() >= self.capacity && !inner.entries.contains_key(&ticket.movie) {
            // Any victim will do: a miss costs one read, and hot films come straight back.
            if let Some(victim) = inner.entries.keys().next().copied() {
                inner.entries.remove(&victim);
            }
        }
        if inner.slugs.len() >= self.capacity * 4 {
            inner.slugs.clear();
        }
        inner.slugs.insert(slug.to_owned(), ticket.movie);
        inner.entries.insert(
            ticket.movie,
            Entry {
                slug: slug.to_owned(),
                data,
                page: None,
            },
        );
    }

    /// Adds the signed-out page rendered from the entry's data under `ticket`.
    pub fn put_page(&self, ticket: Ticket, slug: &str, page: CachedPage) {
        let mut inner = self.write();
        if !inner.current(ticket) {
            return;
        }
        if let Some(e) = inner
            .entries
            .get_mut(&ticket.movie)
            .filter(|e| e.slug == slug)
        {
            e.page = Some(page);
        }
    }

    /// Forgets a film after a rating, review or vote on it changed.
    pub fn invalidate(&self, movie: MovieId) {
        let mut inner = self.write();
        inner.entries.remove(&movie);
        *inner.versions.entry(movie).or_insert(0) += 1;
    }

    /// Forgets everything, e.g. after the catalog changed outside this process.
    pub fn clear(&self) {
        let mut inner = self.write();
        inner.slugs.clear();
        inner.entries.clear();
        inner.generation += 1;
    }

    /// Forgets a film and its address, after the film itself was edited or removed here.
    pub fn invalidate_movie(&self, movie: MovieId) {
        self.invalidate(movie);
        self.write().slugs.retain(|_, id| *id != movie);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use marquee_domain::MovieId;

    fn data(id: i64) -> Arc<TitleData> {
        Arc::new(TitleData {
            movie: Movie {
                id: MovieId(id),
                slug: String::new(),
                title: String::new(),
                original_title: None,
                year: None,
                runtime_minutes: None,
                synopsis: String::new(),
                genres: vec![],
                directors: vec![],
                cast: vec![],
                content_rating: String::new(),
                language: String::new(),
                poster: None,
                members_only: false,
                created_ms: 0,
                updated_ms: 0,
            },
            stats: MovieStats::default(),
            top: vec![],
            media: None,
        })
    }

    fn page(s: &str) -> CachedPage {
        CachedPage {
            html: Bytes::from(s.to_owned()),
            etag: s.to_owned(),
        }
    }

    fn store(cache: &PageCache, id: i64, slug: &str, tag: &str) {
        let t = cache.ticket(MovieId(id));
        cache.put_data(t, slug, data(id));
        cache.put_page(t, slug, page(tag));
    }

    #[test]
    fn data_read_before_a_write_is_not_cached_after_it() {
        let cache = PageCache::new(10);
        let t = cache.ticket(MovieId(1));
        cache.invalidate(MovieId(1));
        cache.put_data(t, "a", data(1));
        cache.put_page(t, "a", page("stale"));
        assert!(cache.get_data("a").is_none() && cache.get_page("a").is_none());
        store(&cache, 1, "a", "fresh");
        assert_eq!(cache.get_page("a").unwrap().etag, "fresh");
    }

    #[test]
    fn a_page_rendered_from_data_that_changed_meanwhile_is_refused() {
        let cache = PageCache::new(10);
        let t = cache.ticket(MovieId(1));
        cache.put_data(t, "a", data(1));
        let (t2, _) = cache.get_data("a").unwrap();
        cache.invalidate(MovieId(1));
        cache.put_page(t2, "a", page("stale"));
        assert!(cache.get_page("a").is_none());
    }

    #[test]
    fn the_cache_never_grows_past_its_capacity() {
        let cache = PageCache::new(2);
        for i in 0..5 {
            store(&cache, i, &format!("m{i}"), "x");
        }
        assert!(cache.read().entries.len() <= 2);
    }

    #[test]
    fn clearing_forgets_everything_and_refuses_reads_begun_before() {
        let cache = PageCache::new(10);
        store(&cache, 1, "a", "x");
        let t = cache.ticket(MovieId(1));
        cache.clear();
        assert!(cache.get_page("a").is_none());
        cache.put_data(t, "a", data(1));
        assert!(cache.get_data("a").is_none());
    }

    #[test]
    fn an_old_address_never_serves_the_page_of_the_new_one() {
        let cache = PageCache::new(10);
        store(&cache, 7, "old-slug", "old");
        // Another instance renamed the film: only the entry is invalidated here.
        cache.invalidate(MovieId(7));
        store(&cache, 7, "new-slug", "new");
        assert!(cache.get_page("old-slug").is_none() && cache.get_data("old-slug").is_none());
        assert_eq!(cache.get_page("new-slug").unwrap().etag, "new");
    }

    #[test]
    fn editing_a_film_forgets_its_old_address() {
        let cache = PageCache::new(10);
        store(&cache, 7, "old-slug", "x");
        cache.invalidate_movie(MovieId(7));
        assert!(cache.get_page("old-slug").is_none());
    }
}
