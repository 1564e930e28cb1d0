//! The SQLite backend: the shared conformance suite on a real SQLite file per test, plus the
//! checks that only make sense for SQLite (journal mode, schema versions, query plans).

use marquee_domain::MovieId;
use marquee_store::{
    Backend, BrowseCursor, BrowseFilter, BrowseQuery, BrowseSort, CatalogStore, MovieCard,
    MovieStore, SearchMatch, SearchTerms, Store,
};
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

fn card_for_cursor() -> MovieCard {
    MovieCard {
        id: MovieId(500),
        slug: "m".into(),
        title: "Middle".into(),
        year: Some(1990),
        runtime_minutes: Some(100),
        poster: None,
        rating_count: 7,
        rating_sum: 25,
        review_count: 3,
        created_ms: 1_700_000_000_000,
    }
}

#[tokio::test]
async fn every_browse_order_and_every_page_is_read_from_its_index_not_sorted() {
    let (store, _dir) = fresh_sqlite().await;
    let indexes = [
        (BrowseSort::Title, "movies_by_title"),
        (BrowseSort::Year, "movies_by_year"),
        (BrowseSort::Rating, "movies_by_rating"),
        (BrowseSort::Reviews, "movies_by_reviews"),
        (BrowseSort::Added, "movies_by_added"),
    ];
    // A genre as big as Drama usually is is checked along the order; a small one is read
    // through its own index (see the genre test below).
    let drama: Vec<String> = (0..2001).map(|i| format!("drama-{i}")).collect();
    fill_big_genre(&store, "Drama", &drama).await;
    let filtered = BrowseFilter {
        genre: Some("Drama".into()),
        year_min: Some(1980),
        runtime_max: Some(120),
        min_rating: Some(3.5),
        ..BrowseFilter::default()
    };
    for (sort, index) in indexes {
        let cursor = BrowseCursor::after(&card_for_cursor(), sort);
        for (after, filter) in [
            (None, BrowseFilter::default()),
            (Some(cursor.clone()), BrowseFilter::default()),
            (Some(cursor), filtered.clone()),
        ] {
            let deep = after.is_some();
            let query = BrowseQuery {
                filter,
                sort,
                after,
                limit: 24,
            };
            let plan = store.browse_plan(&query).await.unwrap();
            let main = &plan[0];
            let text = plan.join(" | ");
            if deep {
                // A later page starts at the cursor in the index, not at its beginning.
                assert!(
                    main.starts_with(&format!("SEARCH m USING INDEX {index} (")),
                    "{sort:?}: {text}"
                );
            } else {
                assert_eq!(
                    main,
                    &format!("SCAN m USING INDEX {index}"),
                    "{sort:?}: {text}"
                );
            }
            assert!(!text.contains("TEMP B-TREE"), "{sort:?}: {text}");
        }
    }
}

