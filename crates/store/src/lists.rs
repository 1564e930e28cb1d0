//! What a viewer keeps: a watchlist, a diary of films watched (with dates, as Letterboxd has),
//! their ratings for the profile page, and the account's end.

use async_trait::async_trait;
use marquee_domain::{MovieId, Stars, UserId};
use serde::Serialize;

use crate::{MovieCard, Review, StoreResult};

/// A calendar date as `YYYY-MM-DD`: the viewer's own day, without a time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "String")]
pub struct Day(time::Date);

impl Day {
    pub fn new(date: time::Date) -> Self {
        Self(date)
    }

    pub fn parse(raw: &str) -> Result<Self, marquee_domain::ValidationError> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(raw.trim(), format)
            .map(Self)
            .map_err(|_| {
                marquee_domain::ValidationError::new("date", "must be a date such as 2024-05-31")
            })
            .and_then(|d| {
                if (1888..=2100).contains(&d.0.year()) {
                    Ok(d)
                } else {
                    Err(marquee_domain::ValidationError::new(
                        "date",
                        "must be between 1888 and 2100",
                    ))
                }
            })
    }

    /// The UTC day of a moment.
    pub fn of_ms(unix_ms: i64) -> Self {
        let t = time::OffsetDateTime::from_unix_timestamp(unix_ms.div_euclid(1000))
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        Self(t.date())
    }

    pub fn date(self) -> time::Date {
        self.0
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        )
    }
}

impl From<Day> for String {
    fn from(d: Day) -> String {
        d.to_string()
    }
}

/// A film on a watchlist.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatchlistEntry {
    pub card: MovieCard,
    pub added_ms: i64,
}

/// A diary entry: the viewer watched this film on that day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiaryEntry {
    pub id: i64,
    pub card: MovieCard,
    pub watched_on: Day,
    pub rewatch: bool,
    /// The stars given that day, if any (the film's rating lives with the reviews).
    pub stars: Option<u8>,
    pub created_ms: i64,
}

/// A diary entry to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDiaryEntry {
    pub movie: MovieId,
    pub watched_on: Day,
    pub rewatch: bool,
    pub stars: Option<Stars>,
    pub now_ms: i64,
}

/// A rating on the profile page, with the film it is of.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RatedFilm {
    pub card: MovieCard,
    pub review: Review,
}

/// What happens to a leaving user's ratings and reviews.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeavingReviews {
    /// They go, with the votes on them; the films' aggregates follow.
    Remove,
    /// They stay, signed "A Marquee user"; the account's name, sessions, tokens and lists go.
    KeepAnonymous,
}

/// The name a kept review of a deleted account shows.
pub const DELETED_AUTHOR: &str = "A Marquee user";

#[async_trait]
pub trait ListStore: Send + Sync {
    /// Adds a film to the watchlist; false when it was already there (its date stays).
    async fn add_to_watchlist(
        &self,
        user: UserId,
        movie: MovieId,
        now_ms: i64,
    ) -> StoreResult<bool>;
    /// False when it was not there.
    async fn remove_from_watchlist(&self, user: UserId, movie: MovieId) -> StoreResult<bool>;
    async fn on_watchlist(&self, user: UserId, movie: MovieId) -> StoreResult<bool>;
    /// The watchlist, latest first, at most `limit` after the `(added_ms, movie)` position.
    async fn watchlist(
        &self,
        user: UserId,
        after: Option<(i64, MovieId)>,
        limit: u32,
    ) -> StoreResult<Vec<WatchlistEntry>>;

    /// Adds a diary entry; one per film and day, so adding it again answers the existing entry
    /// (updating its stars and rewatch flag).
    async fn add_diary_entry(&self, user: UserId, entry: &NewDiaryEntry)
    -> StoreResult<DiaryEntry>;
    /// `NotFound` when the entry is not the user's.
    async fn delete_diary_entry(&self, user: UserId, id: i64) -> StoreResult<()>;
    /// The diary, latest day first, at most `limit` after the `(day, id)` position.
    async fn diary(
        &self,
        user: UserId,
        after: Option<(Day, i64)>,
        limit: u32,
    ) -> StoreResult<Vec<DiaryEntry>>;

    /// The user's ratings, latest first, at most `limit` after the `(created_ms, review id)`
    /// position.
    async fn ratings_by_user(
        &self,
        user: UserId,
        after: Option<(i64, i64)>,
        limit: u32,
    ) -> StoreResult<Vec<RatedFilm>>;

    /// Deletes the account: sessions, tokens, watchlist, diary, playback positions and device
    /// codes go; ratings and reviews go or stay anonymous as asked. The username is free again
    /// afterwards. `NotFound` when there is no such account.
    async fn delete_account(&self, user: UserId, reviews: LeavingReviews) -> StoreResult<()>;
}
