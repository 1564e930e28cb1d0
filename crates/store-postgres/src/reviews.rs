//! Ratings, reviews and helpful votes in PostgreSQL, with the film's aggregates and each review's
//! vote counts and Wilson score changed in the same transaction as the rows they summarize. The
//! counts and score live in `review_tallies`, one narrow row per review with text, so that a vote
//! does not rewrite the review.

use crate::rows::{self, REVIEW_COLUMNS, REVIEW_TABLES};
use crate::{PgStore, db_err};
use async_trait::async_trait;
use marquee_domain::{MovieId, ReviewFilter, ReviewId, ReviewSort, UserId, wilson_lower_bound};
use marquee_store::{
    MovieStats, RatingInput, Review, ReviewStore, StoreError, StoreResult, VoteChange,
    VoteRejection, VoteTally,
};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

/// The tables of the "most helpful" order: it starts from the tallies, whose index holds it.
const HELPFUL_TABLES: &str = "review_tallies t JOIN reviews r ON r.id = t.review_id \
    JOIN users u ON u.id = r.user_id";

/// Which way an order's first key runs.
#[derive(Clone, Copy)]
enum Direction {
    Asc,
    Desc,
}

impl Direction {
    fn sql(self) -> &'static str {
        match self {
            Direction::Asc => "ASC",
            Direction::Desc => "DESC",
        }
    }

    /// The comparison that selects keys after a cursor's.
    fn after(self) -> &'static str {
        match self {
            Direction::Asc => ">",
            Direction::Desc => "<",
        }
    }
}

/// What a rating contributes to its film's aggregates.
#[derive(Clone, Copy, Default)]
struct Contribution {
    stars: i64,
    is_review: bool,
}

