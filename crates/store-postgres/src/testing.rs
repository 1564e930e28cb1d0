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

/// The most leftovers one call of `sweep_leftovers` removes, so that a large backlog drains over
/// many tests instead of stalling one.
const SWEEP_AT_MOST: usize = 16;

/// The process id in a name made by `unique_name`.
fn pid_in(name: &str) -> Option<u32> {
    name.split('_').rev().nth(2)?.parse().ok()
}

/// Removes the schemas and databases that tests of processes no longer running left behind.
/// Each test runs in a process of its own and ends without a chance to drop what it made (an
/// async drop, or a panic), so without this the test server fills up with them. A process id
/// reused since only delays a removal; removals that race another process's are ignored.
async fn sweep_leftovers(admin: &sqlx::PgPool) {
    let alive = |name: &str| {
        pid_in(name).is_none_or(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists())
    };
    let schemas: Vec<String> =
        sqlx::query_scalar("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%\\_%\\_%'")
            .fetch_all(admin)
            .await
            .unwrap_or_default();
    let databases: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'marquee\\_test\\_%'",
    )
    .fetch_all(admin)
    .await
    .unwrap_or_default();
    let dead = schemas
        .iter()
        .filter(|n| !alive(n))
        .map(|n| format!("DROP SCHEMA IF EXISTS \"{n}\" CASCADE"))
        .chain(
            databases
                .iter()
                .filter(|n| !alive(n))
                .map(|n| format!("DROP DATABASE IF EXISTS \"{n}\" WITH (FORCE)")),
        )
        .take(SWEEP_AT_MOST);
    for statement in dead {
        let _ = sqlx::query(&statement).execute(admin).await;
    }
}

/// A store on its own new schema of the test server.
pub async fn fresh_store() -> Option<PgStore> {
    let url = test_url()?;
    let settings = PgSettings {
        max_connections: 8,
        schema: Some(unique_name("t")),
    };
    let store = PgStore::connect(&url, &settings)
        .await
        .expect("connecting to the test PostgreSQL server");
    // The store's own pool: the catalog it reads and the names it drops do not depend on the
    // schema it works in.
    sweep_leftovers(&store.pool).await;
    Some(store)
}

/// A new, empty database on the test server (for tests that start `marquee` processes, which
/// use the default schema); returns its URL.
pub async fn fresh_database() -> Option<String> {
    let url = test_url()?;
    let name = unique_name("marquee_test");
    let admin = sqlx::PgPool::connect(&url)
        .await
        .expect("connecting to the test PostgreSQL server");
    sweep_leftovers(&admin).await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_process_id() {
        let me = std::process::id();
        assert_eq!(pid_in(&unique_name("t")), Some(me));
        assert_eq!(pid_in(&unique_name("marquee_test")), Some(me));
        assert_eq!(pid_in("public"), None);
        assert_eq!(pid_in("marquee_bench_1acccc37703c"), None);
    }
}
