//! The conformance suite: behaviour every backend must show, written once against the traits.
//! Each backend's test binary runs every function here on a fresh, empty store (see
//! [`conformance_tests!`](crate::conformance_tests)), so SQLite and PostgreSQL are held to the
//! same rules. Panics on failure, like any test.

use crate::*;
use marquee_domain::*;
use std::sync::Arc;

mod catalog;
mod lists;
pub use catalog::*;
pub use lists::*;

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

pub async fn a_review_has_a_tally_while_it_has_text_and_new_words_start_it_over(
    store: Arc<dyn Store>,
) {
    let m = store.create_movie(&draft("the-work")).await.unwrap();
    let (author, v1, v2) = (
        user(&*store, "ann").await,
        user(&*store, "bob").await,
        user(&*store, "cyd").await,
    );
    let counts = |r: &Review| (r.helpful_yes, r.helpful_no, r.score, r.created_ms);
    // Stars only: no tally, so no votes, and it reads as no votes and score 0.
    let plain = store
        .put_rating(m.id, author.id, &rating(3, None, 1))
        .await
        .unwrap();
    assert_eq!(counts(&plain), (0, 0, 0.0, 1));
    assert!(matches!(
        store.put_vote(plain.id, v1.id, true).await,
        Err(StoreError::NotFound(_))
    ));
    // Text added: the review counts votes from zero and is dated anew.
    let r = store
        .put_rating(m.id, author.id, &rating(3, Some("Words."), 2))
        .await
        .unwrap();
    assert_eq!((r.id, counts(&r)), (plain.id, (0, 0, 0.0, 2)));
    store.put_vote(r.id, v1.id, true).await.unwrap();
    store.put_vote(r.id, v2.id, false).await.unwrap();
    assert!(store.audit_aggregates().await.unwrap().is_empty());
    // Only the stars change: votes, score and date stay.
    let r = store
        .put_rating(m.id, author.id, &rating(5, Some("Words."), 3))
        .await
        .unwrap();
    assert_eq!(counts(&r), (1, 1, wilson_lower_bound(1, 1), 2));
    // New words: the votes go, the counts and score start over, the date is new.
    let r = store
        .put_rating(m.id, author.id, &rating(5, Some("Other words."), 4))
        .await
        .unwrap();
    assert_eq!(counts(&r), (0, 0, 0.0, 4));
    assert!(
        store
            .votes_by_user(v1.id, &[r.id])
            .await
            .unwrap()
            .is_empty()
    );
    let t = store.put_vote(r.id, v1.id, true).await.unwrap();
    assert_eq!((t.helpful_yes, t.helpful_no), (1, 0));
    assert!(store.audit_aggregates().await.unwrap().is_empty());
    // Text removed: the tally and the votes go, and no vote is taken.
    let r = store
        .put_rating(m.id, author.id, &rating(4, None, 5))
        .await
        .unwrap();
    assert_eq!(counts(&r), (0, 0, 0.0, 5));
    assert!(
        store
            .votes_by_user(v1.id, &[r.id])
            .await
            .unwrap()
            .is_empty()
    );
    let answers = store
        .apply_votes(&[VoteChange {
            review: r.id,
            voter: v2.id,
            helpful: Some(true),
        }])
        .await
        .unwrap();
    assert_eq!(answers, [Err(VoteRejection::ReviewNotFound)]);
    assert!(store.audit_aggregates().await.unwrap().is_empty());
    // Text again, a vote, and every read agrees; deleting the rating takes everything with it.
    store
        .put_rating(m.id, author.id, &rating(4, Some("Back."), 6))
        .await
        .unwrap();
    store.put_vote(r.id, v2.id, true).await.unwrap();
    let by_id = store.review_by_id(r.id).await.unwrap().unwrap();
    let mine = store
        .rating_by_user(m.id, author.id)
        .await
        .unwrap()
        .unwrap();
    let listed = store
        .list_reviews(
            m.id,
            &ReviewFilter {
                sort: ReviewSort::Newest,
                stars: None,
                after: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
    let expected = (1, 0, wilson_lower_bound(1, 0), 6);
    assert_eq!(counts(&by_id), expected);
    assert_eq!(counts(&mine), expected);
    assert_eq!(listed.iter().map(counts).collect::<Vec<_>>(), [expected]);
    assert!(store.audit_aggregates().await.unwrap().is_empty());
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

pub async fn most_helpful_pages_follow_the_votes_and_rewritten_words(store: Arc<dyn Store>) {
    let m = store.create_movie(&draft("the-work")).await.unwrap();
    let mut voters = Vec::new();
    for i in 0..4 {
        voters.push(user(&*store, &format!("voter{i}")).await);
    }
    // Eight reviews, two at each date, and a star-only rating that is never listed.
    let mut reviews = Vec::new();
    for i in 0..8i64 {
        let u = user(&*store, &format!("author{i}")).await;
        let r = store
            .put_rating(m.id, u.id, &rating(4, Some("Text."), 10 + i / 2))
            .await
            .unwrap();
        reviews.push((u, r.id));
    }
    let plain = user(&*store, "plain").await;
    store
        .put_rating(m.id, plain.id, &rating(2, None, 99))
        .await
        .unwrap();
    // (yes, no) per review: ties in score, some at the same date too, so the id decides.
    let votes = [
        (2, 0),
        (2, 0),
        (1, 1),
        (0, 0),
        (1, 0),
        (1, 0),
        (3, 1),
        (0, 0),
    ];
    let mut changes = Vec::new();
    for ((_, review), (yes, no)) in reviews.iter().zip(votes) {
        for (i, v) in voters.iter().take(yes + no).enumerate() {
            changes.push(VoteChange {
                review: *review,
                voter: v.id,
                helpful: Some(i < yes),
            });
        }
    }
    let answers = store.apply_votes(&changes).await.unwrap();
    assert!(answers.iter().all(Result::is_ok));
    // New words for the best review: back to no votes and score 0, and the newest of those.
    let (author, best) = &reviews[6];
    store
        .put_rating(m.id, author.id, &rating(4, Some("New words."), 50))
        .await
        .unwrap();
    let mut expected: Vec<(f64, i64, ReviewId)> = reviews
        .iter()
        .zip(votes)
        .enumerate()
        .map(|(i, ((_, id), (yes, no)))| {
            if id == best {
                (0.0, 50, *id)
            } else {
                (
                    wilson_lower_bound(yes as u64, no as u64),
                    10 + i as i64 / 2,
                    *id,
                )
            }
        })
        .collect();
    expected.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2)));
    let expected: Vec<ReviewId> = expected.into_iter().map(|e| e.2).collect();

    let whole = store
        .list_reviews(
            m.id,
            &ReviewFilter {
                sort: ReviewSort::Helpful,
                stars: None,
                after: None,
                limit: 100,
            },
        )
        .await
        .unwrap();
    assert_eq!(whole.iter().map(|r| r.id).collect::<Vec<_>>(), expected);
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_reviews(
                m.id,
                &ReviewFilter {
                    sort: ReviewSort::Helpful,
                    stars: None,
                    after,
                    limit: 3,
                },
            )
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(ReviewCursor {
            sort: ReviewSort::Helpful,
            score: last.score,
            stars: last.stars,
            created_ms: last.created_ms,
            id: last.id.0,
        });
        paged.extend(page.iter().map(|r| r.id));
    }
    assert_eq!(paged, expected, "pages of three, in the same order");
    assert!(store.audit_aggregates().await.unwrap().is_empty());
}

