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
    let Some((a, _b, mut feed)) = a_store_and_another_feed().await else {
        return;
    };
    let id = a.create_movie(&sample()).await.unwrap().id;
    a.announce(id).await.unwrap();
    assert!(arrives(&mut feed, |c| matches!(c, Change::Movie(m) if *m == id)).await);
}

#[tokio::test]
async fn a_vote_batch_is_announced_as_votes_on_its_film() {
    use marquee_domain::{DisplayName, Stars, Username};
    use marquee_store::{NewUser, RatingInput, ReviewStore, UserStore};
    let Some((a, _b, mut feed)) = a_store_and_another_feed().await else {
        return;
    };
    let film = a.create_movie(&sample()).await.unwrap().id;
    let mut users = Vec::new();
    for name in ["author", "voter"] {
        let user = a
            .create_user(&NewUser {
                username: Username::parse(name).unwrap(),
                display_name: DisplayName::parse(name).unwrap(),
                password_hash: "x".into(),
                now_ms: 0,
            })
            .await
            .unwrap();
        users.push(user.id);
    }
    let review = a
        .put_rating(
            film,
            users[0],
            &RatingInput {
                stars: Stars::new(4).unwrap(),
                headline: None,
                body: marquee_domain::ReviewText::parse_optional(Some("Worth the trip.")).unwrap(),
                anonymous: false,
                now_ms: 1,
            },
        )
        .await
        .unwrap();
    a.put_vote(review.id, users[1], true).await.unwrap();
    assert!(arrives(&mut feed, |c| matches!(c, Change::Votes(m) if *m == film)).await);
}

/// A store to write through, and another store on the same database with its change feed (as
/// two instances have).
async fn a_store_and_another_feed()
-> Option<(PgStore, PgStore, tokio::sync::mpsc::Receiver<Change>)> {
    let a = fresh_store().await?;
    let b = fresh_store().await?;
    let feed = b
        .subscribe()
        .await
        .unwrap()
        .expect("PostgreSQL has a change feed");
    Some((a, b, feed))
}

/// Whether a change `wanted` accepts comes through the feed within 5 s (other tests announce
/// on the same channel, so others may come first).
async fn arrives(
    feed: &mut tokio::sync::mpsc::Receiver<Change>,
    wanted: impl Fn(&Change) -> bool,
) -> bool {
    tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(change) = feed.recv().await {
            if wanted(&change) {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false)
}

#[tokio::test]
async fn an_announcement_of_everything_resets_every_subscriber() {
    let Some((a, _b, mut feed)) = a_store_and_another_feed().await else {
        return;
    };
    a.announce_all().await.unwrap();
    assert!(arrives(&mut feed, |c| matches!(c, Change::Reset)).await);
}

fn sample() -> marquee_domain::MovieDraft {
    use marquee_domain::*;
    MovieDraft::titled(
        Slug::parse("feed-test").unwrap(),
        Title::parse("Feed").unwrap(),
    )
}

/// Reconnects to the schema `store` lives in.
async fn reconnect(store: &PgStore) -> PgStore {
    let schema: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(store.pool())
        .await
        .unwrap();
    PgStore::connect(
        &test_url().unwrap(),
        &PgSettings {
            max_connections: 4,
            schema: Some(schema),
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn films_from_before_search_are_indexed_when_the_store_opens() {
    use marquee_store::{CatalogStore, SearchMatch, SearchTerms};
    let Some(store) = fresh_store().await else {
        return;
    };
    store.create_movie(&sample()).await.unwrap();
    sqlx::query("DELETE FROM movie_search")
        .execute(store.pool())
        .await
        .unwrap();
    let store = reconnect(&store).await;
    let hits = store
        .search_movies(&SearchTerms::parse("feed"), 10)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].matched, SearchMatch::ExactTitle);
    assert_eq!(store.rebuild_search_index().await.unwrap(), 1);
}

/// An import's batches leave their search entries in the GIN indexes' pending lists; tidying
/// after the import merges them, so searches read the indexes alone.
#[tokio::test]
async fn tidying_after_an_import_empties_the_gin_pending_lists() {
    use marquee_domain::{Slug, Title};
    use marquee_store::import::{ImportFilm, ImportStore};
    use marquee_store::{CatalogStore, SearchTerms};
    let Some(store) = fresh_store().await else {
        return;
    };
    let batch = |from: usize| -> Vec<ImportFilm> {
        (from..from + 60)
            .map(|n| {
                let mut draft = sample();
                draft.slug = Slug::parse(&format!("lantern-{n}")).unwrap();
                draft.title = Title::parse(&format!("Lantern {n}")).unwrap();
                ImportFilm {
                    key: format!("test:{n}"),
                    other_keys: vec![],
                    draft,
                    fingerprint: n.to_string(),
                    external_rating: None,
                }
            })
            .collect()
    };
    // Pages merged out of the pending lists (merging them, so each check starts empty).
    let pending = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT sum(gin_clean_pending_list(i::regclass))::bigint FROM unnest(ARRAY[\
             'movie_search_titles', 'movie_search_people', 'movie_search_text', \
             'movie_search_trigrams']) AS i",
        )
        .fetch_one(store.pool())
        .await
        .unwrap()
    };
    store.import_films(&batch(0), 1).await.unwrap();
    assert!(pending().await > 0, "a batch alone leaves pending entries");
    store.import_films(&batch(60), 1).await.unwrap();
    store.import_films(&batch(120), 1).await.unwrap();
    store.tidy_after_import().await.unwrap();
    assert_eq!(pending().await, 0);
    let hits = store
        .search_movies(&SearchTerms::parse("lantern"), 50)
        .await
        .unwrap();
    assert_eq!(hits.len(), 50);
}

