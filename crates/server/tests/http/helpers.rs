//! The test harness: a fresh app per test and small request helpers.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use marquee_domain::*;
use marquee_server::auth::SESSION_COOKIE;
use marquee_server::state::{AppState, Settings};
use marquee_server::{accounts, web};
use marquee_store::{Movie, RatingInput, Review, Store, User};
pub use marquee_store::{MovieStore, ReviewStore, UserStore};
use marquee_store_sqlite::SqliteStore;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

/// A signed-in browser: its session cookie and the CSRF token its forms carry.
#[derive(Clone)]
pub struct Client {
    pub user: User,
    pub cookie: String,
    pub csrf: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// The backend under test: SQLite by default, PostgreSQL (a fresh schema on the server named by
/// `MARQUEE_TEST_POSTGRES_URL`) when `MARQUEE_TEST_BACKEND=postgres`. `scripts/test` runs this
/// whole suite once for each.
async fn test_store(dir: &std::path::Path) -> Arc<dyn Store> {
    match std::env::var("MARQUEE_TEST_BACKEND").as_deref() {
        Ok("postgres") => Arc::new(
            marquee_store_postgres::testing::fresh_store()
                .await
                .expect("MARQUEE_TEST_BACKEND=postgres needs MARQUEE_TEST_POSTGRES_URL"),
        ),
        _ => Arc::new(SqliteStore::open(&dir.join("marquee.db")).await.unwrap()),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_at("http://localhost").await
}

pub async fn spawn_app_at(public_url: &str) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let store = test_store(dir.path()).await;
    let settings = Settings {
        public_url: public_url.to_owned(),
        data_dir: dir.path().to_path_buf(),
        signin_failures_allowed: 5,
        signin_window_ms: 15 * 60 * 1000,
        trusted_proxies: Vec::new(),
        media_url: None,
    };
    let state = AppState::new(store.clone(), settings).await.unwrap();
    TestApp {
        router: web::router(state.clone()),
        state,
        store,
        _dir: dir,
    }
}

/// An app whose media live in the given storage (e.g. the S3 test server) instead of the data
/// folder.
pub async fn spawn_app_with_media(media: Arc<dyn marquee_media_store::MediaStorage>) -> TestApp {
    let mut app = spawn_app().await;
    app.state = app.state.with_media(media);
    app.router = web::router(app.state.clone());
    app
}

impl TestApp {
    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, client: Option<&Client>) -> Reply {
        let mut req = Request::get(path);
        if let Some(c) = client {
            req = req.header(header::COOKIE, &c.cookie);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// Posts a form as a browser would, with the client's cookie and CSRF token.
    pub async fn post_form(
        &self,
        path: &str,
        client: Option<&Client>,
        fields: &[(&str, &str)],
    ) -> Reply {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        if let Some(c) = client
            && !fields.iter().any(|(k, _)| *k == "csrf_token")
        {
            all.push(("csrf_token", &c.csrf));
        }
        let body = serde_urlencoded::to_string(&all).unwrap();
        let mut req =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = client {
            req = req.header(header::COOKIE, &c.cookie);
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    /// A JSON API call authenticated with a bearer token.
    pub async fn api(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::ACCEPT, "application/json");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(req.body(body).unwrap()).await
    }

    /// Creates an account (through the real sign-up path) and signs it in.
    pub async fn client(&self, username: &str) -> Client {
        let user = accounts::sign_up(
            &self.state,
            username,
            &format!("{username} display"),
            "a long password",
        )
        .await
        .unwrap();
        self.client_for(user).await
    }

    pub async fn client_for(&self, user: User) -> Client {
        let (sid, _) = accounts::open_session(&self.state, &user).await.unwrap();
        Client {
            user,
            cookie: format!("{SESSION_COOKIE}={sid}"),
            csrf: self.state.keys.csrf_token(SESSION_COOKIE, &sid),
        }
    }

    /// A personal access token for the client's account.
    pub async fn token(&self, client: &Client) -> String {
        marquee_server::web::pages::accounts::issue_token(&self.state, &client.user, "test")
            .await
            .unwrap()
            .1
    }

    pub async fn the_work(&self) -> Movie {
        self.movie("the-work", "The Work").await
    }

    pub async fn movie(&self, slug: &str, title: &str) -> Movie {
        let draft = MovieDraft {
            slug: Slug::parse(slug).unwrap(),
            title: Title::parse(title).unwrap(),
            original_title: None,
            year: Some(Year::new(2017).unwrap()),
            runtime: Some(Runtime::from_minutes(89).unwrap()),
            synopsis: Synopsis::parse("Four days inside Folsom State Prison.\n\nA circle of men.")
                .unwrap(),
            genres: vec![Genre::parse("Documentary").unwrap()],
            directors: vec![
                PersonName::parse("Jairus McLeary").unwrap(),
                PersonName::parse("Gethin Aldous").unwrap(),
            ],
            cast: vec![CastMember::new("Chris Dowd", "Himself").unwrap()],
            content_rating: ContentRating::NotRated,
            language: Language::parse("English").unwrap(),
        };
        self.store.create_movie(&draft).await.unwrap()
    }

    /// Stores a rating directly (the HTTP paths are tested on their own).
    pub async fn rate(
        &self,
        movie: &Movie,
        user: &User,
        stars: i64,
        body: Option<&str>,
        at_ms: i64,
    ) -> Review {
        let input = RatingInput {
            stars: Stars::new(stars).unwrap(),
            headline: None,
            body: ReviewText::parse_optional(body).unwrap(),
            anonymous: false,
            now_ms: at_ms,
        };
        let r = self
            .store
            .put_rating(movie.id, user.id, &input)
            .await
            .unwrap();
        // What the app does after its own writes: cached pages and answers go.
        self.state.changed(movie.id).await;
        r
    }

    pub async fn audit(&self) {
        assert_eq!(
            self.store.audit_aggregates().await.unwrap(),
            Vec::<String>::new()
        );
    }
}

pub const NOV_27_2017: i64 = 1_511_784_000_000;

/// The text of an HTML page with tags removed and whitespace collapsed, for content checks.
pub fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}