/// Adds `new` and removes `old` from the film's counters in one statement.
async fn shift_aggregates(
    conn: &mut PgConnection,
    movie: MovieId,
    old: Option<Contribution>,
    new: Option<Contribution>,
) -> Result<(), sqlx::Error> {
    let mut per_star = [0i64; 5];
    let (mut count, mut sum, mut reviews) = (0i64, 0i64, 0i64);
    for (c, sign) in [(old, -1), (new, 1)] {
        if let Some(c) = c {
            per_star[(c.stars - 1) as usize] += sign;
            count += sign;
            sum += sign * c.stars;
            reviews += sign * i64::from(c.is_review);
        }
    }
    sqlx::query(
        "UPDATE movies SET rating_count = rating_count + $1, rating_sum = rating_sum + $2, \
         stars_1 = stars_1 + $3, stars_2 = stars_2 + $4, stars_3 = stars_3 + $5, stars_4 = stars_4 + $6, \
         stars_5 = stars_5 + $7, review_count = review_count + $8 WHERE id = $9",
    )
    .bind(count)
    .bind(sum)
    .bind(per_star[0])
    .bind(per_star[1])
    .bind(per_star[2])
    .bind(per_star[3])
    .bind(per_star[4])
    .bind(reviews)
    .bind(movie.0)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Puts the review's tally where new words leave it: a row with no votes, dated `now_ms`, for a
/// review with text; no row for a rating without. Writing this row takes its lock, which every
/// writer of the review's votes takes before touching them (see `votes.rs`), so call this
/// before removing the votes.
async fn reset_tally(
    conn: &mut PgConnection,
    review: i64,
    movie: MovieId,
    author: UserId,
    has_text: bool,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    if has_text {
        sqlx::query(
            "INSERT INTO review_tallies (review_id, movie_id, author_id, created_ms) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (review_id) DO UPDATE SET helpful_yes = 0, helpful_no = 0, score = 0, \
             created_ms = excluded.created_ms",
        )
        .bind(review)
        .bind(movie.0)
        .bind(author.0)
        .bind(now_ms)
        .execute(&mut *conn)
        .await?;
    } else {
        sqlx::query("DELETE FROM review_tallies WHERE review_id = $1")
            .bind(review)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn fetch_review(conn: &mut PgConnection, id: i64) -> Result<Option<Review>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {REVIEW_COLUMNS} FROM {REVIEW_TABLES} WHERE r.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .map(|row| rows::review(&row))
    .transpose()
}

#[async_trait]
impl ReviewStore for PgStore {
    async fn put_rating(
        &self,
        movie: MovieId,
        user: UserId,
        rating: &RatingInput,
    ) -> StoreResult<Review> {
        let headline = rating.headline.as_ref().map(|h| h.as_str());
        let body = rating.body.as_ref().map(|b| b.as_str());
        let stars = i64::from(rating.stars.get());
        let mut tx = self.begin_write().await?;
        // Lock order everywhere: film row, then review row, then its tally row, then its votes
        // (a cycle between a vote and a rewrite of the review's text deadlocks otherwise).
        // Locking the film first serializes ratings of one film (the aggregates live on its row)
        // and closes the race between two first ratings by the same person.
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM movies WHERE id = $1 FOR UPDATE")
                .bind(movie.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if exists.is_none() {
            return Err(StoreError::NotFound("film"));
        }
        // FOR NO KEY UPDATE: the strength of the UPDATE below, which changes no key.
        let old = sqlx::query(
            "SELECT id, stars, headline, body FROM reviews WHERE movie_id = $1 AND user_id = $2 \
             FOR NO KEY UPDATE",
        )
        .bind(movie.0)
        .bind(user.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let new = Contribution {
            stars,
            is_review: body.is_some(),
        };
        let id = match old {
            Some(old) => {
                let id: i64 = old.try_get(0).map_err(db_err)?;
                let before = Contribution {
                    stars: old.try_get(1).map_err(db_err)?,
                    is_review: old
                        .try_get::<Option<String>, _>(3)
                        .map_err(db_err)?
                        .is_some(),
                };
                let old_headline: Option<String> = old.try_get(2).map_err(db_err)?;
                let old_body: Option<String> = old.try_get(3).map_err(db_err)?;
                // Votes judged the words, so new words start over with no votes and a new date.
                let text_changed =
                    old_headline.as_deref() != headline || old_body.as_deref() != body;
                // Changing only the stars or the anonymity keeps the tally as it is.
                if text_changed {
                    reset_tally(&mut tx, id, movie, user, body.is_some(), rating.now_ms)
                        .await
                        .map_err(db_err)?;
                    sqlx::query("DELETE FROM votes WHERE review_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                sqlx::query(
                    "UPDATE reviews SET stars = $1, headline = $2, body = $3, anonymous = $4, updated_ms = $5, \
                     created_ms = CASE WHEN $6 THEN $7 ELSE created_ms END WHERE id = $8",
                )
                .bind(stars)
                .bind(headline)
                .bind(body)
                .bind(rating.anonymous)
                .bind(rating.now_ms)
                .bind(text_changed)
                .bind(rating.now_ms)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                shift_aggregates(&mut tx, movie, Some(before), Some(new))
                    .await
                    .map_err(db_err)?;
                id
            }
            None => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO reviews (movie_id, user_id, stars, headline, body, anonymous, created_ms, updated_ms) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(movie.0)
                .bind(user.0)
                .bind(stars)
                .bind(headline)
                .bind(body)
                .bind(rating.anonymous)
                .bind(rating.now_ms)
                .bind(rating.now_ms)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
                if body.is_some() {
                    reset_tally(&mut tx, id, movie, user, true, rating.now_ms)
                        .await
                        .map_err(db_err)?;
                }
                shift_aggregates(&mut tx, movie, None, Some(new))
                    .await
                    .map_err(db_err)?;
                id
            }
        };
        let review = fetch_review(&mut tx, id)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound("rating"))?;
        tx.commit().await.map_err(db_err)?;
        Ok(review)
    }

    async fn delete_rating(&self, movie: MovieId, user: UserId) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("SELECT id FROM movies WHERE id = $1 FOR UPDATE")
            .bind(movie.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        // The tally row before the review, as every writer of the review's votes takes it: a
        // vote batch on this review finishes first, and the next finds no review.
        sqlx::query(
            "DELETE FROM review_tallies WHERE review_id = \
             (SELECT id FROM reviews WHERE movie_id = $1 AND user_id = $2)",
        )
        .bind(movie.0)
        .bind(user.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let old = sqlx::query("DELETE FROM reviews WHERE movie_id = $1 AND user_id = $2 RETURNING stars, body IS NOT NULL")
            .bind(movie.0)
            .bind(user.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .ok_or(StoreError::NotFound("rating"))?;
        let before = Contribution {
            stars: old.try_get(0).map_err(db_err)?,
            is_review: old.try_get(1).map_err(db_err)?,
        };
        shift_aggregates(&mut tx, movie, Some(before), None)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn rating_by_user(&self, movie: MovieId, user: UserId) -> StoreResult<Option<Review>> {
        sqlx::query(&format!(
            "SELECT {REVIEW_COLUMNS} FROM {REVIEW_TABLES} WHERE r.movie_id = $1 AND r.user_id = $2"
        ))
        .bind(movie.0)
        .bind(user.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|row| rows::review(&row))
        .transpose()
        .map_err(db_err)
    }

    async fn review_by_id(&self, id: ReviewId) -> StoreResult<Option<Review>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        fetch_review(&mut conn, id.0).await.map_err(db_err)
    }

    async fn list_reviews(
        &self,
        movie: MovieId,
        filter: &ReviewFilter,
    ) -> StoreResult<Vec<Review>> {
        // Each order walks its own index, so every page is a range scan: "most helpful" walks
        // review_tallies_helpful (a tally row holds copies of its review's film and date for
        // this), the others their partial index on reviews. The order's columns come from the
        // table whose index is walked, although `t.created_ms` equals `r.created_ms`.
        let (tables, film, key, created, id) = match filter.sort {
            ReviewSort::Helpful => (
                HELPFUL_TABLES,
                "t.movie_id",
                Some(("t.score", Direction::Desc)),
                "t.created_ms",
                "t.review_id",
            ),
            ReviewSort::Newest => (REVIEW_TABLES, "r.movie_id", None, "r.created_ms", "r.id"),
            ReviewSort::Highest => (
                REVIEW_TABLES,
                "r.movie_id",
                Some(("r.stars", Direction::Desc)),
                "r.created_ms",
                "r.id",
            ),
            ReviewSort::Lowest => (
                REVIEW_TABLES,
                "r.movie_id",
                Some(("r.stars", Direction::Asc)),
                "r.created_ms",
                "r.id",
            ),
        };
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
            "SELECT {REVIEW_COLUMNS} FROM {tables} WHERE {film} = "
        ));
        q.push_bind(movie.0).push(" AND r.body IS NOT NULL");
        if let Some(stars) = filter.stars {
            q.push(" AND r.stars = ").push_bind(i64::from(stars.get()));
        }
        if let Some(c) = filter.after {
            // Rows strictly after the cursor in (key, created_ms DESC, id DESC) order.
            q.push(" AND (");
            if let Some((col, dir)) = key {
                let push_key = |q: &mut QueryBuilder<Postgres>| match filter.sort {
                    ReviewSort::Helpful => {
                        q.push_bind(c.score);
                    }
                    _ => {
                        q.push_bind(i64::from(c.stars));
                    }
                };
                q.push(format_args!("{col} {} ", dir.after()));
                push_key(&mut q);
                q.push(format_args!(" OR ({col} = "));
                push_key(&mut q);
                q.push(" AND ");
            }
            q.push(format_args!("({created} < "))
                .push_bind(c.created_ms);
            q.push(format_args!(" OR ({created} = "))
                .push_bind(c.created_ms);
            q.push(format_args!(" AND {id} < "))
                .push_bind(c.id)
                .push("))");
            if key.is_some() {
                q.push(")");
            }
            q.push(")");
        }
        q.push(" ORDER BY ");
        if let Some((col, dir)) = key {
            q.push(format_args!("{col} {}, ", dir.sql()));
        }
        q.push(format_args!("{created} DESC, {id} DESC LIMIT "))
            .push_bind(i64::from(filter.limit));
        let rows = q.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter()
            .map(rows::review)
            .collect::<Result<_, _>>()
            .map_err(db_err)
    }

    async fn movie_stats(&self, movie: MovieId) -> StoreResult<MovieStats> {
        let row = sqlx::query(
            "SELECT rating_count, rating_sum, stars_1, stars_2, stars_3, stars_4, stars_5, review_count \
             FROM movies WHERE id = $1",
        )
        .bind(movie.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("film"))?;
        let get = |i: usize| row.try_get::<i64, _>(i).map(|v| v as u64).map_err(db_err);
        Ok(MovieStats {
            rating_count: get(0)?,
            rating_sum: get(1)?,
            histogram: [get(2)?, get(3)?, get(4)?, get(5)?, get(6)?],
            review_count: get(7)?,
        })
    }

    async fn apply_votes(
        &self,
        changes: &[VoteChange],
    ) -> StoreResult<Vec<Result<VoteTally, VoteRejection>>> {
        crate::votes::apply(self, changes).await
    }

    async fn votes_by_user(
        &self,
        voter: UserId,
        reviews: &[ReviewId],
    ) -> StoreResult<Vec<(ReviewId, bool)>> {
        if reviews.is_empty() {
            return Ok(Vec::new());
        }
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new("SELECT review_id, helpful FROM votes WHERE user_id = ");
        q.push_bind(voter.0).push(" AND review_id IN (");
        let mut ids = q.separated(", ");
        for r in reviews {
            ids.push_bind(r.0);
        }
        q.push(")");
        let rows = q.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter()
            .map(|r| Ok((ReviewId(r.try_get(0)?), r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db_err)
    }

    async fn audit_aggregates(&self) -> StoreResult<Vec<String>> {
        let mut problems = Vec::new();
        let films = sqlx::query(
            "SELECT m.id, m.rating_count, m.rating_sum, m.stars_1, m.stars_2, m.stars_3, m.stars_4, m.stars_5, m.review_count, \
             COALESCE(a.c, 0), COALESCE(a.s, 0), COALESCE(a.s1, 0), COALESCE(a.s2, 0), COALESCE(a.s3, 0), \
             COALESCE(a.s4, 0), COALESCE(a.s5, 0), COALESCE(a.rc, 0) \
             FROM movies m LEFT JOIN (SELECT movie_id, COUNT(*) c, SUM(stars)::BIGINT s, COUNT(*) FILTER (WHERE stars = 1) s1, COUNT(*) FILTER (WHERE stars = 2) s2, \
             COUNT(*) FILTER (WHERE stars = 3) s3, COUNT(*) FILTER (WHERE stars = 4) s4, COUNT(*) FILTER (WHERE stars = 5) s5, \
             COUNT(*) FILTER (WHERE body IS NOT NULL) rc \
             FROM reviews GROUP BY movie_id) a ON a.movie_id = m.id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        for row in films {
            let v: Vec<i64> = (0..17)
                .map(|i| row.try_get(i))
                .collect::<Result<_, _>>()
                .map_err(db_err)?;
            if v[1..9] != v[9..17] {
                problems.push(format!(
                    "film {}: stored {:?} but counted {:?}",
                    v[0],
                    &v[1..9],
                    &v[9..17]
                ));
            }
        }
        // One tally row per review with text, with its review's film and date, and counts and
        // a score that agree with the votes.
        let reviews = sqlx::query(
            "SELECT r.id, r.movie_id, r.created_ms, r.body IS NOT NULL, t.review_id IS NOT NULL, t.movie_id, t.created_ms, \
             COALESCE(t.helpful_yes, 0), COALESCE(t.helpful_no, 0), COALESCE(t.score, 0.0), COALESCE(v.y, 0), COALESCE(v.n, 0) \
             FROM reviews r LEFT JOIN review_tallies t ON t.review_id = r.id \
             LEFT JOIN (SELECT review_id, COUNT(*) FILTER (WHERE helpful) y, COUNT(*) FILTER (WHERE NOT helpful) n FROM votes GROUP BY review_id) v \
             ON v.review_id = r.id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        for row in reviews {
            let id: i64 = row.try_get(0).map_err(db_err)?;
            let film_and_date: (i64, i64) = (
                row.try_get(1).map_err(db_err)?,
                row.try_get(2).map_err(db_err)?,
            );
            let has_text: bool = row.try_get(3).map_err(db_err)?;
            let has_tally: bool = row.try_get(4).map_err(db_err)?;
            let copies: (Option<i64>, Option<i64>) = (
                row.try_get(5).map_err(db_err)?,
                row.try_get(6).map_err(db_err)?,
            );
            match (has_text, has_tally) {
                (true, false) => problems.push(format!("review {id}: has text but no tally row")),
                (false, true) => problems.push(format!("review {id}: has a tally row but no text")),
                _ => {}
            }
            if has_tally && copies != (Some(film_and_date.0), Some(film_and_date.1)) {
                problems.push(format!(
                    "review {id}: film and date {film_and_date:?} but its tally row has {copies:?}"
                ));
            }
            let stored: (i64, i64) = (
                row.try_get(7).map_err(db_err)?,
                row.try_get(8).map_err(db_err)?,
            );
            let score: f64 = row.try_get(9).map_err(db_err)?;
            let counted: (i64, i64) = (
                row.try_get(10).map_err(db_err)?,
                row.try_get(11).map_err(db_err)?,
            );
            if stored != counted {
                problems.push(format!(
                    "review {id}: stored votes {stored:?} but counted {counted:?}"
                ));
            }
            if (score - wilson_lower_bound(counted.0 as u64, counted.1 as u64)).abs() > 1e-12 {
                problems.push(format!(
                    "review {id}: stored score {score} does not match its votes"
                ));
            }
        }
        Ok(problems)
    }
}
