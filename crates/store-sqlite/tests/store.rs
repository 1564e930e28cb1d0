//! The store contract, checked against a real SQLite file per test.

use marquee_domain::*;
use marquee_store::*;
use marquee_store_sqlite::SqliteStore;
use std::sync::Arc;

struct Db {
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

async fn db() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    Db { store, _dir: dir }
}

fn draft(slug: &str) -> MovieDraft {
    MovieDraft {
        slug: Slug::parse(slug).unwrap(),
        title: Title::parse("The Work").unwrap(),
        original_title: None,
        year: Some(Year::new(2017).unwrap()),
        runtime: Some(Runtime::from_minutes(89).unwrap()),
        synopsis: Synopsis::parse("Men in a room.").unwrap(),
        genres: vec![Genre::parse("Documentary").unwrap()],
        directors: vec![
            PersonName::parse("Jairus McLeary").unwrap(),
            PersonName::parse("Gethin Aldous").unwrap(),
        ],
        cast: vec![CastMember::new("Chris Dowd", "Himself").unwrap()],
        content_rating: ContentRating::NotRated,
        language: Language::parse("English").unwrap(),
    }
}

async fn user(s: &SqliteStore, name: &str) -> User {
    s.create_user(&NewUser {
        username: Username::parse(name).unwrap(),
        display_name: DisplayName::parse(name).unwrap(),
        password_hash: "x".into(),
        now_ms: 0,
    })
    .await
    .unwrap()
}

fn rating(stars: i64, body: Option<&str>, at: i64) -> RatingInput {
    RatingInput {
        stars: Stars::new(stars).unwrap(),
        headline: None,
        body: ReviewText::parse_optional(body).unwrap(),
        anonymous: false,
        now_ms: at,
    }
}

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

