//! What every handler can reach: the store, the page cache, the keys and the settings. Cheap to
//! clone (one reference count); built once at start-up (or once per test, with any backend).

use crate::auth::Keys;
use crate::cache::PageCache;
use crate::votes::VoteQueue;
use marquee_media::Tools;
use marquee_media_store::MediaStorage;
use marquee_store::{Change, Store};
use std::path::PathBuf;
use std::sync::Arc;

/// The state, shared: every request's extractors clone it, so a clone is one reference count.
/// (As a struct of a dozen `Arc`s, cloning and dropping it per request took a quarter of a
/// cached title page's CPU time: each count is an atomic that both cores fight over.)
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

#[derive(Clone)]
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub cache: Arc<PageCache>,
    /// The home page's shelves, shared by every visitor for a few seconds.
    pub shelves: Arc<crate::browse::ShelfCache>,
    /// Search results, catalog pages and genre counts, dropped at any change.
    pub results: Arc<crate::results::Results>,
    /// Helpful votes, applied in batches.
    pub votes: VoteQueue,
    /// Who owns a bearer token, remembered until a credential changes.
    pub tokens: Arc<crate::token_cache::TokenCache>,
    /// Where media files, subtitles and HLS packaging live.
    pub media: Arc<dyn MediaStorage>,
    /// ffmpeg and ffprobe.
    pub tools: Tools,
    pub keys: Keys,
    pub settings: Arc<Settings>,
    /// A real argon2id hash of a random password, checked when a sign-in names an unknown user
    /// so that the answer takes as long as for a known one.
    pub dummy_hash: Arc<str>,
}

/// Settings that shape responses.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The address people use, e.g. `https://films.example.org`; decides the cookies' Secure flag.
    pub public_url: String,
    /// Where posters and other uploaded files live.
    pub data_dir: PathBuf,
    /// Failed sign-ins allowed per account (and ten times that per client address) per window.
    pub signin_failures_allowed: u32,
    pub signin_window_ms: i64,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// `s3://bucket/prefix` or a folder; `None`: `media/` in the data folder.
    pub media_url: Option<String>,
}

impl Settings {
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    pub fn poster_dir(&self) -> PathBuf {
        self.data_dir.join("posters")
    }
}

impl AppState {
    /// Drops what this instance keeps that `change` makes stale, whether the change was made
    /// here or announced by another instance: the rule for both, in one place.
    pub fn forget(&self, change: Change) {
        match change {
            Change::Movie(movie) => {
                self.cache.invalidate(movie);
                self.results.clear();
            }
            // No search result or catalog page shows votes: those stay kept. Clearing them for
            // every vote batch left search uncached under a steady stream of votes.
            Change::Votes(movie) => self.cache.invalidate(movie),
            Change::Reset => {
                self.cache.clear();
                self.results.clear();
            }
        }
    }

    /// Records that what a film's pages show changed: drops this instance's cached page and
    /// tells the other instances (through the store's change feed) to drop theirs.
    pub async fn changed(&self, movie: marquee_domain::MovieId) {
        self.forget(Change::Movie(movie));
        if let Err(e) = self.store.announce(movie).await {
            // The write itself succeeded; other instances catch up at their next reset.
            tracing::warn!(movie.id = %movie, error = %e, "could not announce a change");
        }
    }

    /// Records that any film's pages may have changed (a write whose films can not be listed):
    /// drops everything this instance cached and tells the other instances to do the same.
    pub async fn changed_everything(&self) {
        self.forget(Change::Reset);
        if let Err(e) = self.store.announce_all().await {
            tracing::warn!(error = %e, "could not announce a change to every film");
        }
    }

    /// Loads (or on first start creates) the shared keys and builds the state.
    pub async fn new(store: Arc<dyn Store>, settings: Settings) -> anyhow::Result<Self> {
        let csrf = store
            .shared_secret("csrf-key", &Keys::generate_secret())
            .await?;
        let keys = Keys::new(&csrf)?;
        let media =
            marquee_media_store::open(settings.media_url.as_deref(), &settings.data_dir).await?;
        let dummy = marquee_domain::Password::parse(&crate::auth::random_token())?;
        let dummy_hash =
            tokio::task::spawn_blocking(move || crate::auth::hash_password(&dummy)).await??;
        Ok(Self(Arc::new(Shared {
            shelves: Arc::default(),
            results: Arc::default(),
            votes: VoteQueue::start(store.clone()),
            tokens: crate::token_cache::TokenCache::start(store.clone()),
            media,
            tools: Tools::default(),
            store,
            cache: Arc::new(PageCache::new(4096)),
            keys,
            settings: Arc::new(settings),
            dummy_hash: dummy_hash.into(),
        })))
    }

    /// The same state with its media in `media` (the S3 server in tests).
    pub fn with_media(&self, media: Arc<dyn MediaStorage>) -> Self {
        Self(Arc::new(Shared {
            media,
            ..Shared::clone(&self.0)
        }))
    }
}
