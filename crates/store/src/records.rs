//! The rows a store hands back: plain data, already checked when it went in.

use marquee_domain::{
    DisplayName, Headline, MovieId, ReviewId, ReviewText, Stars, UserId, Username,
};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Credit {
    pub name: String,
    /// The character, for cast; empty for directors.
    pub character: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Movie {
    pub id: MovieId,
    pub slug: String,
    pub title: String,
    pub original_title: Option<String>,
    pub year: Option<u16>,
    pub runtime_minutes: Option<u16>,
    pub synopsis: String,
    pub genres: Vec<String>,
    pub directors: Vec<String>,
    pub cast: Vec<Credit>,
    pub content_rating: String,
    pub language: String,
    pub poster: Option<String>,
    /// Only signed-in viewers may watch it (its page stays public).
    pub members_only: bool,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A film's rating aggregates, kept in step with its ratings on every write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct MovieStats {
    pub rating_count: u64,
    pub rating_sum: u64,
    /// Ratings per star value: `histogram[0]` holds the 1-star count, `histogram[4]` the 5-star.
    pub histogram: [u64; 5],
    /// Ratings that have text.
    pub review_count: u64,
}

impl MovieStats {
    /// The mean rating, or `None` before the first one.
    pub fn average(&self) -> Option<f64> {
        (self.rating_count > 0).then(|| self.rating_sum as f64 / self.rating_count as f64)
    }
}

/// A rating as submitted: stars, and optionally a review.
#[derive(Debug, Clone, PartialEq)]
pub struct RatingInput {
    pub stars: Stars,
    pub headline: Option<Headline>,
    pub body: Option<ReviewText>,
    /// Show "A Marquee user" instead of the author's display name.
    pub anonymous: bool,
    pub now_ms: i64,
}

/// A stored rating; a review when `body` is set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    pub id: ReviewId,
    pub movie_id: MovieId,
    pub user_id: UserId,
    /// The author's display name (shown only when not anonymous).
    pub author_name: String,
    pub anonymous: bool,
    pub stars: u8,
    pub headline: Option<String>,
    pub body: Option<String>,
    pub helpful_yes: u64,
    pub helpful_no: u64,
    /// Wilson lower bound of the Yes share; the "most helpful" key.
    pub score: f64,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A review's vote counts after a vote changed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct VoteTally {
    pub review_id: ReviewId,
    /// The film the review belongs to, so callers can refresh what shows it.
    pub movie_id: MovieId,
    pub helpful_yes: u64,
    pub helpful_no: u64,
    pub score: f64,
    /// The voter's vote now: `Some(true)` helpful, `Some(false)` not, `None` withdrawn.
    pub my_vote: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub display_name: DisplayName,
    pub password_hash: String,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub created_ms: i64,
    pub last_used_ms: Option<i64>,
}