/// Browse and search timings on a catalog of 60,000 films (`MARQUEE_BENCH_FILMS` to change the
/// number; `MARQUEE_BENCH_TITLES=<file>` for real titles, one per line), with the query plans;
/// run with `cargo nextest run -p marquee-store-postgres --run-ignored only catalog_timings
/// --no-capture` (a release build gives the figures that matter).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: builds a 60,000-film catalog"]
async fn catalog_timings() {
    use marquee_store::{BrowseCursor, BrowseQuery, BrowseSort, MovieCard, conformance};
    let Some(url) = test_url() else { return };
    let store = PgStore::connect(
        &url,
        &PgSettings {
            max_connections: 16,
            schema: Some(marquee_store_postgres::testing::unique_name("bench")),
        },
    )
    .await
    .unwrap();
    let n: usize = std::env::var("MARQUEE_BENCH_FILMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60_000);
    let titles = match std::env::var("MARQUEE_BENCH_TITLES") {
        Ok(path) => std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .take(n)
            .map(str::to_owned)
            .collect(),
        Err(_) => conformance::synthetic_titles(n),
    };
    let t = std::time::Instant::now();
    conformance::fill_catalog_for_benchmarks(&store, &titles).await;
    println!(
        "filled {} films in {:.1} s",
        titles.len(),
        t.elapsed().as_secs_f64()
    );
    let middle = MovieCard {
        id: marquee_domain::MovieId(30_000),
        slug: "m".into(),
        title: "Middle".into(),
        year: Some(1990),
        runtime_minutes: Some(100),
        poster: None,
        rating_count: 7,
        rating_sum: 25,
        review_count: 3,
        created_ms: 1_600_030_000_000,
    };
    for sort in BrowseSort::ALL {
        for after in [None, Some(BrowseCursor::after(&middle, sort))] {
            let plan = store
                .browse_plan(&BrowseQuery {
                    sort,
                    after,
                    limit: 24,
                    ..BrowseQuery::default()
                })
                .await
                .unwrap();
            println!("plan {sort:?}: {}", plan.join(" | "));
        }
    }
    let searches = [
        "godfather",
        "the godfather",
        "godf",
        "amelie",
        "love",
        "night",
        "a",
        "th",
        "x y",
        "tom hanks",
        "müller",
        "star wars",
        "godfater",
        "shawshenk redemption",
        "midnigt runer",
        "zzqx",
    ];
    let report = conformance::time_catalog_queries(Arc::new(store), &searches).await;
    println!("{report}");
}
