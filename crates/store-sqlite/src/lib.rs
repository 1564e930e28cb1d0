//! The SQLite backend: one database file in WAL mode, a pool of readers and a single writer.
//!
//! SQLite allows one writer at a time. Funnelling every write through one pooled connection, and
//! starting each write transaction with `BEGIN IMMEDIATE`, means writers queue in the pool instead
//! of failing with `SQLITE_BUSY`, and a read-then-write transaction can never lose its snapshot.
//! Readers run in parallel on their own connections.

mod catalog;
mod devices;
mod import;
mod lists;
mod media;
mod movies;
mod reviews;
mod rows;
mod transfer;
mod users;
mod votes;

use marquee_store::StoreError;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the SQLite database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error(
        "the database {path} was written by a newer Marquee (it has migration {version}, which this \
         binary does not know); upgrade Marquee or restore a backup"
    )]
    SchemaTooNew { path: String, version: i64 },
    #[error("cannot apply migrations to {path}: {source}")]
    Migrate {
        path: String,
        source: sqlx::migrate::MigrateError,
    },
}

/// The SQLite store. Cheap to clone: both pools are reference-counted.
#[derive(Clone)]
pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
    /// The background checkpointer; stops when the last clone of the store is dropped.
    _checkpoints: Arc<Checkpointer>,
}

/// Copies the write-ahead log back into the database four times a second from a reader
/// connection.
///
/// Left to itself, SQLite checkpoints inside the commit that crosses the WAL's size threshold,
/// and a checkpoint fsyncs twice: the single writer, and everyone queued behind it, would wait on
/// the disk every few hundred votes. A PASSIVE checkpoint on another connection runs alongside
/// the writer instead; the automatic one stays as a backstop with a higher threshold.
struct Checkpointer(tokio::task::JoinHandle<()>);

impl Checkpointer {
    fn start(pool: SqlitePool) -> Self {
        Self(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !pool.is_closed() {
                tick.tick().await;
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await
                {
                    if pool.is_closed() {
                        break;
                    }
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                }
            }
        }))
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self, OpenError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Self::open_with(options, &path.display().to_string()).await
    }

    /// Opens a `sqlite://` URL (e.g. `sqlite://./marquee-data/marquee.db`).
    pub async fn open_url(url: &str) -> Result<Self, OpenError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|source| OpenError::Open {
                path: url.to_owned(),
                source,
            })?
            .create_if_missing(true);
        Self::open_with(options, url).await
    }

    async fn open_with(options: SqliteConnectOptions, label: &str) -> Result<Self, OpenError> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory");
        let open_err = |source| OpenError::Open {
            path: label.to_owned(),
            source,
        };
        // A SQLite connection is a file handle in this process: it can not go stale the way a
        // network connection can, so the pool's ping before every checkout is pure overhead.
        let write = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .min_connections(1)
            // The one writer touches index pages all over a large database (a vote batch lands
            // on random reviews); 32 MiB of page cache instead of the default 2 MiB keeps most
            // of the upper levels of those B-trees in memory.
            .connect_with(
                options
                    .clone()
                    .pragma("cache_size", "-32768")
                    .pragma("wal_autocheckpoint", "20000"),
            )
            .await
            .map_err(open_err)?;
        match MIGRATOR.run(&write).await {
            Ok(()) => {}
            Err(sqlx::migrate::MigrateError::VersionMissing(version)) => {
                return Err(OpenError::SchemaTooNew {
                    path: label.to_owned(),
                    version,
                });
            }
            Err(source) => {
                return Err(OpenError::Migrate {
                    path: label.to_owned(),
                    source,
                });
            }
        }
        // Films from before the search migration get their search rows (folded in Rust).
        catalog::index_films_without_search_rows(&write)
            .await
            .map_err(|e| OpenError::Migrate {
                path: label.to_owned(),
                source: sqlx::migrate::MigrateError::Execute(e),
            })?;
        let readers = std::thread::available_parallelism()
            .map_or(4, |n| n.get() as u32 * 2)
            .max(4);
        // Readers map the file instead of copying pages into each connection's own cache: the
        // OS page cache is shared by all of them, and a catalog scan spends no time in read().
        let read = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(readers)
            .connect_with(options.pragma("mmap_size", "268435456"))
            .await
            .map_err(open_err)?;
        Ok(Self {
            _checkpoints: Arc::new(Checkpointer::start(read.clone())),
            read,
            write,
        })
    }

    /// Starts a write transaction holding SQLite's write lock from its first statement.
    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.write
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err)
    }

    /// The pool for raw SQL in benchmarks and tools that bypass the traits on purpose.
    pub fn write_pool(&self) -> &SqlitePool {
        &self.write
    }
}

#[async_trait::async_trait]
impl marquee_store::Backend for SqliteStore {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    async fn claim_lease(
        &self,
        job: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> marquee_store::StoreResult<bool> {
        // The upsert only takes over a lease that has expired or is already ours; concurrent
        // claims on one name queue on its key, so one of them wins.
        let won: Option<String> = sqlx::query_scalar(
            "INSERT INTO leases (name, holder, until_ms) VALUES (?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms \
             WHERE leases.until_ms <= ? OR leases.holder = excluded.holder \
             RETURNING holder",
        )
        .bind(job)
        .bind(holder)
        .bind(now_ms + ttl_ms)
        .bind(now_ms)
        .fetch_optional(&self.write)
        .await
        .map_err(db_err)?;
        Ok(won.is_some())
    }

    // One process owns a SQLite database, so there is nobody to tell.
    async fn announce(&self, _movie: marquee_domain::MovieId) -> marquee_store::StoreResult<()> {
        Ok(())
    }

    async fn subscribe(
        &self,
    ) -> marquee_store::StoreResult<Option<tokio::sync::mpsc::Receiver<marquee_store::Change>>>
    {
        Ok(None)
    }
}

/// Maps a database error to a store error; the cause stays attached for the log.
pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    StoreError::backend(e)
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
