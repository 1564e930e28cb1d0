//! Media: taking a file in (probe, store, subtitles), direct play with byte ranges, the watch
//! page, and positions. Clips are made by ffmpeg inside the tests.

use crate::helpers::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use marquee_media::SubtitleLang;
use marquee_server::media::{self, MediaError, SubtitleInput};
use marquee_store::{MediaRecord, Movie};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use tower::ServiceExt;

/// Runs ffmpeg with `args` (inputs and encoding; `-v error -y` and the output are added) to make
/// the test clip `out`, or returns `None` (with a message) when ffmpeg is missing on a
/// developer's machine; under CI a missing ffmpeg fails the test.
pub fn ffmpeg_clip(out: PathBuf, args: &[&str]) -> Option<PathBuf> {
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(&out)
        .status();
    match status {
        Ok(s) if s.success() => Some(out),
        Ok(s) => panic!("ffmpeg failed making a clip: {s}"),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("ffmpeg is required under CI: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: ffmpeg is not installed ({e})");
            None
        }
    }
}

/// Makes a 320x240 H.264/AAC MP4 test clip of `seconds` (see [`ffmpeg_clip`]).
pub fn clip(dir: &Path, name: &str, seconds: u32) -> Option<PathBuf> {
    let seconds = seconds.to_string();
    ffmpeg_clip(
        dir.join(name),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=44100",
            "-t",
            &seconds,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "50",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-movflags",
            "+faststart",
        ],
    )
}

const SRT: &str = "1\r\n00:00:01,000 --> 00:00:02,500\r\nHello, <i>world</i>.\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nSecond line.\r\n";

async fn add(
    app: &TestApp,
    movie: &Movie,
    file: &Path,
    subs: &[SubtitleInput],
) -> Result<MediaRecord, MediaError> {
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    media::add_media(
        app.store.as_ref(),
        app.state.media.as_ref(),
        &app.state.tools,
        movie,
        file,
        &name,
        subs,
    )
    .await
}

fn english(dir: &Path) -> SubtitleInput {
    let path = dir.join("the-work.en.srt");
    std::fs::write(&path, SRT).unwrap();
    SubtitleInput {
        path,
        name: None,
        lang: SubtitleLang::parse("en").unwrap(),
    }
}

struct Raw {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(header::HeaderName, &str)],
) -> Raw {
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(k, *v);
    }
    let res = app
        .router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Raw {
        status,
        headers,
        body,
    }
}

