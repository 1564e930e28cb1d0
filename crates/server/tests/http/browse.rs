//! Finding films: the home page's shelves, `/movies` with filters, sorts and pages, search
//! (page and API, suggestions), people pages and the "about ratings" page.

use crate::helpers::*;
use axum::http::{Method, StatusCode};
use marquee_domain::*;
use marquee_store::Movie;

struct Film<'a> {
    title: &'a str,
    year: i64,
    runtime: i64,
    genres: &'a [&'a str],
    director: &'a str,
    cast: &'a [(&'a str, &'a str)],
    synopsis: &'a str,
}

impl Film<'_> {
    async fn add(&self, app: &TestApp) -> Movie {
        let year = Year::new(self.year).ok();
        let draft = MovieDraft {
            slug: Slug::from_title(self.title, year),
            title: Title::parse(self.title).unwrap(),
            original_title: None,
            year,
            runtime: Runtime::from_minutes(self.runtime).ok(),
            synopsis: Synopsis::parse(self.synopsis).unwrap(),
            genres: self
                .genres
                .iter()
                .map(|g| Genre::parse(g).unwrap())
                .collect(),
            directors: vec![PersonName::parse(self.director).unwrap()],
            cast: self
                .cast
                .iter()
                .map(|(n, c)| CastMember::new(n, c).unwrap())
                .collect(),
            content_rating: ContentRating::NotRated,
            language: Language::parse("English").unwrap(),
        };
        app.store.create_movie(&draft).await.unwrap()
    }
}

/// Four films, rated so that the orders differ: Alien has the best average from two ratings,
/// The Godfather a slightly lower one from many, so the Bayesian order puts The Godfather first.
async fn catalog(app: &TestApp) -> [Movie; 4] {
    let godfather = Film {
        title: "The Godfather",
        year: 1972,
        runtime: 175,
        genres: &["Crime", "Drama"],
        director: "Francis Ford Coppola",
        cast: &[
            ("Marlon Brando", "Vito Corleone"),
            ("Al Pacino", "Michael Corleone"),
        ],
        synopsis: "The aging patriarch of an organized crime dynasty transfers control.",
    }
    .add(app)
    .await;
    let alien = Film {
        title: "Alien",
        year: 1979,
        runtime: 117,
        genres: &["Horror", "Science Fiction"],
        director: "Ridley Scott",
        cast: &[("Sigourney Weaver", "Ripley")],
        synopsis: "A commercial crew answers a distress call.",
    }
    .add(app)
    .await;
    let conversation = Film {
        title: "The Conversation",
        year: 1974,
        runtime: 113,
        genres: &["Drama"],
        director: "Francis Ford Coppola",
        cast: &[("Gene Hackman", "Harry Caul")],
        synopsis: "A surveillance expert faces a moral crisis. Not the godfather.",
    }
    .add(app)
    .await;
    let short = Film {
        title: "La Jetée",
        year: 1962,
        runtime: 28,
        genres: &["Science Fiction"],
        director: "Chris Marker",
        cast: &[],
        synopsis: "A man travels through time.",
    }
    .add(app)
    .await;
    for i in 0..12 {
        let u = app.client(&format!("fan{i}")).await.user;
        app.rate(
            &godfather,
            &u,
            if i % 4 == 0 { 4 } else { 5 },
            Some("A classic."),
            1000 + i,
        )
        .await;
        if i < 2 {
            app.rate(&alien, &u, 5, None, 2000 + i).await;
        }
        if i < 3 {
            app.rate(&conversation, &u, 3, None, 3000 + i).await;
        }
    }
    [godfather, alien, conversation, short]
}

fn titles_in(html: &str) -> Vec<String> {
    html.split("<span class=\"film-title\">")
        .skip(1)
        .filter_map(|s| s.split_once("</span>").map(|(t, _)| t.to_owned()))
        .collect()
}