/// Gives `slugs.len()` new films the genre `name`, straight in SQL: the plan depends only on
/// the genre's size, and two thousand films through the store would slow the test down.
async fn fill_big_genre(store: &SqliteStore, name: &str, slugs: &[String]) {
    let pool = store.write_pool();
    for slug in slugs {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO movies (slug, title, created_ms, updated_ms) VALUES (?, ?, 0, 0) RETURNING id",
        )
        .bind(slug)
        .bind(slug)
        .fetch_one(pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO movie_genres (movie_id, position, name) VALUES (?, 0, ?)")
            .bind(id)
            .bind(name)
            .execute(pool)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_small_genre_is_read_through_its_index_and_sorted() {
    let (store, _dir) = fresh_sqlite().await;
    fill_big_genre(&store, "Western", &["w-1".to_owned(), "w-2".to_owned()]).await;
    for sort in BrowseSort::ALL {
        let plan = store
            .browse_plan(&BrowseQuery {
                filter: BrowseFilter {
                    genre: Some("western".into()),
                    ..BrowseFilter::default()
                },
                sort,
                after: None,
                limit: 24,
            })
            .await
            .unwrap()
            .join(" | ");
        assert!(
            plan.contains("movie_genres_by_folded_name"),
            "{sort:?}: {plan}"
        );
    }
}

/// Runs FTS5's own check of each full-text index against `movie_search`.
async fn check_search_indexes(store: &SqliteStore) {
    for table in [
        "movie_search_titles",
        "movie_search_people",
        "movie_search_text",
        "movie_search_trigrams",
    ] {
        sqlx::query(&format!(
            "INSERT INTO {table} ({table}) VALUES ('integrity-check')"
        ))
        .execute(store.write_pool())
        .await
        .unwrap_or_else(|e| panic!("{table}: {e}"));
    }
}

#[tokio::test]
async fn the_full_text_indexes_follow_every_write_and_films_from_before_search_are_indexed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let mut draft = sample("amelie", "Amélie");
    let a = store.create_movie(&draft).await.unwrap();
    store
        .create_movie(&sample("la-haine", "La Haine"))
        .await
        .unwrap();
    check_search_indexes(&store).await;
    draft.title = marquee_domain::Title::parse("Amélie Poulain").unwrap();
    store.update_movie(a.id, &draft).await.unwrap();
    check_search_indexes(&store).await;
    store.delete_movie(a.id).await.unwrap();
    check_search_indexes(&store).await;
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM movie_search")
        .fetch_one(store.write_pool())
        .await
        .unwrap();
    assert_eq!(left, 1, "the removed film's search row went with it");

    // A database whose films predate the search tables: opening it builds their rows.
    sqlx::query("DELETE FROM movie_search")
        .execute(store.write_pool())
        .await
        .unwrap();
    store.close().await;
    let store = SqliteStore::open(&path).await.unwrap();
    let hits = store
        .search_movies(&SearchTerms::parse("haine"), 10)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].matched, SearchMatch::Title);
    check_search_indexes(&store).await;
    assert_eq!(store.rebuild_search_index().await.unwrap(), 1);
    check_search_indexes(&store).await;
}

fn sample(slug: &str, title: &str) -> marquee_domain::MovieDraft {
    use marquee_domain::*;
    MovieDraft {
        slug: Slug::parse(slug).unwrap(),
        title: Title::parse(title).unwrap(),
        original_title: None,
        year: Some(Year::new(2001).unwrap()),
        runtime: Some(Runtime::from_minutes(122).unwrap()),
        synopsis: Synopsis::parse("A shy waitress in Montmartre.").unwrap(),
        genres: vec![Genre::parse("Comedy").unwrap()],
        directors: vec![PersonName::parse("Jean-Pierre Jeunet").unwrap()],
        cast: vec![CastMember::new("Audrey Tautou", "Amélie").unwrap()],
        content_rating: ContentRating::NotRated,
        language: Language::parse("French").unwrap(),
    }
}

/// Browse and search timings on a catalog of 60,000 films (`MARQUEE_BENCH_FILMS` to change the
/// number; `MARQUEE_BENCH_TITLES=<file>` for real titles, one per line). Prints the query plans
/// and a report; run with `cargo nextest run -p marquee-store-sqlite --run-ignored only
/// catalog_timings --no-capture` (a release build gives the figures that matter).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: builds a 60,000-film catalog"]
async fn catalog_timings() {
    use marquee_store::conformance;
    // MARQUEE_BENCH_DB=<file> keeps the catalog for a look with the sqlite3 shell afterwards.
    let (store, _dir) = match std::env::var("MARQUEE_BENCH_DB") {
        Ok(path) => (
            SqliteStore::open(std::path::Path::new(&path))
                .await
                .unwrap(),
            tempfile::tempdir().unwrap(),
        ),
        Err(_) => fresh_sqlite().await,
    };
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
    for sort in BrowseSort::ALL {
        let after = Some(BrowseCursor::after(&card_for_cursor(), sort));
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
