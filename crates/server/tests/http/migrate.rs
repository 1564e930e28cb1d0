//! `marquee migrate-data`: everything copied between backends, verified, never duplicated.

use marquee_store::transfer::{TABLES, Transfer, Value};
use marquee_store::{Backend, MovieStore, ReviewStore, UserStore};
use marquee_store_sqlite::SqliteStore;
use std::process::Command;

fn migrate(dir: &std::path::Path, from: &str, to: &str, extra: &[&str]) -> (bool, String) {
    // Small batches by default, so every table takes several.
    let batch: &[&str] = if extra.contains(&"--batch") {
        &[]
    } else {
        &["--batch", "7"]
    };
    let out = Command::new(env!("CARGO_BIN_EXE_marquee"))
        .arg("--data-dir")
        .arg(dir)
        .args(["migrate-data", "--from", from, "--to", to])
        .args(batch)
        .args(extra)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A SQLite database with the demo catalog and a row in every table.
async fn demo_sqlite(dir: &std::path::Path) -> String {
    let path = dir.join("source.db");
    let store = SqliteStore::open(&path).await.unwrap();
    marquee_server::demo::load(&store).await.unwrap();
    let ada = store.credentials("ada").await.unwrap().unwrap().0;
    store
        .create_session(b"session-hash", ada.id, 0, i64::MAX)
        .await
        .unwrap();
    store
        .create_token(ada.id, "tv", b"token-hash", 0)
        .await
        .unwrap();
    store
        .record_login_failure("user:ada", 0, 1000)
        .await
        .unwrap();
    store.shared_secret("csrf-key", &[7; 32]).await.unwrap();
    marquee_store::DeviceStore::create_device_code(
        &store,
        &marquee_store::NewDeviceCode {
            device_code_hash: b"device-code-hash",
            user_code: "BCDFGHJK",
            client_name: "Living-room TV",
            interval_s: 5,
            now_ms: 0,
            expires_ms: i64::MAX,
        },
    )
    .await
    .unwrap();
    // Playback rows: a film's media with subtitles, a viewer's position, a packaging job.
    use marquee_store::MediaStore;
    let film = store.movie_by_slug("the-work").await.unwrap().unwrap();
    store
        .put_media(&marquee_store::NewMedia {
            movie_id: film.id,
            storage_key: "films/1/abc/source.mp4".into(),
            file_name: "the-work.mp4".into(),
            content_type: "video/mp4".into(),
            size_bytes: 1000,
            duration_ms: 5_340_000,
            width: 1920,
            height: 1080,
            video_codec: "h264".into(),
            audio_codec: Some("aac".into()),
            probe_json: "{}".into(),
            now_ms: 1,
        })
        .await
        .unwrap();
    store
        .put_subtitle(&marquee_store::SubtitleRecord {
            movie_id: film.id,
            lang: "en".into(),
            label: "English".into(),
            storage_key: "films/1/abc/subtitles/en.vtt".into(),
            created_ms: 1,
        })
        .await
        .unwrap();
    store
        .save_position(ada.id, film.id, 60_000, 5_340_000, 2)
        .await
        .unwrap();
    let job = store.enqueue_job("hls", film.id, 3).await.unwrap();
    assert!(
        store
            .claim_job("hls", "w", 4, 1000)
            .await
            .unwrap()
            .is_some()
    );
    store.renew_job(job.id, "w", 0.25, 5, 1000).await.unwrap();
    // A viewer's lists.
    use marquee_store::ListStore;
    store.add_to_watchlist(ada.id, film.id, 3).await.unwrap();
    store
        .add_diary_entry(
            ada.id,
            &marquee_store::NewDiaryEntry {
                movie: film.id,
                watched_on: marquee_store::Day::parse("2024-05-31").unwrap(),
                rewatch: true,
                stars: None,
                now_ms: 3,
            },
        )
        .await
        .unwrap();
    // Where an imported film came from, and another site's rating of it.
    use marquee_store::ImportStore;
    let mut draft = film_draft_for_import();
    draft.slug = marquee_domain::Slug::parse("brazil-1985").unwrap();
    store
        .import_films(
            &[marquee_store::ImportFilm {
                key: "imdb:tt0088846".into(),
                other_keys: vec!["movielens:1199".into()],
                draft,
                fingerprint: "f".into(),
                external_rating: Some(marquee_store::ExternalRating {
                    source: "imdb".into(),
                    tenths: 79,
                    votes: 210_000,
                }),
            }],
            4,
        )
        .await
        .unwrap();
    for t in TABLES {
        assert!(
            store.count_rows(t).await.unwrap() > 0,
            "{} is empty in the source",
            t.name
        );
    }
    store.close().await;
    format!("sqlite://{}", path.display())
}

async fn counts(store: &dyn marquee_store::Store) -> Vec<u64> {
    let mut out = Vec::new();
    for t in TABLES {
        out.push(store.count_rows(t).await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_to_sqlite_copies_everything_and_refuses_a_non_empty_target() {
    let dir = tempfile::tempdir().unwrap();
    let from = demo_sqlite(dir.path()).await;
    let to = format!("sqlite://{}", dir.path().join("copy.db").display());
    let (ok, out) = migrate(dir.path(), &from, &to, &[]);
    assert!(ok, "{out}");
    assert!(out.contains("verified"), "{out}");
    let (ok, out) = migrate(dir.path(), &from, &to, &[]);
    assert!(!ok && out.contains("the target is not empty"), "{out}");
    // Running again with --resume adds nothing and still verifies.
    let (ok, out) = migrate(dir.path(), &from, &to, &["--resume"]);
    assert!(ok && out.contains("verified"), "{out}");
    let copy = SqliteStore::open(&dir.path().join("copy.db"))
        .await
        .unwrap();
    let src = SqliteStore::open(&dir.path().join("source.db"))
        .await
        .unwrap();
    assert_eq!(counts(&copy).await, counts(&src).await);
    let work = copy.movie_by_slug("the-work").await.unwrap().unwrap();
    assert_eq!(copy.movie_stats(work.id).await.unwrap().review_count, 9);
    assert!(copy.audit_aggregates().await.unwrap().is_empty());
    assert!(copy.credentials("ada").await.unwrap().is_some());
    let verify = Command::new(env!("CARGO_BIN_EXE_marquee"))
        .args(["--database-url", &to, "verify"])
        .output()
        .unwrap();
    assert!(
        verify.status.success() && String::from_utf8_lossy(&verify.stdout).contains("consistent")
    );
    // `verify` notices a counter that disagrees with the rows.
    sqlx::query("UPDATE movies SET rating_count = rating_count + 1 WHERE slug = 'the-work'")
        .execute(copy.write_pool())
        .await
        .unwrap();
    let verify = Command::new(env!("CARGO_BIN_EXE_marquee"))
        .args(["--database-url", &to, "verify"])
        .output()
        .unwrap();
    assert!(!verify.status.success());
    assert!(
        String::from_utf8_lossy(&verify.stdout).contains("stored"),
        "{verify:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_urls_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = migrate(
        dir.path(),
        "mysql://root:hunter2@x/db",
        "sqlite://x.db",
        &[],
    );
    assert!(
        !ok && out.contains("not supported") && !out.contains("hunter2"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_to_postgres_and_back_survives_an_interruption_without_duplicates() {
    let Some(pg) = marquee_store_postgres::testing::fresh_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let from = demo_sqlite(dir.path()).await;
    let src = SqliteStore::open(&dir.path().join("source.db"))
        .await
        .unwrap();
    // Enough films that the largest batch (10,000 rows × 20 columns) would exceed PostgreSQL's
    // 65,535 parameters in one INSERT.
    let movies = TABLES.iter().find(|t| t.name == "movies").unwrap();
    let template = src.export_rows(movies, None, 1).await.unwrap().remove(0);
    let extra: Vec<Vec<Value>> = (0..3500)
        .map(|i| {
            let mut row = template.clone();
            row[0] = Value::Int(100_000 + i);
            row[1] = Value::Text(format!("bulk-{i}"));
            for counter in row.iter_mut().take(18).skip(10) {
                *counter = Value::Int(0);
            }
            row
        })
        .collect();
    for chunk in extra.chunks(1000) {
        src.import_rows(movies, chunk).await.unwrap();
    }
    // An interrupted copy: parents and part of the reviews arrived before the stop.
    let target = marquee_store_postgres::PgStore::connect(&pg, &Default::default())
        .await
        .unwrap();
    for t in TABLES.iter().take_while(|t| t.name != "reviews") {
        let rows = src.export_rows(t, None, 10_000).await.unwrap();
        target.import_rows(t, &rows).await.unwrap();
    }
    let reviews = TABLES.iter().find(|t| t.name == "reviews").unwrap();
    let some = src.export_rows(reviews, None, 20).await.unwrap();
    target.import_rows(reviews, &some).await.unwrap();
    let (ok, out) = migrate(dir.path(), &from, &pg, &[]);
    assert!(!ok && out.contains("--resume"), "{out}");
    // The largest batch the command accepts still fits PostgreSQL's parameter limit.
    let (ok, out) = migrate(dir.path(), &from, &pg, &["--resume", "--batch", "10000"]);
    assert!(ok && out.contains("verified"), "{out}");
    assert_eq!(
        counts(&target).await,
        counts(&src).await,
        "nothing is duplicated"
    );
    assert!(target.audit_aggregates().await.unwrap().is_empty());
    // New rows after the copy do not collide with copied ids.
    let work = target.movie_by_slug("the-work").await.unwrap().unwrap();
    let newcomer = target
        .create_user(&marquee_store::NewUser {
            username: marquee_domain::Username::parse("newcomer").unwrap(),
            display_name: marquee_domain::DisplayName::parse("New").unwrap(),
            password_hash: "x".into(),
            now_ms: 0,
        })
        .await
        .unwrap();
    assert!(!newcomer.is_admin);
    // Every copied review knows its author on PostgreSQL (a vote batch reads it from the tally
    // row, which the copy does not carry and the target fills in): each author is refused a
    // vote on their own words, and the newcomer's vote counts.
    let reviews = target
        .list_reviews(
            work.id,
            &marquee_domain::ReviewFilter {
                sort: marquee_domain::ReviewSort::Helpful,
                stars: None,
                after: None,
                limit: 50,
            },
        )
        .await
        .unwrap();
    assert!(!reviews.is_empty());
    for review in &reviews {
        let own = target.put_vote(review.id, review.user_id, true).await;
        assert!(
            matches!(own, Err(marquee_store::StoreError::Forbidden(_))),
            "review {}: {own:?}",
            review.id
        );
    }
    let tally = target
        .put_vote(reviews[0].id, newcomer.id, true)
        .await
        .unwrap();
    assert_eq!(tally.helpful_yes, reviews[0].helpful_yes + 1);
    let rating = marquee_store::RatingInput {
        stars: marquee_domain::Stars::new(3).unwrap(),
        headline: None,
        body: None,
        anonymous: false,
        now_ms: 0,
    };
    target
        .put_rating(work.id, newcomer.id, &rating)
        .await
        .unwrap();
    target.close().await;
    // And back again into a new SQLite file.
    let back = format!("sqlite://{}", dir.path().join("back.db").display());
    let (ok, out) = migrate(dir.path(), &pg, &back, &[]);
    assert!(ok && out.contains("verified"), "{out}");
    let back = SqliteStore::open(&dir.path().join("back.db"))
        .await
        .unwrap();
    let work = back.movie_by_slug("the-work").await.unwrap().unwrap();
    assert_eq!(back.movie_stats(work.id).await.unwrap().rating_count, 11);
}

fn film_draft_for_import() -> marquee_domain::MovieDraft {
    use marquee_domain::*;
    MovieDraft {
        slug: Slug::parse("brazil-1985").unwrap(),
        title: Title::parse("Brazil").unwrap(),
        original_title: None,
        year: Some(Year::new(1985).unwrap()),
        runtime: Some(Runtime::from_minutes(142).unwrap()),
        synopsis: Synopsis::parse("A clerk dreams.").unwrap(),
        genres: vec![Genre::parse("Comedy").unwrap()],
        directors: vec![PersonName::parse("Terry Gilliam").unwrap()],
        cast: vec![],
        content_rating: ContentRating::R,
        language: Language::parse("English").unwrap(),
    }
}
