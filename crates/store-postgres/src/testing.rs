//! Test support: a fresh, empty schema on the PostgreSQL server named by
//! `MARQUEE_TEST_POSTGRES_URL`, for each test. Without that variable the tests that need it skip
//! with a visible message, except under `CI=true`, where a missing server is a failure.

use crate::{PgSettings, PgStore};
use std::sync::atomic::{AtomicU32, Ordering};

pub const URL_VAR: &str = "MARQUEE_TEST_POSTGRES_URL";

/// The test server's URL, or `None` (after saying so) when tests should skip.
pub fn test_url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{URL_VAR} is not set, and CI=true does not allow skipping the PostgreSQL tests")
        }
        _ => {
            eprintln!(
                "SKIPPED: set {URL_VAR}=postgres://… to run the PostgreSQL half of this test"
            );
            None
        }
    }
}

/// A name no other test (in this or another process) is using.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A store on its own new schema of the test server.
pub async fn fresh_store() -> Option<PgStore> {
    let url = test_url()?;
    let settings = PgSettings {
        max_connections: 8,
        schema: Some(unique_name("t")),
    };
    Some(
        PgStore::connect(&url, &settings)
            .await
            .expect("connecting to the test PostgreSQL server"),
    )
}

/// A new, empty database on the test server (for tests that start `marquee` processes, which
/// use the default schema); returns its URL.
pub async fn fresh_database() -> Option<String> {
    let url = test_url()?;
    let name = unique_name("marquee_test");
    let admin = sqlx::PgPool::connect(&url)
        .await
        .expect("connecting to the test PostgreSQL server");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("creating a test database");
    admin.close().await;
    let base = url
        .rsplit_once('/')
        .map_or(url.as_str(), |(b, _)| b)
        .to_owned();
    Some(format!("{base}/{name}"))
}
