//! Accounts, sessions, personal access tokens, sign-in throttling and shared secrets in PostgreSQL.

use crate::rows::{self, USER_COLUMNS};
use crate::{PgStore, db_err, is_unique_violation};
use async_trait::async_trait;
use marquee_domain::UserId;
use marquee_store::{ApiToken, NewUser, StoreError, StoreResult, User, UserStore};
use sqlx::Row;

#[async_trait]
impl UserStore for PgStore {
    async fn create_user(&self, new: &NewUser) -> StoreResult<User> {
        // The admin flag is decided inside the INSERT, under a transaction-scoped advisory lock,
        // so two simultaneous first sign-ups (on any instances) can not both become admin.
        let mut tx = self.begin_write().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(7207001)")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let row = sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, is_admin, created_ms) \
             VALUES ($1, $2, $3, NOT EXISTS (SELECT 1 FROM users), $4) \
             RETURNING id, username, display_name, is_admin, created_ms",
        )
        .bind(new.username.as_str())
        .bind(new.display_name.as_str())
        .bind(&new.password_hash)
        .bind(new.now_ms)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict("That username is already taken.".into())
            } else {
                db_err(e)
            }
        })?;
        let user = rows::user(&row).map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(user)
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<Option<User>> {
        sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"
        ))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|r| rows::user(&r))
        .transpose()
        .map_err(db_err)
    }

    async fn credentials(&self, username: &str) -> StoreResult<Option<(User, String)>> {
        let Some(row) = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.username = $1"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        else {
            return Ok(None);
        };
        let user = rows::user(&row).map_err(db_err)?;
        Ok(Some((user, row.try_get(5).map_err(db_err)?)))
    }

    async fn count_users(&self) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(n as u64)
    }

    async fn create_session(
        &self,
        id_hash: &[u8],
        user: UserId,
        now_ms: i64,
        expires_ms: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        // Housekeeping rides along with sign-ins, so expired sessions never pile up.
        sqlx::query("DELETE FROM sessions WHERE expires_ms <= $1")
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, created_ms, expires_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(id_hash)
        .bind(user.0)
        .bind(now_ms)
        .bind(expires_ms)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn session_user(&self, id_hash: &[u8], now_ms: i64) -> StoreResult<Option<User>> {
        sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND s.expires_ms > $2"
        ))
        .bind(id_hash)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .map(|r| rows::user(&r))
        .transpose()
        .map_err(db_err)
    }

    async fn delete_session(&self, id_hash: &[u8]) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn create_token(
        &self,
        user: UserId,
        name: &str,
        token_hash: &[u8],
        now_ms: i64,
    ) -> StoreResult<ApiToken> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_ms) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(user.0)
        .bind(name)
        .bind(token_hash)
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(ApiToken {
            id,
            name: name.to_owned(),
            created_ms: now_ms,
            last_used_ms: None,
        })
    }

    async fn token_user(&self, token_hash: &[u8], now_ms: i64) -> StoreResult<Option<User>> {
        let Some(row) = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, t.id, t.last_used_ms FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        else {
            return Ok(None);
        };
        let user = rows::user(&row).map_err(db_err)?;
        let token_id: i64 = row.try_get(5).map_err(db_err)?;
        let last_used: Option<i64> = row.try_get(6).map_err(db_err)?;
        // Record use at most once a minute: a device polling with its token should not turn
        // every read into a write.
        if last_used.is_none_or(|t| now_ms - t > 60_000) {
            sqlx::query("UPDATE api_tokens SET last_used_ms = $1 WHERE id = $2")
                .bind(now_ms)
                .bind(token_id)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
        }
        Ok(Some(user))
    }

    async fn list_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>> {
        let rows = sqlx::query("SELECT id, name, created_ms, last_used_ms FROM api_tokens WHERE user_id = $1 ORDER BY id")
            .bind(user.0)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(ApiToken {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    created_ms: r.try_get(2)?,
                    last_used_ms: r.try_get(3)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db_err)
    }

    async fn delete_token(&self, user: UserId, id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user.0)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("token"));
        }
        Ok(())
    }

    async fn credentials_version(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT n FROM credentials_version WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn record_login_failure(
        &self,
        key: &str,
        now_ms: i64,
        window_ms: i64,
    ) -> StoreResult<u32> {
        let n: i64 = sqlx::query_scalar(
            "INSERT INTO login_failures (key, failures, window_start_ms) VALUES ($1, 1, $2) \
             ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN login_failures.window_start_ms + $3 <= excluded.window_start_ms \
                        THEN 1 ELSE login_failures.failures + 1 END, \
             window_start_ms = CASE WHEN login_failures.window_start_ms + $4 <= excluded.window_start_ms \
                               THEN excluded.window_start_ms ELSE login_failures.window_start_ms END \
             RETURNING failures",
        )
        .bind(key)
        .bind(now_ms)
        .bind(window_ms)
        .bind(window_ms)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(n as u32)
    }

    async fn login_failures(&self, key: &str, now_ms: i64, window_ms: i64) -> StoreResult<u32> {
        let n: Option<i64> = sqlx::query_scalar(
            "SELECT failures FROM login_failures WHERE key = $1 AND window_start_ms + $2 > $3",
        )
        .bind(key)
        .bind(window_ms)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(n.unwrap_or(0) as u32)
    }

    async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn purge_expired(&self, now_ms: i64, before_ms: i64) -> StoreResult<u64> {
        let sessions = sqlx::query("DELETE FROM sessions WHERE expires_ms <= $1")
            .bind(now_ms)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        let failures = sqlx::query("DELETE FROM login_failures WHERE window_start_ms < $1")
            .bind(before_ms)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(sessions.rows_affected() + failures.rows_affected())
    }

    async fn shared_secret(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(candidate)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }
}
