//! Media files, subtitles, playback positions and background jobs in PostgreSQL.

use crate::{PgStore, db_err};
use async_trait::async_trait;
use marquee_domain::time_fmt::now_ms;
use marquee_domain::{MovieId, UserId};
use marquee_store::media::WATCHED_FRACTION;
use marquee_store::{
    Job, JobState, MediaRecord, MediaStore, NewMedia, PlaybackPosition, StoreError, StoreResult,
    SubtitleRecord,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

const MEDIA_COLUMNS: &str = "movie_id, storage_key, file_name, content_type, size_bytes, \
    duration_ms, width, height, video_codec, audio_codec, probe_json, hls_prefix, created_ms";
const SUBTITLE_COLUMNS: &str = "movie_id, lang, label, storage_key, created_ms";
const POSITION_COLUMNS: &str = "movie_id, position_ms, duration_ms, watched_ms, updated_ms";
const JOB_COLUMNS: &str = "id, kind, movie_id, state, progress, worker, lease_until_ms, attempts, \
    error, created_ms, updated_ms";

fn media(row: &PgRow) -> Result<MediaRecord, sqlx::Error> {
    Ok(MediaRecord {
        movie_id: MovieId(row.try_get(0)?),
        storage_key: row.try_get(1)?,
        file_name: row.try_get(2)?,
        content_type: row.try_get(3)?,
        size_bytes: row.try_get::<i64, _>(4)? as u64,
        duration_ms: row.try_get::<i64, _>(5)? as u64,
        width: row.try_get::<i64, _>(6)? as u32,
        height: row.try_get::<i64, _>(7)? as u32,
        video_codec: row.try_get(8)?,
        audio_codec: row.try_get(9)?,
        probe_json: row.try_get(10)?,
        hls_prefix: row.try_get(11)?,
        created_ms: row.try_get(12)?,
    })
}

fn subtitle(row: &PgRow) -> Result<SubtitleRecord, sqlx::Error> {
    Ok(SubtitleRecord {
        movie_id: MovieId(row.try_get(0)?),
        lang: row.try_get(1)?,
        label: row.try_get(2)?,
        storage_key: row.try_get(3)?,
        created_ms: row.try_get(4)?,
    })
}

fn position(row: &PgRow) -> Result<PlaybackPosition, sqlx::Error> {
    Ok(PlaybackPosition {
        movie_id: MovieId(row.try_get(0)?),
        position_ms: row.try_get::<i64, _>(1)? as u64,
        duration_ms: row.try_get::<i64, _>(2)? as u64,
        watched_ms: row.try_get(3)?,
        updated_ms: row.try_get(4)?,
    })
}

fn job(row: &PgRow) -> Result<Job, sqlx::Error> {
    let state: String = row.try_get(3)?;
    Ok(Job {
        id: row.try_get(0)?,
        kind: row.try_get(1)?,
        movie_id: MovieId(row.try_get(2)?),
        state: JobState::parse(&state).ok_or_else(|| sqlx::Error::ColumnDecode {
            index: "state".into(),
            source: format!("unknown job state {state:?}").into(),
        })?,
        progress: row.try_get(4)?,
        worker: row.try_get(5)?,
        lease_until_ms: row.try_get(6)?,
        attempts: row.try_get::<i64, _>(7)? as u32,
        error: row.try_get(8)?,
        created_ms: row.try_get(9)?,
        updated_ms: row.try_get(10)?,
    })
}

async fn fetch_media(
    conn: &mut PgConnection,
    movie: MovieId,
) -> Result<Option<MediaRecord>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {MEDIA_COLUMNS} FROM media WHERE movie_id = $1"
    ))
    .bind(movie.0)
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| media(&r))
    .transpose()
}

