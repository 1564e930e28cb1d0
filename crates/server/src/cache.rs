//! Rendered title pages for signed-out visitors, kept in memory and dropped the moment anything
//! they show changes. A signed-out request for a cached film touches no database at all, which
//! is what lets a page with a histogram and ranked reviews be served about as fast as a file.
//!
//! Each film has a version that every invalidation bumps. A render records the version before it
//! reads the database and is stored only if the version is unchanged when it finishes, so a page
//! rendered from data older than a concurrent write can never be cached.

use bytes::Bytes;
use marquee_domain::MovieId;
use std::collections::HashMap;
use std::sync::RwLock;

/// A page ready to send.
#[derive(Clone)]
pub struct CachedPage {
    pub html: Bytes,
    pub etag: String,
}

#[derive(Default)]
struct Inner {
    slugs: HashMap<String, MovieId>,
    /// Each page with the address it was rendered for: after a film's address changes on
    /// another instance, the old address may still point here and must not serve it.
    pages: HashMap<MovieId, (String, CachedPage)>,
    versions: HashMap<MovieId, u64>,
    /// Bumped by [`PageCache::clear`], which invalidates every film at once.
    generation: u64,
}

pub struct PageCache {
    inner: RwLock<Inner>,
    capacity: usize,
}

/// The state of a film's cache entry when a render began.
#[derive(Clone, Copy)]
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

    pub fn get(&self, slug: &str) -> Option<CachedPage> {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        let id = inner.slugs.get(slug)?;
        inner
            .pages
            .get(id)
            .filter(|(s, _)| s == slug)
            .map(|(_, p)| p.clone())
    }

    /// Call before reading what the page shows.
    pub fn ticket(&self, movie: MovieId) -> Ticket {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        Ticket {
            movie,
            version: inner.versions.get(&movie).copied().unwrap_or(0),
            generation: inner.generation,
        }
    }

    /// Stores a page rendered under `ticket`, unless the film changed meanwhile.
    pub fn put(&self, ticket: Ticket, slug: &str, page: CachedPage) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if inner.versions.get(&ticket.movie).copied().unwrap_or(0) != ticket.version
            || inner.generation != ticket.generation
        {
            return;
        }
        if inner.pages.len() >= self.capacity && !inner.pages.contains_key(&ticket.movie) {
            // Any victim will do: a miss costs one render, and hot pages come straight back.
            if let Some(victim) = inner.pages.keys().next().copied() {
                inner.pages.remove(&victim);
            }
        }
        if inner.slugs.len() >= self.capacity * 4 {
            inner.slugs.clear();
        }
        inner.slugs.insert(slug.to_owned(), ticket.movie);
        inner.pages.insert(ticket.movie, (slug.to_owned(), page));
    }

    /// Forgets a film's page after a rating, review or vote on it changed.
    pub fn invalidate(&self, movie: MovieId) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        inner.pages.remove(&movie);
        *inner.versions.entry(movie).or_insert(0) += 1;
    }

    /// Forgets every page, e.g. after the catalog changed outside this process.
    pub fn clear(&self) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        inner.slugs.clear();
        inner.pages.clear();
        inner.generation += 1;
    }

    /// Forgets a film's page and its address, after the film itself was edited or removed.
    pub fn invalidate_movie(&self, movie: MovieId) {
        self.invalidate(movie);
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        inner.slugs.retain(|_, id| *id != movie);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(s: &str) -> CachedPage {
        CachedPage {
            html: Bytes::from(s.to_owned()),
            etag: s.to_owned(),
        }
    }

    #[test]
    fn a_page_rendered_before_a_write_is_not_cached_after_it() {
        let cache = PageCache::new(10);
        let t = cache.ticket(MovieId(1));
        cache.invalidate(MovieId(1));
        cache.put(t, "a", page("stale"));
        assert!(cache.get("a").is_none());
        let t = cache.ticket(MovieId(1));
        cache.put(t, "a", page("fresh"));
        assert_eq!(cache.get("a").unwrap().etag, "fresh");
    }

    #[test]
    fn the_cache_never_grows_past_its_capacity() {
        let cache = PageCache::new(2);
        for i in 0..5 {
            let t = cache.ticket(MovieId(i));
            cache.put(t, &format!("m{i}"), page("x"));
        }
        assert!(cache.inner.read().unwrap().pages.len() <= 2);
    }

    #[test]
    fn clearing_forgets_every_page_and_refuses_renders_begun_before() {
        let cache = PageCache::new(10);
        let t = cache.ticket(MovieId(1));
        cache.put(t, "a", page("x"));
        let t = cache.ticket(MovieId(1));
        cache.clear();
        assert!(cache.get("a").is_none());
        cache.put(t, "a", page("stale"));
        assert!(cache.get("a").is_none());
    }

    #[test]
    fn an_old_address_never_serves_the_page_of_the_new_one() {
        let cache = PageCache::new(10);
        let t = cache.ticket(MovieId(7));
        cache.put(t, "old-slug", page("old"));
        // Another instance renamed the film: only the page is invalidated here.
        cache.invalidate(MovieId(7));
        let t = cache.ticket(MovieId(7));
        cache.put(t, "new-slug", page("new"));
        assert!(cache.get("old-slug").is_none());
        assert_eq!(cache.get("new-slug").unwrap().etag, "new");
    }

    #[test]
    fn editing_a_film_forgets_its_old_address() {
        let cache = PageCache::new(10);
        let t = cache.ticket(MovieId(7));
        cache.put(t, "old-slug", page("x"));
        cache.invalidate_movie(MovieId(7));
        assert!(cache.get("old-slug").is_none());
    }
}
