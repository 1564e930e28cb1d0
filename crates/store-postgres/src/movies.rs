//! The catalog in PostgreSQL: films with their genres and credits.

use crate::{PgStore, db_err, is_unique_violation};
use async_trait::async_trait;
use marquee_domain::time_fmt::now_ms;
use marquee_domain::{MovieDraft, MovieId};
use marquee_store::{Credit, Movie, MovieStore, StoreError, StoreResult};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

pub(crate) const MOVIE_COLUMNS: &str = "id, slug, title, original_title, year, runtime_minutes, synopsis, \
    content_rating, language, poster, created_ms, updated_ms, members_only";

pub(crate) fn movie_row(row: &PgRow) -> Result<Movie, sqlx::Error> {
    Ok(Movie {
        id: MovieId(row.try_get(0)?),
        slug: row.try_get(1)?,
        title: row.try_get(2)?,
        original_title: row.try_get(3)?,
        year: row.try_get::<Option<i64>, _>(4)?.map(|y| y as u16),
        runtime_minutes: row.try_get::<Option<i64>, _>(5)?.map(|m| m as u16),
        synopsis: row.try_get(6)?,
        content_rating: row.try_get(7)?,
        language: row.try_get(8)?,
        poster: row.try_get(9)?,
        created_ms: row.try_get(10)?,
        updated_ms: row.try_get(11)?,
        members_only: row.try_get(12)?,
        genres: Vec::new(),
        directors: Vec::new(),
        cast: Vec::new(),
    })
}

/// Fills in genres and credits, in their stored order.
pub(crate) async fn load_details(
    conn: &mut PgConnection,
    movie: &mut Movie,
) -> Result<(), sqlx::Error> {
    movie.genres =
        sqlx::query_scalar("SELECT name FROM movie_genres WHERE movie_id = $1 ORDER BY position")
            .bind(movie.id.0)
            .fetch_all(&mut *conn)
            .await?;
    let credits = sqlx::query(
        "SELECT role, name, character FROM movie_credits WHERE movie_id = $1 ORDER BY role, position",
    )
    .bind(movie.id.0)
    .fetch_all(&mut *conn)
    .await?;
    for row in credits {
        let role: String = row.try_get(0)?;
        let credit = Credit {
            name: row.try_get(1)?,
            character: row.try_get(2)?,
        };
        if role == "director" {
            movie.directors.push(credit.name);
        } else {
            movie.cast.push(credit);
        }
    }
    Ok(())
}

