//! The SQLite backend: the shared conformance suite on a real SQLite file per test, plus the
//! checks that only make sense for SQLite (journal mode, schema versions, query plans).

use marquee_store::{Backend, Store};
use marquee_store_sqlite::SqliteStore;
use std::sync::Arc;

async fn fresh() -> Option<(Arc<dyn Store>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    Some((Arc::new(store), dir))
}

async fn fresh_sqlite() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    (store, dir)
}

marquee_store::conformance_tests!(fresh());

#[tokio::test]
async fn the_database_is_in_wal_mode_and_migrations_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let s = SqliteStore::open(&path).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(s.write_pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    s.close().await;
    SqliteStore::open(&path).await.unwrap();
}

#[tokio::test]
async fn a_database_from_a_newer_marquee_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let s = SqliteStore::open(&path).await.unwrap();
    sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99990101000000, 'future', 1, x'00', 0)")
        .execute(s.write_pool())
        .await
        .unwrap();
    s.close().await;
    let err = SqliteStore::open(&path)
        .await
        .err()
        .expect("must refuse")
        .to_string();
    assert!(err.contains("newer Marquee"), "{err}");
}

/// The first page and a later one of "most helpful", as `list_reviews` asks for them.
const HELPFUL_PAGES: [&str; 2] = [
    "SELECT t.review_id, t.helpful_yes, r.body, u.display_name FROM review_tallies t JOIN reviews r ON r.id = t.review_id \
     JOIN users u ON u.id = r.user_id WHERE t.movie_id = 1 AND r.body IS NOT NULL \
     ORDER BY t.score DESC, t.created_ms DESC, t.review_id DESC LIMIT 3",
    "SELECT t.review_id, t.helpful_yes, r.body, u.display_name FROM review_tallies t JOIN reviews r ON r.id = t.review_id \
     JOIN users u ON u.id = r.user_id WHERE t.movie_id = 1 AND r.body IS NOT NULL \
     AND (t.score < 0.5 OR (t.score = 0.5 AND (t.created_ms < 9 OR (t.created_ms = 9 AND t.review_id < 7)))) \
     ORDER BY t.score DESC, t.created_ms DESC, t.review_id DESC LIMIT 3",
];

#[tokio::test]
async fn the_helpful_order_is_read_from_its_index_not_sorted() {
    use sqlx::Row;
    let (store, _dir) = fresh_sqlite().await;
    for query in HELPFUL_PAGES {
        let plan: Vec<String> = sqlx::query(&format!("EXPLAIN QUERY PLAN {query}"))
            .fetch_all(store.write_pool())
            .await
            .unwrap()
            .iter()
            .map(|row| row.get::<String, _>(3))
            .collect();
        let text = plan.join(" | ");
        assert!(
            text.starts_with("SEARCH t USING INDEX review_tallies_helpful (movie_id=?"),
            "{text}"
        );
        assert!(!text.contains("TEMP B-TREE"), "{text}");
    }
}