fn h(r: &Raw, name: header::HeaderName) -> &str {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn the_direct_file_answers_ranges_validators_and_conditions_like_a_file_server() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let Some(file) = clip(dir.path(), "the-work.mp4", 4) else {
        return;
    };
    let bytes = std::fs::read(&file).unwrap();
    let size = bytes.len();
    let movie = app.the_work().await;
    let record = add(&app, &movie, &file, &[english(dir.path())])
        .await
        .unwrap();
    assert_eq!(
        (record.width, record.height, record.video_codec.as_str()),
        (320, 240, "h264")
    );
    assert_eq!(record.size_bytes as usize, size);
    assert!(
        (3900..=4200).contains(&record.duration_ms),
        "{}",
        record.duration_ms
    );

    let url = "/media/the-work/file";
    let full = raw(&app, Method::GET, url, &[]).await;
    assert_eq!(full.status, StatusCode::OK);
    assert_eq!(h(&full, header::CONTENT_TYPE), "video/mp4");
    assert_eq!(h(&full, header::ACCEPT_RANGES), "bytes");
    assert_eq!(h(&full, header::CONTENT_LENGTH), size.to_string());
    assert!(full.body == bytes, "the whole file, byte for byte");
    let etag = h(&full, header::ETAG).to_owned();
    let modified = h(&full, header::LAST_MODIFIED).to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert!(modified.ends_with(" GMT"), "{modified}");

    let head = raw(&app, Method::HEAD, url, &[]).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(h(&head, header::CONTENT_LENGTH), size.to_string());
    assert!(head.body.is_empty());

    let first = raw(&app, Method::GET, url, &[(header::RANGE, "bytes=0-99")]).await;
    assert_eq!(first.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        h(&first, header::CONTENT_RANGE),
        format!("bytes 0-99/{size}")
    );
    assert_eq!(first.body, bytes[..100]);

    let middle = raw(&app, Method::GET, url, &[(header::RANGE, "bytes=1000-")]).await;
    assert_eq!(middle.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(middle.body, bytes[1000..]);

    let suffix = raw(&app, Method::GET, url, &[(header::RANGE, "bytes=-500")]).await;
    assert_eq!(
        h(&suffix, header::CONTENT_RANGE),
        format!("bytes {}-{}/{size}", size - 500, size - 1)
    );
    assert_eq!(suffix.body, bytes[size - 500..]);

    let beyond = format!("bytes={size}-");
    let none = raw(&app, Method::GET, url, &[(header::RANGE, &beyond)]).await;
    assert_eq!(none.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(h(&none, header::CONTENT_RANGE), format!("bytes */{size}"));

    // If-Range: the range only while the client's copy is current.
    let same = raw(
        &app,
        Method::GET,
        url,
        &[(header::RANGE, "bytes=0-9"), (header::IF_RANGE, &etag)],
    )
    .await;
    assert_eq!(same.status, StatusCode::PARTIAL_CONTENT);
    let stale = raw(
        &app,
        Method::GET,
        url,
        &[(header::RANGE, "bytes=0-9"), (header::IF_RANGE, "\"old\"")],
    )
    .await;
    assert_eq!(stale.status, StatusCode::OK);
    assert_eq!(stale.body.len(), size);

    let cached = raw(&app, Method::GET, url, &[(header::IF_NONE_MATCH, &etag)]).await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED);
    assert!(cached.body.is_empty());

    // Subtitles: the SRT was converted to WebVTT.
    let vtt = raw(&app, Method::GET, "/media/the-work/subtitles/en.vtt", &[]).await;
    assert_eq!(vtt.status, StatusCode::OK);
    assert!(h(&vtt, header::CONTENT_TYPE).starts_with("text/vtt"));
    let text = String::from_utf8(vtt.body).unwrap();
    assert!(text.starts_with("WEBVTT"), "{text}");
    assert!(text.contains("00:00:01.000 --> 00:00:02.500"), "{text}");
    for missing in [
        "/media/the-work/subtitles/de.vtt",
        "/media/the-work/subtitles/..%2Fx.vtt",
        "/media/nope/file",
    ] {
        assert_eq!(
            raw(&app, Method::GET, missing, &[]).await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }

    // The title page offers to watch, with the film's length.
    let page = app.get("/movies/the-work", None).await;
    assert!(
        page.body.contains("href=\"/watch/the-work\""),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_file_that_is_not_a_video_is_refused_and_leaves_nothing_behind() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let Some(good) = clip(dir.path(), "good.mp4", 2) else {
        return;
    };
    let movie = app.the_work().await;
    let text = dir.path().join("notes.mp4");
    std::fs::write(&text, "these are not the frames you are looking for").unwrap();
    let err = add(&app, &movie, &text, &[]).await.unwrap_err();
    assert!(err.to_string().contains("notes.mp4"), "{err}");
    assert!(app.store.media_for(movie.id).await.unwrap().is_none());

    // Bad subtitles stop the whole addition, before anything is stored.
    let bad = dir.path().join("bad.srt");
    std::fs::write(&bad, "not subtitles at all").unwrap();
    let input = SubtitleInput {
        path: bad,
        name: None,
        lang: SubtitleLang::parse("fr").unwrap(),
    };
    let err = add(&app, &movie, &good, &[input]).await.unwrap_err();
    assert!(err.to_string().contains("bad.srt"), "{err}");
    assert!(app.store.media_for(movie.id).await.unwrap().is_none());
    let root = marquee_media_store::MediaKey::parse("films").unwrap();
    assert!(
        app.state.media.list(&root).await.unwrap().is_empty(),
        "nothing stored"
    );

    // A replacement removes the previous upload's objects.
    add(&app, &movie, &good, &[english(dir.path())])
        .await
        .unwrap();
    let before = app.state.media.list(&root).await.unwrap();
    assert_eq!(before.len(), 2, "the file and its subtitles");
    add(&app, &movie, &good, &[]).await.unwrap();
    let after = app.state.media.list(&root).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_ne!(after[0].key, before[0].key);
    assert!(
        media::remove_media(app.store.as_ref(), app.state.media.as_ref(), movie.id)
            .await
            .unwrap()
    );
    assert!(app.state.media.list(&root).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_watch_page_resumes_where_the_viewer_left_off_and_the_home_page_offers_it() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let Some(file) = clip(dir.path(), "the-work.mp4", 10) else {
        return;
    };
    let movie = app.the_work().await;
    add(&app, &movie, &file, &[english(dir.path())])
        .await
        .unwrap();

    let page = app.get("/watch/the-work", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("src=\"/media/the-work/file\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("<track kind=\"subtitles\" srclang=\"en\" label=\"English\" src=\"/media/the-work/subtitles/en.vtt\" default>"), "{}", page.body);
    assert!(page.body.contains("data-resume=\"0\""));
    assert!(
        !page.body.contains("data-progress"),
        "signed out: nothing to report to"
    );

    let viewer = app.client("viewer").await;
    let token = app.token(&viewer).await;
    let path = format!("/api/v1/movies/{}/progress", movie.id.0);
    let saved = app
        .api(
            Method::PUT,
            &path,
            Some(&token),
            Some(json!({"position_ms": 4200})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.json()["resume_ms"], 4200);
    let page = app.get("/watch/the-work", Some(&viewer)).await;
    assert!(page.body.contains("data-resume=\"4.2\""), "{}", page.body);
    assert!(page.body.contains(&format!("data-progress=\"{path}\"")));
    let home = app.get("/", Some(&viewer)).await;
    assert!(home.body.contains("Continue watching"), "{}", home.body);
    assert!(home.body.contains("href=\"/watch/the-work\""));

    let play = app
        .api(
            Method::GET,
            &format!("/api/v1/movies/{}/playback", movie.id.0),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(play.status, StatusCode::OK, "{}", play.body);
    let p = play.json();
    assert_eq!(p["resume_ms"], 4200);
    // A bearer token is a device: its URLs are signed (see tests/http/devices.rs).
    let direct = p["direct_url"].as_str().unwrap();
    assert!(
        direct.starts_with("http://localhost/media/the-work/file?u="),
        "{direct}"
    );
    let subtitles = p["subtitles"][0]["url"].as_str().unwrap();
    assert!(
        subtitles.starts_with("http://localhost/media/the-work/subtitles/en.vtt?u="),
        "{subtitles}"
    );
    assert!(p["hls_url"].is_null(), "not packaged yet");

    // Past 90 %: watched, off the shelf, and the next playback starts at the beginning.
    let done = app
        .api(
            Method::PUT,
            &path,
            Some(&token),
            Some(json!({"position_ms": 9500})),
        )
        .await;
    assert!(done.json()["watched_ms"].is_i64(), "{}", done.body);
    assert_eq!(done.json()["resume_ms"], 0);
    let home = app.get("/", Some(&viewer)).await;
    assert!(!home.body.contains("Continue watching"));

    // Bad input is a clear 4xx and changes nothing.
    let past = app
        .api(
            Method::PUT,
            &path,
            Some(&token),
            Some(json!({"position_ms": 999_999_999})),
        )
        .await;
    assert_eq!(past.status, StatusCode::BAD_REQUEST, "{}", past.body);
    let wrong = app
        .api(
            Method::PUT,
            &path,
            Some(&token),
            Some(json!({"position_ms": "soon"})),
        )
        .await;
    assert!(wrong.status.is_client_error());
    let anon = app
        .api(Method::PUT, &path, None, Some(json!({"position_ms": 1})))
        .await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    let p = app
        .store
        .position(viewer.user.id, movie.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.position_ms, 9500);
}

#[tokio::test]
async fn a_members_only_film_plays_for_signed_in_viewers_only_on_every_endpoint() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let Some(file) = clip(dir.path(), "the-work.mp4", 2) else {
        return;
    };
    let movie = app.the_work().await;
    add(&app, &movie, &file, &[english(dir.path())])
        .await
        .unwrap();
    app.store.set_members_only(movie.id, true).await.unwrap();
    // As the admin page and `marquee media access` do: the instance forgets what it cached.
    app.state.changed(movie.id).await;
    app.state.cache.invalidate(movie.id);

    let endpoints = [
        "/media/the-work/file".to_owned(),
        "/media/the-work/subtitles/en.vtt".to_owned(),
        format!("/api/v1/movies/{}/playback", movie.id.0),
    ];
    for url in &endpoints {
        let anon = raw(&app, Method::GET, url, &[(header::RANGE, "bytes=0-9")]).await;
        assert_eq!(anon.status, StatusCode::UNAUTHORIZED, "{url}");
    }
    let page = app.get("/watch/the-work", None).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/signin?next=%2Fwatch%2Fthe%2Dwork");
    let title = app.get("/movies/the-work", None).await;
    assert!(
        title.body.contains("for signed-in viewers"),
        "{}",
        title.body
    );

    let viewer = app.client("member").await;
    for url in &endpoints {
        let mut req = Request::get(url.as_str()).header(header::COOKIE, &viewer.cookie);
        req = req.header(header::RANGE, "bytes=0-9");
        let res = app
            .router
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert!(res.status().is_success(), "{url}: {}", res.status());
    }
    assert_eq!(
        app.get("/watch/the-work", Some(&viewer)).await.status,
        StatusCode::OK
    );
    let token = app.token(&viewer).await;
    let play = app
        .api(
            Method::GET,
            &format!("/api/v1/movies/{}/playback", movie.id.0),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(play.status, StatusCode::OK);

    // Public again: anyone.
    app.store.set_members_only(movie.id, false).await.unwrap();
    // As the admin page and `marquee media access` do: the instance forgets what it cached.
    app.state.changed(movie.id).await;
    assert_eq!(
        raw(&app, Method::GET, &endpoints[0], &[]).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn direct_play_from_s3_turns_byte_ranges_into_ranged_gets() {
    let Some(s3) = marquee_media_store::testing::fresh_s3().await else {
        return;
    };
    let app = spawn_app_with_media(std::sync::Arc::new(s3)).await;
    let dir = tempfile::tempdir().unwrap();
    let Some(file) = clip(dir.path(), "the-work.mp4", 3) else {
        return;
    };
    let bytes = std::fs::read(&file).unwrap();
    let size = bytes.len();
    let movie = app.the_work().await;
    let record = add(&app, &movie, &file, &[english(dir.path())])
        .await
        .unwrap();
    let key = marquee_media_store::MediaKey::parse(&record.storage_key).unwrap();
    assert!(
        app.state.media.local_path(&key).is_none(),
        "stored in S3, not on disk"
    );

    let url = "/media/the-work/file";
    let part = raw(
        &app,
        Method::GET,
        url,
        &[(header::RANGE, "bytes=1000-1999")],
    )
    .await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        h(&part, header::CONTENT_RANGE),
        format!("bytes 1000-1999/{size}")
    );
    assert_eq!(part.body, bytes[1000..2000]);
    let tail = raw(&app, Method::GET, url, &[(header::RANGE, "bytes=-100")]).await;
    assert_eq!(tail.body, bytes[size - 100..]);
    let whole = raw(&app, Method::GET, url, &[]).await;
    assert!(whole.body == bytes);
    let beyond = format!("bytes={}-", size + 10);
    assert_eq!(
        raw(&app, Method::GET, url, &[(header::RANGE, &beyond)])
            .await
            .status,
        StatusCode::RANGE_NOT_SATISFIABLE
    );
    let vtt = raw(&app, Method::GET, "/media/the-work/subtitles/en.vtt", &[]).await;
    assert!(String::from_utf8(vtt.body).unwrap().starts_with("WEBVTT"));
    assert!(
        media::remove_media(app.store.as_ref(), app.state.media.as_ref(), movie.id)
            .await
            .unwrap()
    );
    let root = marquee_media_store::MediaKey::parse("films").unwrap();
    assert!(app.state.media.list(&root).await.unwrap().is_empty());
}

fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "marqueetestboundary7d3";
    let mut body = Vec::new();
    for (name, file, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            ),
            None => body.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
        }
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(
    app: &TestApp,
    client: &Client,
    id: i64,
    parts: &[(&str, Option<&str>, &[u8])],
) -> Reply {
    let (content_type, body) = multipart(parts);
    let req = Request::post(format!(
        "/admin/movies/{id}/media?csrf_token={}",
        client.csrf
    ))
    .header(header::COOKIE, &client.cookie)
    .header(header::CONTENT_TYPE, content_type)
    .body(Body::from(body))
    .unwrap();
    app.send(req).await
}

#[tokio::test]
async fn the_admin_upload_form_streams_a_film_in_and_refuses_what_is_not_one() {
    let app = spawn_app().await;
    let admin = app.client("admin").await;
    let dir = tempfile::tempdir().unwrap();
    let Some(file) = clip(dir.path(), "upload.mp4", 2) else {
        return;
    };
    let bytes = std::fs::read(&file).unwrap();
    let movie = app.the_work().await;
    let id = movie.id.0;

    // Not a video: the form again, with the reason, and nothing stored.
    let bad = upload(
        &app,
        &admin,
        id,
        &[("media", Some("notes.mp4"), b"just some text")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("notes.mp4"), "{}", bad.body);
    assert!(app.store.media_for(movie.id).await.unwrap().is_none());
    let subs_without_lang = upload(
        &app,
        &admin,
        id,
        &[
            ("media", Some("upload.mp4"), &bytes),
            ("subtitles", Some("x.srt"), SRT.as_bytes()),
        ],
    )
    .await;
    assert_eq!(subs_without_lang.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        subs_without_lang.body.contains("which language"),
        "{}",
        subs_without_lang.body
    );

    let ok = upload(
        &app,
        &admin,
        id,
        &[
            ("media", Some("upload.mp4"), &bytes),
            ("subtitles", Some("upload.en.srt"), SRT.as_bytes()),
            ("lang", None, b"en"),
        ],
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(
        ok.location(),
        format!("/admin/movies/{id}/media?notice=added")
    );
    let m = app.store.media_for(movie.id).await.unwrap().unwrap();
    assert_eq!(
        (m.file_name.as_str(), m.size_bytes as usize),
        ("upload.mp4", bytes.len())
    );
    assert_eq!(app.store.subtitles_for(movie.id).await.unwrap().len(), 1);
    let page = app
        .get(
            &format!("/admin/movies/{id}/media?notice=added"),
            Some(&admin),
        )
        .await;
    assert!(page.body.contains("upload.mp4"), "{}", page.body);
    assert!(page.body.contains("HLS packaging: queued"), "{}", page.body);
    // The temporary upload folder is gone.
    let uploads = app.state.settings.data_dir.join("uploads");
    assert_eq!(
        std::fs::read_dir(&uploads).map(|d| d.count()).unwrap_or(0),
        0
    );

    // Only admins, and only with the form's CSRF token.
    let viewer = app.client("viewer").await;
    let denied = upload(&app, &viewer, id, &[("media", Some("upload.mp4"), &bytes)]).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let (content_type, body) = multipart(&[("media", Some("upload.mp4"), &bytes)]);
    let no_token = Request::post(format!("/admin/movies/{id}/media"))
        .header(header::COOKIE, &admin.cookie)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    assert_eq!(app.send(no_token).await.status, StatusCode::FORBIDDEN);

    let access = app
        .post_form(
            &format!("/admin/movies/{id}/media/access"),
            Some(&admin),
            &[("who", "members")],
        )
        .await;
    assert_eq!(access.status, StatusCode::SEE_OTHER);
    assert!(
        app.store
            .movie_by_id(movie.id)
            .await
            .unwrap()
            .unwrap()
            .members_only
    );
    let removed = app
        .post_form(
            &format!("/admin/movies/{id}/media/remove"),
            Some(&admin),
            &[],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(app.store.media_for(movie.id).await.unwrap().is_none());
}
