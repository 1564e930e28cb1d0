//! Conformance checks for bulk imports, watchlists, diaries, profiles and account deletion.

use super::{draft, rating, user};
use crate::*;
use marquee_domain::*;
use std::sync::Arc;

fn film(key: &str, title: &str, year: i64, fingerprint: &str) -> ImportFilm {
    let mut d = draft("x");
    d.title = Title::parse(title).unwrap();
    d.year = Some(Year::new(year).unwrap());
    d.slug = Slug::from_title(title, d.year);
    ImportFilm {
        key: key.into(),
        other_keys: vec![],
        draft: d,
        fingerprint: fingerprint.into(),
        external_rating: None,
    }
}

fn import_user(name: &str) -> ImportUser {
    ImportUser {
        username: Username::parse(name).unwrap(),
        display_name: DisplayName::parse(name).unwrap(),
    }
}

pub async fn a_rerun_import_updates_films_instead_of_adding_them_again(store: Arc<dyn Store>) {
    let first = vec![
        film("movielens:1", "Brazil", 1985, "a"),
        film("movielens:2", "Alien", 1979, "a"),
        // Same title and year as the first, another film: it gets the next free slug.
        film("movielens:3", "Brazil", 1985, "a"),
        // The same key twice in one batch is one film.
        film("movielens:2", "Alien", 1979, "a"),
    ];
    let out = store.import_films(&first, 1000).await.unwrap();
    assert!(matches!(out[0], FilmOutcome::Added(_)));
    assert!(matches!(out[2], FilmOutcome::Added(_)));
    assert_eq!(out[3], FilmOutcome::Unchanged(out[1].id()));
    assert_eq!(store.count_movies().await.unwrap(), 3);
    let second_brazil = store.movie_by_id(out[2].id()).await.unwrap().unwrap();
    assert_eq!(second_brazil.slug, "brazil-1985-2");

    // The same rows again: nothing to do.
    let again = store.import_films(&first[..3], 2000).await.unwrap();
    assert!(again.iter().all(|o| matches!(o, FilmOutcome::Unchanged(_))));
    assert_eq!(store.count_movies().await.unwrap(), 3);

    // A changed row updates in place; what the source leaves empty keeps the stored value.
    let mut changed = film("movielens:1", "Brazil (Director's Cut)", 1985, "b");
    changed.draft.synopsis = Synopsis::parse("").unwrap();
    changed.draft.directors.clear();
    changed.draft.cast.clear();
    changed.draft.genres = vec![Genre::parse("Satire").unwrap()];
    let out2 = store.import_films(&[changed], 3000).await.unwrap();
    assert_eq!(out2[0], FilmOutcome::Updated(out[0].id()));
    let m = store.movie_by_id(out[0].id()).await.unwrap().unwrap();
    assert_eq!(m.title, "Brazil (Director's Cut)");
    assert_eq!(m.slug, "brazil-1985", "the address never changes");
    assert_eq!(
        m.synopsis, "Men in a room.",
        "an empty synopsis keeps the stored one"
    );
    assert_eq!(m.directors, ["Jairus McLeary", "Gethin Aldous"]);
    assert_eq!(m.genres, ["Satire"]);

    // Another source that knows the film's IMDb id finds the same film.
    let mut tagged = film("library:Alien (1979)", "Alien", 1979, "x");
    tagged.other_keys = vec!["movielens:2".into()];
    tagged.external_rating = Some(ExternalRating {
        source: "imdb".into(),
        tenths: 85,
        votes: 900_000,
    });
    let out3 = store.import_films(&[tagged], 4000).await.unwrap();
    assert_eq!(out3[0], FilmOutcome::Updated(out[1].id()));
    assert_eq!(
        store
            .films_by_keys(&["library:Alien (1979)".into(), "nope:1".into()])
            .await
            .unwrap(),
        [Some(out[1].id()), None]
    );
    assert_eq!(
        store.external_ratings(out[1].id()).await.unwrap()[0].tenths,
        85
    );
    assert_eq!(
        store.keys_with_prefix("library:").await.unwrap(),
        [("library:Alien (1979)".to_owned(), out[1].id())]
    );
    store.forget_key("library:Alien (1979)").await.unwrap();
    assert!(store.keys_with_prefix("library:").await.unwrap().is_empty());
    assert_eq!(
        store.films_by_title("alien", Some(1979)).await.unwrap(),
        [out[1].id()]
    );
    assert!(
        store
            .films_by_title("alien", Some(1980))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.films_by_title("BRAZIL", None).await.unwrap(),
        [out[2].id()]
    );
}

