//! A viewer's lists and data: the watchlist and diary (forms, pages and API), the diary entry a
//! finished playback adds, public profiles (never showing anonymous ratings), the Letterboxd
//! export (page, API and command line) and deleting an account both ways.

use crate::cli::marquee;
use crate::helpers::*;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use marquee_domain::{Headline, ReviewText, Stars};
use marquee_import::letterboxd::{self, Export};
use marquee_server::lists::today;
use marquee_store::{Day, Movie, NewDiaryEntry, NewMedia, NewUser, RatingInput, User};
use serde_json::json;
use tower::ServiceExt;

const PASSWORD: &str = "a long password";

/// The first account is the administrator, who can not leave; tests of leaving make one first.
async fn with_admin(app: &TestApp) {
    app.client("admin").await;
}

/// A rating to store: `rating(stars, body, at)`, with `..` for a headline or anonymity.
#[derive(Clone, Copy)]
struct Rating<'a> {
    stars: i64,
    headline: Option<&'a str>,
    body: Option<&'a str>,
    anonymous: bool,
    at_ms: i64,
}

fn rating(stars: i64, body: Option<&str>, at_ms: i64) -> Rating<'_> {
    Rating {
        stars,
        headline: None,
        body,
        anonymous: false,
        at_ms,
    }
}

async fn rate_as(app: &TestApp, movie: &Movie, user: &User, r: Rating<'_>) {
    let input = RatingInput {
        stars: Stars::new(r.stars).unwrap(),
        headline: Headline::parse_optional(r.headline).unwrap(),
        body: ReviewText::parse_optional(r.body).unwrap(),
        anonymous: r.anonymous,
        now_ms: r.at_ms,
    };
    app.store
        .put_rating(movie.id, user.id, &input)
        .await
        .unwrap();
    app.state.cache.invalidate(movie.id);
}

async fn log(
    app: &TestApp,
    user: &User,
    movie: &Movie,
    day: &str,
    rewatch: bool,
    stars: Option<i64>,
) {
    app.store
        .add_diary_entry(
            user.id,
            &NewDiaryEntry {
                movie: movie.id,
                watched_on: Day::parse(day).unwrap(),
                rewatch,
                stars: stars.map(|s| Stars::new(s).unwrap()),
                now_ms: NOV_27_2017,
            },
        )
        .await
        .unwrap();
}

/// A GET whose body is bytes (a zip), not text.
async fn get_bytes(
    app: &TestApp,
    path: &str,
    auth: (header::HeaderName, &str),
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let req = Request::get(path)
        .header(auth.0, auth.1)
        .body(Body::empty())
        .unwrap();
    let res = app.router.clone().oneshot(req).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let bytes = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, bytes)
}

fn read_zip(bytes: &[u8]) -> Export {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.zip");
    std::fs::write(&path, bytes).unwrap();
    let export = letterboxd::read(&path).unwrap();
    assert!(export.problems.is_empty(), "{:?}", export.problems);
    export
}

