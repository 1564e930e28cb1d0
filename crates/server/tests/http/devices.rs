//! Devices: TV sign-in with a code (RFC 8628) from the first request to the film streaming on the
//! token's signed URLs, the RFC's error answers, `/activate` and its throttling, signed and
//! expiring stream URLs (HLS playlists included), and `/help/devices`.

use crate::helpers::*;
use crate::media::clip;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use marquee_domain::MovieId;
use marquee_domain::time_fmt::now_ms;
use marquee_media::SubtitleLang;
use marquee_server::auth::hash_secret;
use marquee_server::media::{self, SubtitleInput};
use marquee_server::signed_urls::signature_query;
use marquee_store::{Movie, NewDeviceCode};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tower::ServiceExt;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const BASE: &str = "http://localhost";

async fn request_code(app: &TestApp, client_name: &str) -> Value {
    let r = app
        .post_form("/api/v1/device/code", None, &[("client_name", client_name)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.header(header::CACHE_CONTROL), "no-store");
    r.json()
}

async fn poll(app: &TestApp, device_code: &str) -> Reply {
    app.post_form(
        "/api/v1/device/token",
        None,
        &[("grant_type", GRANT), ("device_code", device_code)],
    )
    .await
}

/// The RFC 6749 `error` of a 400 answer.
fn oauth_error(r: &Reply) -> String {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(r.header(header::CONTENT_TYPE), "application/json");
    assert_eq!(r.header(header::CACHE_CONTROL), "no-store");
    let body = r.json();
    assert!(body["error_description"].is_string(), "{body}");
    body["error"].as_str().unwrap().to_owned()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("no {key} in {v}"))
}

/// The Work with a short clip and English subtitles, or `None` without ffmpeg.
async fn film_with_media(app: &TestApp, dir: &Path) -> Option<(Movie, PathBuf)> {
    let file = clip(dir, "the-work.mp4", 2)?;
    let srt = dir.join("the-work.en.srt");
    std::fs::write(&srt, "1\n00:00:00,500 --> 00:00:01,500\nHello.\n").unwrap();
    let movie = app.the_work().await;
    media::add_media(
        app.store.as_ref(),
        app.state.media.as_ref(),
        &app.state.tools,
        &movie,
        &file,
        "the-work.mp4",
        &[SubtitleInput {
            path: srt,
            name: None,
            lang: SubtitleLang::parse("en").unwrap(),
        }],
    )
    .await
    .unwrap();
    Some((movie, file))
}

