//! The title page, the reviews page, and the forms that rate and vote.

use crate::helpers::*;
use axum::http::{StatusCode, header};

#[tokio::test]
async fn the_title_page_shows_what_a_store_page_shows() {
    let app = spawn_app().await;
    let m = app.the_work().await;
    let mut authors = Vec::new();
    for (i, stars) in [5, 5, 4, 3, 1].iter().enumerate() {
        let c = app.client(&format!("author{i}")).await;
        app.rate(
            &m,
            &c.user,
            *stars,
            Some(&format!("Review number {i}.")),
            NOV_27_2017 + i as i64,
        )
        .await;
        authors.push(c);
    }
    let rater = app.client("quiet").await;
    app.rate(&m, &rater.user, 2, None, NOV_27_2017).await;

    let page = app.get("/movies/the-work", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = text_of(&page.body);
    for expected in [
        "The Work",
        "2017 • 89 minutes",
        "Documentary",
        "NR",
        "3.3",
        "6 ratings",
        "5 reviews",
        "Watch",
        "This film is not available to watch yet.",
        "About this movie",
        "Four days inside Folsom State Prison.",
        "Directors Jairus McLeary , Gethin Aldous",
        "Chris Dowd as Himself",
        "Most helpful reviews",
        "Did you find this helpful?",
        "See all 5 reviews",
        "Rate this movie",
        "Tell us what you think.",
        "Sign in to rate and review",
        "November 27, 2017",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in {text}");
    }
    // The histogram, 5 stars first: 2, 1, 1, 1, 1.
    for (stars, count) in [(5, 2), (4, 1), (3, 1), (2, 1), (1, 1)] {
        assert!(
            page.body
                .contains(&format!("data-bar-count=\"{stars}\">{count}<")),
            "{stars} stars"
        );
    }
    // Only the three most helpful reviews are on the title page.
    assert_eq!(page.body.matches("class=\"review\"").count(), 3);
    assert!(
        page.body
            .contains("href=\"/signin?next=%2Fmovies%2Fthe%2Dwork%23rate\"")
    );
}

#[tokio::test]
async fn the_title_page_matches_its_snapshot() {
    let app = spawn_app().await;
    let m = app.the_work().await;
    let a = app.client("ada").await;
    let b = app.client("ben").await;
    let c = app.client("cleo").await;
    let r = app
        .rate(
            &m,
            &a.user,
            5,
            Some("It stays with you.\n\nSecond paragraph,\nwith a line break."),
            NOV_27_2017,
        )
        .await;
    app.rate(
        &m,
        &b.user,
        3,
        Some("Hard to watch <b>at times</b> & long."),
        NOV_27_2017 + 86_400_000,
    )
    .await;
    app.store.put_vote(r.id, c.user.id, true).await.unwrap();
    app.state.cache.invalidate(m.id);
    let page = app.get("/movies/the-work", None).await;
    insta::assert_snapshot!("title_page_signed_out", page.body);
}

#[tokio::test]
async fn reviews_show_author_date_paragraphs_and_escaped_text() {
    let app = spawn_app().await;
    let m = app.the_work().await;
    let evil = app.client("mallory").await;
    app.rate(
        &m,
        &evil.user,
        4,
        Some("<script>alert('x')</script>\n\nSecond & last."),
        NOV_27_2017,
    )
    .await;
    let shy = app.client("shy").await;
    let input = marquee_store::RatingInput {
        stars: marquee_domain::Stars::new(2).unwrap(),
        headline: marquee_domain::Headline::parse_optional(Some("Not for me")).unwrap(),
        body: marquee_domain::ReviewText::parse_optional(Some("Too slow.")).unwrap(),
        anonymous: true,
        now_ms: NOV_27_2017,
    };
    app.store
        .put_rating(m.id, shy.user.id, &input)
        .await
        .unwrap();
    let page = app.get("/movies/the-work", None).await;
    assert!(!page.body.contains("<script>alert"));
    assert!(
        page.body
            .contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;")
    );
    assert!(page.body.contains("<p>Second &#38; last.</p>"));
    assert!(page.body.contains("A Marquee user"));
    assert!(
        !page.body.contains("shy display"),
        "an anonymous author's name must not appear"
    );
    assert!(page.body.contains("mallory display"));
    assert!(page.body.contains("Not for me"));
    assert!(page.body.contains("November 27, 2017"));
}

#[tokio::test]
async fn a_display_name_with_markup_is_shown_as_text() {
    let app = spawn_app().await;
    let m = app.the_work().await;
    let user = marquee_server::accounts::sign_up(
        &app.state,
        "xss",
        "<img src=x onerror=alert(1)>",
        "a long password",
    )
    .await
    .unwrap();
    app.rate(&m, &user, 5, Some("Fine."), NOV_27_2017).await;
    let page = app.get("/movies/the-work", None).await;
    assert!(!page.body.contains("<img src=x"));
    assert!(page.body.contains("&#60;img src=x onerror=alert(1)&#62;"));
}

#[tokio::test]
async fn rating_through_the_form_redirects_and_updates_the_page() {
    let app = spawn_app().await;
    let m = app.the_work().await;
    let c = app.client("rater").await;
    // The signed-out page is cached; the write must refresh it.
    assert!(text_of(&app.get("/movies/the-work", None).await.body).contains("No ratings yet"));
    let r = app
        .post_form(
            "/movies/the-work/rating",
            Some(&c),
            &[("stars", "4"), ("headline", "Strong"), ("body", "Moving.")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location().starts_with("/movies/the-work"));
    let text = text_of(&app.get("/movies/the-work", None).await.body);
    assert!(
        text.contains("4.0") && text.contains("1 rating") && text.contains("1 review"),
        "{text}"
    );
    // A rating without words counts, but is not a review.
    let quiet = app.client("quiet").await;
    app.post_form(
        "/movies/the-work/rating",
        Some(&quiet),
        &[("stars", "2"), ("body", "   ")],
    )
    .await;
    let text = text_of(&app.get("/movies/the-work", None).await.body);
    assert!(
        text.contains("3.0") && text.contains("2 ratings") && text.contains("1 review"),
        "{text}"
    );
    // The signed-in page shows their own rating in the form, ready to update or delete.
    let mine = app.get("/movies/the-work", Some(&c)).await;
    assert!(mine.body.contains("Update my rating") && mine.body.contains("Delete my rating"));
    assert!(mine.body.contains("value=\"Strong\""));
    let del = app
        .post_form("/movies/the-work/rating/delete", Some(&c), &[])
        .await;
    assert_eq!(del.status, StatusCode::SEE_OTHER);
    let text = text_of(&app.get("/movies/the-work", None).await.body);
    assert!(
        text.contains("1 rating") && text.contains("0 reviews"),
        "{text}"
    );
    assert_eq!(app.store.movie_stats(m.id).await.unwrap().rating_count, 1);
    app.audit().await;
}

#[tokio::test]
async fn bad_ratings_re_render_the_form_with_messages_and_change_nothing() {
    let app = spawn_app().await;
    let m = app.the_work().await;
    let c = app.client("rater").await;
    let before = app
        .rate(&m, &c.user, 4, Some("Original words."), NOV_27_2017)
        .await;
    let long = "x".repeat(5001);
    let long_headline = "h".repeat(101);
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[("stars", "0"), ("body", "typed text")],
            "stars: must be a whole number from 1 to 5",
        ),
        (
            &[("stars", "6"), ("body", "typed text")],
            "stars: must be a whole number from 1 to 5",
        ),
        (&[("body", "typed text")], "stars: choose from 1 to 5 stars"),
        (
            &[("stars", "3"), ("body", &long)],
            "body: must be at most 5000 characters",
        ),
        (
            &[
                ("stars", "3"),
                ("headline", &long_headline),
                ("body", "typed text"),
            ],
            "headline: must be at most 100 characters",
        ),
    ];
    for (fields, message) in cases {
        let r = app
            .post_form("/movies/the-work/rating", Some(&c), fields)
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        assert!(r.body.contains(message), "expected {message:?}");
        assert!(r.body.contains("role=\"alert\""));
        if fields
            .iter()
            .any(|(k, v)| *k == "body" && *v == "typed text")
        {
            assert!(
                r.body.contains(">typed text</textarea>"),
                "the typed text is kept"
            );
        }
    }
    let after = app
        .store
        .rating_by_user(m.id, c.user.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after, before);
    let nothing = app
        .post_form("/movies/no-such-film/rating", Some(&c), &[("stars", "3")])
        .await;
    assert_eq!(nothing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn forms_without_the_right_csrf_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let m = app.the_work().await;
    let c = app.client("rater").await;
    let other = app.client("other").await;
    for token in ["", "wrong", other.csrf.as_str()] {
        let r = app
            .post_form(
                "/movies/the-work/rating",
                Some(&c),
                &[("stars", "5"), ("csrf_token", token)],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "token {token:?}");
        assert!(r.body.contains("CSRF"));
    }
    // A form from another site is refused even with a token.
    let req = axum::http::Request::post("/movies/the-work/rating")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &c.cookie)
        .header(header::ORIGIN, "https://evil.example")
        .header(header::HOST, "localhost")
        .body(axum::body::Body::from(format!(
            "stars=5&csrf_token={}",
            c.csrf
        )))
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::FORBIDDEN);
    assert!(
        app.store
            .rating_by_user(m.id, c.user.id)
            .await
            .unwrap()
            .is_none()
    );
    // Signed out, rating sends you to sign in and back.
    let anon = app
        .post_form("/movies/the-work/rating", None, &[("stars", "5")])
        .await;
    assert_eq!(anon.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in_and_back() {
    let app = spawn_app().await;
    app.the_work().await;
    let r = app.get("/account/tokens", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/signin?next=%2Faccount%2Ftokens");
}

#[tokio::test]
async fn helpful_votes_through_the_form_can_be_cast_changed_and_withdrawn() {
    let app = spawn_app().await;
    let m = app.the_work().await;
    let author = app.client("author").await;
    let voter = app.client("voter").await;
    let r = app
        .rate(&m, &author.user, 5, Some("Worth it."), NOV_27_2017)
        .await;
    let vote = |v: &'static str, who: &Client| {
        let path = format!("/reviews/{}/vote", r.id);
        let who = who.clone();
        let app = &app;
        async move {
            app.post_form(
                &path,
                Some(&who),
                &[("helpful", v), ("return_to", "/movies/the-work")],
            )
            .await
        }
    };
    let res = vote("yes", &voter).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/movies/the-work");
    assert!(
        app.get("/movies/the-work", None)
            .await
            .body
            .contains("1 person found this helpful")
    );
    // The voter sees their vote pressed; pressing it again withdraws it.
    let mine = app.get("/movies/the-work", Some(&voter)).await;
    assert!(
        mine.body
            .contains("value=\"withdraw\" data-vote=\"yes\" aria-pressed=\"true\"")
    );
    let again = vote("yes", &voter).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("already voted"));
    vote("no", &voter).await;
    let t = app.store.review_by_id(r.id).await.unwrap().unwrap();
    assert_eq!((t.helpful_yes, t.helpful_no), (0, 1));
    vote("withdraw", &voter).await;
    let t = app.store.review_by_id(r.id).await.unwrap().unwrap();
    assert_eq!((t.helpful_yes, t.helpful_no), (0, 0));
    let own = vote("yes", &author).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN);
    assert!(own.body.contains("your own review"));
    let evil = app
        .post_form(
            &format!("/reviews/{}/vote", r.id),
            Some(&voter),
            &[("helpful", "yes"), ("return_to", "https://evil.example/")],
        )
        .await;
    assert_eq!(
        evil.location(),
        format!("/movies/the-work#review-{}", r.id),
        "no open redirect"
    );
    app.audit().await;
}