#[async_trait]
impl MediaStore for PgStore {
    async fn put_media(&self, m: &NewMedia) -> StoreResult<Option<MediaRecord>> {
        let mut tx = self.begin_write().await?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM movies WHERE id = $1 FOR UPDATE")
                .bind(m.movie_id.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if exists.is_none() {
            return Err(StoreError::NotFound("film"));
        }
        let old = fetch_media(&mut tx, m.movie_id).await.map_err(db_err)?;
        // Replacing the file replaces what was made from it: subtitles, packaging, jobs.
        sqlx::query("DELETE FROM media WHERE movie_id = $1")
            .bind(m.movie_id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query("DELETE FROM jobs WHERE movie_id = $1 AND state IN ('queued', 'running')")
            .bind(m.movie_id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(&format!(
            "INSERT INTO media ({MEDIA_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, $12)"
        ))
        .bind(m.movie_id.0)
        .bind(&m.storage_key)
        .bind(&m.file_name)
        .bind(&m.content_type)
        .bind(m.size_bytes as i64)
        .bind(m.duration_ms as i64)
        .bind(i64::from(m.width))
        .bind(i64::from(m.height))
        .bind(&m.video_codec)
        .bind(&m.audio_codec)
        .bind(&m.probe_json)
        .bind(m.now_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        // The runtime people see comes from the file when nobody typed one in; the update time
        // moves either way, so pages (and other processes' caches) notice the new media.
        let minutes = (m.duration_ms as f64 / 60_000.0).round().max(1.0) as i64;
        sqlx::query(
            "UPDATE movies SET runtime_minutes = COALESCE(runtime_minutes, $1), updated_ms = $2 \
             WHERE id = $3",
        )
        .bind(minutes)
        .bind(m.now_ms)
        .bind(m.movie_id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(old)
    }

    async fn media_for(&self, movie: MovieId) -> StoreResult<Option<MediaRecord>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        fetch_media(&mut conn, movie).await.map_err(db_err)
    }

    async fn delete_media(&self, movie: MovieId) -> StoreResult<Option<MediaRecord>> {
        let mut tx = self.begin_write().await?;
        let old = fetch_media(&mut tx, movie).await.map_err(db_err)?;
        sqlx::query("DELETE FROM media WHERE movie_id = $1")
            .bind(movie.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if old.is_some() {
            // Pages (and other processes' caches) follow the film's update time.
            sqlx::query("UPDATE movies SET updated_ms = $1 WHERE id = $2")
                .bind(now_ms())
                .bind(movie.0)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        sqlx::query("DELETE FROM jobs WHERE movie_id = $1 AND state IN ('queued', 'running')")
            .bind(movie.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(old)
    }

    async fn set_hls(&self, movie: MovieId, prefix: Option<&str>) -> StoreResult<()> {
        let done = sqlx::query("UPDATE media SET hls_prefix = $1 WHERE movie_id = $2")
            .bind(prefix)
            .bind(movie.0)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("media"));
        }
        Ok(())
    }

    async fn put_subtitle(&self, s: &SubtitleRecord) -> StoreResult<Option<SubtitleRecord>> {
        let mut tx = self.begin_write().await?;
        let has_media: Option<i64> =
            sqlx::query_scalar("SELECT movie_id FROM media WHERE movie_id = $1 FOR UPDATE")
                .bind(s.movie_id.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if has_media.is_none() {
            return Err(StoreError::NotFound("media"));
        }
        let old = sqlx::query(&format!(
            "SELECT {SUBTITLE_COLUMNS} FROM subtitles WHERE movie_id = $1 AND lang = $2"
        ))
        .bind(s.movie_id.0)
        .bind(&s.lang)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .map(|r| subtitle(&r))
        .transpose()
        .map_err(db_err)?;
        sqlx::query(&format!(
            "INSERT INTO subtitles ({SUBTITLE_COLUMNS}) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (movie_id, lang) DO UPDATE SET label = excluded.label, \
             storage_key = excluded.storage_key, created_ms = excluded.created_ms"
        ))
        .bind(s.movie_id.0)
        .bind(&s.lang)
        .bind(&s.label)
        .bind(&s.storage_key)
        .bind(s.created_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(old)
    }

    async fn subtitles_for(&self, movie: MovieId) -> StoreResult<Vec<SubtitleRecord>> {
        sqlx::query(&format!(
            "SELECT {SUBTITLE_COLUMNS} FROM subtitles WHERE movie_id = $1 ORDER BY lang"
        ))
        .bind(movie.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(subtitle)
        .collect::<Result<_, _>>()
        .map_err(db_err)
    }

    async fn save_position(
        &self,
        user: UserId,
        movie: MovieId,
        position_ms: u64,
        duration_ms: u64,
        now_ms: i64,
    ) -> StoreResult<PlaybackPosition> {
        let finished =
            duration_ms > 0 && position_ms as f64 >= WATCHED_FRACTION * duration_ms as f64;
        let row = sqlx::query(&format!(
            "INSERT INTO playback_positions (user_id, {POSITION_COLUMNS}) \
             SELECT $1::bigint, id, $2::bigint, $3::bigint, $4::bigint, $5::bigint FROM movies WHERE id = $6 \
             ON CONFLICT (user_id, movie_id) DO UPDATE SET position_ms = excluded.position_ms, \
             duration_ms = excluded.duration_ms, updated_ms = excluded.updated_ms, \
             watched_ms = COALESCE(playback_positions.watched_ms, excluded.watched_ms) \
             RETURNING {POSITION_COLUMNS}"
        ))
        .bind(user.0)
        .bind(position_ms as i64)
        .bind(duration_ms as i64)
        .bind(finished.then_some(now_ms))
        .bind(now_ms)
        .bind(movie.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("film"))?;
        position(&row).map_err(db_err)
    }

    async fn position(
        &self,
        user: UserId,
        movie: MovieId,
    ) -> StoreResult<Option<PlaybackPosition>> {
        sqlx::query(&format!(
            "SELECT {POSITION_COLUMNS} FROM playback_positions WHERE user_id = $1 AND movie_id = $2"
        ))
        .bind(user.0)
        .bind(movie.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|r| position(&r))
        .transpose()
        .map_err(db_err)
    }

    async fn continue_watching(
        &self,
        user: UserId,
        limit: u32,
    ) -> StoreResult<Vec<PlaybackPosition>> {
        sqlx::query(&format!(
            "SELECT {POSITION_COLUMNS} FROM playback_positions \
             WHERE user_id = $1 AND position_ms > 0 AND position_ms < $2 * duration_ms \
             ORDER BY updated_ms DESC LIMIT $3"
        ))
        .bind(user.0)
        .bind(WATCHED_FRACTION)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(position)
        .collect::<Result<_, _>>()
        .map_err(db_err)
    }

    async fn enqueue_job(&self, kind: &str, movie: MovieId, now_ms: i64) -> StoreResult<Job> {
        let mut tx = self.begin_write().await?;
        // The film's row lock serializes enqueues for one film (and follows the lock order:
        // film first), so two instances can't both find no job and both add one.
        let film: Option<i64> =
            sqlx::query_scalar("SELECT id FROM movies WHERE id = $1 FOR UPDATE")
                .bind(movie.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        if film.is_none() {
            return Err(StoreError::NotFound("film"));
        }
        let active = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE kind = $1 AND movie_id = $2 \
             AND state IN ('queued', 'running')"
        ))
        .bind(kind)
        .bind(movie.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        if let Some(row) = active {
            return job(&row).map_err(db_err);
        }
        let row = sqlx::query(&format!(
            "INSERT INTO jobs (kind, movie_id, state, created_ms, updated_ms) \
             SELECT $1::text, id, 'queued', $2::bigint, $3::bigint FROM movies WHERE id = $4 RETURNING {JOB_COLUMNS}"
        ))
        .bind(kind)
        .bind(now_ms)
        .bind(now_ms)
        .bind(movie.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::NotFound("film"))?;
        let queued = job(&row).map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(queued)
    }

    async fn claim_job(
        &self,
        kind: &str,
        worker: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<Option<Job>> {
        // SKIP LOCKED: concurrent claimers (other instances) pass over a row being claimed
        // instead of waiting for it, and each gets a different job.
        sqlx::query(&format!(
            "UPDATE jobs SET state = 'running', worker = $1, lease_until_ms = $2, \
             attempts = attempts + 1, updated_ms = $3 \
             WHERE id = (SELECT id FROM jobs WHERE kind = $4 AND (state = 'queued' \
                 OR (state = 'running' AND lease_until_ms <= $5)) ORDER BY created_ms, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING {JOB_COLUMNS}"
        ))
        .bind(worker)
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .bind(kind)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|r| job(&r))
        .transpose()
        .map_err(db_err)
    }

    async fn claim_job_for(
        &self,
        kind: &str,
        movie: MovieId,
        worker: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<Option<Job>> {
        sqlx::query(&format!(
            "UPDATE jobs SET state = 'running', worker = $1, lease_until_ms = $2, \
             attempts = attempts + 1, updated_ms = $3 \
             WHERE id = (SELECT id FROM jobs WHERE kind = $4 AND movie_id = $5 AND (state = 'queued' \
                 OR (state = 'running' AND lease_until_ms <= $6)) ORDER BY created_ms, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING {JOB_COLUMNS}"
        ))
        .bind(worker)
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .bind(kind)
        .bind(movie.0)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|r| job(&r))
        .transpose()
        .map_err(db_err)
    }

    async fn renew_job(
        &self,
        id: i64,
        worker: &str,
        progress: f64,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET progress = $1, lease_until_ms = $2, updated_ms = $3 \
             WHERE id = $4 AND worker = $5 AND state = 'running'",
        )
        .bind(progress.clamp(0.0, 1.0))
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn finish_job(
        &self,
        id: i64,
        worker: &str,
        error: Option<&str>,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let state = if error.is_some() { "failed" } else { "done" };
        let done = sqlx::query(
            "UPDATE jobs SET state = $1, error = $2, \
             progress = CASE WHEN $3 = 'done' THEN 1 ELSE progress END, updated_ms = $4 \
             WHERE id = $5 AND worker = $6 AND state = 'running'",
        )
        .bind(state)
        .bind(error)
        .bind(state)
        .bind(now_ms)
        .bind(id)
        .bind(worker)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn job_by_id(&self, id: i64) -> StoreResult<Option<Job>> {
        sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .map(|r| job(&r))
            .transpose()
            .map_err(db_err)
    }

    async fn list_jobs(&self, movie: Option<MovieId>, limit: u32) -> StoreResult<Vec<Job>> {
        sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE ($1::bigint IS NULL OR movie_id = $2) \
             ORDER BY created_ms DESC, id DESC LIMIT $3"
        ))
        .bind(movie.map(|m| m.0))
        .bind(movie.map(|m| m.0))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?
        .iter()
        .map(job)
        .collect::<Result<_, _>>()
        .map_err(db_err)
    }
}
