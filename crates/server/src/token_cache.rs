//! Who owns a bearer token, remembered in memory so that an API client's requests skip the
//! database lookup. On PostgreSQL that lookup is a network round trip on every request, which
//! costs the database more than the request's share of a batched vote does.
//!
//! Only owners found are remembered: a wrong token is looked up every time. An owner is kept for
//! at most [`MAX_AGE`], after which the next request looks the token up again and so records its
//! use (`last_used_ms`, written at most once a minute by the store).
//!
//! Revocation. The store's credentials version moves, by database triggers, whenever a token is
//! revoked or an account changes, whoever does it: this instance, another one, the CLI. A task
//! reads it every [`POLL`] and forgets every owner when it moved. An owner is believed only while
//! the last successful read started less than [`TRUSTED_FOR`] ago, so a revoked token is refused
//! by every instance at most [`TRUSTED_FOR`] after the revocation commits, also when the reads
//! fail or stall (every request then looks its token up, as without the cache). The instance
//! that revokes a token forgets at once ([`TokenCache::forget_all`]).

use marquee_store::{Store, StoreResult, User};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

/// How often the credentials version is read: a cheap one-row query, a few a second per instance.
pub const POLL: Duration = Duration::from_millis(250);
/// How old the last successful read of the version may be for a remembered owner to count. The
/// bound on how long a revoked token keeps working on another instance; several polls long, so
/// one slow read does not turn the cache off.
pub const TRUSTED_FOR: Duration = Duration::from_secs(1);
/// How long an owner is remembered at most.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// Most owners remembered; beyond it the oldest half is dropped. 64 Ki owners take ~10 MB.
const CAPACITY: usize = 65_536;

type TokenHash = [u8; 32];

#[derive(Default)]
pub struct TokenCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    owners: HashMap<TokenHash, Remembered>,
    /// Moves with every `forget`: a lookup that started before it must not store its answer.
    generation: u64,
    /// The credentials version last read, and when that read started.
    version: Option<i64>,
    read_at: Option<Instant>,
}

struct Remembered {
    user: User,
    since: Instant,
}

impl Inner {
    fn trusted(&self, now: Instant) -> bool {
        self.read_at
            .is_some_and(|at| now.saturating_duration_since(at) < TRUSTED_FOR)
    }

    fn forget(&mut self) {
        self.owners.clear();
        self.generation += 1;
    }
}

impl TokenCache {
    /// An empty cache, and the task that follows the credentials version; it stops when the
    /// cache is dropped.
    pub fn start(store: Arc<dyn Store>) -> Arc<Self> {
        let cache = Arc::new(Self::default());
        tokio::spawn(follow_version(Arc::downgrade(&cache), store));
        cache
    }

    /// The owner of the token with this hash: remembered, or looked up (which records the
    /// token's use) and then remembered.
    pub async fn owner(
        &self,
        store: &dyn Store,
        hash: TokenHash,
        now_ms: i64,
    ) -> StoreResult<Option<User>> {
        let generation = {
            let inner = self.lock();
            let now = Instant::now();
            if inner.trusted(now)
                && let Some(known) = inner.owners.get(&hash)
                && now.saturating_duration_since(known.since) < MAX_AGE
            {
                return Ok(Some(known.user.clone()));
            }
            inner.generation
        };
        let user = store.token_user(&hash, now_ms).await?;
        if let Some(user) = &user {
            let mut inner = self.lock();
            let now = Instant::now();
            // If everything was forgotten during the lookup, the revocation that caused it may
            // have committed after the lookup read the token: this answer is not to be kept.
            if inner.generation == generation && inner.trusted(now) {
                if inner.owners.len() >= CAPACITY {
                    make_room(&mut inner.owners);
                }
                inner.owners.insert(
                    hash,
                    Remembered {
                        user: user.clone(),
                        since: now,
                    },
                );
            }
        }
        Ok(user)
    }

    /// Forgets every owner: this instance just revoked a token or changed an account, and should
    /// not wait for the next read of the version to notice.
    pub fn forget_all(&self) {
        self.lock().forget();
    }

    /// Whether a request with this token would be answered from memory now.
    pub fn remembers(&self, hash: &TokenHash) -> bool {
        let inner = self.lock();
        let now = Instant::now();
        inner.trusted(now)
            && inner
                .owners
                .get(hash)
                .is_some_and(|known| now.saturating_duration_since(known.since) < MAX_AGE)
    }

    /// Records a read of the credentials version that started at `read_at`.
    fn saw(&self, version: i64, read_at: Instant) {
        let mut inner = self.lock();
        if inner.version != Some(version) {
            inner.forget();
            inner.version = Some(version);
        }
        inner.read_at = Some(read_at);
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics while holding the lock; if something did, the map is still whole.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Drops the older half of the owners (the first half of a sort by age).
fn make_room(owners: &mut HashMap<TokenHash, Remembered>) {
    let mut ages: Vec<Instant> = owners.values().map(|r| r.since).collect();
    ages.sort_unstable();
    let cut = ages[ages.len() / 2];
    owners.retain(|_, r| r.since > cut);
}

async fn follow_version(cache: Weak<TokenCache>, store: Arc<dyn Store>) {
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing_since: Option<Instant> = None;
    let mut warned = false;
    loop {
        tick.tick().await;
        let started = Instant::now();
        let read = store.credentials_version().await;
        let Some(cache) = cache.upgrade() else {
            return;
        };
        match read {
            Ok(version) => {
                cache.saw(version, started);
                if warned {
                    tracing::info!("reading the credentials version again; token cache back on");
                }
                (failing_since, warned) = (None, false);
            }
            Err(e) => {
                // Warn once the cache is off, not at the first failure: a read failing at
                // shutdown, after the pool closed, is no news.
                let since = *failing_since.get_or_insert(started);
                if !warned && started.saturating_duration_since(since) >= TRUSTED_FOR {
                    tracing::warn!(error = %e, "cannot read the credentials version; every request looks its token up");
                    warned = true;
                }
            }
        }
    }
}
