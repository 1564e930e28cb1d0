//! The JSON shapes of the API, documented in the OpenAPI description.

use crate::render::{ANONYMOUS_AUTHOR, plural};
use marquee_domain::time_fmt::long_date;
use marquee_store::{Movie, MovieStats, Review, User, VoteTally};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};

pub fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[derive(Serialize, ToSchema)]
pub struct CreditResponse {
    pub name: String,
    /// The character played; empty for directors and documentary subjects.
    pub character: String,
}

#[derive(Serialize, ToSchema)]
pub struct StatsResponse {
    /// Mean of all ratings, `null` before the first.
    pub average: Option<f64>,
    /// The average to one decimal, as the page shows it.
    pub average_text: Option<String>,
    pub rating_count: u64,
    /// Ratings with text.
    pub review_count: u64,
    /// Ratings per star value; index 0 holds the 1-star count.
    pub histogram: Vec<u64>,
    pub ratings_line: String,
    pub reviews_line: String,
}

impl From<&MovieStats> for StatsResponse {
    fn from(s: &MovieStats) -> Self {
        Self {
            average: s.average(),
            average_text: s.average().map(|a| format!("{a:.1}")),
            rating_count: s.rating_count,
            review_count: s.review_count,
            histogram: s.histogram.to_vec(),
            ratings_line: plural(s.rating_count, "rating", "ratings"),
            reviews_line: plural(s.review_count, "review", "reviews"),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MovieResponse {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub original_title: Option<String>,
    pub year: Option<u16>,
    pub runtime_minutes: Option<u16>,
    pub synopsis: String,
    pub genres: Vec<String>,
    pub directors: Vec<String>,
    /// In billing order.
    pub cast: Vec<CreditResponse>,
    pub content_rating: String,
    pub language: String,
    pub poster_url: Option<String>,
    pub url: String,
    pub stats: StatsResponse,
}

impl MovieResponse {
    pub fn new(m: &Movie, stats: &MovieStats) -> Self {
        Self {
            id: m.id.0,
            slug: m.slug.clone(),
            title: m.title.clone(),
            original_title: m.original_title.clone(),
            year: m.year,
            runtime_minutes: m.runtime_minutes,
            synopsis: m.synopsis.clone(),
            genres: m.genres.clone(),
            directors: m.directors.clone(),
            cast: m
                .cast
                .iter()
                .map(|c| CreditResponse {
                    name: c.name.clone(),
                    character: c.character.clone(),
                })
                .collect(),
            content_rating: m.content_rating.clone(),
            language: m.language.clone(),
            poster_url: m.poster.as_ref().map(|p| format!("/posters/{p}")),
            url: format!("/movies/{}", m.slug),
            stats: stats.into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ReviewResponse {
    pub id: i64,
    pub movie_id: i64,
    /// The author's display name, or "A Marquee user" for an anonymous review.
    pub author: String,
    pub anonymous: bool,
    pub stars: u8,
    pub headline: Option<String>,
    /// Plain text; paragraphs are separated by a blank line. Never HTML.
    pub body: Option<String>,
    pub helpful_yes: u64,
    pub helpful_no: u64,
    /// Wilson lower bound (95%) of the helpful share: the "most helpful" order.
    pub score: f64,
    pub created_at: String,
    pub updated_at: String,
    /// The date as pages show it, e.g. "November 27, 2017".
    pub date_text: String,
}

impl From<&Review> for ReviewResponse {
    fn from(r: &Review) -> Self {
        Self {
            id: r.id.0,
            movie_id: r.movie_id.0,
            author: if r.anonymous {
                ANONYMOUS_AUTHOR.to_owned()
            } else {
                r.author_name.clone()
            },
            anonymous: r.anonymous,
            stars: r.stars,
            headline: r.headline.clone(),
            body: r.body.clone(),
            helpful_yes: r.helpful_yes,
            helpful_no: r.helpful_no,
            score: r.score,
            created_at: rfc3339(r.created_ms),
            updated_at: rfc3339(r.updated_ms),
            date_text: long_date(r.created_ms),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ReviewListResponse {
    pub items: Vec<ReviewResponse>,
    /// Pass as `after` (with the same `sort`) for the next page; `null` on the last.
    pub next: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewListQuery {
    /// `helpful` (default), `newest`, `highest` or `lowest`.
    pub sort: Option<String>,
    /// Only reviews with this many stars (1–5).
    pub stars: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<u32>,
}

#[derive(Deserialize, ToSchema)]
pub struct RatingRequest {
    /// 1 to 5.
    pub stars: Option<i64>,
    /// Optional, at most 100 characters.
    pub headline: Option<String>,
    /// Optional, at most 5,000 characters after trimming; without it the rating is not a review.
    pub body: Option<String>,
    /// Show "A Marquee user" instead of the author's name.
    #[serde(default)]
    pub anonymous: bool,
}

#[derive(Serialize, ToSchema)]
pub struct RatingResponse {
    pub review: ReviewResponse,
    pub stats: StatsResponse,
}

#[derive(Deserialize, ToSchema)]
pub struct VoteRequest {
    /// `true` for "Yes, helpful", `false` for "No".
    pub helpful: bool,
}

#[derive(Serialize, ToSchema)]
pub struct VoteResponse {
    pub review_id: i64,
    pub movie_id: i64,
    pub helpful_yes: u64,
    pub helpful_no: u64,
    pub score: f64,
    /// The caller's vote now; `null` after withdrawing.
    pub my_vote: Option<bool>,
}

impl From<VoteTally> for VoteResponse {
    fn from(t: VoteTally) -> Self {
        Self {
            review_id: t.review_id.0,
            movie_id: t.movie_id.0,
            helpful_yes: t.helpful_yes,
            helpful_no: t.helpful_no,
            score: t.score,
            my_vote: t.my_vote,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct SessionRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserResponse {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
}

impl From<&User> for UserResponse {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.0,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            is_admin: u.is_admin,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SessionResponse {
    pub user: UserResponse,
    /// Send as `X-CSRF-Token` with every state-changing request made with the session cookie.
    pub csrf_token: String,
}

#[derive(Deserialize, ToSchema)]
pub struct TokenRequest {
    /// A name to recognise the token by, 1–60 characters.
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenCreatedResponse {
    pub id: i64,
    pub name: String,
    /// The secret: send as `Authorization: Bearer <token>`. Shown only once.
    pub token: String,
    pub created_at: String,
}
