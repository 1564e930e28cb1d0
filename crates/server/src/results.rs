//! Search results, catalog pages and genre counts, kept in memory between requests.
//!
//! People type the same searches and open the same catalog pages again and again, and each
//! answer costs a full-text or filtered query over the whole catalog; a repeated one is served
//! from here without touching the database, which is what keeps search fast at many
//! connections. Correctness comes from invalidation, not from the clock: every change this
//! instance makes to what a card shows (a film added, edited or removed, a rating, a review),
//! every such change another instance announces (not its helpful votes: no card shows them),
//! and every catalog change noticed from another process drops everything at once
//! ([`Results::clear`]). A time limit
//! ([`RESULT_TTL`]) bounds what no announcement reaches (a bulk import run beside a server
//! without a change feed is noticed by polling, which can miss a change that leaves the
//! catalog's fingerprint as it was).
//!
//! A reader takes a [`Ticket`] before it queries the store and the answer is kept only under
//! that ticket's generation: an answer read across a concurrent change is never served again.

use bytes::Bytes;
use marquee_store::{MovieCard, SearchHit, SearchTerms};
use quick_cache::sync::Cache;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The longest an answer is reused even when no change was announced.
pub const RESULT_TTL: Duration = Duration::from_secs(30);

/// The state of a cache when a read began.
#[derive(Debug, Clone, Copy)]
pub struct Ticket(u64);

struct Entry<T> {
    generation: u64,
    at: Instant,
    value: Arc<T>,
}

impl<T> Clone for Entry<T> {
    fn clone(&self) -> Self {
        Self {
            generation: self.generation,
            at: self.at,
            value: self.value.clone(),
        }
    }
}

/// Answers of one kind by request key, at most `capacity` of them (the least used go first).
pub struct ResultCache<T> {
    entries: Cache<String, Entry<T>>,
    generation: AtomicU64,
    ttl: Duration,
}

impl<T> ResultCache<T> {
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            entries: Cache::new(capacity),
            generation: AtomicU64::new(0),
            ttl,
        }
    }

    /// Call before reading the store.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.generation.load(Ordering::Acquire))
    }

    /// The kept answer, when nothing changed since it was read and it is young enough.
    pub fn get(&self, key: &str) -> Option<Arc<T>> {
        let e = self.entries.get(key)?;
        (e.generation == self.generation.load(Ordering::Acquire) && e.at.elapsed() < self.ttl)
            .then_some(e.value)
    }

    /// Keeps an answer read under `ticket`. One read across a change is stored under the old
    /// generation, so [`get`](Self::get) never returns it: no lock is needed between the check
    /// and the insert.
    pub fn put(&self, ticket: Ticket, key: String, value: Arc<T>) {
        if ticket.0 == self.generation.load(Ordering::Acquire) {
            self.entries.insert(
                key,
                Entry {
                    generation: ticket.0,
                    at: Instant::now(),
                    value,
                },
            );
        }
    }

    /// The kept answer for `key`, or `load`'s, which is then kept.
    pub async fn get_or_load<E, F>(&self, key: String, load: F) -> Result<Arc<T>, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        if let Some(hit) = self.get(&key) {
            return Ok(hit);
        }
        let ticket = self.ticket();
        let value = Arc::new(load.await?);
        self.put(ticket, key, value.clone());
        Ok(value)
    }

    /// Forgets every answer.
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// One page of the catalog and the cursor of the next.
pub type CatalogPage = (Vec<MovieCard>, Option<String>);

/// Every kind of answer this instance keeps.
pub struct Results {
    pub search: ResultCache<Vec<SearchHit>>,
    pub catalog: ResultCache<CatalogPage>,
    pub genres: ResultCache<Vec<(String, u64)>>,
    /// Finished JSON bodies of the API's catalog, search and suggestion answers: a repeated
    /// request is then only a lookup, not also the serialization of fifty cards.
    pub api: ResultCache<Bytes>,
}

impl Default for Results {
    fn default() -> Self {
        Self {
            // A search answer is at most 50 cards; 8,192 of them stay well under 100 MB.
            search: ResultCache::new(8192, RESULT_TTL),
            catalog: ResultCache::new(4096, RESULT_TTL),
            genres: ResultCache::new(1, RESULT_TTL),
            api: ResultCache::new(8192, RESULT_TTL),
        }
    }
}

impl Results {
    /// Forgets everything: something a card shows may have changed.
    pub fn clear(&self) {
        self.search.clear();
        self.catalog.clear();
        self.genres.clear();
        self.api.clear();
    }

    /// The key of a search: its normalized words and the number of results asked for, so
    /// "Heat", "heat " and "HEAT" share one answer.
    pub fn search_key(terms: &SearchTerms, limit: u32) -> String {
        format!("{limit}\u{1f}{}", terms.terms().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_answer_is_reused_until_cleared() {
        let cache = ResultCache::<u32>::new(16, RESULT_TTL);
        let first = cache
            .get_or_load("k".into(), async { Ok::<_, ()>(1) })
            .await
            .unwrap();
        let again = cache
            .get_or_load("k".into(), async { Ok::<_, ()>(2) })
            .await
            .unwrap();
        assert_eq!((*first, *again), (1, 1));
        cache.clear();
        let after = cache
            .get_or_load("k".into(), async { Ok::<_, ()>(3) })
            .await
            .unwrap();
        assert_eq!(*after, 3);
    }

    #[test]
    fn an_answer_read_across_a_change_is_not_kept() {
        let cache = ResultCache::<u32>::new(16, RESULT_TTL);
        let ticket = cache.ticket();
        cache.clear();
        cache.put(ticket, "k".into(), Arc::new(1));
        assert!(cache.get("k").is_none());
        cache.put(cache.ticket(), "j".into(), Arc::new(2));
        assert_eq!(cache.get("j").as_deref(), Some(&2));
    }

    #[test]
    fn old_answers_expire() {
        let cache = ResultCache::<u32>::new(16, Duration::ZERO);
        cache.put(cache.ticket(), "k".into(), Arc::new(1));
        assert!(cache.get("k").is_none());
    }

    #[tokio::test]
    async fn errors_are_not_kept() {
        let cache = ResultCache::<u32>::new(16, RESULT_TTL);
        let failed = cache.get_or_load("k".into(), async { Err("down") }).await;
        assert_eq!(failed, Err("down"));
        assert!(cache.is_empty());
    }

    #[test]
    fn searches_that_differ_only_in_case_and_spacing_share_a_key() {
        let a = Results::search_key(&SearchTerms::parse("The  Heat"), 20);
        let b = Results::search_key(&SearchTerms::parse("the heat "), 20);
        let c = Results::search_key(&SearchTerms::parse("the heat"), 8);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
