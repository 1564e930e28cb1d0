//! The JSON API: films, reviews, ratings, votes, sessions, tokens, problem documents, OpenAPI.

use crate::helpers::*;
use axum::http::{Method, StatusCode, header};
use serde_json::json;

fn assert_problem(r: &Reply, status: StatusCode) {
    assert_eq!(r.status, status, "{}", r.body);
    assert_eq!(r.header(header::CONTENT_TYPE), "application/problem+json");
    let p = r.json();
    assert_eq!(p["status"], status.as_u16());
    assert!(p["title"].is_string() && p["detail"].is_string() && p["type"] == "about:blank");
}

#[tokio::test]
async fn films_and_their_reviews_are_listed_with_cursors() {
    let app = spawn_app().await;
    let m = app.the_work().await;
    app.movie("nosferatu", "Nosferatu").await;
    let list = app
        .api(Method::GET, "/api/v1/movies?limit=1", None, None)
        .await;
    assert_eq!(list.status, StatusCode::OK);
    let j = list.json();
    assert_eq!(j["items"][0]["title"], "Nosferatu");
    let next = j["next"].as_str().unwrap().to_owned();
    let j2 = app
        .api(
            Method::GET,
            &format!("/api/v1/movies?limit=1&after={next}"),
            None,
            None,
        )
        .await
        .json();
    assert_eq!(j2["items"][0]["slug"], "the-work");
    assert!(j2["next"].is_null());
    for i in 0..5 {
        let c = app.client(&format!("writer{i}")).await;
        app.rate(
            &m,
            &c.user,
            5 - i,
            Some(&format!("Words {i}.")),
            NOV_27_2017 + i,
        )
        .await;
    }
    let film = app
        .api(Method::GET, &format!("/api/v1/movies/{}", m.id), None, None)
        .await
        .json();
    assert_eq!(film["runtime_minutes"], 89);
    assert_eq!(film["stats"]["histogram"], json!([1, 1, 1, 1, 1]));
    assert_eq!(film["stats"]["average_text"], "3.0");
    assert_eq!(
        film["directors"],
        json!(["Jairus McLeary", "Gethin Aldous"])
    );
    let mut seen = Vec::new();
    let mut url = format!("/api/v1/movies/{}/reviews?sort=highest&limit=2", m.id);
    loop {
        let page = app.api(Method::GET, &url, None, None).await.json();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["stars"].as_u64().unwrap()),
        );
        match page["next"].as_str() {
            Some(c) => {
                url = format!(
                    "/api/v1/movies/{}/reviews?sort=highest&limit=2&after={c}",
                    m.id
                )
            }
            None => break,
        }
    }
    assert_eq!(seen, [5, 4, 3, 2, 1]);
    assert_problem(
        &app.api(Method::GET, "/api/v1/movies/999", None, None).await,
        StatusCode::NOT_FOUND,
    );
    assert_problem(
        &app.api(Method::GET, "/api/v1/movies/abc", None, None).await,
        StatusCode::BAD_REQUEST,
    );
    assert_problem(
        &app.api(
            Method::GET,
            &format!("/api/v1/movies/{}/reviews?sort=worst", m.id),
            None,
            None,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert_problem(
        &app.api(Method::GET, "/api/v1/movies?limit=1000", None, None)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert_problem(
        &app.api(Method::GET, "/api/v1/nothing-here", None, None)
            .await,
        StatusCode::NOT_FOUND,
    );
}

#[tokio::test]
async fn a_token_holder_rates_reviews_and_votes_and_bad_input_changes_nothing() {
    let app = spawn_app().await;
    let m = app.the_work().await;
    let c = app.client("scripter").await;
    let token = app.token(&c).await;
    let path = format!("/api/v1/movies/{}/rating", m.id);
    let put = app
        .api(
            Method::PUT,
            &path,
            Some(&token),
            Some(json!({"stars": 4, "headline": "Good", "body": "Para one.\n\nPara two."})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    let j = put.json();
    assert_eq!(j["review"]["stars"], 4);
    assert_eq!(j["stats"]["rating_count"], 1);
    let review_id = j["review"]["id"].as_i64().unwrap();
    let before = app.store.rating_by_user(m.id, c.user.id).await.unwrap();
    for (body, status) in [
        (json!({"stars": 0}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"stars": 6, "body": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"body": "no stars"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"stars": 3, "body": "x".repeat(5001)}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"stars": 3, "headline": "h".repeat(101)}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"stars": "five"}), StatusCode::BAD_REQUEST),
    ] {
        let r = app
            .api(Method::PUT, &path, Some(&token), Some(body.clone()))
            .await;
        assert_problem(&r, status);
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            assert!(r.json()["errors"][0]["field"].is_string(), "{body}");
        }
    }
    assert_eq!(
        app.store.rating_by_user(m.id, c.user.id).await.unwrap(),
        before
    );
    assert_problem(
        &app.api(
            Method::PUT,
            "/api/v1/movies/999/rating",
            Some(&token),
            Some(json!({"stars": 3})),
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    // Votes: not on one's own review; once; changeable; withdrawable.
    let vote = format!("/api/v1/reviews/{review_id}/vote");
    assert_problem(
        &app.api(
            Method::PUT,
            &vote,
            Some(&token),
            Some(json!({"helpful": true})),
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    let other = app.client("other").await;
    let other_token = app.token(&other).await;
    let v = app
        .api(
            Method::PUT,
            &vote,
            Some(&other_token),
            Some(json!({"helpful": true})),
        )
        .await;
    assert_eq!(v.json()["helpful_yes"], 1);
    assert_problem(
        &app.api(
            Method::PUT,
            &vote,
            Some(&other_token),
            Some(json!({"helpful": true})),
        )
        .await,
        StatusCode::CONFLICT,
    );
    let v = app
        .api(
            Method::PUT,
            &vote,
            Some(&other_token),
            Some(json!({"helpful": false})),
        )
        .await
        .json();
    assert_eq!(
        (
            v["helpful_yes"].as_u64(),
            v["helpful_no"].as_u64(),
            v["my_vote"].as_bool()
        ),
        (Some(0), Some(1), Some(false))
    );
    let v = app
        .api(Method::DELETE, &vote, Some(&other_token), None)
        .await
        .json();
    assert!(v["my_vote"].is_null());
    assert_problem(
        &app.api(Method::DELETE, &vote, Some(&other_token), None)
            .await,
        StatusCode::NOT_FOUND,
    );
    // Nobody edits or deletes someone else's review.
    let edit = app
        .api(
            Method::PUT,
            &format!("/api/v1/reviews/{review_id}"),
            Some(&other_token),
            Some(json!({"stars": 1, "body": "mine now"})),
        )
        .await;
    assert_problem(&edit, StatusCode::FORBIDDEN);
    assert_problem(
        &app.api(
            Method::DELETE,
            &format!("/api/v1/reviews/{review_id}"),
            Some(&other_token),
            None,
        )
        .await,
        StatusCode::FORBIDDEN,
    );
    assert_eq!(
        app.store.rating_by_user(m.id, c.user.id).await.unwrap(),
        before
    );
    let own = app
        .api(
            Method::PUT,
            &format!("/api/v1/reviews/{review_id}"),
            Some(&token),
            Some(json!({"stars": 2, "body": "Changed."})),
        )
        .await;
    assert_eq!(own.json()["review"]["stars"], 2);
    assert_eq!(
        app.api(Method::DELETE, &path, Some(&token), None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_problem(
        &app.api(Method::GET, &path, Some(&token), None).await,
        StatusCode::NOT_FOUND,
    );
    app.audit().await;
}

#[tokio::test]
async fn writes_need_credentials_and_a_wrong_token_is_refused() {
    let app = spawn_app().await;
    let m = app.the_work().await;
    let path = format!("/api/v1/movies/{}/rating", m.id);
    let anon = app
        .api(Method::PUT, &path, None, Some(json!({"stars": 3})))
        .await;
    assert_problem(&anon, StatusCode::UNAUTHORIZED);
    assert_eq!(anon.header(header::WWW_AUTHENTICATE), "Bearer");
    assert_problem(
        &app.api(
            Method::PUT,
            &path,
            Some("mq_forged"),
            Some(json!({"stars": 3})),
        )
        .await,
        StatusCode::UNAUTHORIZED,
    );
    assert_eq!(app.store.movie_stats(m.id).await.unwrap().rating_count, 0);
}

#[tokio::test]
async fn a_cookie_session_from_the_api_needs_its_csrf_header_for_writes() {
    let app = spawn_app().await;
    let m = app.the_work().await;
    marquee_server::accounts::sign_up(&app.state, "device", "Device", "a long password")
        .await
        .unwrap();
    let bad = app
        .api(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(json!({"username": "device", "password": "wrong password"})),
        )
        .await;
    assert_problem(&bad, StatusCode::FORBIDDEN);
    let r = app
        .api(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(json!({"username": "device", "password": "a long password"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let cookie = r
        .header(header::SET_COOKIE)
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = r.json()["csrf_token"].as_str().unwrap().to_owned();
    let call =
        |method: Method, path: String, csrf: Option<String>, body: Option<serde_json::Value>| {
            let mut req = axum::http::Request::builder()
                .method(method)
                .uri(path)
                .header(header::COOKIE, &cookie);
            if let Some(c) = csrf {
                req = req.header("x-csrf-token", c);
            }
            let body = match body {
                Some(b) => {
                    req = req.header(header::CONTENT_TYPE, "application/json");
                    axum::body::Body::from(b.to_string())
                }
                None => axum::body::Body::empty(),
            };
            req.body(body).unwrap()
        };
    let path = format!("/api/v1/movies/{}/rating", m.id);
    let me = app
        .send(call(Method::GET, "/api/v1/me".into(), None, None))
        .await;
    assert_eq!(me.json()["username"], "device");
    assert_problem(
        &app.send(call(
            Method::PUT,
            path.clone(),
            None,
            Some(json!({"stars": 5})),
        ))
        .await,
        StatusCode::FORBIDDEN,
    );
    assert_problem(
        &app.send(call(
            Method::PUT,
            path.clone(),
            Some("nope".into()),
            Some(json!({"stars": 5})),
        ))
        .await,
        StatusCode::FORBIDDEN,
    );
    assert_eq!(app.store.movie_stats(m.id).await.unwrap().rating_count, 0);
    let ok = app
        .send(call(
            Method::PUT,
            path,
            Some(csrf.clone()),
            Some(json!({"stars": 5})),
        ))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let out = app
        .send(call(
            Method::DELETE,
            "/api/v1/sessions/current".into(),
            Some(csrf),
            None,
        ))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_problem(
        &app.send(call(Method::GET, "/api/v1/me".into(), None, None))
            .await,
        StatusCode::UNAUTHORIZED,
    );
}

/// Owners of tokens are remembered (`token_cache`), so revocation must reach that memory: at
/// once through this server, within `TRUSTED_FOR` when another instance or process revokes.
#[tokio::test]
async fn a_remembered_token_stops_working_once_revoked_here_or_elsewhere() {
    let app = spawn_app().await;
    let c = app.client("owner").await;
    let here = app.token(&c).await;
    let elsewhere = app.token(&c).await;
    for token in [&here, &elsewhere] {
        let me = app.api(Method::GET, "/api/v1/me", Some(token), None).await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    }
    let ids: Vec<i64> = app
        .store
        .list_tokens(c.user.id)
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();

    // Revoked through this server (with the other token): refused by the very next request.
    let revoke = format!("/api/v1/tokens/{}", ids[0]);
    let out = app
        .api(Method::DELETE, &revoke, Some(&elsewhere), None)
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.body);
    assert_problem(
        &app.api(Method::GET, "/api/v1/me", Some(&here), None).await,
        StatusCode::UNAUTHORIZED,
    );

    // Revoked in the database, as another instance or `marquee` process would: refused once
    // the cache could have read the credentials version, however busy the server is. First
    // make sure the server answers for this token from memory (its first read of the version
    // may still be under way).
    let hash = marquee_server::auth::hash_secret(&elsewhere);
    for _ in 0..20 {
        let me = app
            .api(Method::GET, "/api/v1/me", Some(&elsewhere), None)
            .await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
        if app.state.tokens.remembers(&hash) {
            break;
        }
        tokio::time::sleep(marquee_server::token_cache::POLL).await;
    }
    assert!(app.state.tokens.remembers(&hash), "the owner is remembered");
    app.store.delete_token(c.user.id, ids[1]).await.unwrap();
    tokio::time::sleep(marquee_server::token_cache::TRUSTED_FOR).await;
    assert!(!app.state.tokens.remembers(&hash));
    assert_problem(
        &app.api(Method::GET, "/api/v1/me", Some(&elsewhere), None)
            .await,
        StatusCode::UNAUTHORIZED,
    );
}

#[tokio::test]
async fn personal_access_tokens_are_created_listed_and_revoked() {
    let app = spawn_app().await;
    let c = app.client("owner").await;
    let token = app.token(&c).await;
    let created = app
        .api(
            Method::POST,
            "/api/v1/tokens",
            Some(&token),
            Some(json!({"name": "Living-room TV"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let tv = created.json();
    assert!(tv["token"].as_str().unwrap().starts_with("mq_"));
    let list = app
        .api(Method::GET, "/api/v1/tokens", Some(&token), None)
        .await
        .json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(
        list.to_string().find("mq_").is_none(),
        "secrets are never listed"
    );
    assert_problem(
        &app.api(
            Method::POST,
            "/api/v1/tokens",
            Some(&token),
            Some(json!({"name": ""})),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    let stranger = app.client("stranger").await;
    let st = app.token(&stranger).await;
    assert_problem(
        &app.api(
            Method::DELETE,
            &format!("/api/v1/tokens/{}", tv["id"]),
            Some(&st),
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
    );
    assert_eq!(
        app.api(
            Method::DELETE,
            &format!("/api/v1/tokens/{}", tv["id"]),
            Some(&token),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_problem(
        &app.api(
            Method::GET,
            "/api/v1/me",
            Some(tv["token"].as_str().unwrap()),
            None,
        )
        .await,
        StatusCode::UNAUTHORIZED,
    );
}

#[tokio::test]
async fn the_openapi_document_is_3_1_and_describes_every_endpoint() {
    let app = spawn_app().await;
    let doc = app
        .api(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/movies",
        "/api/v1/movies/{id}",
        "/api/v1/movies/{id}/reviews",
        "/api/v1/movies/{id}/rating",
        "/api/v1/reviews/{id}",
        "/api/v1/reviews/{id}/vote",
        "/api/v1/sessions",
        "/api/v1/sessions/current",
        "/api/v1/me",
        "/api/v1/tokens",
        "/api/v1/tokens/{id}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}