pub async fn removing_a_film_while_votes_land_on_its_reviews_leaves_nothing_behind(
    store: Arc<dyn Store>,
) {
    let m = store.create_movie(&draft("the-work")).await.unwrap();
    let mut voters = Vec::new();
    for i in 0..8 {
        voters.push(user(&*store, &format!("voter{i}")).await);
    }
    let mut reviews = Vec::new();
    for i in 0..6 {
        let u = user(&*store, &format!("author{i}")).await;
        let r = store
            .put_rating(m.id, u.id, &rating(4, Some("Text."), 1))
            .await
            .unwrap();
        reviews.push(r.id);
    }
    // Every task has applied a batch before the film goes, and keeps voting while it goes.
    let started = Arc::new(tokio::sync::Barrier::new(5));
    let tasks: Vec<_> = (0..4)
        .map(|t| {
            let (store, voters, reviews, started) = (
                store.clone(),
                voters.clone(),
                reviews.clone(),
                started.clone(),
            );
            tokio::spawn(async move {
                for round in 0..30 {
                    let batch: Vec<VoteChange> = reviews
                        .iter()
                        .flat_map(|r| {
                            voters.iter().enumerate().map(move |(i, v)| VoteChange {
                                review: *r,
                                voter: v.id,
                                helpful: Some((i + t + round) % 3 != 0),
                            })
                        })
                        .collect();
                    store.apply_votes(&batch).await.unwrap();
                    if round == 0 {
                        started.wait().await;
                    }
                }
            })
        })
        .collect();
    started.wait().await;
    store.delete_movie(m.id).await.unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    for v in &voters {
        assert!(
            store
                .votes_by_user(v.id, &reviews)
                .await
                .unwrap()
                .is_empty()
        );
    }
    assert_eq!(
        store.audit_aggregates().await.unwrap(),
        Vec::<String>::new()
    );
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

fn new_media(movie: MovieId, key: &str, duration_ms: u64) -> NewMedia {
    NewMedia {
        movie_id: movie,
        storage_key: key.into(),
        file_name: "the-work.mp4".into(),
        content_type: "video/mp4".into(),
        size_bytes: 1234,
        duration_ms,
        width: 1280,
        height: 720,
        video_codec: "h264".into(),
        audio_codec: Some("aac".into()),
        probe_json: "{}".into(),
        now_ms: 5,
    }
}

pub async fn media_replaces_its_subtitles_and_fills_a_missing_runtime(store: Arc<dyn Store>) {
    let mut d = draft("no-runtime");
    d.runtime = None;
    let m = store.create_movie(&d).await.unwrap();
    let sub = |lang: &str, key: &str| SubtitleRecord {
        movie_id: m.id,
        lang: lang.into(),
        label: lang.into(),
        storage_key: key.into(),
        created_ms: 1,
    };
    assert!(matches!(
        store.put_subtitle(&sub("en", "x")).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.put_media(&new_media(MovieId(i64::MAX), "k", 1)).await,
        Err(StoreError::NotFound(_))
    ));
    let old = store
        .put_media(&new_media(m.id, "films/1/a/source.mp4", 5_350_000))
        .await
        .unwrap();
    assert!(old.is_none());
    let film = store.movie_by_id(m.id).await.unwrap().unwrap();
    assert_eq!(film.runtime_minutes, Some(89), "rounded from 89 min 10 s");
    assert!(
        store
            .put_subtitle(&sub("en", "films/1/a/en.vtt"))
            .await
            .unwrap()
            .is_none()
    );
    let replaced = store
        .put_subtitle(&sub("en", "films/1/a/en2.vtt"))
        .await
        .unwrap();
    assert_eq!(replaced.unwrap().storage_key, "films/1/a/en.vtt");
    store
        .put_subtitle(&sub("de", "films/1/a/de.vtt"))
        .await
        .unwrap();
    let subs = store.subtitles_for(m.id).await.unwrap();
    assert_eq!(
        subs.iter().map(|s| s.lang.as_str()).collect::<Vec<_>>(),
        ["de", "en"]
    );
    store.set_hls(m.id, Some("films/1/a/hls")).await.unwrap();
    assert_eq!(
        store
            .media_for(m.id)
            .await
            .unwrap()
            .unwrap()
            .hls_prefix
            .as_deref(),
        Some("films/1/a/hls")
    );

    // A new file replaces the record, its subtitles and its packaging; a typed runtime stays.
    let old = store
        .put_media(&new_media(m.id, "films/1/b/source.mp4", 60_000))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.storage_key, "films/1/a/source.mp4");
    let now = store.media_for(m.id).await.unwrap().unwrap();
    assert_eq!(
        (now.storage_key.as_str(), now.hls_prefix),
        ("films/1/b/source.mp4", None)
    );
    assert!(store.subtitles_for(m.id).await.unwrap().is_empty());
    let film = store.movie_by_id(m.id).await.unwrap().unwrap();
    assert_eq!(film.runtime_minutes, Some(89));

    let gone = store.delete_media(m.id).await.unwrap().unwrap();
    assert_eq!(gone.storage_key, "films/1/b/source.mp4");
    assert!(store.media_for(m.id).await.unwrap().is_none());
    assert!(store.delete_media(m.id).await.unwrap().is_none());
}

