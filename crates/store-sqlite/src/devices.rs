//! Device sign-in codes (RFC 8628) in SQLite. Every change is one statement or one `BEGIN
//! IMMEDIATE` transaction on the single writer, so decisions and exchanges on one code run one
//! after the other and exactly one of them wins.

use crate::{SqliteStore, db_err, is_unique_violation};
use async_trait::async_trait;
use marquee_domain::UserId;
use marquee_store::devices::SLOW_DOWN_STEP_S;
use marquee_store::{
    ApiToken, DeviceCode, DeviceCodeState, DeviceDecision, DevicePoll, DeviceStore, NewDeviceCode,
    StoreError, StoreResult,
};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

const COLUMNS: &str =
    "id, user_code, client_name, state, user_id, interval_s, created_ms, expires_ms";

fn device_code(row: &SqliteRow) -> Result<DeviceCode, sqlx::Error> {
    let state: String = row.try_get(3)?;
    Ok(DeviceCode {
        id: row.try_get(0)?,
        user_code: row.try_get(1)?,
        client_name: row.try_get(2)?,
        state: DeviceCodeState::parse(&state).ok_or_else(|| sqlx::Error::ColumnDecode {
            index: "state".into(),
            source: format!("unknown device code state {state:?}").into(),
        })?,
        user_id: row.try_get::<Option<i64>, _>(4)?.map(UserId),
        interval_s: row.try_get::<i64, _>(5)? as u32,
        created_ms: row.try_get(6)?,
        expires_ms: row.try_get(7)?,
    })
}

#[async_trait]
impl DeviceStore for SqliteStore {
    async fn create_device_code(&self, new: &NewDeviceCode<'_>) -> StoreResult<DeviceCode> {
        let row = sqlx::query(&format!(
            "INSERT INTO device_codes (device_code_hash, user_code, client_name, state, interval_s, \
             created_ms, expires_ms) VALUES (?, ?, ?, 'pending', ?, ?, ?) RETURNING {COLUMNS}"
        ))
        .bind(new.device_code_hash)
        .bind(new.user_code)
        .bind(new.client_name)
        .bind(i64::from(new.interval_s))
        .bind(new.now_ms)
        .bind(new.expires_ms)
        .fetch_one(&self.write)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict("That device code is already taken.".into())
            } else {
                db_err(e)
            }
        })?;
        device_code(&row).map_err(db_err)
    }

    async fn device_code_by_user_code(&self, user_code: &str) -> StoreResult<Option<DeviceCode>> {
        sqlx::query(&format!(
            "SELECT {COLUMNS} FROM device_codes WHERE user_code = ?"
        ))
        .bind(user_code)
        .fetch_optional(&self.read)
        .await
        .map_err(db_err)?
        .map(|r| device_code(&r))
        .transpose()
        .map_err(db_err)
    }

    async fn decide_device_code(
        &self,
        user_code: &str,
        user: UserId,
        approve: bool,
        now_ms: i64,
    ) -> StoreResult<DeviceDecision> {
        let state = if approve {
            DeviceCodeState::Approved
        } else {
            DeviceCodeState::Denied
        };
        // One statement: of several decisions on one code, only the first still finds it
        // pending.
        let decided = sqlx::query(&format!(
            "UPDATE device_codes SET state = ?, user_id = ?, decided_ms = ? \
             WHERE user_code = ? AND state = 'pending' AND expires_ms > ? RETURNING {COLUMNS}"
        ))
        .bind(state.as_str())
        .bind(user.0)
        .bind(now_ms)
        .bind(user_code)
        .bind(now_ms)
        .fetch_optional(&self.write)
        .await
        .map_err(db_err)?;
        if let Some(row) = decided {
            return Ok(DeviceDecision::Decided(device_code(&row).map_err(db_err)?));
        }
        // Read on the writer: it has seen every committed decision.
        let found = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM device_codes WHERE user_code = ?"
        ))
        .bind(user_code)
        .fetch_optional(&self.write)
        .await
        .map_err(db_err)?
        .map(|r| device_code(&r))
        .transpose()
        .map_err(db_err)?;
        Ok(match found {
            None => DeviceDecision::Unknown,
            Some(c) if c.state != DeviceCodeState::Pending => DeviceDecision::AlreadyDecided(c),
            Some(c) => DeviceDecision::Expired(c),
        })
    }

    async fn poll_device_code(
        &self,
        device_code_hash: &[u8],
        token_hash: &[u8],
        now_ms: i64,
    ) -> StoreResult<DevicePoll> {
        let mut tx = self.begin_write().await?;
        let Some(row) = sqlx::query(&format!(
            "SELECT {COLUMNS}, last_poll_ms FROM device_codes WHERE device_code_hash = ?"
        ))
        .bind(device_code_hash)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        else {
            return Ok(DevicePoll::Unknown);
        };
        let code = device_code(&row).map_err(db_err)?;
        let last_poll: Option<i64> = row.try_get(8).map_err(db_err)?;
        let answer = match code.state {
            DeviceCodeState::Used => DevicePoll::Used,
            _ if code.is_expired(now_ms) => DevicePoll::Expired,
            DeviceCodeState::Denied => DevicePoll::Denied,
            DeviceCodeState::Pending => {
                let too_soon =
                    last_poll.is_some_and(|t| now_ms - t < i64::from(code.interval_s) * 1000);
                let interval = if too_soon {
                    code.interval_s + SLOW_DOWN_STEP_S
                } else {
                    code.interval_s
                };
                sqlx::query(
                    "UPDATE device_codes SET last_poll_ms = ?, interval_s = ? WHERE id = ?",
                )
                .bind(now_ms)
                .bind(i64::from(interval))
                .bind(code.id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                if too_soon {
                    DevicePoll::SlowDown {
                        interval_s: interval,
                    }
                } else {
                    DevicePoll::Pending
                }
            }
            DeviceCodeState::Approved => {
                let user = code.user_id.ok_or_else(|| {
                    StoreError::backend(std::io::Error::other(
                        "an approved device code has no user",
                    ))
                })?;
                sqlx::query(
                    "UPDATE device_codes SET state = 'used', last_poll_ms = ? WHERE id = ?",
                )
                .bind(now_ms)
                .bind(code.id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO api_tokens (user_id, name, token_hash, created_ms) \
                     VALUES (?, ?, ?, ?) RETURNING id",
                )
                .bind(user.0)
                .bind(&code.client_name)
                .bind(token_hash)
                .bind(now_ms)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
                DevicePoll::Granted {
                    user,
                    token: ApiToken {
                        id,
                        name: code.client_name.clone(),
                        created_ms: now_ms,
                        last_used_ms: None,
                    },
                }
            }
        };
        tx.commit().await.map_err(db_err)?;
        Ok(answer)
    }

    async fn purge_device_codes(&self, now_ms: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM device_codes WHERE expires_ms <= ?")
            .bind(now_ms)
            .execute(&self.write)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}