async fn write_details(
    conn: &mut PgConnection,
    id: MovieId,
    draft: &MovieDraft,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM movie_genres WHERE movie_id = $1")
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM movie_credits WHERE movie_id = $1")
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    for (i, g) in draft.genres.iter().enumerate() {
        sqlx::query("INSERT INTO movie_genres (movie_id, position, name) VALUES ($1, $2, $3)")
            .bind(id.0)
            .bind(i as i64)
            .bind(g.as_str())
            .execute(&mut *conn)
            .await?;
    }
    let directors = draft.directors.iter().map(|d| ("director", d.as_str(), ""));
    let cast = draft
        .cast
        .iter()
        .map(|c| ("cast", c.name.as_str(), c.character.as_str()));
    for (i, (role, name, character)) in directors.chain(cast).enumerate() {
        sqlx::query(
            "INSERT INTO movie_credits (movie_id, role, position, name, character) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.0)
        .bind(role)
        .bind(i as i64)
        .bind(name)
        .bind(character)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn slug_taken(draft: &MovieDraft) -> StoreError {
    StoreError::Conflict(format!(
        "A film with the address '{}' already exists.",
        draft.slug.as_str()
    ))
}

impl PgStore {
    async fn fetch_movie(
        &self,
        sql: &str,
        key: impl for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send,
    ) -> StoreResult<Option<Movie>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let Some(row) = sqlx::query(sql)
            .bind(key)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?
        else {
            return Ok(None);
        };
        let mut movie = movie_row(&row).map_err(db_err)?;
        load_details(&mut conn, &mut movie).await.map_err(db_err)?;
        Ok(Some(movie))
    }
}

#[async_trait]
impl MovieStore for PgStore {
    async fn create_movie(&self, draft: &MovieDraft) -> StoreResult<Movie> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO movies (slug, title, original_title, year, runtime_minutes, synopsis, \
             content_rating, language, created_ms, updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(draft.slug.as_str())
        .bind(draft.title.as_str())
        .bind(draft.original_title.as_ref().map(|t| t.as_str()))
        .bind(draft.year.map(|y| i64::from(y.get())))
        .bind(draft.runtime.map(|r| i64::from(r.minutes())))
        .bind(draft.synopsis.as_str())
        .bind(draft.content_rating.as_str())
        .bind(draft.language.as_str())
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                slug_taken(draft)
            } else {
                db_err(e)
            }
        })?;
        write_details(&mut tx, MovieId(id), draft)
            .await
            .map_err(db_err)?;
        crate::catalog::refresh_search(&mut tx, &[id])
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        self.movie_by_id(MovieId(id))
            .await?
            .ok_or(StoreError::NotFound("film"))
    }

    async fn update_movie(&self, id: MovieId, draft: &MovieDraft) -> StoreResult<Movie> {
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE movies SET slug = $1, title = $2, original_title = $3, year = $4, runtime_minutes = $5, \
             synopsis = $6, content_rating = $7, language = $8, updated_ms = $9 WHERE id = $10",
        )
        .bind(draft.slug.as_str())
        .bind(draft.title.as_str())
        .bind(draft.original_title.as_ref().map(|t| t.as_str()))
        .bind(draft.year.map(|y| i64::from(y.get())))
        .bind(draft.runtime.map(|r| i64::from(r.minutes())))
        .bind(draft.synopsis.as_str())
        .bind(draft.content_rating.as_str())
        .bind(draft.language.as_str())
        .bind(now_ms())
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(|e| if is_unique_violation(&e) { slug_taken(draft) } else { db_err(e) })?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::NotFound("film"));
        }
        write_details(&mut tx, id, draft).await.map_err(db_err)?;
        crate::catalog::refresh_search(&mut tx, &[id.0])
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        self.movie_by_id(id)
            .await?
            .ok_or(StoreError::NotFound("film"))
    }

    async fn delete_movie(&self, id: MovieId) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        // The lock order of every writer of votes: the film, then its reviews' tally rows, in
        // review id order as vote batches take them, and only then the cascade through the
        // reviews and their votes. A batch in flight finishes first and the next finds no review,
        // where the cascade alone would lock the tally rows in no set order, and a batch holding
        // one of them while it waits for another could deadlock with it.
        sqlx::query("SELECT id FROM movies WHERE id = $1 FOR UPDATE")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(
            "SELECT review_id FROM review_tallies WHERE movie_id = $1 ORDER BY review_id FOR UPDATE",
        )
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let done = sqlx::query("DELETE FROM movies WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("film"));
        }
        tx.commit().await.map_err(db_err)
    }

    async fn set_poster(&self, id: MovieId, poster: Option<&str>) -> StoreResult<()> {
        let done = sqlx::query("UPDATE movies SET poster = $1, updated_ms = $2 WHERE id = $3")
            .bind(poster)
            .bind(now_ms())
            .bind(id.0)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("film"));
        }
        Ok(())
    }

    async fn set_members_only(&self, id: MovieId, members_only: bool) -> StoreResult<()> {
        let done =
            sqlx::query("UPDATE movies SET members_only = $1, updated_ms = $2 WHERE id = $3")
                .bind(members_only)
                .bind(now_ms())
                .bind(id.0)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("film"));
        }
        Ok(())
    }

    async fn movie_by_id(&self, id: MovieId) -> StoreResult<Option<Movie>> {
        self.fetch_movie(
            &format!("SELECT {MOVIE_COLUMNS} FROM movies WHERE id = $1"),
            id.0,
        )
        .await
    }

    async fn movie_by_slug(&self, slug: &str) -> StoreResult<Option<Movie>> {
        self.fetch_movie(
            &format!("SELECT {MOVIE_COLUMNS} FROM movies WHERE slug = $1"),
            slug.to_owned(),
        )
        .await
    }

    async fn list_movies(
        &self,
        after: Option<(&str, MovieId)>,
        limit: u32,
    ) -> StoreResult<Vec<Movie>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let rows = match after {
            None => {
                sqlx::query(&format!(
                    "SELECT {MOVIE_COLUMNS} FROM movies ORDER BY lower(title), id LIMIT $1"
                ))
                .bind(i64::from(limit))
                .fetch_all(&mut *conn)
                .await
            }
            Some((title, id)) => {
                sqlx::query(&format!(
                    "SELECT {MOVIE_COLUMNS} FROM movies \
                     WHERE (lower(title), id) > (lower($1), $2) \
                     ORDER BY lower(title), id LIMIT $3"
                ))
                .bind(title)
                .bind(id.0)
                .bind(i64::from(limit))
                .fetch_all(&mut *conn)
                .await
            }
        }
        .map_err(db_err)?;
        let mut movies = Vec::with_capacity(rows.len());
        for row in rows {
            let mut m = movie_row(&row).map_err(db_err)?;
            load_details(&mut conn, &mut m).await.map_err(db_err)?;
            movies.push(m);
        }
        Ok(movies)
    }

    async fn catalog_fingerprint(&self) -> StoreResult<(u64, i64)> {
        let row = sqlx::query("SELECT COUNT(*), COALESCE(MAX(updated_ms), 0) FROM movies")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        let count: i64 = row.try_get(0).map_err(db_err)?;
        Ok((count as u64, row.try_get(1).map_err(db_err)?))
    }

    async fn count_movies(&self) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM movies")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(n as u64)
    }
}
