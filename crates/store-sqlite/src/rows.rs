//! Turning SQLite rows into store records.

use marquee_domain::{MovieId, ReviewId, UserId};
use marquee_store::{Review, User};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// Columns [`review`] expects, with `r` the reviews table, `u` the author and `t` the review's
/// tally, which a rating without text does not have (no votes, score 0).
pub(crate) const REVIEW_COLUMNS: &str = "r.id, r.movie_id, r.user_id, u.display_name, r.anonymous, \
    r.stars, r.headline, r.body, COALESCE(t.helpful_yes, 0), COALESCE(t.helpful_no, 0), \
    COALESCE(t.score, 0.0), r.created_ms, r.updated_ms";

/// The tables behind [`REVIEW_COLUMNS`], for a query that starts from the ratings.
pub(crate) const REVIEW_TABLES: &str = "reviews r JOIN users u ON u.id = r.user_id \
    LEFT JOIN review_tallies t ON t.review_id = r.id";

pub(crate) fn review(row: &SqliteRow) -> Result<Review, sqlx::Error> {
    Ok(Review {
        id: ReviewId(row.try_get(0)?),
        movie_id: MovieId(row.try_get(1)?),
        user_id: UserId(row.try_get(2)?),
        author_name: row.try_get(3)?,
        anonymous: row.try_get(4)?,
        stars: row.try_get::<i64, _>(5)? as u8,
        headline: row.try_get(6)?,
        body: row.try_get(7)?,
        helpful_yes: row.try_get::<i64, _>(8)? as u64,
        helpful_no: row.try_get::<i64, _>(9)? as u64,
        score: row.try_get(10)?,
        created_ms: row.try_get(11)?,
        updated_ms: row.try_get(12)?,
    })
}

pub(crate) const USER_COLUMNS: &str = "u.id, u.username, u.display_name, u.is_admin, u.created_ms";

pub(crate) fn user(row: &SqliteRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: UserId(row.try_get(0)?),
        username: row.try_get(1)?,
        display_name: row.try_get(2)?,
        is_admin: row.try_get(3)?,
        created_ms: row.try_get(4)?,
    })
}

/// Columns [`card`] expects, with `m` the movies table; `card` reads them from `offset` on.
pub(crate) const CARD_COLUMNS: &str = "m.id, m.slug, m.title, m.year, m.runtime_minutes, \
    m.poster, m.rating_count, m.rating_sum, m.review_count, m.created_ms";

pub(crate) fn card(
    row: &SqliteRow,
    offset: usize,
) -> Result<marquee_store::MovieCard, sqlx::Error> {
    Ok(marquee_store::MovieCard {
        id: MovieId(row.try_get(offset)?),
        slug: row.try_get(offset + 1)?,
        title: row.try_get(offset + 2)?,
        year: row.try_get::<Option<i64>, _>(offset + 3)?.map(|y| y as u16),
        runtime_minutes: row.try_get::<Option<i64>, _>(offset + 4)?.map(|m| m as u16),
        poster: row.try_get(offset + 5)?,
        rating_count: row.try_get::<i64, _>(offset + 6)? as u64,
        rating_sum: row.try_get::<i64, _>(offset + 7)? as u64,
        review_count: row.try_get::<i64, _>(offset + 8)? as u64,
        created_ms: row.try_get(offset + 9)?,
    })
}
