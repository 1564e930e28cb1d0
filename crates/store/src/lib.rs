//! The storage contract: the traits every backend (SQLite now, PostgreSQL next) implements, the
//! records they return, and the errors they can raise. Handlers only ever see these traits, so a
//! backend can be swapped without touching a page or an API endpoint.

pub mod catalog;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod devices;
mod error;
pub mod import;
pub mod lists;
pub mod media;
mod records;
pub mod transfer;
pub mod votes;

pub use catalog::{
    BrowseCursor, BrowseFilter, BrowseQuery, BrowseSort, CatalogStore, CreditRole, CursorKey,
    MovieCard, PersonCredit, SearchHit, SearchMatch, SearchTerms,
};
pub use devices::{
    DeviceCode, DeviceCodeState, DeviceDecision, DevicePoll, DeviceStore, NewDeviceCode,
};
pub use error::StoreError;
pub use import::{
    ExternalRating, FilmOutcome, ImportCounts, ImportFilm, ImportRating, ImportStore, ImportUser,
};
pub use lists::{
    Day, DiaryEntry, LeavingReviews, ListStore, NewDiaryEntry, RatedFilm, WatchlistEntry,
};
pub use media::{
    Job, JobState, MediaRecord, MediaStore, NewMedia, PlaybackPosition, SubtitleRecord,
};
pub use records::*;
pub use transfer::Transfer;
pub use votes::{VoteChange, VoteRejection};

use async_trait::async_trait;
use marquee_domain::{MovieDraft, MovieId, ReviewFilter, ReviewId, UserId};

pub type StoreResult<T> = Result<T, StoreError>;

/// The catalog.
#[async_trait]
pub trait MovieStore: Send + Sync {
    /// Adds a film; `Conflict` when its slug is taken.
    async fn create_movie(&self, draft: &MovieDraft) -> StoreResult<Movie>;
    /// Replaces a film's details (credits and genres included); ratings stay.
    async fn update_movie(&self, id: MovieId, draft: &MovieDraft) -> StoreResult<Movie>;
    /// Removes a film with its ratings, reviews and votes.
    async fn delete_movie(&self, id: MovieId) -> StoreResult<()>;
    /// Records the stored poster's file name (or clears it).
    async fn set_poster(&self, id: MovieId, poster: Option<&str>) -> StoreResult<()>;
    /// Makes watching the film public or for signed-in viewers only.
    async fn set_members_only(&self, id: MovieId, members_only: bool) -> StoreResult<()>;
    async fn movie_by_id(&self, id: MovieId) -> StoreResult<Option<Movie>>;
    async fn movie_by_slug(&self, slug: &str) -> StoreResult<Option<Movie>>;
    /// Films ordered by title then id, after the given `(title, id)` position.
    async fn list_movies(
        &self,
        after: Option<(&str, MovieId)>,
        limit: u32,
    ) -> StoreResult<Vec<Movie>>;
    async fn count_movies(&self) -> StoreResult<u64>;
    /// A value that changes whenever a film is added, edited or removed, by this process or
    /// another (the command line), so a server can notice catalog changes it did not make.
    async fn catalog_fingerprint(&self) -> StoreResult<(u64, i64)>;
}

/// Ratings, reviews and helpful votes, with the per-film aggregates kept in step.
#[async_trait]
pub trait ReviewStore: Send + Sync {
    /// Creates or replaces the user's rating of a film and updates the film's aggregates in the
    /// same transaction. Changing the text of a review removes the votes on the old text.
    async fn put_rating(
        &self,
        movie: MovieId,
        user: UserId,
        rating: &RatingInput,
    ) -> StoreResult<Review>;
    /// Removes the user's rating, its review and its votes. `NotFound` when there is none.
    async fn delete_rating(&self, movie: MovieId, user: UserId) -> StoreResult<()>;
    async fn rating_by_user(&self, movie: MovieId, user: UserId) -> StoreResult<Option<Review>>;
    async fn review_by_id(&self, id: ReviewId) -> StoreResult<Option<Review>>;
    /// Reviews (ratings with text) of a film in the filter's order, at most `filter.limit`.
    async fn list_reviews(&self, movie: MovieId, filter: &ReviewFilter)
    -> StoreResult<Vec<Review>>;
    /// The aggregates shown on the title page.
    async fn movie_stats(&self, movie: MovieId) -> StoreResult<MovieStats>;
    /// Applies a batch of helpful votes in one transaction, in order, as if each were applied
    /// alone, and answers each one. Announces the films whose reviews changed on the change feed
    /// (inside the transaction where the backend can). `Err` only when the database fails, and
    /// then nothing of the batch is stored.
    async fn apply_votes(
        &self,
        changes: &[VoteChange],
    ) -> StoreResult<Vec<Result<VoteTally, VoteRejection>>>;
    /// Casts or changes a helpful vote. `Forbidden` on one's own review, `Conflict` when the same
    /// vote was already cast, `NotFound` for a missing review.
    async fn put_vote(
        &self,
        review: ReviewId,
        voter: UserId,
        helpful: bool,
    ) -> StoreResult<VoteTally> {
        self.apply_vote(VoteChange {
            review,
            voter,
            helpful: Some(helpful),
        })
        .await
    }
    /// Withdraws a vote; `NotFound` when there was none.
    async fn delete_vote(&self, review: ReviewId, voter: UserId) -> StoreResult<VoteTally> {
        self.apply_vote(VoteChange {
            review,
            voter,
            helpful: None,
        })
        .await
    }
    /// One vote as a batch of its own.
    async fn apply_vote(&self, change: VoteChange) -> StoreResult<VoteTally> {
        match self.apply_votes(&[change]).await?.pop() {
            Some(answer) => Ok(answer?),
            None => Err(StoreError::backend(std::io::Error::other(
                "a vote batch gave no answer",
            ))),
        }
    }
    /// The user's votes on the given reviews (`true` = helpful).
    async fn votes_by_user(
        &self,
        voter: UserId,
        reviews: &[ReviewId],
    ) -> StoreResult<Vec<(ReviewId, bool)>>;
    /// Recomputes every aggregate from the stored rows and reports any that disagree; an empty
    /// list means the counters are consistent.
    async fn audit_aggregates(&self) -> StoreResult<Vec<String>>;
}