#[tokio::test]
async fn the_home_page_has_shelves_for_top_rated_most_reviewed_recent_and_each_genre() {
    let app = spawn_app().await;
    let empty = app.get("/", None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(text_of(&empty.body).contains("The catalog is empty"));
    // Shelves are kept for a few seconds; a new catalog is read afresh here.
    app.state.shelves.clear();
    catalog(&app).await;
    app.state.shelves.clear();
    let home = app.get("/", None).await;
    let text = text_of(&home.body);
    for shelf in [
        "Top rated",
        "Most reviewed",
        "Recently added",
        "Drama",
        "Science Fiction",
    ] {
        assert!(text.contains(shelf), "no {shelf} shelf: {text}");
    }
    // Top rated comes first, in Bayesian order.
    let titles = titles_in(&home.body);
    assert_eq!(titles[..2], ["The Godfather", "Alien"]);
    assert!(home.body.contains("href=\"/movies?sort=rating\""));
    assert!(home.body.contains("href=\"/about/ratings\""));
}

#[tokio::test]
async fn the_catalog_filters_by_genre_year_runtime_and_rating_and_sorts_each_way() {
    let app = spawn_app().await;
    catalog(&app).await;
    let page = app.get("/movies?sort=title", None).await;
    assert_eq!(
        titles_in(&page.body),
        ["Alien", "La Jetée", "The Conversation", "The Godfather"]
    );
    let page = app.get("/movies?sort=year", None).await;
    assert_eq!(
        titles_in(&page.body),
        ["Alien", "The Conversation", "The Godfather", "La Jetée"]
    );
    let page = app.get("/movies?sort=rating", None).await;
    assert_eq!(titles_in(&page.body)[..2], ["The Godfather", "Alien"]);
    let page = app.get("/movies?sort=reviews", None).await;
    assert_eq!(titles_in(&page.body)[0], "The Godfather");

    let drama = app.get("/movies?genre=drama&sort=title", None).await;
    assert_eq!(
        titles_in(&drama.body),
        ["The Conversation", "The Godfather"]
    );
    assert!(text_of(&drama.body).contains("drama films"));
    let seventies = app
        .get(
            "/movies?year_min=1970&year_max=1975&runtime_max=150&sort=title",
            None,
        )
        .await;
    assert_eq!(titles_in(&seventies.body), ["The Conversation"]);
    let good = app.get("/movies?min_rating=4&sort=title", None).await;
    assert_eq!(titles_in(&good.body), ["Alien", "The Godfather"]);
    // The form shows what was asked.
    assert!(seventies.body.contains("value=\"1970\""));

    let bad = app
        .get("/movies?year_min=1990&year_max=1980&min_rating=9", None)
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = text_of(&bad.body);
    assert!(
        text.contains("min_rating") && text.contains("year_max"),
        "{text}"
    );
    assert!(
        bad.body.contains("value=\"1990\""),
        "the form keeps what was typed"
    );
}

#[tokio::test]
async fn catalog_pages_follow_each_other_without_repeats_or_gaps() {
    let app = spawn_app().await;
    for i in 0..60 {
        app.movie(&format!("film-{i:02}"), &format!("Film {i:02}"))
            .await;
    }
    let mut seen = Vec::new();
    let mut url = "/movies?sort=title".to_owned();
    loop {
        let page = app.get(&url, None).await;
        assert_eq!(page.status, StatusCode::OK);
        seen.extend(titles_in(&page.body));
        let Some(next) = page.body.split("href=\"").find_map(|s| {
            let (href, rest) = s.split_once('"')?;
            rest.starts_with(" rel=\"next\"")
                .then(|| href.replace("&#38;", "&").replace("&amp;", "&"))
        }) else {
            break;
        };
        assert!(seen.len() <= 60, "pages repeat: {url} -> {next}");
        url = next;
    }
    let expected: Vec<String> = (0..60).map(|i| format!("Film {i:02}")).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn search_ranks_the_exact_title_first_forgives_a_typo_and_finds_people() {
    let app = spawn_app().await;
    let [godfather, _, conversation, short] = catalog(&app).await;
    let page = app.get("/search?q=the+godfather", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let titles = titles_in(&page.body);
    assert_eq!(titles[0], "The Godfather");

    let typo = app
        .api(Method::GET, "/api/v1/search?q=godfater", None, None)
        .await;
    assert_eq!(typo.status, StatusCode::OK);
    let items = typo.json()["items"].as_array().unwrap().clone();
    assert_eq!(items[0]["film"]["id"], godfather.id.0);

    let person = app
        .api(Method::GET, "/api/v1/search?q=coppola", None, None)
        .await;
    let ids: Vec<i64> = person.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["film"]["id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.contains(&godfather.id.0) && ids.contains(&conversation.id.0),
        "{ids:?}"
    );
    assert_eq!(person.json()["items"][0]["matched"], "person");

    let accent = app
        .api(Method::GET, "/api/v1/search/suggest?q=jet", None, None)
        .await;
    assert_eq!(accent.json()["items"][0]["id"], short.id.0);
    assert_eq!(accent.json()["items"][0]["url"], "/movies/la-jetee-1962");

    let none = app.get("/search?q=zzzzqqq", None).await;
    assert!(text_of(&none.body).contains("Nothing matches"));
    let empty = app
        .api(Method::GET, "/api/v1/search/suggest?q=", None, None)
        .await;
    assert_eq!(empty.json()["items"].as_array().unwrap().len(), 0);
    let long = "a".repeat(201);
    let too_long = app
        .api(Method::GET, &format!("/api/v1/search?q={long}"), None, None)
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        too_long.header(axum::http::header::CONTENT_TYPE),
        "application/problem+json"
    );
}

#[tokio::test]
async fn a_person_page_lists_their_films_and_the_title_page_links_there() {
    let app = spawn_app().await;
    catalog(&app).await;
    let title = app.get("/movies/the-godfather-1972", None).await;
    assert!(
        title
            .body
            .contains("href=\"/people/Francis%20Ford%20Coppola\""),
        "director link"
    );
    assert!(
        title.body.contains("href=\"/people/Al%20Pacino\""),
        "cast link"
    );
    let genre_link = title
        .body
        .split("class=\"genre\" href=\"")
        .nth(1)
        .unwrap_or_default();
    assert!(
        genre_link.starts_with("/movies?genre=Crime&"),
        "genre link: {genre_link}"
    );
    let page = app.get("/people/Francis%20Ford%20Coppola", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(titles_in(&page.body), ["The Conversation", "The Godfather"]);
    assert!(text_of(&page.body).contains("Director"));
    let actor = app.get("/people/Marlon%20Brando", None).await;
    assert!(text_of(&actor.body).contains("as Vito Corleone"));
    assert_eq!(
        app.get("/people/Nobody%20Here", None).await.status,
        StatusCode::NOT_FOUND
    );
    let api = app
        .api(Method::GET, "/api/v1/people/Ridley%20Scott", None, None)
        .await;
    assert_eq!(api.json()["credits"][0]["role"], "director");
}

#[tokio::test]
async fn the_movies_api_pages_with_filters_and_reports_bad_ones_as_problems() {
    let app = spawn_app().await;
    catalog(&app).await;
    let first = app
        .api(Method::GET, "/api/v1/movies?sort=title&limit=3", None, None)
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let body = first.json();
    assert_eq!(body["items"].as_array().unwrap().len(), 3);
    assert_eq!(body["items"][0]["title"], "Alien");
    assert_eq!(body["items"][0]["average_rating"], 5.0);
    let next = body["next"].as_str().unwrap().to_owned();
    let rest = app
        .api(
            Method::GET,
            &format!("/api/v1/movies?sort=title&limit=3&after={next}"),
            None,
            None,
        )
        .await;
    assert_eq!(rest.json()["items"][0]["title"], "The Godfather");
    assert!(rest.json()["next"].is_null());

    let genres = app.api(Method::GET, "/api/v1/genres", None, None).await;
    assert_eq!(genres.json()[0]["name"], "Drama");
    assert_eq!(genres.json()[0]["films"], 2);

    let bad = app
        .api(
            Method::GET,
            "/api/v1/movies?sort=best&year_min=1500",
            None,
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let problem = bad.json();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"sort") && fields.contains(&"year_min"),
        "{problem}"
    );
    // A cursor from another sort is refused, not misread.
    let wrong = app
        .api(
            Method::GET,
            &format!("/api/v1/movies?sort=rating&after={next}"),
            None,
            None,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_about_ratings_page_shows_the_prior() {
    let app = spawn_app().await;
    let page = app.get("/about/ratings", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = text_of(&page.body);
    assert!(
        text.contains("10 ratings") && text.contains("3.0 stars"),
        "{text}"
    );
}

#[tokio::test]
async fn search_and_catalog_answers_show_a_new_rating_at_once() {
    let app = spawn_app().await;
    let [godfather, ..] = catalog(&app).await;
    let counts = |r: &Reply| -> u64 {
        r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == godfather.id.0 || i["film"]["id"] == godfather.id.0)
            .map(|i| {
                let card = if i["film"].is_null() { i } else { &i["film"] };
                card["rating_count"].as_u64().unwrap()
            })
            .unwrap()
    };
    let search = "/api/v1/search?q=godfather";
    let list = "/api/v1/movies?genre=crime&sort=rating";
    let before = (
        counts(&app.api(Method::GET, search, None, None).await),
        counts(&app.api(Method::GET, list, None, None).await),
    );
    let viewer = app.client("latecomer").await;
    let token = app.token(&viewer).await;
    let rated = app
        .api(
            Method::PUT,
            &format!("/api/v1/movies/{}/rating", godfather.id),
            Some(&token),
            Some(serde_json::json!({"stars": 5})),
        )
        .await;
    assert_eq!(rated.status, StatusCode::OK, "{}", rated.body);
    let after = (
        counts(&app.api(Method::GET, search, None, None).await),
        counts(&app.api(Method::GET, list, None, None).await),
    );
    assert_eq!(after, (before.0 + 1, before.1 + 1));
}
