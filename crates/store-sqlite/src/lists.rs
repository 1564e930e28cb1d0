//! A viewer's lists in SQLite: watchlist, diary, ratings for the profile, and deleting the
//! account with its aggregates kept in step.

use crate::import::recount_movies;
use crate::rows::{self, CARD_COLUMNS, REVIEW_COLUMNS};
use crate::{SqliteStore, db_err};
use async_trait::async_trait;
use marquee_domain::{MovieId, UserId, wilson_lower_bound};
use marquee_store::lists::DELETED_AUTHOR;
use marquee_store::{
    Day, DiaryEntry, LeavingReviews, ListStore, NewDiaryEntry, RatedFilm, StoreError, StoreResult,
    WatchlistEntry,
};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

const DIARY_COLUMNS: &str = "d.id, d.watched_on, d.rewatch, d.stars, d.created_ms";

fn diary_row(row: &SqliteRow) -> Result<DiaryEntry, sqlx::Error> {
    let day: String = row.try_get(1)?;
    Ok(DiaryEntry {
        id: row.try_get(0)?,
        watched_on: Day::parse(&day).map_err(|e| sqlx::Error::Decode(e.to_string().into()))?,
        rewatch: row.try_get(2)?,
        stars: row.try_get::<Option<i64>, _>(3)?.map(|s| s as u8),
        created_ms: row.try_get(4)?,
        card: rows::card(row, 5)?,
    })
}

