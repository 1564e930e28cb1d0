//! Signing up, in and out through the pages; cookies; throttling.

use crate::helpers::*;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};

/// The hidden `csrf_token` field of the first form on a page.
fn csrf_field(html: &str) -> String {
    html.split("name=\"csrf_token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

/// Fetches a form page as a signed-out browser and returns (cookie, csrf token).
async fn anon_form(app: &TestApp, path: &str) -> (String, String) {
    let page = app.get(path, None).await;
    let cookie = page
        .header(header::SET_COOKIE)
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let token = csrf_field(&page.body);
    (cookie, token)
}

async fn post_anon(app: &TestApp, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Reply {
    let body = serde_urlencoded::to_string(fields).unwrap();
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

#[tokio::test]
async fn signing_up_creates_an_admin_first_then_ordinary_accounts() {
    let app = spawn_app().await;
    let page = app.get("/signup", None).await;
    assert!(
        page.body
            .contains("this first account will be the administrator")
    );
    let (cookie, token) = anon_form(&app, "/signup").await;
    let r = post_anon(
        &app,
        "/signup",
        &cookie,
        &[
            ("csrf_token", &token),
            ("username", "Boss"),
            ("display_name", "The Boss"),
            ("password", "long enough pw"),
            ("next", "/movies/x"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/movies/x");
    let set = r.header(header::SET_COOKIE);
    assert!(
        set.starts_with("marquee_session=")
            && set.contains("HttpOnly")
            && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(
        !set.contains("Secure"),
        "plain http must not mark cookies Secure"
    );
    let (user, hash) = app.store_credentials("boss").await;
    assert!(user.is_admin);
    assert!(hash.starts_with("$argon2id$"));
    let r = post_anon(
        &app,
        "/signup",
        &cookie,
        &[
            ("csrf_token", &token),
            ("username", "second"),
            ("display_name", "Second"),
            ("password", "long enough pw"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!app.store_credentials("second").await.0.is_admin);
}

#[tokio::test]
async fn sign_up_mistakes_are_shown_on_the_form() {
    let app = spawn_app().await;
    app.client("taken").await;
    let (cookie, token) = anon_form(&app, "/signup").await;
    let r = post_anon(
        &app,
        "/signup",
        &cookie,
        &[
            ("csrf_token", &token),
            ("username", "x"),
            ("display_name", ""),
            ("password", "short"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for msg in [
        "username: must be 3 to 32 characters",
        "display_name: must not be empty",
        "password: must be at least 10 characters",
    ] {
        assert!(r.body.contains(msg), "{msg}");
    }
    let r = post_anon(
        &app,
        "/signup",
        &cookie,
        &[
            ("csrf_token", &token),
            ("username", "TAKEN"),
            ("display_name", "Again"),
            ("password", "long enough pw"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("already taken"));
    let r = post_anon(
        &app,
        "/signup",
        &cookie,
        &[
            ("username", "nocsrf"),
            ("display_name", "N"),
            ("password", "long enough pw"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn signing_in_and_out_works_and_wrong_passwords_are_throttled() {
    let app = spawn_app().await;
    app.client("walker").await;
    let (cookie, token) = anon_form(&app, "/signin").await;
    let wrong = post_anon(
        &app,
        "/signin",
        &cookie,
        &[
            ("csrf_token", &token),
            ("username", "walker"),
            ("password", "not the password"),
        ],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.body.contains("do not match"));
    assert!(
        wrong.body.contains("value=\"walker\""),
        "the username is kept"
    );
    let ok = post_anon(
        &app,
        "/signin",
        &cookie,
        &[
            ("csrf_token", &token),
            ("username", "walker"),
            ("password", "a long password"),
            ("next", "//evil.example"),
        ],
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), "/", "never redirect off-site");
    let session = ok
        .header(header::SET_COOKIE)
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = app
        .send(
            Request::get("/account/tokens")
                .header(header::COOKIE, &session)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = csrf_field(&page.body);
    let out = post_anon(&app, "/signout", &session, &[("csrf_token", &csrf)]).await;
    assert!(out.header(header::SET_COOKIE).contains("Max-Age=0"));
    let after = app
        .send(
            Request::get("/account/tokens")
                .header(header::COOKIE, &session)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        after.status,
        StatusCode::SEE_OTHER,
        "the session is gone from the database"
    );

    // The successful sign-in cleared the count: five new failures in a row lock the account.
    for _ in 0..5 {
        post_anon(
            &app,
            "/signin",
            &cookie,
            &[
                ("csrf_token", &token),
                ("username", "walker"),
                ("password", "guess guess"),
            ],
        )
        .await;
    }
    let blocked = post_anon(
        &app,
        "/signin",
        &cookie,
        &[
            ("csrf_token", &token),
            ("username", "walker"),
            ("password", "a long password"),
        ],
    )
    .await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(blocked.body.contains("Too many failed sign-ins"));
    assert!(!blocked.header(header::RETRY_AFTER).is_empty());
}

#[tokio::test]
async fn cookies_are_secure_when_the_public_address_is_https() {
    let app = spawn_app_at("https://films.example.org").await;
    let page = app.get("/signin", None).await;
    assert!(page.header(header::SET_COOKIE).contains("; Secure"));
}

#[tokio::test]
async fn the_account_page_creates_and_deletes_tokens() {
    let app = spawn_app().await;
    let c = app.client("owner").await;
    let r = app
        .post_form("/account/tokens", Some(&c), &[("name", "Kitchen tablet")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("shown only once") && r.body.contains("mq_"));
    let tokens = app.store.list_tokens(c.user.id).await.unwrap();
    let del = app
        .post_form(
            &format!("/account/tokens/{}/delete", tokens[0].id),
            Some(&c),
            &[],
        )
        .await;
    assert_eq!(del.status, StatusCode::SEE_OTHER);
    assert!(app.store.list_tokens(c.user.id).await.unwrap().is_empty());
}

impl TestApp {
    pub async fn store_credentials(&self, name: &str) -> (marquee_store::User, String) {
        self.store.credentials(name).await.unwrap().unwrap()
    }
}