#[tokio::test]
async fn films_keep_their_credits_in_order_and_slugs_are_unique() {
    let d = db().await;
    let m = d.store.create_movie(&draft("the-work")).await.unwrap();
    assert_eq!(m.directors, ["Jairus McLeary", "Gethin Aldous"]);
    assert_eq!(m.cast[0].character, "Himself");
    assert_eq!(m.genres, ["Documentary"]);
    let again = d.store.create_movie(&draft("the-work")).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));
    let mut changed = draft("the-work-2017");
    changed.directors.reverse();
    let m2 = d.store.update_movie(m.id, &changed).await.unwrap();
    assert_eq!(m2.slug, "the-work-2017");
    assert_eq!(m2.directors, ["Gethin Aldous", "Jairus McLeary"]);
    assert!(d.store.movie_by_slug("the-work").await.unwrap().is_none());
    d.store.delete_movie(m.id).await.unwrap();
    assert!(matches!(
        d.store.delete_movie(m.id).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn ratings_keep_the_average_histogram_and_review_count_in_step() {
    let d = db().await;
    let m = d.store.create_movie(&draft("the-work")).await.unwrap();
    let (a, b, c) = (
        user(&d.store, "ann").await,
        user(&d.store, "bob").await,
        user(&d.store, "cyd").await,
    );
    d.store
        .put_rating(m.id, a.id, &rating(5, Some("Great."), 1))
        .await
        .unwrap();
    d.store
        .put_rating(m.id, b.id, &rating(2, None, 2))
        .await
        .unwrap();
    d.store
        .put_rating(m.id, c.id, &rating(4, Some("Good."), 3))
        .await
        .unwrap();
    let s = d.store.movie_stats(m.id).await.unwrap();
    assert_eq!((s.rating_count, s.rating_sum, s.review_count), (3, 11, 2));
    assert_eq!(s.histogram, [0, 1, 0, 1, 1]);
    // Editing moves the rating between buckets; removing the text stops it being a review.
    d.store
        .put_rating(m.id, a.id, &rating(3, None, 4))
        .await
        .unwrap();
    let s = d.store.movie_stats(m.id).await.unwrap();
    assert_eq!((s.rating_count, s.rating_sum, s.review_count), (3, 9, 1));
    assert_eq!(s.histogram, [0, 1, 1, 1, 0]);
    d.store.delete_rating(m.id, c.id).await.unwrap();
    let s = d.store.movie_stats(m.id).await.unwrap();
    assert_eq!((s.rating_count, s.rating_sum, s.review_count), (2, 5, 0));
    assert!(matches!(
        d.store.delete_rating(m.id, c.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(d.store.audit_aggregates().await.unwrap().is_empty());
}

#[tokio::test]
async fn votes_follow_the_rules_and_keep_counts_and_score_in_step() {
    let d = db().await;
    let m = d.store.create_movie(&draft("the-work")).await.unwrap();
    let (author, v1, v2) = (
        user(&d.store, "ann").await,
        user(&d.store, "bob").await,
        user(&d.store, "cyd").await,
    );
    let r = d
        .store
        .put_rating(m.id, author.id, &rating(5, Some("Great."), 1))
        .await
        .unwrap();
    assert!(matches!(
        d.store.put_vote(r.id, author.id, true).await,
        Err(StoreError::Forbidden(_))
    ));
    let t = d.store.put_vote(r.id, v1.id, true).await.unwrap();
    assert_eq!((t.helpful_yes, t.helpful_no, t.my_vote), (1, 0, Some(true)));
    assert_eq!(t.score, wilson_lower_bound(1, 0));
    assert!(matches!(
        d.store.put_vote(r.id, v1.id, true).await,
        Err(StoreError::Conflict(_))
    ));
    let t = d.store.put_vote(r.id, v1.id, false).await.unwrap();
    assert_eq!((t.helpful_yes, t.helpful_no), (0, 1));
    d.store.put_vote(r.id, v2.id, true).await.unwrap();
    let t = d.store.delete_vote(r.id, v1.id).await.unwrap();
    assert_eq!((t.helpful_yes, t.helpful_no, t.my_vote), (1, 0, None));
    assert!(matches!(
        d.store.delete_vote(r.id, v1.id).await,
        Err(StoreError::NotFound(_))
    ));
    // A star-only rating is not a review and takes no votes.
    let plain = d
        .store
        .put_rating(m.id, v1.id, &rating(3, None, 2))
        .await
        .unwrap();
    assert!(matches!(
        d.store.put_vote(plain.id, v2.id, true).await,
        Err(StoreError::NotFound(_))
    ));
    // New words start over; deleting the review removes its votes.
    let r2 = d
        .store
        .put_rating(m.id, author.id, &rating(5, Some("Changed my words."), 9))
        .await
        .unwrap();
    assert_eq!((r2.helpful_yes, r2.created_ms), (0, 9));
    d.store.put_vote(r.id, v2.id, true).await.unwrap();
    d.store.delete_rating(m.id, author.id).await.unwrap();
    assert!(
        d.store
            .votes_by_user(v2.id, &[r.id])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(d.store.audit_aggregates().await.unwrap().is_empty());
}

#[tokio::test]
async fn most_helpful_orders_by_wilson_score_then_newest() {
    let d = db().await;
    let m = d.store.create_movie(&draft("the-work")).await.unwrap();
    let mut voters = Vec::new();
    for i in 0..6 {
        voters.push(user(&d.store, &format!("voter{i}")).await);
    }
    let mut reviews = Vec::new();
    for (i, name) in ["auth1", "auth2", "auth3", "auth4"].iter().enumerate() {
        let u = user(&d.store, name).await;
        reviews.push(
            d.store
                .put_rating(m.id, u.id, &rating(4, Some("Text."), i as i64))
                .await
                .unwrap(),
        );
    }
    // reviews[0]: 5 yes; reviews[1]: 1 yes; reviews[2]: 3 yes 3 no; reviews[3]: none (newest).
    for v in &voters[..5] {
        d.store.put_vote(reviews[0].id, v.id, true).await.unwrap();
    }
    d.store
        .put_vote(reviews[1].id, voters[0].id, true)
        .await
        .unwrap();
    for (i, v) in voters.iter().enumerate() {
        d.store
            .put_vote(reviews[2].id, v.id, i % 2 == 0)
            .await
            .unwrap();
    }
    let f = ReviewFilter {
        sort: ReviewSort::Helpful,
        stars: None,
        after: None,
        limit: 10,
    };
    let order: Vec<_> = d
        .store
        .list_reviews(m.id, &f)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    // One Yes out of one (0.21) still edges out three of six (0.19): certainty matters.
    assert_eq!(
        order,
        [reviews[0].id, reviews[1].id, reviews[2].id, reviews[3].id]
    );
}

#[tokio::test]
async fn the_helpful_order_is_read_from_its_index_not_sorted() {
    let d = db().await;
    let plan: Vec<String> = sqlx::query_scalar::<_, String>(
        "SELECT detail FROM (EXPLAIN QUERY PLAN SELECT id FROM reviews r WHERE r.movie_id = 1 AND r.body IS NOT NULL \
         ORDER BY r.score DESC, r.created_ms DESC, r.id DESC LIMIT 3)",
    )
    .fetch_all(d.store.write_pool())
    .await
    .unwrap_or_default();
    // Fallback for SQLite builds where EXPLAIN cannot be a subquery.
    let plan = if plan.is_empty() {
        use sqlx::Row;
        sqlx::query("EXPLAIN QUERY PLAN SELECT id FROM reviews r WHERE r.movie_id = 1 AND r.body IS NOT NULL ORDER BY r.score DESC, r.created_ms DESC, r.id DESC LIMIT 3")
            .fetch_all(d.store.write_pool())
            .await
            .unwrap()
            .iter()
            .map(|row| row.get::<String, _>(3))
            .collect()
    } else {
        plan
    };
    let text = plan.join(" | ");
    assert!(text.contains("reviews_helpful"), "{text}");
    assert!(!text.contains("TEMP B-TREE"), "{text}");
}

#[tokio::test]
async fn keyset_pages_neither_repeat_nor_skip_while_reviews_are_added() {
    let d = db().await;
    let m = d.store.create_movie(&draft("the-work")).await.unwrap();
    for i in 0..45 {
        let u = user(&d.store, &format!("user{i}")).await;
        d.store
            .put_rating(m.id, u.id, &rating(1 + i % 5, Some("Text."), 1000 + i / 3))
            .await
            .unwrap();
    }
    for sort in ReviewSort::ALL {
        for stars in [None, Some(Stars::new(3).unwrap())] {
            let mut seen = Vec::new();
            let mut after = None;
            let mut extra = 0;
            loop {
                let page = d
                    .store
                    .list_reviews(
                        m.id,
                        &ReviewFilter {
                            sort,
                            stars,
                            after,
                            limit: 20,
                        },
                    )
                    .await
                    .unwrap();
                if page.is_empty() {
                    break;
                }
                seen.extend(page.iter().map(|r| r.id));
                let last = page.last().unwrap();
                after = Some(ReviewCursor {
                    sort,
                    score: last.score,
                    stars: last.stars,
                    created_ms: last.created_ms,
                    id: last.id.0,
                });
                // Someone posts a new review between page loads.
                let u = user(&d.store, &format!("late{sort:?}{extra}{}", stars.is_some())).await;
                d.store
                    .put_rating(m.id, u.id, &rating(3, Some("Late."), 5000 + extra))
                    .await
                    .unwrap();
                extra += 1;
            }
            let mut unique = seen.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), seen.len(), "{sort:?}: a review was repeated");
            let expected = if stars.is_some() { 9 } else { 45 };
            let original = seen.iter().filter(|id| id.0 <= 45).count();
            assert_eq!(
                original, expected,
                "{sort:?} {stars:?}: a review was skipped"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_ratings_and_votes_leave_every_aggregate_consistent() {
    let d = db().await;
    let store = Arc::new(d.store.clone());
    let m = store.create_movie(&draft("the-work")).await.unwrap();
    let mut users = Vec::new();
    for i in 0..24 {
        users.push(user(&store, &format!("conc{i}")).await);
    }
    let mut reviews = Vec::new();
    for u in &users[..4] {
        reviews.push(
            store
                .put_rating(m.id, u.id, &rating(5, Some("Seed."), 1))
                .await
                .unwrap(),
        );
    }
    let mut tasks = Vec::new();
    for (i, u) in users.iter().enumerate() {
        let (store, u, reviews) = (store.clone(), u.clone(), reviews.clone());
        tasks.push(tokio::spawn(async move {
            for round in 0..6 {
                let stars = 1 + ((i + round) % 5) as i64;
                let body = (round % 2 == 0).then_some("Words.");
                store
                    .put_rating(m.id, u.id, &rating(stars, body, round as i64))
                    .await
                    .unwrap();
                for r in &reviews {
                    // Own reviews, repeats and withdrawals of missing votes fail by design.
                    let _ = store.put_vote(r.id, u.id, (i + round) % 3 != 0).await;
                    if round == 3 {
                        let _ = store.delete_vote(r.id, u.id).await;
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        store.audit_aggregates().await.unwrap(),
        Vec::<String>::new()
    );
    let s = store.movie_stats(m.id).await.unwrap();
    assert_eq!(s.rating_count, 24);
    assert_eq!(s.histogram.iter().sum::<u64>(), 24);
}

#[tokio::test]
async fn the_first_account_is_the_admin_and_usernames_are_unique() {
    let d = db().await;
    assert!(user(&d.store, "first").await.is_admin);
    assert!(!user(&d.store, "second").await.is_admin);
    let dup = d
        .store
        .create_user(&NewUser {
            username: Username::parse("first").unwrap(),
            display_name: DisplayName::parse("x").unwrap(),
            password_hash: "x".into(),
            now_ms: 0,
        })
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))));
}

#[tokio::test]
async fn sessions_expire_and_tokens_belong_to_their_owner() {
    let d = db().await;
    let (a, b) = (user(&d.store, "ann").await, user(&d.store, "bob").await);
    d.store.create_session(b"h1", a.id, 0, 100).await.unwrap();
    assert_eq!(
        d.store.session_user(b"h1", 50).await.unwrap().unwrap().id,
        a.id
    );
    assert!(d.store.session_user(b"h1", 100).await.unwrap().is_none());
    d.store.delete_session(b"h1").await.unwrap();
    let t = d
        .store
        .create_token(a.id, "tv", b"tokhash", 10)
        .await
        .unwrap();
    assert_eq!(
        d.store
            .token_user(b"tokhash", 20)
            .await
            .unwrap()
            .unwrap()
            .id,
        a.id
    );
    assert_eq!(
        d.store.list_tokens(a.id).await.unwrap()[0].last_used_ms,
        Some(20)
    );
    assert!(matches!(
        d.store.delete_token(b.id, t.id).await,
        Err(StoreError::NotFound(_))
    ));
    d.store.delete_token(a.id, t.id).await.unwrap();
    assert!(d.store.token_user(b"tokhash", 30).await.unwrap().is_none());
}

#[tokio::test]
async fn login_failures_count_within_a_window_and_then_reset() {
    let d = db().await;
    for i in 1..=3 {
        assert_eq!(
            d.store
                .record_login_failure("user:ann", 1000, 500)
                .await
                .unwrap(),
            i
        );
    }
    assert_eq!(
        d.store.login_failures("user:ann", 1400, 500).await.unwrap(),
        3
    );
    assert_eq!(
        d.store.login_failures("user:ann", 1500, 500).await.unwrap(),
        0
    );
    assert_eq!(
        d.store
            .record_login_failure("user:ann", 1600, 500)
            .await
            .unwrap(),
        1
    );
    d.store.clear_login_failures("user:ann").await.unwrap();
    assert_eq!(
        d.store.login_failures("user:ann", 1600, 500).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn a_shared_secret_is_created_once_and_then_kept() {
    let d = db().await;
    assert_eq!(
        d.store.shared_secret("k", b"first").await.unwrap(),
        b"first"
    );
    assert_eq!(
        d.store.shared_secret("k", b"second").await.unwrap(),
        b"first"
    );
}