struct Fetched {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Fetched {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What a player does with a URL: a plain GET, no cookie, no token.
async fn fetch(app: &TestApp, url: &str, range: Option<&str>) -> Fetched {
    let path = url.strip_prefix(BASE).unwrap_or(url);
    let mut req = Request::get(path);
    if let Some(r) = range {
        req = req.header(header::RANGE, r);
    }
    let res = app
        .router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Fetched {
        status,
        headers,
        body,
    }
}

/// A playlist URI resolved against the playlist's own URL, as a player resolves it.
fn resolve(playlist_url: &str, uri: &str) -> String {
    let path = playlist_url.split('?').next().unwrap();
    format!("{}/{uri}", &path[..path.rfind('/').unwrap()])
}

/// `url` with its query parameter `name` replaced by `value`.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let (path, query) = url.split_once('?').unwrap();
    let query: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if k == name => format!("{k}={value}"),
            _ => p.to_owned(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

fn param<'a>(url: &'a str, name: &str) -> &'a str {
    url.split_once('?')
        .unwrap()
        .1
        .split('&')
        .find_map(|p| p.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

#[tokio::test]
async fn a_tv_signs_in_with_a_code_and_plays_the_film_through_signed_urls() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let Some((movie, file)) = film_with_media(&app, dir.path()).await else {
        return;
    };
    let bytes = std::fs::read(&file).unwrap();

    // The TV asks for a code.
    let code = request_code(&app, "Living-room TV").await;
    let user_code = str_of(&code, "user_code").to_owned();
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    assert!(
        user_code
            .chars()
            .all(|c| c == '-' || "BCDFGHJKLMNPQRSTVWXZ".contains(c)),
        "{user_code}"
    );
    assert_eq!(code["verification_uri"], "http://localhost/activate");
    assert_eq!(
        code["verification_uri_complete"],
        format!("http://localhost/activate?code={user_code}")
    );
    assert_eq!(
        (code["expires_in"].as_i64(), code["interval"].as_i64()),
        (Some(600), Some(5))
    );
    let device_code = str_of(&code, "device_code").to_owned();

    // It polls: nobody has approved yet; polling again at once is too fast.
    assert_eq!(
        oauth_error(&poll(&app, &device_code).await),
        "authorization_pending"
    );
    let fast = poll(&app, &device_code).await;
    assert_eq!(oauth_error(&fast), "slow_down");
    assert_eq!(fast.json()["interval"], 10);

    // The viewer enters the code on their phone: any case, dash or not.
    let ann = app.client("ann").await;
    let form = app.get("/activate", Some(&ann)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains(r#"name="code""#), "{}", form.body);
    let typed = user_code.replace('-', "").to_lowercase();
    let confirm = app
        .post_form("/activate", Some(&ann), &[("code", &typed)])
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    let text = text_of(&confirm.body);
    assert!(
        text.contains("Living-room TV") && text.contains(&user_code),
        "{text}"
    );
    assert!(text.contains("Approve") && text.contains("Deny"), "{text}");
    // The decision is a CSRF-protected form like every other.
    let forged = app
        .post_form(
            "/activate/decision",
            Some(&ann),
            &[
                ("code", &user_code),
                ("decision", "approve"),
                ("csrf_token", "forged"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(oauth_error(&poll(&app, &device_code).await), "slow_down");
    let done = app
        .post_form(
            "/activate/decision",
            Some(&ann),
            &[("code", &user_code), ("decision", "approve")],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(
        text_of(&done.body).contains("Living-room TV is now signed in"),
        "{}",
        done.body
    );
    let twice = app
        .post_form(
            "/activate/decision",
            Some(&ann),
            &[("code", &user_code), ("decision", "approve")],
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert!(twice.body.contains("already been used"), "{}", twice.body);

    // The TV's next poll gets the token, once.
    let granted = poll(&app, &device_code).await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    assert_eq!(granted.header(header::CACHE_CONTROL), "no-store");
    let token = str_of(&granted.json(), "access_token").to_owned();
    assert!(token.starts_with("mq_"));
    assert_eq!(granted.json()["token_type"], "Bearer");
    assert_eq!(
        oauth_error(&poll(&app, &device_code).await),
        "invalid_grant"
    );

    // It is an ordinary personal access token, named after the device, that ann can revoke.
    let me = app.api(Method::GET, "/api/v1/me", Some(&token), None).await;
    assert_eq!(
        (me.status, me.json()["username"].as_str()),
        (StatusCode::OK, Some("ann"))
    );
    let tokens = app.get("/account/tokens", Some(&ann)).await;
    assert!(
        text_of(&tokens.body).contains("Living-room TV"),
        "{}",
        tokens.body
    );

    // The playback answer for the device carries signed URLs…
    let play = app
        .api(
            Method::GET,
            &format!("/api/v1/movies/{}/playback", movie.id),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(play.status, StatusCode::OK, "{}", play.body);
    let play = play.json();
    let direct = str_of(&play, "direct_url").to_owned();
    assert!(
        direct.starts_with("http://localhost/media/the-work/file?u="),
        "{direct}"
    );
    assert_eq!(param(&direct, "u"), ann.user.id.to_string());
    let exp: i64 = param(&direct, "exp").parse().unwrap();
    let in_six_hours = now_ms() / 1000 + 6 * 3600;
    assert!((in_six_hours - 5..=in_six_hours).contains(&exp), "{exp}");
    let subtitles = play["subtitles"][0]["url"].as_str().unwrap().to_owned();
    assert!(subtitles.contains("/subtitles/en.vtt?u="), "{subtitles}");

    // …which a player fetches with nothing else: whole, by range, and the subtitles.
    let whole = fetch(&app, &direct, None).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.body, bytes);
    let part = fetch(&app, &direct, Some("bytes=100-199")).await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body, &bytes[100..200]);
    let vtt = fetch(&app, &subtitles, None).await;
    assert_eq!(vtt.status, StatusCode::OK);
    assert!(vtt.text().starts_with("WEBVTT"), "{}", vtt.text());

    // A changed signature, user or expiry is refused.
    let sig = param(&direct, "sig");
    let flipped = format!(
        "{}{}",
        if sig.starts_with('A') { "B" } else { "A" },
        &sig[1..]
    );
    for tampered in [
        with_param(&direct, "sig", &flipped),
        with_param(&direct, "u", &(ann.user.id.0 + 1).to_string()),
        with_param(&direct, "exp", &(exp + 3600).to_string()),
        with_param(&subtitles, "sig", &flipped),
    ] {
        let r = fetch(&app, &tampered, Some("bytes=0-9")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{tampered}");
        assert!(r.text().contains("not valid"), "{}", r.text());
    }

    // A browser's playback answer (cookie) keeps plain URLs: its cookie goes with them.
    let browser = app
        .get(&format!("/api/v1/movies/{}/playback", movie.id), Some(&ann))
        .await
        .json();
    assert_eq!(
        browser["direct_url"],
        "http://localhost/media/the-work/file"
    );
}

#[tokio::test]
async fn expired_signatures_and_other_films_signatures_are_refused_and_members_only_films_need_one()
{
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let Some((movie, _)) = film_with_media(&app, dir.path()).await else {
        return;
    };
    let ann = app.client("ann").await;
    let keys = &app.state.keys;
    let now_s = now_ms() / 1000;
    let file = "/media/the-work/file";

    let expired = signature_query(keys, movie.id, ann.user.id, now_s - 1);
    let r = fetch(&app, &format!("{file}?{expired}"), Some("bytes=0-9")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("expired"), "{}", r.text());
    let elsewhere = signature_query(keys, MovieId(movie.id.0 + 1), ann.user.id, now_s + 600);
    let r = fetch(&app, &format!("{file}?{elsewhere}"), Some("bytes=0-9")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let half = fetch(
        &app,
        &format!("{file}?u={}&exp={}", ann.user.id, now_s + 600),
        None,
    )
    .await;
    assert_eq!(half.status, StatusCode::FORBIDDEN);

    // A members-only film: nothing without a signature, everything with one.
    app.store.set_members_only(movie.id, true).await.unwrap();
    // As the admin page and `marquee media access` do: the instance forgets what it cached.
    app.state.changed(movie.id).await;
    let valid = signature_query(keys, movie.id, ann.user.id, now_s + 600);
    assert_eq!(
        fetch(&app, file, Some("bytes=0-9")).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = fetch(&app, &format!("{file}?{valid}"), Some("bytes=0-9")).await;
    assert_eq!((r.status, r.body.len()), (StatusCode::PARTIAL_CONTENT, 10));
    assert_eq!(
        fetch(&app, &format!("{file}?{expired}"), None).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_signed_hls_playlist_signs_every_uri_in_it_so_a_player_can_follow_them() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let Some((movie, _)) = film_with_media(&app, dir.path()).await else {
        return;
    };
    // A packaging as the packager lays it out, written by hand: this test is about the URLs.
    let record = app.store.media_for(movie.id).await.unwrap().unwrap();
    let prefix = media::folder_of(&record.storage_key)
        .unwrap()
        .join("hls")
        .unwrap();
    for (name, body) in [
        (
            "master.m3u8",
            "#EXTM3U\n#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,URI=\"subs/en.m3u8\"\n\
             #EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=320x240,SUBTITLES=\"subs\"\n240p/index.m3u8\n",
        ),
        (
            "240p/index.m3u8",
            "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:2.0,\nseg0.ts\n#EXT-X-ENDLIST\n",
        ),
        ("240p/seg0.ts", "segment bytes"),
    ] {
        app.state
            .media
            .put_bytes(&prefix.join(name).unwrap(), body.as_bytes().to_vec().into())
            .await
            .unwrap();
    }
    app.store
        .set_hls(movie.id, Some(prefix.as_str()))
        .await
        .unwrap();
    app.store.set_members_only(movie.id, true).await.unwrap();
    // As the admin page and `marquee media access` do: the instance forgets what it cached.
    app.state.changed(movie.id).await;

    let ann = app.client("ann").await;
    let token = app.token(&ann).await;
    let play = app
        .api(
            Method::GET,
            &format!("/api/v1/movies/{}/playback", movie.id),
            Some(&token),
            None,
        )
        .await
        .json();
    let master_url = str_of(&play, "hls_url").to_owned();
    let signature = master_url.split_once('?').unwrap().1.to_owned();
    assert!(master_url.starts_with("http://localhost/media/the-work/hls/master.m3u8?u="));

    let master = fetch(&app, &master_url, None).await;
    assert_eq!(master.status, StatusCode::OK, "{}", master.text());
    assert_eq!(master.headers[header::CACHE_CONTROL], "private, no-store");
    let master = master.text();
    assert!(
        master.contains(&format!("URI=\"subs/en.m3u8?{signature}\"")),
        "{master}"
    );
    let variant_uri = master.lines().last().unwrap();
    assert_eq!(variant_uri, format!("240p/index.m3u8?{signature}"));

    let variant_url = resolve(&master_url, variant_uri);
    let variant = fetch(&app, &variant_url, None).await;
    assert_eq!(variant.status, StatusCode::OK);
    let segment_uri = variant
        .text()
        .lines()
        .find(|l| l.starts_with("seg0.ts"))
        .unwrap()
        .to_owned();
    assert_eq!(segment_uri, format!("seg0.ts?{signature}"));
    let segment = fetch(&app, &resolve(&variant_url, &segment_uri), None).await;
    assert_eq!(
        (segment.status, segment.text().as_str()),
        (StatusCode::OK, "segment bytes")
    );

    // Without the signature the same segment is closed to a player, and the unsigned playlist
    // is served as stored.
    let unsigned = resolve(&variant_url, "seg0.ts");
    assert_eq!(
        fetch(&app, &unsigned, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let viewer = app
        .get("/media/the-work/hls/240p/index.m3u8", Some(&ann))
        .await;
    assert_eq!(viewer.status, StatusCode::OK);
    assert!(viewer.body.contains("\nseg0.ts\n"), "{}", viewer.body);
}

#[tokio::test]
async fn a_denied_code_is_access_denied_and_an_expired_one_is_expired_token() {
    let app = spawn_app().await;
    let bob = app.client("bob").await;
    let code = request_code(&app, "Bedroom TV").await;
    let user_code = str_of(&code, "user_code").to_owned();
    // The link from the device (verification_uri_complete) goes straight to the confirmation.
    let complete = str_of(&code, "verification_uri_complete")
        .strip_prefix(BASE)
        .unwrap()
        .to_owned();
    let confirm = app.get(&complete, Some(&bob)).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        text_of(&confirm.body).contains("Bedroom TV"),
        "{}",
        confirm.body
    );
    let denied = app
        .post_form(
            "/activate/decision",
            Some(&bob),
            &[("code", &user_code), ("decision", "deny")],
        )
        .await;
    assert_eq!(denied.status, StatusCode::OK);
    assert!(
        text_of(&denied.body).contains("You denied Bedroom TV"),
        "{}",
        denied.body
    );
    let device_code = str_of(&code, "device_code");
    assert_eq!(oauth_error(&poll(&app, device_code).await), "access_denied");
    assert!(app.store.list_tokens(bob.user.id).await.unwrap().is_empty());

    // A code handed out eleven minutes ago (time driven through the store, not slept).
    let now = now_ms();
    app.store
        .create_device_code(&NewDeviceCode {
            device_code_hash: &hash_secret("mqd_from-long-ago"),
            user_code: "BCDFBCDF",
            client_name: "Old TV",
            interval_s: 5,
            now_ms: now - 660_000,
            expires_ms: now - 60_000,
        })
        .await
        .unwrap();
    assert_eq!(
        oauth_error(&poll(&app, "mqd_from-long-ago").await),
        "expired_token"
    );
    let late = app
        .post_form("/activate", Some(&bob), &[("code", "bcdf-bcdf")])
        .await;
    assert_eq!(late.status, StatusCode::GONE);
    assert!(late.body.contains("has expired"), "{}", late.body);
    let late = app
        .post_form(
            "/activate/decision",
            Some(&bob),
            &[("code", "BCDF-BCDF"), ("decision", "approve")],
        )
        .await;
    assert_eq!(late.status, StatusCode::GONE);
    // The housekeeping purge removes it; the device then hears that its code is unknown.
    assert_eq!(app.store.purge_device_codes(now).await.unwrap(), 1);
    assert_eq!(
        oauth_error(&poll(&app, "mqd_from-long-ago").await),
        "invalid_grant"
    );
}

#[tokio::test]
async fn the_token_endpoint_answers_with_rfc_6749_errors_and_takes_form_or_json() {
    let app = spawn_app().await;
    let r = app
        .post_form(
            "/api/v1/device/token",
            None,
            &[("grant_type", "password"), ("device_code", "x")],
        )
        .await;
    assert_eq!(oauth_error(&r), "unsupported_grant_type");
    let r = app
        .post_form("/api/v1/device/token", None, &[("device_code", "x")])
        .await;
    assert_eq!(oauth_error(&r), "invalid_request");
    let r = app
        .post_form("/api/v1/device/token", None, &[("grant_type", GRANT)])
        .await;
    assert_eq!(oauth_error(&r), "invalid_request");
    assert_eq!(
        oauth_error(&poll(&app, "mqd_never-issued").await),
        "invalid_grant"
    );
    let r = app
        .api(
            Method::POST,
            "/api/v1/device/token",
            None,
            Some(json!({"grant_type": GRANT, "device_code": "mqd_never-issued"})),
        )
        .await;
    assert_eq!(oauth_error(&r), "invalid_grant");

    let r = app
        .api(
            Method::POST,
            "/api/v1/device/code",
            None,
            Some(json!({"client_name": "Phone"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let long = "x".repeat(61);
    let r = app
        .post_form("/api/v1/device/code", None, &[("client_name", &long)])
        .await;
    assert_eq!(oauth_error(&r), "invalid_request");

    let doc = app
        .api(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .json();
    for path in ["/api/v1/device/code", "/api/v1/device/token"] {
        assert!(
            doc["paths"][path]["post"].is_object(),
            "{path} is not documented"
        );
    }
}

#[tokio::test]
async fn guessing_codes_is_throttled_per_viewer_and_per_address() {
    let app = spawn_app().await;
    let code = request_code(&app, "Kitchen TV").await;
    let real = str_of(&code, "user_code").to_owned();
    // Codes no device was given; a malformed one does not count as a guess.
    let guess = if real == "ZZZZ-ZZZZ" {
        "XXXX-XXXX"
    } else {
        "ZZZZ-ZZZZ"
    };
    let eve = app.client("eve").await;
    let r = app
        .post_form("/activate", Some(&eve), &[("code", "hello")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for attempt in 1..=9 {
        let r = app
            .post_form("/activate", Some(&eve), &[("code", guess)])
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "attempt {attempt}");
        assert!(r.body.contains("not valid"), "{}", r.body);
    }
    let r = app
        .post_form("/activate", Some(&eve), &[("code", guess)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("Too many wrong codes"), "{}", r.body);
    assert_eq!(r.header(header::RETRY_AFTER), "900");
    // From now on even the right code is refused to eve, by every door.
    for r in [
        app.post_form("/activate", Some(&eve), &[("code", &real)])
            .await,
        app.get(&format!("/activate?code={real}"), Some(&eve)).await,
        app.post_form(
            "/activate/decision",
            Some(&eve),
            &[("code", &real), ("decision", "approve")],
        )
        .await,
    ] {
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    }

    // Someone else from the same address still can, until the address has used up its 30.
    let ann = app.client("ann").await;
    let r = app
        .post_form("/activate", Some(&ann), &[("code", &real)])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    for name in ["mallory", "trudy"] {
        let c = app.client(name).await;
        for _ in 0..10 {
            app.post_form("/activate", Some(&c), &[("code", guess)])
                .await;
        }
    }
    let walter = app.client("walter").await;
    let r = app
        .post_form("/activate", Some(&walter), &[("code", &real)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // The code itself is untouched by all this.
    assert_eq!(
        oauth_error(&poll(&app, str_of(&code, "device_code")).await),
        "authorization_pending"
    );
}

#[tokio::test]
async fn handing_out_codes_is_throttled_per_address() {
    let app = spawn_app().await;
    for _ in 0..30 {
        request_code(&app, "Busy TV").await;
    }
    let r = app
        .post_form("/api/v1/device/code", None, &[("client_name", "Busy TV")])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.json()["error"], "slow_down");
    assert_eq!(r.header(header::RETRY_AFTER), "900");
}

#[tokio::test]
async fn activate_sends_signed_out_viewers_to_sign_in_and_back_with_the_code() {
    let app = spawn_app().await;
    let r = app.get("/activate?code=BCDF-GHJK", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.location(),
        "/signin?next=%2Factivate%3Fcode%3DBCDF%2DGHJK"
    );
}

#[tokio::test]
async fn the_help_page_explains_both_ways_and_every_page_links_to_it() {
    let app = spawn_app_at("https://films.example").await;
    let r = app.get("/help/devices", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let text = text_of(&r.body);
    for expected in [
        "Sign in a TV or app with a code",
        "https://films.example/activate",
        "Play in any HLS or HTTP player",
        "https://films.example/api/v1/movies/1/playback",
        "mpv",
        "VLC",
        "/api/v1/device/code",
    ] {
        assert!(text.contains(expected), "{expected} missing: {text}");
    }
    let home = app.get("/", None).await;
    assert!(
        home.body.contains(r#"<a href="/help/devices">"#),
        "{}",
        home.body
    );
}
