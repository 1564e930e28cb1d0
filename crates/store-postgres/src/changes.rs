//! The change feed over LISTEN/NOTIFY: every instance listens on one channel, and a write on any
//! instance announces the film it touched, so each drops its cached pages for that film.

use crate::{PgStore, db_err};
use async_trait::async_trait;
use marquee_domain::MovieId;
use marquee_store::{Backend, Change, StoreResult};
use sqlx::postgres::PgListener;
use std::time::Duration;
use tokio::sync::mpsc;

pub(crate) const CHANNEL: &str = "marquee_changes";
/// The payload that means "everything": film ids are numbers, so it cannot be mistaken for one.
const EVERYTHING: &str = "*";

#[async_trait]
impl Backend for PgStore {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn write_concurrency(&self) -> usize {
        // One batch in flight per instance. More workers split the queue into smaller batches,
        // and each batch costs PostgreSQL five round trips and a commit whatever its size: on
        // the backends benchmark (one instance, 64 clients) 4 workers gave ~5,200 votes/s at
        // ~5 votes a batch, 2 or 1 ~5,950. Several instances still write in parallel, one batch
        // each, and a batch that waits for its WAL flush lets the next one fill meanwhile.
        1
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn claim_lease(
        &self,
        job: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> StoreResult<bool> {
        // The upsert only takes over a lease that has expired or is already ours; concurrent
        // claims on one name queue on its key, so one of them wins.
        let won: Option<String> = sqlx::query_scalar(
            "INSERT INTO leases (name, holder, until_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms \
             WHERE leases.until_ms <= $4 OR leases.holder = excluded.holder \
             RETURNING holder",
        )
        .bind(job)
        .bind(holder)
        .bind(now_ms + ttl_ms)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(won.is_some())
    }

    async fn announce(&self, movie: MovieId) -> StoreResult<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(movie.0.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn announce_all(&self) -> StoreResult<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(EVERYTHING)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn subscribe(&self) -> StoreResult<Option<mpsc::Receiver<Change>>> {
        let mut listener = PgListener::connect_with(&self.pool).await.map_err(db_err)?;
        listener.listen(CHANNEL).await.map_err(db_err)?;
        let (tx, rx) = mpsc::channel(1024);
        let pool = self.pool.clone();
        tokio::spawn(async move {
            loop {
                let change = match listener.try_recv().await {
                    Ok(Some(n)) if n.payload() == EVERYTHING => Change::Reset,
                    Ok(Some(n)) => match n.payload().parse::<i64>() {
                        Ok(id) => Change::Movie(MovieId(id)),
                        Err(_) => continue,
                    },
                    // The connection dropped and will be re-established by the next call:
                    // whatever was announced meanwhile is lost, so everything counts as changed.
                    Ok(None) => Change::Reset,
                    // Shutting down: the pool closed under the listener.
                    Err(_) if pool.is_closed() => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the PostgreSQL change feed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        Change::Reset
                    }
                };
                if tx.send(change).await.is_err() {
                    break; // nobody listens any more
                }
            }
        });
        Ok(Some(rx))
    }
}
