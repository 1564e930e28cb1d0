//! The conformance suite: behaviour every backend must show, written once against the traits.
//! Each backend's test binary runs every function here on a fresh, empty store (see
//! [`conformance_tests!`](crate::conformance_tests)), so SQLite and PostgreSQL are held to the
//! same rules. Panics on failure, like any test.

use crate::*;
use marquee_domain::*;
use std::sync::Arc;

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

async fn user(s: &dyn Store, name: &str) -> User {
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

pub async fn films_keep_their_credits_in_order_and_slugs_are_unique(store: Arc<dyn Store>) {
    let empty = store.catalog_fingerprint().await.unwrap();
    let m = store.create_movie(&draft("the-work")).await.unwrap();
    assert_eq!(m.directors, ["Jairus McLeary", "Gethin Aldous"]);
    assert_eq!(m.cast[0].character, "Himself");
    assert_eq!(m.genres, ["Documentary"]);
    let again = store.create_movie(&draft("the-work")).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));
    let added = store.catalog_fingerprint().await.unwrap();
    assert_ne!(added, empty, "adding a film changes the fingerprint");
    let mut changed = draft("the-work-2017");
    changed.directors.reverse();
    let m2 = store.update_movie(m.id, &changed).await.unwrap();
    assert_eq!(m2.slug, "the-work-2017");
    assert_eq!(m2.directors, ["Gethin Aldous", "Jairus McLeary"]);
    assert!(store.movie_by_slug("the-work").await.unwrap().is_none());
    store.delete_movie(m.id).await.unwrap();
    assert!(matches!(
        store.delete_movie(m.id).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn ratings_keep_the_average_histogram_and_review_count_in_step(store: Arc<dyn Store>) {
    let m = store.create_movie(&draft("the-work")).await.unwrap();
    let (a, b, c) = (
        user(&*store, "ann").await,
        user(&*store, "bob").await,
        user(&*store, "cyd").await,
    );
    store
        .put_rating(m.id, a.id, &rating(5, Some("Great."), 1))
        .await
        .unwrap();
    store
        .put_rating(m.id, b.id, &rating(2, None, 2))
        .await
        .unwrap();
    store
        .put_rating(m.id, c.id, &rating(4, Some("Good."), 3))
        .await
        .unwrap();
    let s = store.movie_stats(m.id).await.unwrap();
    assert_eq!((s.rating_count, s.rating_sum, s.review_count), (3, 11, 2));
    assert_eq!(s.histogram, [0, 1, 0, 1, 1]);
    // Editing moves the rating between buckets; removing the text stops it being a review.
    store
        .put_rating(m.id, a.id, &rating(3, None, 4))
        .await
        .unwrap();
    let s = store.movie_stats(m.id).await.unwrap();
    assert_eq!((s.rating_count, s.rating_sum, s.review_count), (3, 9, 1));
    assert_eq!(s.histogram, [0, 1, 1, 1, 0]);
    store.delete_rating(m.id, c.id).await.unwrap();
    let s = store.movie_stats(m.id).await.unwrap();
    assert_eq!((s.rating_count, s.rating_sum, s.review_count), (2, 5, 0));
    assert!(matches!(
        store.delete_rating(m.id, c.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(store.audit_aggregates().await.unwrap().is_empty());
}

pub async fn votes_follow_the_rules_and_keep_counts_and_score_in_step(store: Arc<dyn Store>) {
    let m = store.create_movie(&draft("the-work")).await.unwrap();
    let (author, v1, v2) = (
        user(&*store, "ann").await,
        user(&*store, "bob").await,
        user(&*store, "cyd").await,
    );
    let r = store
        .put_rating(m.id, author.id, &rating(5, Some("Great."), 1))
        .await
        .unwrap();
    assert!(matches!(
        store.put_vote(r.id, author.id, true).await,
        Err(StoreError::Forbidden(_))
    ));
    let t = store.put_vote(r.id, v1.id, true).await.unwrap();
    assert_eq!((t.helpful_yes, t.helpful_no, t.my_vote), (1, 0, Some(true)));
    assert_eq!(t.score, wilson_lower_bound(1, 0));
    assert!(matches!(
        store.put_vote(r.id, v1.id, true).await,
        Err(StoreError::Conflict(_))
    ));
    let t = store.put_vote(r.id, v1.id, false).await.unwrap();
    assert_eq!((t.helpful_yes, t.helpful_no), (0, 1));
    store.put_vote(r.id, v2.id, true).await.unwrap();
    let t = store.delete_vote(r.id, v1.id).await.unwrap();
    assert_eq!((t.helpful_yes, t.helpful_no, t.my_vote), (1, 0, None));
    assert!(matches!(
        store.delete_vote(r.id, v1.id).await,
        Err(StoreError::NotFound(_))
    ));
    // A star-only rating is not a review and takes no votes.
    let plain = store
        .put_rating(m.id, v1.id, &rating(3, None, 2))
        .await
        .unwrap();
    assert!(matches!(
        store.put_vote(plain.id, v2.id, true).await,
        Err(StoreError::NotFound(_))
    ));
    // New words start over; deleting the review removes its votes.
    let r2 = store
        .put_rating(m.id, author.id, &rating(5, Some("Changed my words."), 9))
        .await
        .unwrap();
    assert_eq!((r2.helpful_yes, r2.created_ms), (0, 9));
    store.put_vote(r.id, v2.id, true).await.unwrap();
    store.delete_rating(m.id, author.id).await.unwrap();
    assert!(
        store
            .votes_by_user(v2.id, &[r.id])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.audit_aggregates().await.unwrap().is_empty());
}

pub async fn most_helpful_orders_by_wilson_score_then_newest(store: Arc<dyn Store>) {
    let m = store.create_movie(&draft("the-work")).await.unwrap();
    let mut voters = Vec::new();
    for i in 0..6 {
        voters.push(user(&*store, &format!("voter{i}")).await);
    }
    let mut reviews = Vec::new();
    for (i, name) in ["auth1", "auth2", "auth3", "auth4"].iter().enumerate() {
        let u = user(&*store, name).await;
        reviews.push(
            store
                .put_rating(m.id, u.id, &rating(4, Some("Text."), i as i64))
                .await
                .unwrap(),
        );
    }
    // reviews[0]: 5 yes; reviews[1]: 1 yes; reviews[2]: 3 yes 3 no; reviews[3]: none (newest).
    for v in &voters[..5] {
        store.put_vote(reviews[0].id, v.id, true).await.unwrap();
    }
    store
        .put_vote(reviews[1].id, voters[0].id, true)
        .await
        .unwrap();
    for (i, v) in voters.iter().enumerate() {
        store
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
    let order: Vec<_> = store
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

pub async fn keyset_pages_neither_repeat_nor_skip_while_reviews_are_added(store: Arc<dyn Store>) {
    let m = store.create_movie(&draft("the-work")).await.unwrap();
    for i in 0..45 {
        let u = user(&*store, &format!("user{i}")).await;
        store
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
                let page = store
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
                let u = user(&*store, &format!("late{sort:?}{extra}{}", stars.is_some())).await;
                store
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

pub async fn concurrent_ratings_and_votes_leave_every_aggregate_consistent(store: Arc<dyn Store>) {
    let m = store.create_movie(&draft("the-work")).await.unwrap();
    let mut users = Vec::new();
    for i in 0..24 {
        users.push(user(&*store, &format!("conc{i}")).await);
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

pub async fn the_same_vote_raced_from_many_tasks_counts_once(store: Arc<dyn Store>) {
    let m = store.create_movie(&draft("the-work")).await.unwrap();
    let author = user(&*store, "author").await;
    let r = store
        .put_rating(m.id, author.id, &rating(5, Some("Text."), 1))
        .await
        .unwrap();
    for i in 0..5 {
        let voter = user(&*store, &format!("racer{i}")).await;
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.put_vote(r.id, voter.id, true).await })
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(StoreError::Conflict(_)) => {}
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert_eq!(ok, 1, "exactly one of the raced votes counts");
    }
    let r = store.review_by_id(r.id).await.unwrap().unwrap();
    assert_eq!((r.helpful_yes, r.helpful_no), (5, 0));
    assert!(store.audit_aggregates().await.unwrap().is_empty());
}

pub async fn a_vote_batch_applies_in_order_like_single_votes(store: Arc<dyn Store>) {
    let m = store.create_movie(&draft("the-work")).await.unwrap();
    let author = user(&*store, "author").await;
    let (v1, v2) = (user(&*store, "voter1").await, user(&*store, "voter2").await);
    let r = store
        .put_rating(m.id, author.id, &rating(5, Some("Text."), 1))
        .await
        .unwrap();
    let plain = store
        .put_rating(m.id, v2.id, &rating(3, None, 1))
        .await
        .unwrap();
    store.put_vote(r.id, v2.id, false).await.unwrap();
    let vote = |review: ReviewId, voter: &User, helpful| VoteChange {
        review,
        voter: voter.id,
        helpful,
    };
    let answers = store
        .apply_votes(&[
            vote(r.id, &v1, Some(true)),
            vote(r.id, &v1, Some(true)),
            vote(r.id, &author, Some(true)),
            vote(plain.id, &v1, Some(true)),
            vote(ReviewId(i64::MAX), &v1, Some(true)),
            vote(r.id, &v2, None),
            vote(r.id, &v2, None),
            vote(r.id, &v2, Some(true)),
            vote(r.id, &v1, Some(false)),
        ])
        .await
        .unwrap();
    let brief: Vec<_> = answers
        .iter()
        .map(|a| a.map(|t| (t.helpful_yes, t.helpful_no, t.my_vote)))
        .collect();
    use VoteRejection::*;
    assert_eq!(
        brief,
        [
            Ok((1, 1, Some(true))),
            Err(AlreadyCast),
            Err(OwnReview),
            Err(ReviewNotFound),
            Err(ReviewNotFound),
            Ok((1, 0, None)),
            Err(VoteNotFound),
            Ok((2, 0, Some(true))),
            Ok((1, 1, Some(false))),
        ]
    );
    assert_eq!(answers[0].unwrap().movie_id, m.id);
    let stored = store.review_by_id(r.id).await.unwrap().unwrap();
    assert_eq!((stored.helpful_yes, stored.helpful_no), (1, 1));
    assert_eq!(
        store.votes_by_user(v1.id, &[r.id]).await.unwrap(),
        [(r.id, false)]
    );
    assert_eq!(
        store.votes_by_user(v2.id, &[r.id]).await.unwrap(),
        [(r.id, true)]
    );
    assert!(store.audit_aggregates().await.unwrap().is_empty());
    // An empty batch is no work and no error.
    assert!(store.apply_votes(&[]).await.unwrap().is_empty());
}

pub async fn concurrent_vote_batches_over_shared_reviews_stay_consistent(store: Arc<dyn Store>) {
    let m = store.create_movie(&draft("the-work")).await.unwrap();
    let mut users = Vec::new();
    for i in 0..16 {
        users.push(user(&*store, &format!("batch{i}")).await);
    }
    let mut reviews = Vec::new();
    for u in &users[..6] {
        let r = store
            .put_rating(m.id, u.id, &rating(4, Some("Seed."), 1))
            .await
            .unwrap();
        reviews.push(r.id);
    }
    // Each task's batches walk the reviews in its own order, so a backend that locked rows in
    // arrival order would deadlock here.
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let (store, users, mut reviews) = (store.clone(), users.clone(), reviews.clone());
            tokio::spawn(async move {
                if t % 2 == 1 {
                    reviews.reverse();
                }
                let n = reviews.len();
                reviews.rotate_left(t % n);
                for round in 0..5 {
                    let batch: Vec<VoteChange> = reviews
                        .iter()
                        .flat_map(|r| {
                            users.iter().enumerate().map(move |(i, u)| VoteChange {
                                review: *r,
                                voter: u.id,
                                helpful: ((i + t + round) % 4 != 0).then_some((i + round) % 3 != 0),
                            })
                        })
                        .collect();
                    let answers = store.apply_votes(&batch).await.unwrap();
                    assert_eq!(answers.len(), batch.len());
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        store.audit_aggregates().await.unwrap(),
        Vec::<String>::new()
    );
}

pub async fn a_lease_has_one_holder_at_a_time_until_it_expires(store: Arc<dyn Store>) {
    assert!(store.claim_lease("job", "a", 1000, 100).await.unwrap());
    assert!(
        !store.claim_lease("job", "b", 1050, 100).await.unwrap(),
        "held by a"
    );
    assert!(
        store.claim_lease("job", "a", 1090, 100).await.unwrap(),
        "a renews"
    );
    assert!(
        !store.claim_lease("job", "b", 1150, 100).await.unwrap(),
        "renewed until 1190"
    );
    assert!(
        store.claim_lease("job", "b", 1190, 100).await.unwrap(),
        "expired: b takes over"
    );
    assert!(
        store
            .claim_lease("other-job", "a", 1190, 100)
            .await
            .unwrap(),
        "leases are per job"
    );
    // Many instances racing for a free lease: exactly one wins.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .claim_lease("raced", &format!("holder{i}"), 5000, 100)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for t in tasks {
        winners += usize::from(t.await.unwrap());
    }
    assert_eq!(winners, 1);
}

pub async fn expired_sessions_and_stale_failure_counts_are_purged(store: Arc<dyn Store>) {
    let u = user(&*store, "sleeper").await;
    store.create_session(b"old", u.id, 0, 100).await.unwrap();
    store.create_session(b"new", u.id, 0, 10_000).await.unwrap();
    store
        .record_login_failure("user:old", 10, 50)
        .await
        .unwrap();
    store
        .record_login_failure("user:new", 900, 50)
        .await
        .unwrap();
    assert_eq!(store.purge_expired(1000, 500).await.unwrap(), 2);
    assert!(store.session_user(b"new", 1000).await.unwrap().is_some());
    assert_eq!(store.login_failures("user:new", 910, 50).await.unwrap(), 1);
}

pub async fn the_first_account_is_the_admin_and_usernames_are_unique(store: Arc<dyn Store>) {
    assert!(user(&*store, "first").await.is_admin);
    assert!(!user(&*store, "second").await.is_admin);
    let dup = store
        .create_user(&NewUser {
            username: Username::parse("first").unwrap(),
            display_name: DisplayName::parse("x").unwrap(),
            password_hash: "x".into(),
            now_ms: 0,
        })
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))));
}

pub async fn sessions_expire_and_tokens_belong_to_their_owner(store: Arc<dyn Store>) {
    let (a, b) = (user(&*store, "ann").await, user(&*store, "bob").await);
    store.create_session(b"h1", a.id, 0, 100).await.unwrap();
    assert_eq!(
        store.session_user(b"h1", 50).await.unwrap().unwrap().id,
        a.id
    );
    assert!(store.session_user(b"h1", 100).await.unwrap().is_none());
    store.delete_session(b"h1").await.unwrap();
    let t = store
        .create_token(a.id, "tv", b"tokhash", 10)
        .await
        .unwrap();
    assert_eq!(
        store.token_user(b"tokhash", 20).await.unwrap().unwrap().id,
        a.id
    );
    assert_eq!(
        store.list_tokens(a.id).await.unwrap()[0].last_used_ms,
        Some(20)
    );
    assert!(matches!(
        store.delete_token(b.id, t.id).await,
        Err(StoreError::NotFound(_))
    ));
    store.delete_token(a.id, t.id).await.unwrap();
    assert!(store.token_user(b"tokhash", 30).await.unwrap().is_none());
}

pub async fn login_failures_count_within_a_window_and_then_reset(store: Arc<dyn Store>) {
    for i in 1..=3 {
        assert_eq!(
            store
                .record_login_failure("user:ann", 1000, 500)
                .await
                .unwrap(),
            i
        );
    }
    assert_eq!(
        store.login_failures("user:ann", 1400, 500).await.unwrap(),
        3
    );
    assert_eq!(
        store.login_failures("user:ann", 1500, 500).await.unwrap(),
        0
    );
    assert_eq!(
        store
            .record_login_failure("user:ann", 1600, 500)
            .await
            .unwrap(),
        1
    );
    store.clear_login_failures("user:ann").await.unwrap();
    assert_eq!(
        store.login_failures("user:ann", 1600, 500).await.unwrap(),
        0
    );
}

pub async fn a_shared_secret_is_created_once_and_then_kept(store: Arc<dyn Store>) {
    assert_eq!(store.shared_secret("k", b"first").await.unwrap(), b"first");
    assert_eq!(store.shared_secret("k", b"second").await.unwrap(), b"first");
}

/// Expands to one `#[tokio::test]` per conformance check, each given a fresh store by `$make`:
/// an async expression returning `Option<(Arc<dyn Store>, guard)>`, where the guard lives as long
/// as the test and `None` means the backend is not available here (the maker says why, and
/// decides whether that is a skip or, under `CI=true`, a failure).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make, films_keep_their_credits_in_order_and_slugs_are_unique, ratings_keep_the_average_histogram_and_review_count_in_step, votes_follow_the_rules_and_keep_counts_and_score_in_step, most_helpful_orders_by_wilson_score_then_newest, keyset_pages_neither_repeat_nor_skip_while_reviews_are_added, concurrent_ratings_and_votes_leave_every_aggregate_consistent, the_same_vote_raced_from_many_tasks_counts_once, a_vote_batch_applies_in_order_like_single_votes, concurrent_vote_batches_over_shared_reviews_stay_consistent, a_lease_has_one_holder_at_a_time_until_it_expires, expired_sessions_and_stale_failure_counts_are_purged, the_first_account_is_the_admin_and_usernames_are_unique, sessions_expire_and_tokens_belong_to_their_owner, login_failures_count_within_a_window_and_then_reset, a_shared_secret_is_created_once_and_then_kept);
    };
    (@each $make:expr, $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some((store, _guard)) = $make.await else { return };
                $crate::conformance::$name(store).await;
            }
        )*
    };
}