/// Brings the vote counts and scores of `reviews` back in step with their votes.
async fn recount_tallies(conn: &mut SqliteConnection, reviews: &[i64]) -> Result<(), sqlx::Error> {
    for id in reviews {
        let (yes, no): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(helpful), 0), COALESCE(SUM(1 - helpful), 0) FROM votes \
             WHERE review_id = ?",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE review_tallies SET helpful_yes = ?, helpful_no = ?, score = ? WHERE review_id = ?",
        )
        .bind(yes)
        .bind(no)
        .bind(wilson_lower_bound(yes as u64, no as u64))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl ListStore for SqliteStore {
    async fn add_to_watchlist(
        &self,
        user: UserId,
        movie: MovieId,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO watchlist (user_id, movie_id, added_ms) \
             SELECT ?, id, ? FROM movies WHERE id = ? ON CONFLICT DO NOTHING",
        )
        .bind(user.0)
        .bind(now_ms)
        .bind(movie.0)
        .execute(&self.write)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 && self.on_watchlist(user, movie).await? {
            return Ok(false);
        }
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("film"));
        }
        Ok(true)
    }

    async fn remove_from_watchlist(&self, user: UserId, movie: MovieId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM watchlist WHERE user_id = ? AND movie_id = ?")
            .bind(user.0)
            .bind(movie.0)
            .execute(&self.write)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn on_watchlist(&self, user: UserId, movie: MovieId) -> StoreResult<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM watchlist WHERE user_id = ? AND movie_id = ?")
                .bind(user.0)
                .bind(movie.0)
                .fetch_optional(&self.read)
                .await
                .map_err(db_err)?;
        Ok(found.is_some())
    }

    async fn watchlist(
        &self,
        user: UserId,
        after: Option<(i64, MovieId)>,
        limit: u32,
    ) -> StoreResult<Vec<WatchlistEntry>> {
        let (at, id) = after.map_or((i64::MAX, i64::MAX), |(a, m)| (a, m.0));
        let rows = sqlx::query(&format!(
            "SELECT w.added_ms, {CARD_COLUMNS} FROM watchlist w JOIN movies m ON m.id = w.movie_id \
             WHERE w.user_id = ? AND (w.added_ms < ? OR (w.added_ms = ? AND w.movie_id < ?)) \
             ORDER BY w.added_ms DESC, w.movie_id DESC LIMIT ?"
        ))
        .bind(user.0)
        .bind(at)
        .bind(at)
        .bind(id)
        .bind(i64::from(limit.min(500)))
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(WatchlistEntry {
                    added_ms: r.try_get(0)?,
                    card: rows::card(r, 1)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db_err)
    }

    async fn add_diary_entry(
        &self,
        user: UserId,
        entry: &NewDiaryEntry,
    ) -> StoreResult<DiaryEntry> {
        let mut tx = self.begin_write().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO diary (user_id, movie_id, watched_on, rewatch, stars, created_ms) \
             SELECT ?, id, ?, ?, ?, ? FROM movies WHERE id = ? \
             ON CONFLICT (user_id, movie_id, watched_on) DO UPDATE SET rewatch = excluded.rewatch, \
             stars = COALESCE(excluded.stars, diary.stars) RETURNING id",
        )
        .bind(user.0)
        .bind(entry.watched_on.to_string())
        .bind(entry.rewatch)
        .bind(entry.stars.map(|s| i64::from(s.get())))
        .bind(entry.now_ms)
        .bind(entry.movie.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(id) = id else {
            return Err(StoreError::NotFound("film"));
        };
        let row = sqlx::query(&format!(
            "SELECT {DIARY_COLUMNS}, {CARD_COLUMNS} FROM diary d JOIN movies m ON m.id = d.movie_id \
             WHERE d.id = ?"
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let entry = diary_row(&row).map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(entry)
    }

    async fn delete_diary_entry(&self, user: UserId, id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM diary WHERE id = ? AND user_id = ?")
            .bind(id)
            .bind(user.0)
            .execute(&self.write)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("diary entry"));
        }
        Ok(())
    }

    async fn diary(
        &self,
        user: UserId,
        after: Option<(Day, i64)>,
        limit: u32,
    ) -> StoreResult<Vec<DiaryEntry>> {
        let (day, id) = after.map_or(("9999-12-31".to_owned(), i64::MAX), |(d, i)| {
            (d.to_string(), i)
        });
        let rows = sqlx::query(&format!(
            "SELECT {DIARY_COLUMNS}, {CARD_COLUMNS} FROM diary d JOIN movies m ON m.id = d.movie_id \
             WHERE d.user_id = ? AND (d.watched_on < ? OR (d.watched_on = ? AND d.id < ?)) \
             ORDER BY d.watched_on DESC, d.id DESC LIMIT ?"
        ))
        .bind(user.0)
        .bind(&day)
        .bind(&day)
        .bind(id)
        .bind(i64::from(limit.min(500)))
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(diary_row)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db_err)
    }

    async fn ratings_by_user(
        &self,
        user: UserId,
        after: Option<(i64, i64)>,
        limit: u32,
    ) -> StoreResult<Vec<RatedFilm>> {
        let (at, id) = after.unwrap_or((i64::MAX, i64::MAX));
        let rows = sqlx::query(&format!(
            "SELECT {REVIEW_COLUMNS}, {CARD_COLUMNS} FROM reviews r JOIN users u ON u.id = r.user_id \
             LEFT JOIN review_tallies t ON t.review_id = r.id JOIN movies m ON m.id = r.movie_id \
             WHERE r.user_id = ? AND (r.created_ms < ? OR (r.created_ms = ? AND r.id < ?)) \
             ORDER BY r.created_ms DESC, r.id DESC LIMIT ?"
        ))
        .bind(user.0)
        .bind(at)
        .bind(at)
        .bind(id)
        .bind(i64::from(limit.min(500)))
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(RatedFilm {
                    review: rows::review(r)?,
                    card: rows::card(r, 13)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db_err)
    }

    async fn delete_account(&self, user: UserId, reviews: LeavingReviews) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id = ?")
            .bind(user.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        if exists.is_none() {
            return Err(StoreError::NotFound("account"));
        }
        match reviews {
            LeavingReviews::Remove => {
                // Whatever the account's rows counted towards is recounted once they are gone.
                let films: Vec<i64> =
                    sqlx::query_scalar("SELECT DISTINCT movie_id FROM reviews WHERE user_id = ?")
                        .bind(user.0)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(db_err)?;
                let voted: Vec<i64> =
                    sqlx::query_scalar("SELECT review_id FROM votes WHERE user_id = ?")
                        .bind(user.0)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(db_err)?;
                sqlx::query("DELETE FROM users WHERE id = ?")
                    .bind(user.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                recount_movies(&mut tx, &films).await.map_err(db_err)?;
                recount_tallies(&mut tx, &voted).await.map_err(db_err)?;
            }
            LeavingReviews::KeepAnonymous => {
                for table in [
                    "sessions",
                    "api_tokens",
                    "watchlist",
                    "diary",
                    "playback_positions",
                    "device_codes",
                ] {
                    sqlx::query(&format!("DELETE FROM {table} WHERE user_id = ?"))
                        .bind(user.0)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                }
                // The row stays for the kept reviews, under a name nobody can sign in with.
                sqlx::query(
                    "UPDATE users SET username = 'deleted-' || id, display_name = ?, \
                     password_hash = ?, is_admin = 0 WHERE id = ?",
                )
                .bind(DELETED_AUTHOR)
                .bind(marquee_store::import::LOCKED_PASSWORD)
                .bind(user.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
            }
        }
        tx.commit().await.map_err(db_err)
    }
}
