//! The administrator's catalog form.

use crate::helpers::*;
use axum::http::{Method, StatusCode};

fn film_fields() -> Vec<(&'static str, &'static str)> {
    vec![
        ("title", "Nosferatu"),
        ("original_title", "Nosferatu, eine Symphonie des Grauens"),
        ("year", "1922"),
        ("runtime_minutes", "94"),
        ("genres", "Horror, Fantasy"),
        ("directors", "F. W. Murnau"),
        (
            "cast",
            "Max Schreck as Count Orlok\nGustav von Wangenheim as Hutter",
        ),
        ("content_rating", "NR"),
        ("language", "German"),
        ("synopsis", "A real-estate agent travels to Transylvania."),
    ]
}

/// The titles `/api/v1/search?q=` answers, and the `/movies` page's titles for a genre.
async fn found(app: &TestApp, q: &str) -> (Vec<String>, String) {
    let search = app
        .api(Method::GET, &format!("/api/v1/search?q={q}"), None, None)
        .await;
    let titles = search.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["film"]["title"].as_str().unwrap().to_owned())
        .collect();
    let listed = app.get("/movies?genre=horror", None).await;
    (titles, text_of(&listed.body))
}

#[tokio::test]
async fn search_and_the_catalog_follow_the_admins_edits_at_once() {
    let app = spawn_app().await;
    let admin = app.client("admin").await;
    // Asked before the film exists, so an answer without it is kept...
    let (titles, listed) = found(&app, "nosferatu").await;
    assert!(titles.is_empty() && !listed.contains("Nosferatu"));
    let r = app
        .post_form("/admin/movies/new", Some(&admin), &film_fields())
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // ...and dropped by the write.
    let (titles, listed) = found(&app, "nosferatu").await;
    assert_eq!(titles, ["Nosferatu"]);
    assert!(listed.contains("Nosferatu"), "{listed}");
    let m = app
        .store
        .movie_by_slug("nosferatu-1922")
        .await
        .unwrap()
        .unwrap();
    let mut fields = film_fields();
    fields[0] = ("title", "Nosferatu the Vampyre");
    let r = app
        .post_form(
            &format!("/admin/movies/{}/edit", m.id),
            Some(&admin),
            &fields,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(found(&app, "nosferatu").await.0, ["Nosferatu the Vampyre"]);
    let r = app
        .post_form(&format!("/admin/movies/{}/delete", m.id), Some(&admin), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let (titles, listed) = found(&app, "nosferatu").await;
    assert!(
        titles.is_empty() && !listed.contains("Nosferatu"),
        "{titles:?}"
    );
}

#[tokio::test]
async fn the_admin_adds_edits_and_removes_a_film() {
    let app = spawn_app().await;
    let admin = app.client("admin").await;
    assert!(admin.user.is_admin);
    let r = app
        .post_form("/admin/movies/new", Some(&admin), &film_fields())
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let m = app
        .store
        .movie_by_slug("nosferatu-1922")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.cast[0].character, "Count Orlok");
    assert_eq!(m.genres, ["Horror", "Fantasy"]);
    let page = app.get("/movies/nosferatu-1922", None).await;
    assert!(text_of(&page.body).contains("1922 • 94 minutes"));
    let mut fields = film_fields();
    fields[3] = ("runtime_minutes", "81");
    let r = app
        .post_form(
            &format!("/admin/movies/{}/edit", m.id),
            Some(&admin),
            &fields,
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        text_of(&app.get("/movies/nosferatu-1922", None).await.body).contains("1922 • 81 minutes"),
        "the cached page was refreshed"
    );
    let r = app
        .post_form(&format!("/admin/movies/{}/delete", m.id), Some(&admin), &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/movies/nosferatu-1922", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn bad_film_forms_are_re_rendered_and_duplicates_refused() {
    let app = spawn_app().await;
    let admin = app.client("admin").await;
    let mut fields = film_fields();
    fields[0] = ("title", "");
    fields[2] = ("year", "1492");
    let r = app
        .post_form("/admin/movies/new", Some(&admin), &fields)
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("title: must not be empty")
            && r.body.contains("year: must be between 1888 and 2100")
    );
    assert!(
        r.body.contains("Nosferatu, eine Symphonie des Grauens"),
        "what was typed is kept"
    );
    assert_eq!(app.store.count_movies().await.unwrap(), 0);
    app.post_form("/admin/movies/new", Some(&admin), &film_fields())
        .await;
    let dup = app
        .post_form("/admin/movies/new", Some(&admin), &film_fields())
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert!(dup.body.contains("already exists"));
}

#[tokio::test]
async fn only_the_admin_may_change_the_catalog() {
    let app = spawn_app().await;
    app.client("admin").await;
    let m = app.the_work().await;
    let user = app.client("ordinary").await;
    assert_eq!(
        app.get("/admin/movies", Some(&user)).await.status,
        StatusCode::FORBIDDEN
    );
    let r = app
        .post_form(&format!("/admin/movies/{}/delete", m.id), Some(&user), &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(app.store.movie_by_id(m.id).await.unwrap().is_some());
}

#[tokio::test]
async fn a_poster_upload_must_be_an_image_and_is_served_back() {
    let app = spawn_app().await;
    let admin = app.client("admin").await;
    let m = app.the_work().await;
    let png = b"\x89PNG\r\n\x1a\n0000fake-but-sniffable";
    let upload = |bytes: &'static [u8]| {
        let boundary = "XBOUNDARYX";
        let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"poster\"; filename=\"p.png\"\r\nContent-Type: image/png\r\n\r\n").into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        axum::http::Request::post(format!(
            "/admin/movies/{}/poster?csrf_token={}",
            m.id, admin.csrf
        ))
        .header(
            axum::http::header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(axum::http::header::COOKIE, &admin.cookie)
        .body(axum::body::Body::from(body))
        .unwrap()
    };
    let bad = app.send(upload(b"<svg onload=alert(1)>")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        app.store
            .movie_by_id(m.id)
            .await
            .unwrap()
            .unwrap()
            .poster
            .is_none()
    );
    let ok = app.send(upload(png)).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    let poster = app
        .store
        .movie_by_id(m.id)
        .await
        .unwrap()
        .unwrap()
        .poster
        .unwrap();
    let served = app.get(&format!("/posters/{poster}"), None).await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.header(axum::http::header::CONTENT_TYPE), "image/png");
    assert!(
        app.get("/movies/the-work", None)
            .await
            .body
            .contains(&format!("src=\"/posters/{poster}\""))
    );
}
