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
/// The start of a payload that announces votes only ([`Change::Votes`]).
const VOTES: &str = "votes:";
/// The longest payload written: PostgreSQL refuses one of 8,000 bytes or more.
const PAYLOAD_MAX: usize = 7_000;

/// The announcements of a vote batch that touched the reviews of `movies`: `votes:` and their
/// ids, comma-separated, in as few payloads as fit. One notification per film cost every
/// listening instance a message per film, and a batch touches about as many films as it has
/// votes.
pub(crate) fn vote_payloads(movies: impl IntoIterator<Item = MovieId>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for movie in movies {
        let id = movie.0.to_string();
        match out.last_mut() {
            Some(last) if last.len() + 1 + id.len() <= PAYLOAD_MAX => {
                last.push(',');
                last.push_str(&id);
            }
            _ => out.push(format!("{VOTES}{id}")),
        }
    }
    out
}

/// What a payload announces; parts that are not film ids are ignored.
fn changes_in(payload: &str) -> Vec<Change> {
    if payload == EVERYTHING {
        return vec![Change::Reset];
    }
    let (ids, change): (&str, fn(MovieId) -> Change) = match payload.strip_prefix(VOTES) {
        Some(ids) => (ids, Change::Votes),
        None => (payload, Change::Movie),
    };
    ids.split(',')
        .filter_map(|part| part.parse::<i64>().ok())
        .map(|id| change(MovieId(id)))
        .collect()
}

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
            'feed: loop {
                let changes = match listener.try_recv().await {
                    Ok(Some(n)) => changes_in(n.payload()),
                    // The connection dropped and will be re-established by the next call:
                    // whatever was announced meanwhile is lost, so everything counts as changed.
                    Ok(None) => vec![Change::Reset],
                    // Shutting down: the pool closed under the listener.
                    Err(_) if pool.is_closed() => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the PostgreSQL change feed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        vec![Change::Reset]
                    }
                };
                for change in changes {
                    if tx.send(change).await.is_err() {
                        break 'feed; // nobody listens any more
                    }
                }
            }
        });
        Ok(Some(rx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vote_payloads_pack_ids_and_read_back_the_same() {
        let movies: Vec<MovieId> = (1..=3000).map(|i| MovieId(i * 1_000_003)).collect();
        let packed = vote_payloads(movies.iter().copied());
        assert!(
            packed.len() > 1,
            "3,000 ids of 7 to 10 digits need several payloads"
        );
        assert!(packed.iter().all(|p| p.len() <= PAYLOAD_MAX));
        let back: Vec<MovieId> = packed
            .iter()
            .flat_map(|p| changes_in(p))
            .map(|c| match c {
                Change::Votes(m) => m,
                other => panic!("a vote payload read as {other:?}"),
            })
            .collect();
        assert_eq!(back, movies);
        assert!(vote_payloads([]).is_empty());
    }

    #[test]
    fn film_everything_and_junk_payloads_read_as_expected() {
        assert_eq!(changes_in("42"), [Change::Movie(MovieId(42))]);
        assert_eq!(changes_in(EVERYTHING), [Change::Reset]);
        assert!(changes_in("").is_empty());
        assert_eq!(
            changes_in("votes:7,x,9"),
            [Change::Votes(MovieId(7)), Change::Votes(MovieId(9))]
        );
    }
}