/// Accounts, sessions, tokens and sign-in throttling.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates an account; the first one ever created is the admin. `Conflict` on a taken name.
    async fn create_user(&self, new: &NewUser) -> StoreResult<User>;
    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<User>>;
    /// The account and its password hash, for signing in.
    async fn credentials(&self, username: &str) -> StoreResult<Option<(User, String)>>;
    async fn count_users(&self) -> StoreResult<u64>;

    async fn create_session(
        &self,
        id_hash: &[u8],
        user: UserId,
        now_ms: i64,
        expires_ms: i64,
    ) -> StoreResult<()>;
    /// The signed-in user of an unexpired session.
    async fn session_user(&self, id_hash: &[u8], now_ms: i64) -> StoreResult<Option<User>>;
    async fn delete_session(&self, id_hash: &[u8]) -> StoreResult<()>;

    async fn create_token(
        &self,
        user: UserId,
        name: &str,
        token_hash: &[u8],
        now_ms: i64,
    ) -> StoreResult<ApiToken>;
    /// The owner of a token, recording its use.
    async fn token_user(&self, token_hash: &[u8], now_ms: i64) -> StoreResult<Option<User>>;
    async fn list_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>>;
    /// `NotFound` when the token does not exist or belongs to someone else.
    async fn delete_token(&self, user: UserId, id: i64) -> StoreResult<()>;
    /// A number that moves whenever a token is revoked or rewritten, or an account is changed
    /// or deleted, whoever does it (another instance, the CLI): triggers in the database move
    /// it, so no code path can forget to. Instances that remember who owns a token forget
    /// everything they remember when it moves.
    async fn credentials_version(&self) -> StoreResult<i64>;

    /// Counts a failed sign-in under `key` within a window that starts at the first failure and
    /// lasts `window_ms`; returns the failures in the current window.
    async fn record_login_failure(
        &self,
        key: &str,
        now_ms: i64,
        window_ms: i64,
    ) -> StoreResult<u32>;
    /// Failures under `key` in the current window (0 when the window has passed).
    async fn login_failures(&self, key: &str, now_ms: i64, window_ms: i64) -> StoreResult<u32>;
    async fn clear_login_failures(&self, key: &str) -> StoreResult<()>;

    /// Deletes expired sessions and sign-in failure counts older than `before_ms`; returns how
    /// many rows went.
    async fn purge_expired(&self, now_ms: i64, before_ms: i64) -> StoreResult<u64>;

    /// A named secret shared by every instance: stored on first use with `candidate`, and from
    /// then on always the stored value.
    async fn shared_secret(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>>;
}

/// A change that every instance must hear about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Something a film's pages show changed: a rating, review or the film itself.
    Movie(MovieId),
    /// Only helpful votes on the film's reviews changed: its pages, but no search result or
    /// catalog page (those show no votes), so caches of listings may stay.
    Votes(MovieId),
    /// Announcements may have been missed (the feed reconnected): assume everything changed.
    Reset,
}

/// The backend as a whole: its name, shutdown, and the change feed that keeps several
/// instances' caches honest.
#[async_trait]
pub trait Backend: Send + Sync {
    /// `sqlite` or `postgres`, for logs.
    fn name(&self) -> &'static str;
    /// How many write transactions (vote batches) are worth running at once: one where the
    /// database has a single writer, more where commits wait on the disk in parallel.
    fn write_concurrency(&self) -> usize {
        1
    }
    /// Closes connections cleanly (the SQLite WAL is checkpointed).
    async fn close(&self);
    /// Tells every instance that what shows this film changed. A no-op where one process owns
    /// the database.
    async fn announce(&self, movie: MovieId) -> StoreResult<()>;
    /// Tells every instance that anything may have changed (after a bulk import, which touches
    /// too many films to name each). A no-op where one process owns the database: there the
    /// server notices the catalog's new fingerprint.
    async fn announce_all(&self) -> StoreResult<()> {
        Ok(())
    }
    /// Changes announced by any instance, or `None` when the backend has no feed.
    async fn subscribe(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<Change>>>;
    /// Claims (or renews) the lease on a background job until `now_ms + ttl_ms`. True for exactly
    /// one holder at a time, however many instances try at once; a lease nobody renews expires.
    async fn claim_lease(
        &self,
        job: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> StoreResult<bool>;
}

/// Everything a backend offers.
pub trait Store:
    MovieStore
    + CatalogStore
    + ReviewStore
    + UserStore
    + MediaStore
    + DeviceStore
    + ImportStore
    + ListStore
    + Backend
    + Transfer
    + 'static
{
}

impl<
    T: MovieStore
        + CatalogStore
        + ReviewStore
        + UserStore
        + MediaStore
        + DeviceStore
        + ImportStore
        + ListStore
        + Backend
        + Transfer
        + 'static,
> Store for T
{
}