/// A session-cookie API call without the X-CSRF-Token header.
async fn api_with_cookie(app: &TestApp, method: Method, path: &str, client: &Client) -> Reply {
    app.send(
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::COOKIE, &client.cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_signed_in_viewer_adds_a_film_to_the_watchlist_and_removes_it_with_forms() {
    let app = spawn_app().await;
    app.the_work().await;
    let ann = app.client("ann").await;

    let page = app.get("/movies/the-work", Some(&ann)).await;
    assert!(page.body.contains("Your lists") && page.body.contains("Add to watchlist"));
    let added = app
        .post_form("/movies/the-work/watchlist", Some(&ann), &[])
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    assert_eq!(added.location(), "/movies/the-work#lists");
    let page = text_of(&app.get("/movies/the-work", Some(&ann)).await.body);
    assert!(page.contains("On your watchlist — Remove"), "{page}");
    // Adding twice is harmless.
    app.post_form("/movies/the-work/watchlist", Some(&ann), &[])
        .await;

    let list = app.get("/watchlist", Some(&ann)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.header(header::CACHE_CONTROL), "private, no-store");
    let text = text_of(&list.body);
    assert!(
        text.contains("The Work") && text.contains("2017 • 89 minutes"),
        "{text}"
    );

    let removed = app
        .post_form(
            "/movies/the-work/watchlist/remove",
            Some(&ann),
            &[("return_to", "/watchlist")],
        )
        .await;
    assert_eq!(removed.location(), "/watchlist");
    assert!(
        text_of(&app.get("/watchlist", Some(&ann)).await.body).contains("Your watchlist is empty")
    );
    assert!(
        app.get("/movies/the-work", Some(&ann))
            .await
            .body
            .contains("Add to watchlist")
    );
}

#[tokio::test]
async fn the_shared_signed_out_title_page_never_shows_anyones_lists() {
    let app = spawn_app().await;
    app.the_work().await;
    let ann = app.client("ann").await;
    app.post_form("/movies/the-work/watchlist", Some(&ann), &[])
        .await;
    // Ann's page is rendered first, then the cached one for everyone.
    assert!(
        app.get("/movies/the-work", Some(&ann))
            .await
            .body
            .contains("On your watchlist")
    );
    for _ in 0..2 {
        let anon = app.get("/movies/the-work", None).await;
        assert!(!anon.body.contains("Your lists"));
        assert!(!anon.body.contains("watchlist"), "{}", anon.body);
    }
}

#[tokio::test]
async fn a_watchlist_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let m = app.the_work().await;
    let ann = app.client("ann").await;
    for token in ["", "forged"] {
        let r = app
            .post_form(
                "/movies/the-work/watchlist",
                Some(&ann),
                &[("csrf_token", token)],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    assert!(!app.store.on_watchlist(ann.user.id, m.id).await.unwrap());
    app.post_form("/movies/the-work/watchlist", Some(&ann), &[])
        .await;
    let r = app
        .post_form(
            "/movies/the-work/watchlist/remove",
            Some(&ann),
            &[("csrf_token", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(app.store.on_watchlist(ann.user.id, m.id).await.unwrap());
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in_from_the_watchlist_diary_and_export() {
    let app = spawn_app().await;
    for (path, next) in [
        ("/watchlist", "%2Fwatchlist"),
        ("/diary", "%2Fdiary"),
        ("/account/export", "%2Faccount%2Fexport"),
    ] {
        let r = app.get(path, None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.location(), format!("/signin?next={next}"));
    }
}

#[tokio::test]
async fn a_viewing_is_logged_from_the_title_page_and_deleted_from_the_diary_by_its_owner_only() {
    let app = spawn_app().await;
    app.the_work().await;
    let ann = app.client("ann").await;
    let bob = app.client("bob").await;

    let page = app.get("/movies/the-work", Some(&ann)).await;
    assert!(page.body.contains("Log a viewing"));
    assert!(
        page.body
            .contains(&format!("name=\"watched_on\" value=\"{}\"", today())),
        "the date defaults to today"
    );
    let logged = app
        .post_form(
            "/movies/the-work/diary",
            Some(&ann),
            &[
                ("watched_on", "2024-05-31"),
                ("rewatch", "on"),
                ("stars", "4"),
            ],
        )
        .await;
    assert_eq!(logged.status, StatusCode::SEE_OTHER);
    assert_eq!(
        logged.location(),
        "/movies/the-work?logged=2024-05-31#lists"
    );
    let back = text_of(&app.get(logged.location(), Some(&ann)).await.body);
    assert!(
        back.contains("Logged in your diary: watched May 31, 2024."),
        "{back}"
    );

    let diary = app.get("/diary", Some(&ann)).await;
    let text = text_of(&diary.body);
    for expected in ["May 31, 2024", "The Work", "(rewatch)", "4 out of 5 stars"] {
        assert!(text.contains(expected), "missing {expected:?} in {text}");
    }
    let id = app.store.diary(ann.user.id, None, 10).await.unwrap()[0].id;

    let theirs = app
        .post_form(&format!("/diary/{id}/delete"), Some(&bob), &[])
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    let unsigned = app
        .post_form(
            &format!("/diary/{id}/delete"),
            Some(&ann),
            &[("csrf_token", "")],
        )
        .await;
    assert_eq!(unsigned.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.store.diary(ann.user.id, None, 10).await.unwrap().len(),
        1
    );

    let mine = app
        .post_form(&format!("/diary/{id}/delete"), Some(&ann), &[])
        .await;
    assert_eq!(mine.location(), "/diary");
    assert!(text_of(&app.get("/diary", Some(&ann)).await.body).contains("Your diary is empty"));
}

#[tokio::test]
async fn a_bad_date_re_renders_the_title_page_with_the_message_and_keeps_what_was_typed() {
    let app = spawn_app().await;
    app.the_work().await;
    let ann = app.client("ann").await;
    let r = app
        .post_form(
            "/movies/the-work/diary",
            Some(&ann),
            &[
                ("watched_on", "31/05/2024"),
                ("rewatch", "on"),
                ("stars", "3"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = text_of(&r.body);
    assert!(text.contains("Your viewing was not logged"), "{text}");
    assert!(
        text.contains("Date watched: must be a date such as 2024-05-31"),
        "{text}"
    );
    assert!(r.body.contains("value=\"31/05/2024\""));
    assert!(r.body.contains("name=\"rewatch\" value=\"on\" checked"));
    assert!(r.body.contains("<option value=\"3\" selected>"));
    // The rest of the page is all there.
    assert!(text.contains("Rate this movie") && text.contains("Add to watchlist"));
    assert!(
        app.store
            .diary(ann.user.id, None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let future = app
        .post_form(
            "/movies/the-work/diary",
            Some(&ann),
            &[("watched_on", "2099-01-01")],
        )
        .await;
    assert_eq!(future.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_of(&future.body).contains("Date watched: can not be in the future"));
    let stars = app
        .post_form("/movies/the-work/diary", Some(&ann), &[("stars", "9")])
        .await;
    assert_eq!(stars.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_of(&stars.body).contains("Stars:"));
    assert!(
        app.store
            .diary(ann.user.id, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_profile_shows_public_ratings_and_reviews_and_hides_anonymous_ones() {
    let app = spawn_app().await;
    let work = app.the_work().await;
    let secret = app.movie("secret-film", "Secret Film").await;
    let quiet = app.movie("quiet-film", "Quiet Film").await;
    let ann = app.client("ann").await;
    rate_as(
        &app,
        &work,
        &ann.user,
        Rating {
            headline: Some("Stays with you"),
            ..rating(5, Some("Public words."), NOV_27_2017)
        },
    )
    .await;
    rate_as(
        &app,
        &secret,
        &ann.user,
        Rating {
            anonymous: true,
            ..rating(1, Some("Secret words."), NOV_27_2017 + 1)
        },
    )
    .await;
    rate_as(&app, &quiet, &ann.user, rating(3, None, NOV_27_2017 + 2)).await;

    let page = app.get("/users/ann", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = text_of(&page.body);
    for expected in [
        "ann display",
        "@ann",
        "2 ratings · 1 review",
        "Stays with you",
        "Public words.",
        "The Work",
        "Quiet Film",
        "November 27, 2017",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in {text}");
    }
    assert!(
        !text.contains("Secret"),
        "an anonymous rating must not be on the profile: {text}"
    );
    // Latest first.
    assert!(text.find("Quiet Film").unwrap() < text.find("The Work").unwrap());
    // The title page still shows the anonymous review, unsigned.
    let title = text_of(&app.get("/movies/secret-film", None).await.body);
    assert!(title.contains("Secret words.") && title.contains("A Marquee user"));

    let api = app
        .api(Method::GET, "/api/v1/users/ann/ratings", None, None)
        .await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let items = api.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["review"]["anonymous"] == false));
    assert!(!api.body.contains("Secret"));
    let profile = app
        .api(Method::GET, "/api/v1/users/ANN", None, None)
        .await
        .json();
    assert_eq!(
        (
            profile["rating_count"].as_u64(),
            profile["review_count"].as_u64()
        ),
        (Some(2), Some(1))
    );

    assert_eq!(
        app.get("/users/nobody", None).await.status,
        StatusCode::NOT_FOUND
    );
    let missing = app
        .api(Method::GET, "/api/v1/users/nobody/ratings", None, None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.header(header::CONTENT_TYPE),
        "application/problem+json"
    );

    // The account page links to it.
    let account = app.get("/account/tokens", Some(&ann)).await;
    assert!(account.body.contains("href=\"/users/ann\""));
}

#[tokio::test]
async fn the_profile_pages_past_anonymous_ratings_without_repeating_or_skipping() {
    let app = spawn_app().await;
    let ann = app.client("ann").await;
    let mut public = Vec::new();
    for i in 0..45 {
        let m = app
            .movie(&format!("film-{i}"), &format!("Film {i:02}"))
            .await;
        // Every third rating is anonymous.
        let anonymous = i % 3 == 0;
        rate_as(
            &app,
            &m,
            &ann.user,
            Rating {
                anonymous,
                ..rating(4, Some("Words."), NOV_27_2017 + i)
            },
        )
        .await;
        if !anonymous {
            public.push(format!("Film {i:02}"));
        }
    }
    public.reverse();
    let mut seen = Vec::new();
    let mut next = Some("/users/ann".to_owned());
    while let Some(url) = next {
        let page = app.get(&url, None).await;
        assert_eq!(page.status, StatusCode::OK);
        let text = text_of(&page.body);
        assert!(text.contains("30 ratings · 30 reviews"), "{text}");
        for title in &public {
            if text.contains(title.as_str()) {
                seen.push(title.clone());
            }
        }
        next = page
            .body
            .split("href=\"")
            .filter_map(|s| s.split('"').next())
            .find(|h| h.starts_with("/users/ann?after="))
            .map(|h| h.replace("&#38;", "&"));
    }
    assert_eq!(seen, public);

    // The API pages the same way.
    let mut titles = Vec::new();
    let mut after = String::new();
    loop {
        let r = app
            .api(
                Method::GET,
                &format!("/api/v1/users/ann/ratings?limit=7&after={after}"),
                None,
                None,
            )
            .await
            .json();
        for i in r["items"].as_array().unwrap() {
            titles.push(i["movie"]["title"].as_str().unwrap().to_owned());
        }
        match r["next"].as_str() {
            Some(n) => after = n.to_owned(),
            None => break,
        }
    }
    assert_eq!(titles, public);
    let bad = app
        .api(
            Method::GET,
            "/api/v1/users/ann/ratings?after=nonsense",
            None,
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get("/users/ann?after=nonsense", None).await.status,
        StatusCode::BAD_REQUEST
    );
}

/// Ann's data: a review with a headline and a rating without words, two viewings of The Work,
/// and Ran on her watchlist.
async fn ann_with_data(app: &TestApp) -> Client {
    let work = app.the_work().await;
    let alien = app.movie("alien", "Alien").await;
    let ran = app.movie("ran", "Ran").await;
    let ann = app.client("ann").await;
    rate_as(
        app,
        &work,
        &ann.user,
        Rating {
            headline: Some("Stays with you"),
            ..rating(5, Some("Four days inside."), NOV_27_2017)
        },
    )
    .await;
    rate_as(
        app,
        &alien,
        &ann.user,
        Rating {
            anonymous: true,
            ..rating(3, None, NOV_27_2017 + 1)
        },
    )
    .await;
    log(app, &ann.user, &work, "2024-05-01", false, None).await;
    log(app, &ann.user, &work, "2024-06-10", true, Some(4)).await;
    app.store
        .add_to_watchlist(ann.user.id, ran.id, NOV_27_2017)
        .await
        .unwrap();
    ann
}

fn assert_anns_export(export: &Export, uri_base: &str) {
    let names = |e: &[letterboxd::Entry]| e.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&export.ratings), ["The Work", "Alien"]);
    let rating = |e: &letterboxd::Entry| e.rating.map(|r| r.to_string());
    assert_eq!(rating(&export.ratings[0]).as_deref(), Some("5"));
    assert_eq!(rating(&export.ratings[1]).as_deref(), Some("3"));
    assert_eq!(export.ratings[0].year.map(|y| y.get()), Some(2017));
    assert_eq!(export.ratings[0].date.unwrap().to_string(), "2017-11-27");
    let expected_uri = if uri_base.is_empty() {
        String::new()
    } else {
        format!("{uri_base}/movies/the-work")
    };
    assert_eq!(export.ratings[0].uri, expected_uri);

    assert_eq!(names(&export.reviews), ["The Work"]);
    let review = &export.reviews[0];
    assert_eq!(
        review.review.as_ref().unwrap().as_str(),
        "Stays with you\n\nFour days inside."
    );
    assert_eq!(review.watched_date.unwrap().to_string(), "2024-06-10");
    assert!(review.rewatch);

    assert_eq!(names(&export.watched), ["The Work"]);
    assert_eq!(export.watched[0].date.unwrap().to_string(), "2024-05-01");
    assert_eq!(names(&export.watchlist), ["Ran"]);
    assert_eq!(names(&export.diary), ["The Work", "The Work"]);
    let days: Vec<_> = export
        .diary
        .iter()
        .map(|e| (e.watched_date.unwrap().to_string(), e.rewatch, rating(e)))
        .collect();
    assert_eq!(
        days,
        [
            ("2024-05-01".to_owned(), false, None),
            ("2024-06-10".to_owned(), true, Some("4".to_owned()))
        ]
    );
}

#[tokio::test]
async fn the_export_is_a_letterboxd_zip_of_ratings_reviews_diary_watched_and_watchlist() {
    let app = spawn_app().await;
    let ann = ann_with_data(&app).await;
    let (status, headers, bytes) =
        get_bytes(&app, "/account/export", (header::COOKIE, &ann.cookie)).await;
    assert_eq!(status, StatusCode::OK);
    let h = |name| headers.get(name).unwrap().to_str().unwrap().to_owned();
    assert_eq!(h(header::CONTENT_TYPE), "application/zip");
    assert_eq!(
        h(header::CONTENT_DISPOSITION),
        format!("attachment; filename=\"marquee-ann-{}.zip\"", today())
    );
    assert_eq!(h(header::CACHE_CONTROL), "private, no-store");
    assert_anns_export(&read_zip(&bytes), "http://localhost");

    // The API gives the same file to a token.
    let token = app.token(&ann).await;
    let (status, headers, bytes) = get_bytes(
        &app,
        "/api/v1/me/export",
        (header::AUTHORIZATION, &format!("Bearer {token}")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/zip");
    assert_anns_export(&read_zip(&bytes), "http://localhost");
    let anon = app.api(Method::GET, "/api/v1/me/export", None, None).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    // The account page offers it.
    assert!(
        app.get("/account/tokens", Some(&ann))
            .await
            .body
            .contains("href=\"/account/export\"")
    );
}

#[test]
fn the_export_command_writes_the_same_zip_for_a_user() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = marquee_store_sqlite::SqliteStore::open(&dir.path().join("marquee.db"))
            .await
            .unwrap();
        let ann = store
            .create_user(&NewUser {
                username: marquee_domain::Username::parse("ann").unwrap(),
                display_name: marquee_domain::DisplayName::parse("Ann").unwrap(),
                password_hash: "!".into(),
                now_ms: NOV_27_2017,
            })
            .await
            .unwrap();
        let draft = |slug: &str, title: &str| marquee_domain::MovieDraft {
            slug: marquee_domain::Slug::parse(slug).unwrap(),
            title: marquee_domain::Title::parse(title).unwrap(),
            original_title: None,
            year: Some(marquee_domain::Year::new(2017).unwrap()),
            runtime: None,
            synopsis: marquee_domain::Synopsis::parse("A film.").unwrap(),
            genres: vec![],
            directors: vec![],
            cast: vec![],
            content_rating: marquee_domain::ContentRating::NotRated,
            language: marquee_domain::Language::parse("English").unwrap(),
        };
        let work = store
            .create_movie(&draft("the-work", "The Work"))
            .await
            .unwrap();
        store
            .put_rating(
                work.id,
                ann.id,
                &RatingInput {
                    stars: Stars::new(4).unwrap(),
                    headline: None,
                    body: ReviewText::parse_optional(Some("Good.")).unwrap(),
                    anonymous: false,
                    now_ms: NOV_27_2017,
                },
            )
            .await
            .unwrap();
        marquee_store::Backend::close(&store).await;
    });
    let out = dir.path().join("ann.zip");
    let run = marquee(
        dir.path(),
        &[
            "export",
            "letterboxd",
            "--user",
            "ann",
            "--out",
            out.to_str().unwrap(),
            "--public-url",
            "https://films.example.org/",
        ],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains("1 ratings, 1 reviews"));
    let export = read_zip(&std::fs::read(&out).unwrap());
    assert_eq!(
        export.ratings[0].uri,
        "https://films.example.org/movies/the-work"
    );
    assert_eq!(export.reviews[0].review.as_ref().unwrap().as_str(), "Good.");

    let nobody = marquee(dir.path(), &["export", "letterboxd", "--user", "nobody"]);
    assert!(!nobody.status.success());
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("no account is called 'nobody'"));
}

#[tokio::test]
async fn deleting_the_account_and_keeping_reviews_shows_them_as_a_marquee_user() {
    let app = spawn_app().await;
    with_admin(&app).await;
    let work = app.the_work().await;
    let ann = app.client("ann").await;
    rate_as(
        &app,
        &work,
        &ann.user,
        rating(5, Some("Kept words."), NOV_27_2017),
    )
    .await;
    app.store
        .add_to_watchlist(ann.user.id, work.id, 1)
        .await
        .unwrap();
    // The shared page is cached with Ann's name on it.
    assert!(
        app.get("/movies/the-work", None)
            .await
            .body
            .contains("ann display")
    );

    let account = app.get("/account/tokens", Some(&ann)).await;
    assert!(account.body.contains("Delete account"));
    assert!(
        account
            .body
            .contains("Keep my reviews, shown as “A Marquee user”")
    );
    let r = app
        .post_form(
            "/account/delete",
            Some(&ann),
            &[("password", PASSWORD), ("reviews", "keep")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/account/deleted?reviews=kept");
    assert!(r.header(header::SET_COOKIE).contains("Max-Age=0"));
    let landed = text_of(&app.get(r.location(), None).await.body);
    assert!(landed.contains("Your account is deleted") && landed.contains("Your reviews stay"));

    let title = text_of(&app.get("/movies/the-work", None).await.body);
    assert!(
        title.contains("Kept words.") && title.contains("A Marquee user"),
        "{title}"
    );
    assert!(!title.contains("ann display"), "{title}");
    assert!(title.contains("1 rating"));
    // Signed out everywhere; the profile is gone, under the old name and the placeholder one.
    assert_eq!(
        app.get("/account/tokens", Some(&ann)).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.get("/users/ann", None).await.status,
        StatusCode::NOT_FOUND
    );
    let placeholder = format!("/users/deleted-{}", ann.user.id.0);
    assert_eq!(
        app.get(&placeholder, None).await.status,
        StatusCode::NOT_FOUND
    );
    app.audit().await;
}

#[tokio::test]
async fn deleting_the_account_and_removing_reviews_drops_the_films_counts_and_votes() {
    let app = spawn_app().await;
    with_admin(&app).await;
    let work = app.the_work().await;
    let alien = app.movie("alien", "Alien").await;
    let ann = app.client("ann").await;
    let bob = app.client("bob").await;
    rate_as(
        &app,
        &work,
        &ann.user,
        rating(5, Some("Ann's words."), NOV_27_2017),
    )
    .await;
    rate_as(
        &app,
        &work,
        &bob.user,
        rating(1, Some("Bob's words."), NOV_27_2017 + 1),
    )
    .await;
    rate_as(
        &app,
        &alien,
        &bob.user,
        rating(2, Some("Bob on Alien."), NOV_27_2017),
    )
    .await;
    let bobs = app
        .store
        .rating_by_user(alien.id, bob.user.id)
        .await
        .unwrap()
        .unwrap();
    // Ann's vote on a film she never rated.
    app.store
        .put_vote(bobs.id, ann.user.id, true)
        .await
        .unwrap();
    app.state.cache.invalidate(alien.id);
    let before = text_of(&app.get("/movies/the-work", None).await.body);
    assert!(
        before.contains("2 ratings") && before.contains("2 reviews"),
        "{before}"
    );
    assert!(
        text_of(&app.get("/movies/alien", None).await.body).contains("1 person found this helpful")
    );

    let r = app
        .post_form(
            "/account/delete",
            Some(&ann),
            &[("password", PASSWORD), ("reviews", "remove")],
        )
        .await;
    assert_eq!(r.location(), "/account/deleted?reviews=removed");
    assert!(
        text_of(&app.get(r.location(), None).await.body)
            .contains("Your ratings and reviews were removed")
    );
    let after = text_of(&app.get("/movies/the-work", None).await.body);
    assert!(
        after.contains("1 rating") && after.contains("1 review"),
        "{after}"
    );
    assert!(!after.contains("Ann's words"));
    let alien_page = text_of(&app.get("/movies/alien", None).await.body);
    assert!(!alien_page.contains("found this helpful"), "{alien_page}");
    assert!(app.store.user_by_id(ann.user.id).await.unwrap().is_none());
    app.audit().await;
}

#[tokio::test]
async fn a_wrong_password_or_no_choice_keeps_the_account_and_says_so() {
    let app = spawn_app().await;
    let admin = app.client("admin").await;
    let work = app.the_work().await;
    let ann = app.client("ann").await;
    rate_as(
        &app,
        &work,
        &ann.user,
        rating(4, Some("Still here."), NOV_27_2017),
    )
    .await;

    let wrong = app
        .post_form(
            "/account/delete",
            Some(&ann),
            &[("password", "not my password"), ("reviews", "remove")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let text = text_of(&wrong.body);
    assert!(
        text.contains("That password is not right, so your account was not deleted."),
        "{text}"
    );
    assert!(
        wrong.body.contains("value=\"remove\" required checked"),
        "the choice is kept"
    );
    assert!(
        text.contains("Personal access tokens"),
        "the account page again"
    );

    let no_choice = app
        .post_form("/account/delete", Some(&ann), &[("password", PASSWORD)])
        .await;
    assert_eq!(no_choice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_of(&no_choice.body).contains("Choose whether your ratings and reviews are removed")
    );

    let forged = app
        .post_form(
            "/account/delete",
            Some(&ann),
            &[
                ("password", PASSWORD),
                ("reviews", "remove"),
                ("csrf_token", ""),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // Still signed in, still there, the review still signed.
    assert_eq!(
        app.get("/account/tokens", Some(&ann)).await.status,
        StatusCode::OK
    );
    assert!(
        app.get("/movies/the-work", None)
            .await
            .body
            .contains("ann display")
    );

    // The administrator can not leave the site without one.
    let admin_try = app
        .post_form(
            "/account/delete",
            Some(&admin),
            &[("password", PASSWORD), ("reviews", "remove")],
        )
        .await;
    assert_eq!(admin_try.status, StatusCode::CONFLICT);
    assert!(app.store.user_by_id(admin.user.id).await.unwrap().is_some());
}

#[tokio::test]
async fn the_watchlist_api_adds_lists_and_removes_films() {
    let app = spawn_app().await;
    let ann = app.client("ann").await;
    let token = app.token(&ann).await;
    let t = Some(token.as_str());
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            app.movie(&format!("film-{i}"), &format!("Film {i}"))
                .await
                .id
                .0,
        );
    }
    let one = |id: i64| format!("/api/v1/me/watchlist/{id}");
    let first = app.api(Method::PUT, &one(ids[0]), t, None).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.json()["on_watchlist"], true);
    assert_eq!(
        app.api(Method::PUT, &one(ids[0]), t, None).await.status,
        StatusCode::OK
    );
    for id in &ids[1..] {
        app.api(Method::PUT, &one(*id), t, None).await;
    }
    assert_eq!(
        app.api(Method::GET, &one(ids[1]), t, None).await.status,
        StatusCode::OK
    );

    let page1 = app
        .api(Method::GET, "/api/v1/me/watchlist?limit=2", t, None)
        .await
        .json();
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let next = page1["next"].as_str().unwrap();
    let page2 = app
        .api(
            Method::GET,
            &format!("/api/v1/me/watchlist?limit=2&after={next}"),
            t,
            None,
        )
        .await
        .json();
    assert_eq!(page2["items"].as_array().unwrap().len(), 1);
    assert!(page2["next"].is_null());
    assert_eq!(page2["items"][0]["movie"]["url"], "/movies/film-0");

    assert_eq!(
        app.api(Method::DELETE, &one(ids[0]), t, None).await.status,
        StatusCode::NO_CONTENT
    );
    let again = app.api(Method::DELETE, &one(ids[0]), t, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(
        again.header(header::CONTENT_TYPE),
        "application/problem+json"
    );
    assert_eq!(
        app.api(Method::GET, &one(ids[0]), t, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.api(Method::PUT, &one(999_999), t, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.api(Method::GET, "/api/v1/me/watchlist", None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // With the session cookie a write needs the CSRF header; a read does not.
    let no_csrf = api_with_cookie(&app, Method::PUT, &one(ids[0]), &ann).await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    let read = api_with_cookie(&app, Method::GET, "/api/v1/me/watchlist", &ann).await;
    assert_eq!(read.status, StatusCode::OK);
    let with_csrf = app
        .send(
            Request::put(one(ids[0]))
                .header(header::COOKIE, &ann.cookie)
                .header("x-csrf-token", &ann.csrf)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(with_csrf.status, StatusCode::CREATED);
}

#[tokio::test]
async fn the_diary_api_logs_lists_and_deletes_entries() {
    let app = spawn_app().await;
    let work = app.the_work().await;
    let ann = app.client("ann").await;
    let bob = app.client("bob").await;
    let (ta, tb) = (app.token(&ann).await, app.token(&bob).await);
    let body =
        json!({"movie_id": work.id.0, "watched_on": "2024-05-31", "rewatch": true, "stars": 4});
    let made = app
        .api(
            Method::POST,
            "/api/v1/me/diary",
            Some(&ta),
            Some(body.clone()),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let entry = made.json();
    assert_eq!(entry["watched_on"], "2024-05-31");
    assert_eq!(
        (entry["rewatch"].as_bool(), entry["stars"].as_u64()),
        (Some(true), Some(4))
    );
    assert_eq!(entry["movie"]["title"], "The Work");
    let same_day = app
        .api(
            Method::POST,
            "/api/v1/me/diary",
            Some(&ta),
            Some(json!({"movie_id": work.id.0, "watched_on": "2024-05-31"})),
        )
        .await;
    assert_eq!(same_day.status, StatusCode::OK);
    assert_eq!(same_day.json()["id"], entry["id"]);
    assert_eq!(
        same_day.json()["stars"],
        4,
        "stars left out keep the ones given"
    );
    let today_entry = app
        .api(
            Method::POST,
            "/api/v1/me/diary",
            Some(&ta),
            Some(json!({"movie_id": work.id.0})),
        )
        .await;
    assert_eq!(today_entry.json()["watched_on"], today().to_string());

    let bad = app
        .api(
            Method::POST,
            "/api/v1/me/diary",
            Some(&ta),
            Some(json!({"movie_id": work.id.0, "watched_on": "yesterday", "stars": 9})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<_> = bad.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["watched_on", "stars"]);
    let no_film = app
        .api(
            Method::POST,
            "/api/v1/me/diary",
            Some(&ta),
            Some(json!({"movie_id": 999_999})),
        )
        .await;
    assert_eq!(no_film.status, StatusCode::NOT_FOUND);

    let list = app
        .api(Method::GET, "/api/v1/me/diary", Some(&ta), None)
        .await
        .json();
    let days: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["watched_on"].clone())
        .collect();
    assert_eq!(days, [json!(today().to_string()), json!("2024-05-31")]);
    let page = app
        .api(Method::GET, "/api/v1/me/diary?limit=1", Some(&ta), None)
        .await
        .json();
    let next = page["next"].as_str().unwrap();
    let rest = app
        .api(
            Method::GET,
            &format!("/api/v1/me/diary?limit=1&after={next}"),
            Some(&ta),
            None,
        )
        .await
        .json();
    assert_eq!(rest["items"][0]["watched_on"], "2024-05-31");
    assert!(rest["next"].is_null());

    let path = format!("/api/v1/me/diary/{}", entry["id"]);
    assert_eq!(
        app.api(Method::DELETE, &path, Some(&tb), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.api(Method::DELETE, &path, Some(&ta), None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.api(Method::DELETE, &path, Some(&ta), None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn deleting_the_account_through_the_api_needs_the_password_and_a_choice() {
    let app = spawn_app().await;
    with_admin(&app).await;
    let work = app.the_work().await;
    let ann = app.client("ann").await;
    rate_as(
        &app,
        &work,
        &ann.user,
        rating(5, Some("Kept words."), NOV_27_2017),
    )
    .await;
    let token = app.token(&ann).await;
    let t = Some(token.as_str());

    let wrong = app
        .api(
            Method::DELETE,
            "/api/v1/me",
            t,
            Some(json!({"password": "nope", "reviews": "keep"})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(
        wrong.header(header::CONTENT_TYPE),
        "application/problem+json"
    );
    assert!(
        wrong.json()["detail"]
            .as_str()
            .unwrap()
            .contains("password is not right")
    );
    let undecided = app
        .api(
            Method::DELETE,
            "/api/v1/me",
            t,
            Some(json!({"password": PASSWORD, "reviews": "maybe"})),
        )
        .await;
    assert_eq!(undecided.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(undecided.json()["errors"][0]["field"], "reviews");
    let no_csrf = api_with_cookie(&app, Method::DELETE, "/api/v1/me", &ann).await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", t, None).await.status,
        StatusCode::OK
    );

    // The title page is cached with Ann's name before she goes.
    assert!(
        app.get("/movies/the-work", None)
            .await
            .body
            .contains("ann display")
    );
    let gone = app
        .api(
            Method::DELETE,
            "/api/v1/me",
            t,
            Some(json!({"password": PASSWORD, "reviews": "keep"})),
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", t, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let title = app.get("/movies/the-work", None).await.body;
    assert!(
        title.contains("Kept words.")
            && title.contains("A Marquee user")
            && !title.contains("ann display")
    );

    // A browser session signs out with it.
    let bob = app.client("bob").await;
    let r = app
        .send(
            Request::delete("/api/v1/me")
                .header(header::COOKIE, &bob.cookie)
                .header("x-csrf-token", &bob.csrf)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"password": PASSWORD, "reviews": "remove"}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert!(r.header(header::SET_COOKIE).contains("Max-Age=0"));
    assert!(app.store.user_by_id(bob.user.id).await.unwrap().is_none());
}

#[tokio::test]
async fn playing_past_ninety_percent_adds_todays_diary_entry_once() {
    let app = spawn_app().await;
    let work = app.the_work().await;
    let alien = app.movie("alien", "Alien").await;
    for m in [&work, &alien] {
        app.store
            .put_media(&NewMedia {
                movie_id: m.id,
                storage_key: format!("films/{}/a/film.mp4", m.id.0),
                file_name: "film.mp4".into(),
                content_type: "video/mp4".into(),
                size_bytes: 1000,
                duration_ms: 100_000,
                width: 1280,
                height: 720,
                video_codec: "h264".into(),
                audio_codec: None,
                probe_json: "{}".into(),
                now_ms: NOV_27_2017,
            })
            .await
            .unwrap();
    }
    let ann = app.client("ann").await;
    let token = app.token(&ann).await;
    let report = |m: &Movie, ms: u64| {
        let path = format!("/api/v1/movies/{}/progress", m.id.0);
        let token = token.clone();
        let app = &app;
        async move {
            let r = app
                .api(
                    Method::PUT,
                    &path,
                    Some(&token),
                    Some(json!({"position_ms": ms})),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        }
    };
    report(&work, 50_000).await;
    assert!(
        app.store
            .diary(ann.user.id, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    report(&work, 91_000).await;
    report(&work, 99_000).await;
    let diary = app.store.diary(ann.user.id, None, 10).await.unwrap();
    assert_eq!(diary.len(), 1, "once per film and day");
    assert_eq!((diary[0].card.id, diary[0].watched_on), (work.id, today()));
    assert!(!diary[0].rewatch && diary[0].stars.is_none());

    // A viewing logged by hand today is left as it is.
    let logged = app
        .post_form(
            "/movies/alien/diary",
            Some(&ann),
            &[("rewatch", "on"), ("stars", "5")],
        )
        .await;
    assert_eq!(logged.status, StatusCode::SEE_OTHER);
    report(&alien, 95_000).await;
    let diary = app.store.diary(ann.user.id, None, 10).await.unwrap();
    assert_eq!(diary.len(), 2);
    let alien_entry = diary.iter().find(|e| e.card.id == alien.id).unwrap();
    assert!(alien_entry.rewatch && alien_entry.stars == Some(5));
    assert!(text_of(&app.get("/diary", Some(&ann)).await.body).contains("Alien"));
}

#[tokio::test]
async fn the_openapi_document_describes_the_lists_and_account_endpoints() {
    let app = spawn_app().await;
    let doc = app
        .api(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .json();
    for (path, methods) in [
        ("/api/v1/me", &["get", "delete"][..]),
        ("/api/v1/me/export", &["get"][..]),
        ("/api/v1/me/watchlist", &["get"][..]),
        (
            "/api/v1/me/watchlist/{movie_id}",
            &["get", "put", "delete"][..],
        ),
        ("/api/v1/me/diary", &["get", "post"][..]),
        ("/api/v1/me/diary/{id}", &["delete"][..]),
        ("/api/v1/users/{username}", &["get"][..]),
        ("/api/v1/users/{username}/ratings", &["get"][..]),
    ] {
        for m in methods {
            assert!(
                doc["paths"][path][m].is_object(),
                "{m} {path} is not documented"
            );
        }
    }
}