#[tokio::test]
async fn all_reviews_sort_filter_and_page_by_cursor() {
    let app = spawn_app().await;
    let m = app.the_work().await;
    for i in 0..45 {
        let c = app.client(&format!("writer{i:02}")).await;
        app.rate(
            &m,
            &c.user,
            1 + (i % 5),
            Some(&format!("Review {i:02}.")),
            NOV_27_2017 + i * 1000,
        )
        .await;
    }
    let first = app.get("/movies/the-work/reviews?sort=newest", None).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body.matches("class=\"review\"").count(), 20);
    assert!(first.body.contains("Review 44."));
    let next = first
        .body
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|h| h.contains("after="))
        .unwrap()
        .replace("&#38;", "&");
    let second = app.get(&next, None).await;
    assert_eq!(second.status, StatusCode::OK, "{next}: {}", second.body);
    let found: Vec<&str> = second
        .body
        .match_indices("Review ")
        .map(|(i, _)| &second.body[i..i + 10])
        .collect();
    assert!(
        second.body.contains("Review 24.") && !second.body.contains("Review 25."),
        "{next} {found:?}"
    );
    let lowest = app
        .get("/movies/the-work/reviews?sort=lowest&stars=5", None)
        .await;
    assert_eq!(lowest.body.matches("class=\"review\"").count(), 9);
    assert!(lowest.body.contains("<option value=\"lowest\" selected>"));
    for bad in [
        "?sort=best",
        "?stars=6",
        "?after=garbage",
        "?sort=newest&after=helpful~0~0~0~0",
    ] {
        let r = app
            .get(&format!("/movies/the-work/reviews{bad}"), None)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(
        app.get("/movies/nope/reviews", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn unknown_pages_and_films_get_a_404_page() {
    let app = spawn_app().await;
    let r = app.get("/movies/does-not-exist", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("That film does not exist."));
    assert_eq!(
        app.get("/nowhere", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn pages_carry_security_headers_and_serve_their_own_assets() {
    let app = spawn_app().await;
    app.the_work().await;
    let page = app.get("/movies/the-work", None).await;
    assert!(
        page.header(header::CONTENT_SECURITY_POLICY)
            .contains("default-src 'self'")
    );
    assert_eq!(page.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert!(
        !page.body.contains("http://") && !page.body.contains("https://"),
        "no external resources"
    );
    let etag = page.header(header::ETAG).to_owned();
    let req = axum::http::Request::get("/movies/the-work")
        .header(header::IF_NONE_MATCH, &etag)
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::NOT_MODIFIED);
    let css = app.get("/assets/app.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.header(header::CONTENT_TYPE).starts_with("text/css"));
    let js = app.get("/assets/app.js", None).await;
    assert!(
        js.header(header::CONTENT_TYPE)
            .starts_with("text/javascript")
    );
    assert_eq!(
        app.get("/posters/..%2Fmarquee.db", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_home_page_lists_the_catalog() {
    let app = spawn_app().await;
    app.the_work().await;
    app.movie("nosferatu", "Nosferatu").await;
    let home = app.get("/", None).await;
    assert!(home.body.contains("href=\"/movies/the-work\"") && home.body.contains("Nosferatu"));
}
