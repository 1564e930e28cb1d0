//! The PostgreSQL backend: the same traits as SQLite over a connection pool, for running several
//! stateless `marquee` instances against one database.
//!
//! Concurrency rests on row locks taken in one order (film, then review, then votes) and on
//! atomic `col = col + delta` updates, so READ COMMITTED is enough: no read-modify-write of a
//! counter ever races another. Instances tell each other about changes with LISTEN/NOTIFY.

mod catalog;
mod changes;
mod devices;
mod import;
mod lists;
mod media;
mod movies;
mod reviews;
mod rows;
pub mod testing;
mod transfer;
mod users;
mod votes;

use marquee_store::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, PgConnection, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Why the database could not be opened. Messages name the server, never the password.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the database URL is not a valid postgres:// URL: {0}")]
    BadUrl(String),
    #[error("cannot connect to PostgreSQL at {server}: {source}")]
    Connect { server: String, source: sqlx::Error },
    #[error(
        "the PostgreSQL database at {server} was written by a newer Marquee (it has migration \
         {version}, which this binary does not know); upgrade Marquee or restore a backup"
    )]
    SchemaTooNew { server: String, version: i64 },
    #[error("cannot apply migrations on {server}: {source}")]
    Migrate {
        server: String,
        source: sqlx::migrate::MigrateError,
    },
}

/// The PostgreSQL store. Cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct PgSettings {
    /// Most connections this instance opens.
    pub max_connections: u32,
    /// Use this schema instead of `public` (created if missing); tests give each its own.
    pub schema: Option<String>,
}

impl Default for PgSettings {
    fn default() -> Self {
        Self {
            max_connections: 16,
            schema: None,
        }
    }
}

impl PgStore {
    /// Connects, creating the schema if asked, and applies pending migrations. Several instances
    /// starting at once are safe: sqlx holds an advisory lock while migrating.
    pub async fn connect(url: &str, settings: &PgSettings) -> Result<Self, OpenError> {
        let mut options =
            PgConnectOptions::from_str(url).map_err(|e| OpenError::BadUrl(e.to_string()))?;
        let server = format!(
            "{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or("postgres")
        );
        if let Some(schema) = &settings.schema {
            let admin = PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options.clone())
                .await
                .map_err(|source| OpenError::Connect {
                    server: server.clone(),
                    source,
                })?;
            sqlx::query(&format!(
                "CREATE SCHEMA IF NOT EXISTS \"{}\"",
                schema.replace('"', "")
            ))
            .execute(&admin)
            .await
            .map_err(|source| OpenError::Connect {
                server: server.clone(),
                source,
            })?;
            admin.close().await;
            options = options.options([("search_path", schema.as_str())]);
        }
        // One direct connection first: a pool would retry a refused or misconfigured server
        // until its timeout, where a person wants the reason at once.
        let probe = PgConnection::connect_with(&options)
            .await
            .map_err(|source| OpenError::Connect {
                server: server.clone(),
                source,
            })?;
        probe.close().await.ok();
        // No ping before every checkout: it is a round trip per query on the hottest paths. A
        // connection that died (a server restart) fails its next query once and is dropped.
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|source| OpenError::Connect {
                server: server.clone(),
                source,
            })?;
        match MIGRATOR.run(&pool).await {
            Ok(()) => {}
            Err(sqlx::migrate::MigrateError::VersionMissing(version)) => {
                return Err(OpenError::SchemaTooNew { server, version });
            }
            Err(source) => return Err(OpenError::Migrate { server, source }),
        }
        // Films from before the search migration get their search rows (folded in Rust).
        if let Err(e) = catalog::index_films_without_search_rows(&pool).await {
            return Err(OpenError::Migrate {
                server,
                source: sqlx::migrate::MigrateError::Execute(e),
            });
        }
        Ok(Self { pool })
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool.begin().await.map_err(db_err)
    }

    /// The pool, for tools and tests that need raw SQL on purpose.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    StoreError::backend(e)
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
