//! The PostgreSQL backend: the shared conformance suite, each test on its own schema of a real
//! server (`MARQUEE_TEST_POSTGRES_URL`), plus PostgreSQL-only checks.

use marquee_store::{Backend, Change, MovieStore, Store};
use marquee_store_postgres::testing::{fresh_store, test_url};
use marquee_store_postgres::{OpenError, PgSettings, PgStore};
use std::sync::Arc;

async fn fresh() -> Option<(Arc<dyn Store>, ())> {
    Some((Arc::new(fresh_store().await?), ()))
}

marquee_store::conformance_tests!(fresh());

#[tokio::test]
async fn a_malformed_or_unreachable_url_gets_a_clear_error_without_the_password() {
    let bad = PgStore::connect("postgres://u:secret@[::1", &PgSettings::default())
        .await
        .err()
        .unwrap();
    assert!(matches!(bad, OpenError::BadUrl(_)), "{bad}");
    let down = PgStore::connect("postgres://u:secret@127.0.0.1:1/db", &PgSettings::default())
        .await
        .err()
        .unwrap();
    let msg = down.to_string();
    assert!(
        msg.contains("cannot connect to PostgreSQL at 127.0.0.1:1/db"),
        "{msg}"
    );
    assert!(!msg.contains("secret"));
}

#[tokio::test]
async fn a_schema_from_a_newer_marquee_is_refused() {
    let Some(store) = fresh_store().await else {
        return;
    };
    sqlx::query("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99990101000000, 'future', TRUE, '\\x00', 0)")
        .execute(store.pool())
        .await
        .unwrap();
    let schema: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let url = test_url().unwrap();
    let err = PgStore::connect(
        &url,
        &PgSettings {
            max_connections: 2,
            schema: Some(schema),
        },
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(err, OpenError::SchemaTooNew { .. }), "{err}");
}

#[tokio::test]
async fn announcements_reach_every_subscriber() {
    let Some(a) = fresh_store().await else { return };
    let Some(b) = fresh_store().await else { return };
    let mut feed = b
        .subscribe()
        .await
        .unwrap()
        .expect("PostgreSQL has a change feed");
    let id = a.create_movie(&sample()).await.unwrap().id;
    a.announce(id).await.unwrap();
    let got = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            match feed.recv().await {
                Some(Change::Movie(m)) if m == id => return true,
                Some(_) => continue,
                None => return false,
            }
        }
    })
    .await;
    assert_eq!(got, Ok(true));
}

fn sample() -> marquee_domain::MovieDraft {
    use marquee_domain::*;
    MovieDraft {
        slug: Slug::parse("feed-test").unwrap(),
        title: Title::parse("Feed").unwrap(),
        original_title: None,
        year: None,
        runtime: None,
        synopsis: Synopsis::parse("").unwrap(),
        genres: vec![],
        directors: vec![],
        cast: vec![],
        content_rating: ContentRating::NotRated,
        language: Language::parse("").unwrap(),
    }
}