pub async fn positions_resume_mark_watched_past_ninety_percent_and_list_unfinished(
    store: Arc<dyn Store>,
) {
    let a = store.create_movie(&draft("film-a")).await.unwrap();
    let b = store.create_movie(&draft("film-b")).await.unwrap();
    let c = store.create_movie(&draft("film-c")).await.unwrap();
    let u = user(&*store, "viewer").await;
    let other = user(&*store, "other").await;
    assert!(store.position(u.id, a.id).await.unwrap().is_none());
    let p = store
        .save_position(u.id, a.id, 20_000, 100_000, 10)
        .await
        .unwrap();
    assert_eq!(
        (p.position_ms, p.watched_ms, p.resume_ms()),
        (20_000, None, 20_000)
    );
    store
        .save_position(u.id, b.id, 50_000, 100_000, 20)
        .await
        .unwrap();
    let done = store
        .save_position(u.id, c.id, 95_000, 100_000, 30)
        .await
        .unwrap();
    assert_eq!((done.watched_ms, done.resume_ms()), (Some(30), 0));
    // Watching again from the start keeps the film in the history as watched.
    let again = store
        .save_position(u.id, c.id, 5_000, 100_000, 40)
        .await
        .unwrap();
    assert_eq!(again.watched_ms, Some(30));
    store
        .save_position(other.id, a.id, 1_000, 100_000, 50)
        .await
        .unwrap();
    store
        .save_position(u.id, a.id, 30_000, 100_000, 60)
        .await
        .unwrap();

    let list = store.continue_watching(u.id, 10).await.unwrap();
    assert_eq!(
        list.iter().map(|p| p.movie_id).collect::<Vec<_>>(),
        [a.id, c.id, b.id],
        "most recent first; finished films only once restarted"
    );
    assert_eq!(store.continue_watching(u.id, 1).await.unwrap().len(), 1);
    assert!(matches!(
        store.save_position(u.id, MovieId(i64::MAX), 1, 2, 3).await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn a_job_is_claimed_by_one_worker_and_reclaimed_when_its_lease_expires(
    store: Arc<dyn Store>,
) {
    let m = store.create_movie(&draft("the-work")).await.unwrap();
    let n = store.create_movie(&draft("other-work")).await.unwrap();
    let j = store.enqueue_job("hls", m.id, 100).await.unwrap();
    assert_eq!(j.state, JobState::Queued);
    assert_eq!(
        store.enqueue_job("hls", m.id, 101).await.unwrap().id,
        j.id,
        "one at a time"
    );
    let k = store.enqueue_job("hls", n.id, 102).await.unwrap();
    assert!(matches!(
        store.enqueue_job("hls", MovieId(i64::MAX), 1).await,
        Err(StoreError::NotFound(_))
    ));

    // Eight workers race for two jobs: each job goes to exactly one of them.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .claim_job("hls", &format!("w{i}"), 200, 1_000)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut claimed = Vec::new();
    for t in tasks {
        claimed.extend(t.await.unwrap());
    }
    let mut ids: Vec<i64> = claimed.iter().map(|j| j.id).collect();
    ids.sort_unstable();
    assert_eq!(ids, [j.id, k.id]);
    let first = claimed.iter().find(|c| c.id == j.id).unwrap().clone();
    assert_eq!((first.state, first.attempts), (JobState::Running, 1));
    let holder = first.worker.clone().unwrap();

    let other_holder = claimed
        .iter()
        .find(|c| c.id == k.id)
        .unwrap()
        .worker
        .clone()
        .unwrap();
    assert!(
        store
            .renew_job(j.id, &holder, 0.5, 900, 1_000)
            .await
            .unwrap()
    );
    assert!(
        store
            .renew_job(k.id, &other_holder, 0.1, 900, 1_000)
            .await
            .unwrap()
    );
    assert!(
        !store
            .renew_job(j.id, "intruder", 0.6, 900, 1_000)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_job("hls", "late", 1_500, 1_000)
            .await
            .unwrap()
            .is_none(),
        "renewed"
    );
    assert_eq!(store.job_by_id(j.id).await.unwrap().unwrap().progress, 0.5);
    // The holders go quiet: after the lease another worker takes over the oldest job, and the
    // old holder has lost it.
    let taken = store
        .claim_job("hls", "late", 1_901, 1_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((taken.id, taken.attempts), (j.id, 2));
    assert!(
        !store
            .renew_job(j.id, &holder, 0.7, 1_950, 1_000)
            .await
            .unwrap()
    );
    let (id, worker) = (j.id, "late");
    assert!(store.finish_job(id, worker, None, 2_000).await.unwrap());
    let finished = store.job_by_id(id).await.unwrap().unwrap();
    assert_eq!((finished.state, finished.progress), (JobState::Done, 1.0));
    assert!(
        !store.finish_job(id, worker, None, 2_001).await.unwrap(),
        "only once"
    );
    // A finished job lets a new one be queued; failures keep their reason.
    let again = store
        .enqueue_job("hls", finished.movie_id, 3_000)
        .await
        .unwrap();
    assert_ne!(again.id, id);
    // Job k's lease ran out too: it comes first, being older.
    let stale = store
        .claim_job("hls", "w", 3_001, 1_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stale.id, k.id);
    let claimed = store
        .claim_job("hls", "w", 3_001, 1_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, again.id);
    assert!(
        store
            .finish_job(claimed.id, "w", Some("ffmpeg failed"), 3_002)
            .await
            .unwrap()
    );
    let failed = store.job_by_id(claimed.id).await.unwrap().unwrap();
    assert_eq!(
        (failed.state, failed.error.as_deref()),
        (JobState::Failed, Some("ffmpeg failed"))
    );
    // A film's own job can be claimed past older jobs of other films, by one claimer only.
    assert!(store.finish_job(k.id, "w", None, 3_500).await.unwrap());
    let older = store.enqueue_job("hls", n.id, 4_000).await.unwrap();
    let wanted = store.enqueue_job("hls", m.id, 4_001).await.unwrap();
    let got = store
        .claim_job_for("hls", m.id, "cli", 4_002, 1_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((got.id, got.worker.as_deref()), (wanted.id, Some("cli")));
    assert!(
        store
            .claim_job_for("hls", m.id, "other", 4_003, 1_000)
            .await
            .unwrap()
            .is_none(),
        "held"
    );
    assert_eq!(
        store.job_by_id(older.id).await.unwrap().unwrap().state,
        JobState::Queued
    );
    let all = store.list_jobs(None, 10).await.unwrap();
    assert!(all.len() >= 3);
    assert!(all.windows(2).all(|w| w[0].created_ms >= w[1].created_ms));
    let mine = store.list_jobs(Some(n.id), 10).await.unwrap();
    assert!(mine.iter().all(|j| j.movie_id == n.id));
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

/// Using a token or adding accounts and tokens leaves the number alone (remembered owners stay
/// right); revoking a token, or deleting or anonymizing an account, moves it.
pub async fn revoking_a_token_or_changing_an_account_moves_the_credentials_version(
    store: Arc<dyn Store>,
) {
    let (a, b) = (user(&*store, "ann").await, user(&*store, "bob").await);
    let t = store
        .create_token(a.id, "tv", b"tokhash", 10)
        .await
        .unwrap();
    store
        .create_token(b.id, "cli", b"bobhash", 10)
        .await
        .unwrap();
    let start = store.credentials_version().await.unwrap();
    store
        .token_user(b"tokhash", 100_000)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        store.delete_token(b.id, t.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store.credentials_version().await.unwrap(),
        start,
        "a use, or a refused revocation, changes no owner"
    );

    store.delete_token(a.id, t.id).await.unwrap();
    let revoked = store.credentials_version().await.unwrap();
    assert_ne!(revoked, start, "a revoked token");

    store
        .delete_account(b.id, LeavingReviews::KeepAnonymous)
        .await
        .unwrap();
    let anonymized = store.credentials_version().await.unwrap();
    assert_ne!(anonymized, revoked, "an anonymized account");
    assert!(
        store
            .token_user(b"bobhash", 200_000)
            .await
            .unwrap()
            .is_none()
    );

    store
        .delete_account(a.id, LeavingReviews::Remove)
        .await
        .unwrap();
    assert_ne!(
        store.credentials_version().await.unwrap(),
        anonymized,
        "a deleted account"
    );
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

fn device_code<'a>(hash: &'a [u8], user_code: &'a str, now_ms: i64) -> NewDeviceCode<'a> {
    NewDeviceCode {
        device_code_hash: hash,
        user_code,
        client_name: "Living-room TV",
        interval_s: 5,
        now_ms,
        expires_ms: now_ms + 600_000,
    }
}

pub async fn a_device_code_slows_fast_polls_and_is_approved_and_exchanged_once(
    store: Arc<dyn Store>,
) {
    let (ann, bob) = (user(&*store, "ann").await, user(&*store, "bob").await);
    let c = store
        .create_device_code(&device_code(b"dev1", "BCDFGHJK", 1_000))
        .await
        .unwrap();
    assert_eq!(
        (c.state, c.interval_s, c.expires_ms, c.user_id),
        (DeviceCodeState::Pending, 5, 601_000, None)
    );
    for (hash, code) in [(&b"dev2"[..], "BCDFGHJK"), (&b"dev1"[..], "ZZZZZZZZ")] {
        assert!(matches!(
            store
                .create_device_code(&device_code(hash, code, 1_000))
                .await,
            Err(StoreError::Conflict(_))
        ));
    }
    assert_eq!(
        store.device_code_by_user_code("BCDFGHJK").await.unwrap(),
        Some(c.clone())
    );
    assert!(
        store
            .device_code_by_user_code("ZZZZZZZZ")
            .await
            .unwrap()
            .is_none()
    );
    let poll = |at: i64| {
        let store = store.clone();
        async move { store.poll_device_code(b"dev1", b"tok", at).await.unwrap() }
    };
    assert_eq!(poll(2_000).await, DevicePoll::Pending);
    // 2 s after the last poll with a 5 s interval: slow down, and the interval becomes 10 s;
    // 9 s later is still too soon for 10 s; 15 s later is fine.
    assert_eq!(poll(4_000).await, DevicePoll::SlowDown { interval_s: 10 });
    assert_eq!(poll(13_000).await, DevicePoll::SlowDown { interval_s: 15 });
    assert_eq!(poll(28_000).await, DevicePoll::Pending);
    assert_eq!(
        store
            .poll_device_code(b"unknown", b"tok", 28_000)
            .await
            .unwrap(),
        DevicePoll::Unknown
    );

    let DeviceDecision::Decided(approved) = store
        .decide_device_code("BCDFGHJK", ann.id, true, 30_000)
        .await
        .unwrap()
    else {
        panic!("the first decision decides");
    };
    assert_eq!(
        (approved.state, approved.user_id, approved.interval_s),
        (DeviceCodeState::Approved, Some(ann.id), 15)
    );
    let DeviceDecision::AlreadyDecided(still) = store
        .decide_device_code("BCDFGHJK", bob.id, false, 30_001)
        .await
        .unwrap()
    else {
        panic!("a second decision is refused");
    };
    assert_eq!(
        (still.state, still.user_id),
        (DeviceCodeState::Approved, Some(ann.id))
    );
    assert_eq!(
        store
            .decide_device_code("ZZZZZZZZ", ann.id, true, 30_000)
            .await
            .unwrap(),
        DeviceDecision::Unknown
    );

    // An approved code is exchanged whatever the interval, once.
    let DevicePoll::Granted { user, token } = poll(30_500).await else {
        panic!("an approved code is exchanged");
    };
    assert_eq!((user, token.name.as_str()), (ann.id, "Living-room TV"));
    assert_eq!(
        store.token_user(b"tok", 31_000).await.unwrap().unwrap().id,
        ann.id
    );
    assert_eq!(poll(60_000).await, DevicePoll::Used);
    let tokens = store.list_tokens(ann.id).await.unwrap();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].id, token.id);
    assert!(store.list_tokens(bob.id).await.unwrap().is_empty());
}

pub async fn device_codes_expire_can_be_denied_and_are_purged(store: Arc<dyn Store>) {
    let ann = user(&*store, "ann").await;
    store
        .create_device_code(&device_code(b"old", "BBBBBBBB", 0))
        .await
        .unwrap();
    store
        .create_device_code(&device_code(b"deny", "CCCCCCCC", 500_000))
        .await
        .unwrap();
    // At 600 s the first code has expired: neither a decision nor a poll gets through.
    assert!(matches!(
        store
            .decide_device_code("BBBBBBBB", ann.id, true, 600_000)
            .await
            .unwrap(),
        DeviceDecision::Expired(c) if c.state == DeviceCodeState::Pending
    ));
    assert_eq!(
        store
            .poll_device_code(b"old", b"tok1", 600_000)
            .await
            .unwrap(),
        DevicePoll::Expired
    );
    assert!(matches!(
        store
            .decide_device_code("CCCCCCCC", ann.id, false, 600_000)
            .await
            .unwrap(),
        DeviceDecision::Decided(c) if c.state == DeviceCodeState::Denied
    ));
    for at in [600_001, 600_002] {
        assert_eq!(
            store.poll_device_code(b"deny", b"tok2", at).await.unwrap(),
            DevicePoll::Denied
        );
    }
    assert!(store.list_tokens(ann.id).await.unwrap().is_empty());
    assert_eq!(store.purge_device_codes(600_000).await.unwrap(), 1);
    assert!(
        store
            .device_code_by_user_code("BBBBBBBB")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .poll_device_code(b"old", b"tok1", 600_000)
            .await
            .unwrap(),
        DevicePoll::Unknown
    );
    assert_eq!(store.purge_device_codes(1_100_000).await.unwrap(), 1);
}

pub async fn racing_decisions_and_exchanges_of_one_device_code_have_one_winner(
    store: Arc<dyn Store>,
) {
    let mut viewers = Vec::new();
    for i in 0..8 {
        viewers.push(user(&*store, &format!("viewer{i}")).await);
    }
    store
        .create_device_code(&device_code(b"race", "DDDDDDDD", 0))
        .await
        .unwrap();
    let decisions: Vec<_> = viewers
        .iter()
        .map(|v| {
            let (store, id) = (store.clone(), v.id);
            tokio::spawn(async move { store.decide_device_code("DDDDDDDD", id, true, 10).await })
        })
        .collect();
    let mut winners = Vec::new();
    for d in decisions {
        match d.await.unwrap().unwrap() {
            DeviceDecision::Decided(c) => winners.push(c.user_id.unwrap()),
            DeviceDecision::AlreadyDecided(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one decision wins");
    let polls: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let hash = format!("token-{i}");
                store.poll_device_code(b"race", hash.as_bytes(), 20).await
            })
        })
        .collect();
    let mut granted = Vec::new();
    for p in polls {
        match p.await.unwrap().unwrap() {
            DevicePoll::Granted { user, .. } => granted.push(user),
            DevicePoll::Used => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(granted, winners, "exactly one exchange receives a token");
    let mut tokens = 0;
    for v in &viewers {
        tokens += store.list_tokens(v.id).await.unwrap().len();
    }
    assert_eq!(tokens, 1);
}

/// Expands to one `#[tokio::test]` per conformance check, each given a fresh store by `$make`:
/// an async expression returning `Option<(Arc<dyn Store>, guard)>`, where the guard lives as long
/// as the test and `None` means the backend is not available here (the maker says why, and
/// decides whether that is a skip or, under `CI=true`, a failure).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make, every_browse_order_pages_through_all_films_once_with_ties_and_films_added_between_pages, browse_filters_select_exactly_the_matching_films, top_rated_follows_the_bayesian_average_of_real_ratings, genre_counts_count_each_genre_case_insensitively_most_films_first, a_persons_films_cover_both_roles_newest_first, search_ranks_exact_title_then_title_words_then_people_then_text, search_matches_word_prefixes_and_folds_accents, search_forgives_a_typo_with_similar_titles_after_real_matches, a_search_with_no_match_or_no_words_finds_nothing, search_and_browse_follow_edits_and_removals, a_copied_catalog_is_searchable_once_the_import_finishes, films_keep_their_credits_in_order_and_slugs_are_unique, ratings_keep_the_average_histogram_and_review_count_in_step, votes_follow_the_rules_and_keep_counts_and_score_in_step, most_helpful_orders_by_wilson_score_then_newest, keyset_pages_neither_repeat_nor_skip_while_reviews_are_added, concurrent_ratings_and_votes_leave_every_aggregate_consistent, the_same_vote_raced_from_many_tasks_counts_once, a_vote_batch_applies_in_order_like_single_votes, concurrent_vote_batches_over_shared_reviews_stay_consistent, a_review_has_a_tally_while_it_has_text_and_new_words_start_it_over, most_helpful_pages_follow_the_votes_and_rewritten_words, removing_a_film_while_votes_land_on_its_reviews_leaves_nothing_behind, a_lease_has_one_holder_at_a_time_until_it_expires, media_replaces_its_subtitles_and_fills_a_missing_runtime, positions_resume_mark_watched_past_ninety_percent_and_list_unfinished, a_job_is_claimed_by_one_worker_and_reclaimed_when_its_lease_expires, expired_sessions_and_stale_failure_counts_are_purged, the_first_account_is_the_admin_and_usernames_are_unique, sessions_expire_and_tokens_belong_to_their_owner, revoking_a_token_or_changing_an_account_moves_the_credentials_version, login_failures_count_within_a_window_and_then_reset, a_shared_secret_is_created_once_and_then_kept, a_device_code_slows_fast_polls_and_is_approved_and_exchanged_once, device_codes_expire_can_be_denied_and_are_purged, racing_decisions_and_exchanges_of_one_device_code_have_one_winner, a_rerun_import_updates_films_instead_of_adding_them_again, imported_ratings_keep_every_aggregate_in_step, the_watchlist_holds_a_film_once_and_pages_latest_first, the_diary_keeps_one_entry_per_film_and_day, deleting_an_account_removes_or_keeps_its_reviews_with_counts_in_step);
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
