//! Several `marquee serve` processes on one PostgreSQL database behave as one service: what one
//! writes the other shows at once, sessions and throttling are shared, and the same vote raced
//! through both counts exactly once.

use crate::process::{Server, get, http};
use marquee_domain::*;
use marquee_server::auth;
use marquee_store::{Backend, MovieStore, NewUser, RatingInput, ReviewStore, UserStore};
use marquee_store_postgres::{PgSettings, PgStore};
use std::process::Command;

async fn user_with_token(
    store: &PgStore,
    name: &str,
    password_hash: &str,
) -> (marquee_store::User, String) {
    let user = store
        .create_user(&NewUser {
            username: Username::parse(name).unwrap(),
            display_name: DisplayName::parse(name).unwrap(),
            password_hash: password_hash.to_owned(),
            now_ms: 0,
        })
        .await
        .unwrap();
    let secret = format!("{}{}", auth::TOKEN_PREFIX, auth::random_token());
    store
        .create_token(user.id, "test", &auth::hash_secret(&secret), 0)
        .await
        .unwrap();
    (user, secret)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !check() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_on_one_postgres_database_behave_as_one_service() {
    let Some(url) = marquee_store_postgres::testing::fresh_database().await else {
        return;
    };
    let store = PgStore::connect(
        &url,
        &PgSettings {
            max_connections: 4,
            schema: None,
        },
    )
    .await
    .unwrap();
    let film = store
        .create_movie(&MovieDraft {
            slug: Slug::parse("shared-film").unwrap(),
            title: Title::parse("Shared Film").unwrap(),
            original_title: None,
            year: Some(Year::new(2017).unwrap()),
            runtime: Some(Runtime::from_minutes(89).unwrap()),
            synopsis: Synopsis::parse("One film, two servers.").unwrap(),
            genres: vec![],
            directors: vec![],
            cast: vec![],
            content_rating: ContentRating::NotRated,
            language: Language::parse("English").unwrap(),
        })
        .await
        .unwrap();
    let password = Password::parse("a long password").unwrap();
    let hash = auth::hash_password(&password).unwrap();
    let (author, _) = user_with_token(&store, "author", &hash).await;
    let review = store
        .put_rating(
            film.id,
            author.id,
            &RatingInput {
                stars: Stars::new(5).unwrap(),
                headline: None,
                body: ReviewText::parse_optional(Some("Worth it.")).unwrap(),
                anonymous: false,
                now_ms: 1,
            },
        )
        .await
        .unwrap();
    let (_, leaver_token) = user_with_token(&store, "leaver", &hash).await;
    let mut raters = Vec::new();
    for i in 0..12 {
        raters.push(user_with_token(&store, &format!("rater{i:02}"), "x").await);
    }

    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Server::start(dir_a.path(), &["--database-url", &url], &[]);
    let b = Server::start(dir_b.path(), &["--database-url", &url], &[]);
    let (a, b) = (a.addr.clone(), b.addr.clone());
    let page = format!("/movies/{}", film.slug);
    let stats_path = format!("/api/v1/movies/{}", film.id);
    let rating_path = format!("/api/v1/movies/{}/rating", film.id);

    // B caches the signed-out page and a search; a rating written through A shows in both.
    assert!(get(&b, &page).1.contains("1 rating"));
    let search_count = |addr: &str| -> u64 {
        let (status, body) = get(addr, "/api/v1/search?q=shared");
        assert_eq!(status, 200, "{body}");
        let j: serde_json::Value = serde_json::from_str(&body).unwrap();
        j["items"][0]["film"]["rating_count"].as_u64().unwrap()
    };
    assert_eq!(search_count(&b), 1);
    let (status, body) = http(
        &a,
        "PUT",
        &rating_path,
        &[("Authorization", &bearer(&raters[0].1))],
        Some(r#"{"stars": 2}"#),
    );
    assert_eq!(status, 200, "{body}");
    wait_for("B's cached page to show A's write", || {
        get(&b, &page).1.contains("2 ratings")
    });
    wait_for("B's cached search to show A's write", || {
        search_count(&b) == 2
    });

    // Writes through A while B reads: B never shows counts that disagree with each other.
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            for (_, token) in &raters[1..] {
                let (status, body) = http(
                    &a,
                    "PUT",
                    &rating_path,
                    &[("Authorization", &bearer(token))],
                    Some(r#"{"stars": 4, "body": "Good."}"#),
                );
                assert_eq!(status, 200, "{body}");
            }
        });
        while !writer.is_finished() {
            let (status, body) = get(&b, &stats_path);
            assert_eq!(status, 200);
            let j: serde_json::Value = serde_json::from_str(&body).unwrap();
            let sum: u64 = j["stats"]["histogram"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .sum();
            assert_eq!(sum, j["stats"]["rating_count"].as_u64().unwrap(), "{body}");
        }
        writer.join().unwrap();
    });
    wait_for("B to show every rating", || {
        get(&b, &page).1.contains("13 ratings")
    });

    // The same vote raced through both instances counts exactly once.
    let vote_path = format!("/api/v1/reviews/{}/vote", review.id);
    for (_, token) in &raters {
        let auth_header = bearer(token);
        let results: Vec<u16> = std::thread::scope(|s| {
            let one = s.spawn(|| {
                http(
                    &a,
                    "PUT",
                    &vote_path,
                    &[("Authorization", &auth_header)],
                    Some(r#"{"helpful": true}"#),
                )
                .0
            });
            let two = s.spawn(|| {
                http(
                    &b,
                    "PUT",
                    &vote_path,
                    &[("Authorization", &auth_header)],
                    Some(r#"{"helpful": true}"#),
                )
                .0
            });
            vec![one.join().unwrap(), two.join().unwrap()]
        });
        let mut sorted = results.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            [200, 409],
            "one vote counts and the other is refused: {results:?}"
        );
    }
    let counted = store.review_by_id(review.id).await.unwrap().unwrap();
    assert_eq!((counted.helpful_yes, counted.helpful_no), (12, 0));
    assert_eq!(
        store.audit_aggregates().await.unwrap(),
        Vec::<String>::new()
    );
    wait_for("B's page to show the votes", || {
        get(&b, &page).1.contains("12 people found this helpful")
    });

    // An account deleted through A with its reviews removed takes its votes on other people's
    // reviews along; B, which cached the page with that vote, drops it.
    let (status, body) = http(
        &a,
        "PUT",
        &vote_path,
        &[("Authorization", &bearer(&leaver_token))],
        Some(r#"{"helpful": true}"#),
    );
    assert_eq!(status, 200, "{body}");
    wait_for("B's page to show the leaver's vote", || {
        get(&b, &page).1.contains("13 people found this helpful")
    });
    let (status, body) = http(
        &a,
        "DELETE",
        "/api/v1/me",
        &[("Authorization", &bearer(&leaver_token))],
        Some(r#"{"password": "a long password", "reviews": "remove"}"#),
    );
    assert_eq!(status, 204, "{body}");
    wait_for("B's page to drop the deleted account's vote", || {
        get(&b, &page).1.contains("12 people found this helpful")
    });

    // A session opened on A works on B.
    let cookie = session_cookie_from(&a, "author", "a long password");
    let me = http(&b, "GET", "/api/v1/me", &[("Cookie", &cookie)], None);
    assert_eq!(me.0, 200, "{}", me.1);

    // Failed sign-ins count across instances: five through A and B together lock the account.
    for i in 0..5 {
        let target = if i % 2 == 0 { &a } else { &b };
        let (status, _) = http(
            target,
            "POST",
            "/api/v1/sessions",
            &[],
            Some(r#"{"username": "author", "password": "wrong password"}"#),
        );
        assert!(status == 403 || status == 429, "{status}");
    }
    let (status, _) = http(
        &b,
        "POST",
        "/api/v1/sessions",
        &[],
        Some(r#"{"username": "author", "password": "a long password"}"#),
    );
    assert_eq!(status, 429, "the lock is shared");

    // A bulk import run beside the servers reaches their caches too: a film it adds is found
    // at once, and the cached search that lacked it is not served again.
    let (status, body) = get(&b, "/api/v1/search?q=imported");
    assert_eq!((status, body.contains("Imported Film")), (200, false));
    let csv = dir_a.path().join("catalog.csv");
    std::fs::write(&csv, "title,year\nImported Film,1999\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_marquee"))
        .args(["--data-dir"])
        .arg(dir_a.path())
        .args(["--database-url", &url, "import", "catalog"])
        .arg(&csv)
        .args([
            "--name",
            "club",
            "--map",
            "title=title",
            "--map",
            "year=year",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for("B to find the imported film", || {
        get(&b, "/api/v1/search?q=imported")
            .1
            .contains("Imported Film")
    });

    // A token revoked through A is refused by A at once, and by B (which remembers who owns
    // it, having just used it) at most `TRUSTED_FOR` later.
    let (rater, token) = &raters[0];
    let me_through = |addr: &str| {
        http(
            addr,
            "GET",
            "/api/v1/me",
            &[("Authorization", &bearer(token))],
            None,
        )
    };
    let me = me_through(&b);
    assert_eq!(me.0, 200, "{}", me.1);
    let id = store.list_tokens(rater.id).await.unwrap()[0].id;
    let (status, body) = http(
        &a,
        "DELETE",
        &format!("/api/v1/tokens/{id}"),
        &[("Authorization", &bearer(token))],
        None,
    );
    assert_eq!(status, 204, "{body}");
    let me = me_through(&a);
    assert_eq!(me.0, 401, "{}", me.1);
    std::thread::sleep(marquee_server::token_cache::TRUSTED_FOR);
    let me = me_through(&b);
    assert_eq!(me.0, 401, "{}", me.1);
    store.close().await;
}

/// Signs in through the API and returns the `Cookie` header value for the new session.
fn session_cookie_from(addr: &str, username: &str, password: &str) -> String {
    use std::io::{Read, Write};
    let body = format!(r#"{{"username": "{username}", "password": "{password}"}}"#);
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /api/v1/sessions HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

/// A free port on 127.0.0.1 (there is a small window before nginx takes it; fine for a test).
fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

/// nginx with `deploy/nginx.conf`, only its addresses swapped; stopped when dropped.
struct Nginx(std::process::Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM to the master stops its workers too; SIGKILL would orphan them.
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn nginx_binary() -> Option<&'static str> {
    let found = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "nginx is missing, and CI=true does not allow skipping"
        );
        eprintln!("SKIPPED: nginx is not installed (apt-get install nginx-light)");
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deploy_nginx_config_balances_two_instances_and_survives_one_stopping() {
    let Some(nginx) = nginx_binary() else { return };
    let Some(url) = marquee_store_postgres::testing::fresh_database().await else {
        return;
    };
    let store = PgStore::connect(
        &url,
        &PgSettings {
            max_connections: 2,
            schema: None,
        },
    )
    .await
    .unwrap();
    let film = store
        .create_movie(&MovieDraft::titled(
            Slug::parse("balanced").unwrap(),
            Title::parse("Balanced").unwrap(),
        ))
        .await
        .unwrap();
    let (_, token) = user_with_token(&store, "viewer", "x").await;
    let (dir_a, dir_b, conf_dir) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let trust = ["--trusted-proxy", "127.0.0.1"];
    let mut a = Server::start(dir_a.path(), &["--database-url", &url], &trust);
    let b = Server::start(dir_b.path(), &["--database-url", &url], &trust);
    let front = free_addr();
    let conf = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/nginx.conf"
    ))
    .unwrap()
    .replace("127.0.0.1:8081", &a.addr)
    .replace("127.0.0.1:8082", &b.addr)
    .replace("127.0.0.1:8080", &front);
    std::fs::write(conf_dir.path().join("nginx.conf"), conf).unwrap();
    let _nginx = Nginx(
        Command::new(nginx)
            .arg("-p")
            .arg(conf_dir.path())
            .args(["-c", "nginx.conf", "-g", "daemon off;"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("nginx to listen", || {
        std::net::TcpStream::connect(&front).is_ok()
    });
    let page = format!("/movies/{}", film.slug);
    for _ in 0..10 {
        assert_eq!(get(&front, &page).0, 200);
    }
    let rating = format!("/api/v1/movies/{}/rating", film.id);
    let (status, body) = http(
        &front,
        "PUT",
        &rating,
        &[("Authorization", &bearer(&token))],
        Some(r#"{"stars": 5}"#),
    );
    assert_eq!(status, 200, "{body}");
    // One instance stops; nginx sends everything to the other, and nothing is lost.
    assert!(a.terminate().success());
    for _ in 0..10 {
        let (status, body) = get(&front, &page);
        assert_eq!(status, 200);
        assert!(body.contains("1 rating"), "{body}");
    }
    let (status, _) = http(
        &front,
        "PUT",
        &rating,
        &[("Authorization", &bearer(&token))],
        Some(r#"{"stars": 3}"#),
    );
    assert_eq!(status, 200);
    drop(b);
    store.close().await;
}