pub async fn imported_ratings_keep_every_aggregate_in_step(store: Arc<dyn Store>) {
    let films = store
        .import_films(
            &[
                film("ml:1", "Brazil", 1985, "a"),
                film("ml:2", "Alien", 1979, "a"),
            ],
            0,
        )
        .await
        .unwrap();
    let (brazil, alien) = (films[0].id(), films[1].id());
    let users = store
        .ensure_users(&[import_user("movielens-1"), import_user("movielens-2")], 0)
        .await
        .unwrap();
    // Existing accounts are found, not duplicated; imported ones can not sign in.
    let again = store
        .ensure_users(&[import_user("movielens-2")], 0)
        .await
        .unwrap();
    assert_eq!(again, [users[1]]);
    let (_, hash) = store.credentials("movielens-1").await.unwrap().unwrap();
    assert_eq!(hash, import::LOCKED_PASSWORD);

    let r = |movie, user, stars, body: Option<&str>| ImportRating {
        movie,
        user,
        stars: Stars::new(stars).unwrap(),
        body: ReviewText::parse_optional(body).unwrap(),
        at_ms: 5000,
    };
    let counts = store
        .import_ratings(&[
            r(brazil, users[0], 5, None),
            r(brazil, users[1], 3, Some("Too long, but what a world.")),
            r(alien, users[0], 2, None),
            // The last of a pair wins.
            r(alien, users[0], 4, None),
        ])
        .await
        .unwrap();
    assert_eq!(
        counts,
        ImportCounts {
            added: 3,
            updated: 0,
            unchanged: 0
        }
    );
    let stats = store.movie_stats(brazil).await.unwrap();
    assert_eq!(
        (stats.rating_count, stats.rating_sum, stats.review_count),
        (2, 8, 1)
    );
    assert_eq!(stats.histogram, [0, 0, 1, 0, 1]);
    assert_eq!(store.movie_stats(alien).await.unwrap().rating_sum, 4);

    // A vote on the review, then the review's text changes on re-import: the vote goes.
    let me = user(&*store, "voter").await;
    let review = store
        .rating_by_user(brazil, users[1])
        .await
        .unwrap()
        .unwrap();
    store.put_vote(review.id, me.id, true).await.unwrap();
    let counts = store
        .import_ratings(&[
            r(brazil, users[0], 5, None),
            r(brazil, users[1], 3, Some("Rewritten.")),
            r(alien, users[0], 1, None),
        ])
        .await
        .unwrap();
    assert_eq!(
        counts,
        ImportCounts {
            added: 0,
            updated: 2,
            unchanged: 1
        }
    );
    let review = store.review_by_id(review.id).await.unwrap().unwrap();
    assert_eq!(review.body.as_deref(), Some("Rewritten."));
    assert_eq!(review.helpful_yes, 0);
    assert_eq!(
        store.movie_stats(alien).await.unwrap().histogram,
        [1, 0, 0, 0, 0]
    );
    assert!(store.audit_aggregates().await.unwrap().is_empty());

    // Words added to a bare rating make it a review; new stars move it in the histogram.
    store
        .import_ratings(&[r(alien, users[0], 3, Some("Quieter than I remembered."))])
        .await
        .unwrap();
    let stats = store.movie_stats(alien).await.unwrap();
    assert_eq!(
        (stats.rating_count, stats.rating_sum, stats.review_count),
        (1, 3, 1)
    );
    assert_eq!(stats.histogram, [0, 0, 1, 0, 0]);
    assert!(store.audit_aggregates().await.unwrap().is_empty());
}

pub async fn the_watchlist_holds_a_film_once_and_pages_latest_first(store: Arc<dyn Store>) {
    let ann = user(&*store, "ann").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            store
                .create_movie(&draft(&format!("film-{i}")))
                .await
                .unwrap()
                .id,
        );
    }
    for (i, id) in ids.iter().enumerate() {
        assert!(
            store
                .add_to_watchlist(ann.id, *id, 100 + i as i64)
                .await
                .unwrap()
        );
    }
    assert!(!store.add_to_watchlist(ann.id, ids[0], 999).await.unwrap());
    assert!(matches!(
        store.add_to_watchlist(ann.id, MovieId(999_999), 1).await,
        Err(StoreError::NotFound(_))
    ));
    let page1 = store.watchlist(ann.id, None, 2).await.unwrap();
    assert_eq!(
        page1.iter().map(|e| e.card.id).collect::<Vec<_>>(),
        [ids[4], ids[3]]
    );
    let last = page1.last().unwrap();
    let page2 = store
        .watchlist(ann.id, Some((last.added_ms, last.card.id)), 10)
        .await
        .unwrap();
    assert_eq!(
        page2.iter().map(|e| e.card.id).collect::<Vec<_>>(),
        [ids[2], ids[1], ids[0]]
    );
    assert_eq!(page2[2].added_ms, 100, "adding again keeps the first date");
    assert!(store.on_watchlist(ann.id, ids[1]).await.unwrap());
    assert!(store.remove_from_watchlist(ann.id, ids[1]).await.unwrap());
    assert!(!store.remove_from_watchlist(ann.id, ids[1]).await.unwrap());
    assert!(!store.on_watchlist(ann.id, ids[1]).await.unwrap());
    store.delete_movie(ids[0]).await.unwrap();
    assert_eq!(store.watchlist(ann.id, None, 10).await.unwrap().len(), 3);
}

pub async fn the_diary_keeps_one_entry_per_film_and_day(store: Arc<dyn Store>) {
    let (ann, bob) = (user(&*store, "ann").await, user(&*store, "bob").await);
    let m = store.create_movie(&draft("the-work")).await.unwrap().id;
    let day = |s: &str| Day::parse(s).unwrap();
    let entry = |d: &str, stars: Option<i64>| NewDiaryEntry {
        movie: m,
        watched_on: day(d),
        rewatch: false,
        stars: stars.map(|s| Stars::new(s).unwrap()),
        now_ms: 1,
    };
    let first = store
        .add_diary_entry(ann.id, &entry("2024-05-01", Some(4)))
        .await
        .unwrap();
    assert_eq!(first.watched_on.to_string(), "2024-05-01");
    assert_eq!(first.stars, Some(4));
    let same_day = store
        .add_diary_entry(ann.id, &entry("2024-05-01", None))
        .await
        .unwrap();
    assert_eq!(same_day.id, first.id, "one entry per film and day");
    assert_eq!(same_day.stars, Some(4), "no stars keeps the stars given");
    let later = store
        .add_diary_entry(
            ann.id,
            &NewDiaryEntry {
                rewatch: true,
                ..entry("2024-06-10", None)
            },
        )
        .await
        .unwrap();
    let diary = store.diary(ann.id, None, 10).await.unwrap();
    assert_eq!(
        diary.iter().map(|e| e.id).collect::<Vec<_>>(),
        [later.id, first.id]
    );
    assert!(diary[0].rewatch);
    let page2 = store
        .diary(ann.id, Some((diary[0].watched_on, diary[0].id)), 10)
        .await
        .unwrap();
    assert_eq!(page2.len(), 1);
    assert!(matches!(
        store.delete_diary_entry(bob.id, first.id).await,
        Err(StoreError::NotFound(_))
    ));
    store.delete_diary_entry(ann.id, first.id).await.unwrap();
    assert_eq!(store.diary(ann.id, None, 10).await.unwrap().len(), 1);
    assert!(matches!(
        store
            .add_diary_entry(
                ann.id,
                &NewDiaryEntry {
                    movie: MovieId(999_999),
                    ..entry("2024-01-01", None)
                }
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn deleting_an_account_removes_or_keeps_its_reviews_with_counts_in_step(
    store: Arc<dyn Store>,
) {
    let (ann, bob, cid) = (
        user(&*store, "ann").await,
        user(&*store, "bob").await,
        user(&*store, "cid").await,
    );
    let m = store.create_movie(&draft("the-work")).await.unwrap().id;
    let ra = store
        .put_rating(m, ann.id, &rating(5, Some("Ann's words."), 10))
        .await
        .unwrap();
    let rb = store
        .put_rating(m, bob.id, &rating(2, Some("Bob's words."), 20))
        .await
        .unwrap();
    store
        .put_rating(m, cid.id, &rating(4, None, 30))
        .await
        .unwrap();
    store.put_vote(rb.id, ann.id, true).await.unwrap();
    store.put_vote(ra.id, bob.id, false).await.unwrap();
    store.add_to_watchlist(ann.id, m, 1).await.unwrap();
    store
        .create_session(b"ann-session", ann.id, 0, i64::MAX)
        .await
        .unwrap();

    // The profile lists a user's ratings, latest first.
    let profile = store.ratings_by_user(ann.id, None, 10).await.unwrap();
    assert_eq!(profile.len(), 1);
    assert_eq!(profile[0].card.id, m);
    assert_eq!(profile[0].review.body.as_deref(), Some("Ann's words."));

    // Ann leaves and takes her words with her: her vote on Bob's review goes too.
    store
        .delete_account(ann.id, LeavingReviews::Remove)
        .await
        .unwrap();
    assert!(store.user_by_id(ann.id).await.unwrap().is_none());
    let stats = store.movie_stats(m).await.unwrap();
    assert_eq!(
        (stats.rating_count, stats.rating_sum, stats.review_count),
        (2, 6, 1)
    );
    assert_eq!(
        store
            .review_by_id(rb.id)
            .await
            .unwrap()
            .unwrap()
            .helpful_yes,
        0
    );
    assert!(store.audit_aggregates().await.unwrap().is_empty());
    // The name is free again.
    user(&*store, "ann").await;

    // Bob leaves his review behind, signed by nobody in particular.
    store
        .delete_account(bob.id, LeavingReviews::KeepAnonymous)
        .await
        .unwrap();
    let kept = store.review_by_id(rb.id).await.unwrap().unwrap();
    assert_eq!(kept.author_name, lists::DELETED_AUTHOR);
    assert_eq!(kept.body.as_deref(), Some("Bob's words."));
    assert!(store.credentials("bob").await.unwrap().is_none());
    let gone = store.user_by_id(bob.id).await.unwrap().unwrap();
    assert_ne!(gone.username, "bob");
    user(&*store, "bob").await;
    assert_eq!(store.movie_stats(m).await.unwrap().rating_count, 2);
    assert!(store.audit_aggregates().await.unwrap().is_empty());
    assert!(matches!(
        store
            .delete_account(UserId(999_999), LeavingReviews::Remove)
            .await,
        Err(StoreError::NotFound(_))
    ));
}
