//! HLS packaging end to end: the job lifecycle through the store (enqueue → claim → package →
//! finish), the packaging served over HTTP with the right types, paths outside the packaging
//! refused, progress on the admin page and in the API, leases that expire and are taken over,
//! and the real binary's worker packaging a film that ffmpeg then plays as an HLS client.

use crate::cli::marquee;
use crate::helpers::*;
use crate::media::ffmpeg_clip;
use crate::process::{Server, get};
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use marquee_domain::time_fmt::now_ms;
use marquee_media::SubtitleLang;
use marquee_media_store::MediaKey;
use marquee_server::media::{self, HLS_JOB, SubtitleInput};
use marquee_server::packaging::{LEASE, Outcome, Packager, Report};
use marquee_store::{Job, JobState, MediaRecord, MediaStore, Movie};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// A 640x360 H.264 (High profile) / AAC MP4 of `seconds` with a keyframe every 2 s, so it is
/// browser-safe and a remux can cut 4-second segments; `None` (with a message) without ffmpeg,
/// except under CI=true, where that fails.
fn clip(dir: &Path, name: &str, seconds: u32) -> Option<PathBuf> {
    let seconds = seconds.to_string();
    ffmpeg_clip(
        dir.join(name),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-t",
            &seconds,
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-profile:v",
            "high",
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

const SRT: &str =
    "1\n00:00:01,000 --> 00:00:02,500\nHello, world.\n\n2\n00:00:05,000 --> 00:00:06,000\nLater.\n";

fn english(dir: &Path) -> SubtitleInput {
    let path = dir.join("film.en.srt");
    std::fs::write(&path, SRT).unwrap();
    SubtitleInput {
        path,
        name: None,
        lang: SubtitleLang::parse("en").unwrap(),
    }
}

async fn add(app: &TestApp, movie: &Movie, file: &Path, subs: &[SubtitleInput]) -> MediaRecord {
    media::add_media(
        app.store.as_ref(),
        app.state.media.as_ref(),
        &app.state.tools,
        movie,
        file,
        "film.mp4",
        subs,
    )
    .await
    .unwrap()
}

fn packager(app: &TestApp, worker: &str) -> Packager {
    let mut p = Packager::from_state(&app.state, worker.to_owned());
    p.lease = LEASE;
    p
}

/// Claims the next HLS job as `worker` and runs it, returning the job as claimed, the outcome
/// and every progress report.
async fn claim_and_run(app: &TestApp, worker: &str) -> (Job, Outcome, Vec<f64>) {
    let job = app
        .store
        .claim_job(HLS_JOB, worker, now_ms(), LEASE.as_millis() as i64)
        .await
        .unwrap()
        .expect("a queued job");
    let mut seen = Vec::new();
    let outcome = packager(app, worker)
        .run(&job, &mut |f| seen.push(f), None)
        .await;
    // As the packaging worker does after a job: this instance forgets the film's cached media.
    app.state.cache.invalidate(job.movie_id);
    (job, outcome, seen)
}

fn done(outcome: Outcome) -> Report {
    match outcome {
        Outcome::Done(r) => r,
        other => panic!("expected the packaging to succeed, got {other:?}"),
    }
}

struct Fetched {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Fetched {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn fetch(app: &TestApp, method: Method, uri: &str) -> Fetched {
    let res = app
        .router
        .clone()
        .oneshot(
            Request::builder()
                .method(method)
                .uri(uri)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Fetched {
        status,
        headers,
        body,
    }
}

/// What ffprobe says about the first video stream of a file: `profile` and `codec_name`.
fn video_profile(file: &Path) -> String {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args(["stream=codec_name,profile", "-of", "default=nw=1"])
        .arg(file)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn a_packaged_film_is_served_as_valid_hls_with_one_default_subtitle_track() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let Some(file) = clip(dir.path(), "film.mp4", 10) else {
        return;
    };
    let movie = app.the_work().await;
    let record = add(&app, &movie, &file, &[english(dir.path())]).await;
    // Adding the media queued the job; the playlist is not there yet.
    let queued = app.store.list_jobs(Some(movie.id), 5).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(
        (queued[0].kind.as_str(), queued[0].state),
        (HLS_JOB, JobState::Queued)
    );
    assert_eq!(
        fetch(&app, Method::GET, "/media/the-work/hls/master.m3u8")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let (job, outcome, progress) = claim_and_run(&app, "test-worker").await;
    assert_eq!(job.attempts, 1);
    let report = done(outcome);
    assert_eq!(report.renditions.len(), 1, "{report:?}");
    let top = &report.renditions[0];
    assert_eq!(
        (top.name.as_str(), top.width, top.height),
        ("360p", 640, 360)
    );
    assert!(top.remux, "browser-safe H.264 is remuxed, not encoded");
    assert_eq!(report.subtitles, ["en"]);
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    assert_eq!(progress.last(), Some(&1.0));
    let finished = app.store.job_by_id(job.id).await.unwrap().unwrap();
    assert_eq!((finished.state, finished.progress), (JobState::Done, 1.0));
    let prefix = app
        .store
        .media_for(movie.id)
        .await
        .unwrap()
        .unwrap()
        .hls_prefix
        .unwrap();
    let folder = media::folder_of(&record.storage_key).unwrap();
    assert_eq!(
        prefix,
        format!("{}/hls", folder.as_str()),
        "beside the source"
    );

    // The master playlist, written by Marquee.
    let master = fetch(&app, Method::GET, "/media/the-work/hls/master.m3u8").await;
    assert_eq!(master.status, StatusCode::OK);
    assert_eq!(
        master.header(header::CONTENT_TYPE),
        "application/vnd.apple.mpegurl"
    );
    assert!(master.header(header::CACHE_CONTROL).contains("no-cache"));
    let text = master.text();
    assert!(text.starts_with("#EXTM3U\n"), "{text}");
    let media_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("#EXT-X-MEDIA:"))
        .collect();
    assert_eq!(media_lines.len(), 1, "{text}");
    assert!(
        media_lines[0].contains("TYPE=SUBTITLES")
            && media_lines[0].contains("GROUP-ID=\"subs\"")
            && media_lines[0].contains("LANGUAGE=\"en\"")
            && media_lines[0].contains("NAME=\"English\"")
            && media_lines[0].contains("URI=\"subs/en.m3u8\""),
        "{text}"
    );
    assert_eq!(text.matches("DEFAULT=YES").count(), 1, "{text}");
    let stream = text
        .lines()
        .find(|l| l.starts_with("#EXT-X-STREAM-INF:"))
        .expect("a variant");
    let bandwidth: u64 = stream
        .split_once("BANDWIDTH=")
        .and_then(|(_, rest)| rest.split(',').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(bandwidth > 100_000, "{stream}");
    assert!(stream.contains("RESOLUTION=640x360"), "{stream}");
    assert!(stream.contains("SUBTITLES=\"subs\""), "{stream}");
    // High profile: the source's own stream. An encode at this size would be Main (avc1.4D…).
    assert!(stream.contains("CODECS=\"avc1.64"), "{stream}");
    assert!(stream.contains(",mp4a.40.2\""), "{stream}");
    assert!(text.contains("\n360p/index.m3u8\n"), "{text}");
    let head = fetch(&app, Method::HEAD, "/media/the-work/hls/master.m3u8").await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(
        head.header(header::CONTENT_LENGTH),
        master.body.len().to_string()
    );
    assert!(head.body.is_empty());

    // The rendition, its segments (the source's video, copied), the subtitles.
    let playlist = fetch(&app, Method::GET, "/media/the-work/hls/360p/index.m3u8").await;
    assert_eq!(
        playlist.header(header::CONTENT_TYPE),
        "application/vnd.apple.mpegurl"
    );
    let segments: Vec<String> = playlist
        .text()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_owned)
        .collect();
    assert_eq!(segments.len(), 3, "{}", playlist.text());
    let seg = fetch(
        &app,
        Method::GET,
        &format!("/media/the-work/hls/360p/{}", segments[0]),
    )
    .await;
    assert_eq!(seg.status, StatusCode::OK);
    assert_eq!(seg.header(header::CONTENT_TYPE), "video/mp2t");
    assert!(seg.header(header::CACHE_CONTROL).contains("max-age"));
    let seg_file = dir.path().join("seg.ts");
    std::fs::write(&seg_file, &seg.body).unwrap();
    // ffprobe lists a TS stream once per program: compare the first entry.
    let first = |s: String| s.lines().take(2).collect::<Vec<_>>().join(",");
    assert_eq!(
        first(video_profile(&seg_file)),
        first(video_profile(&file)),
        "the segment holds the source's H.264 as it was"
    );
    let part = fetch(&app, Method::GET, "/media/the-work/hls/subs/en.m3u8").await;
    assert_eq!(
        part.header(header::CONTENT_TYPE),
        "application/vnd.apple.mpegurl"
    );
    assert!(part.text().contains("\nen.vtt\n"), "{}", part.text());
    let vtt = fetch(&app, Method::GET, "/media/the-work/hls/subs/en.vtt").await;
    assert!(vtt.header(header::CONTENT_TYPE).starts_with("text/vtt"));
    let vtt = vtt.text();
    assert!(
        vtt.starts_with("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n"),
        "{vtt}"
    );
    assert!(vtt.contains("00:00:01.000 --> 00:00:02.500"), "{vtt}");

    // Another film, packaged too: its files are never reachable through this film's address.
    let other = app.movie("other-film", "Other Film").await;
    let other_record = add(&app, &other, &file, &[]).await;
    done(claim_and_run(&app, "test-worker").await.1);
    let other_folder = media::folder_of(&other_record.storage_key).unwrap();
    assert_eq!(
        fetch(&app, Method::GET, "/media/other-film/hls/master.m3u8")
            .await
            .status,
        StatusCode::OK
    );
    let upload = folder.file_name();
    let other_upload = other_folder.file_name();
    for path in [
        "../source.mp4".to_owned(),
        "%2e%2e/source.mp4".to_owned(),
        "%2E%2E/%2E%2E/1/x/hls/master.m3u8".to_owned(),
        "360p/..%2F..%2Fsource.mp4".to_owned(),
        "360p/../../subtitles/en.vtt".to_owned(),
        "..%5Csource.mp4".to_owned(),
        "source.mp4".to_owned(),
        "subtitles/en.vtt".to_owned(),
        "missing.m3u8".to_owned(),
        "360p/seg_99999.ts".to_owned(),
        ".hidden.m3u8".to_owned(),
        "%2Fetc%2Fpasswd.m3u8".to_owned(),
        format!("../../{other_upload}/hls/master.m3u8"),
        format!("../../../{}/{other_upload}/hls/master.m3u8", other.id.0),
        format!("{}/hls/master.m3u8", other_folder.as_str()),
        format!("../../{upload}/hls/master.m3u8"),
    ] {
        let url = format!("/media/the-work/hls/{path}");
        let res = fetch(&app, Method::GET, &url).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{url}");
    }
    // A film without packaging has no playlist.
    app.movie("unpackaged", "Unpackaged").await;
    assert_eq!(
        fetch(&app, Method::GET, "/media/unpackaged/hls/master.m3u8")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn packaging_progress_and_failures_show_on_the_admin_page_and_in_the_api() {
    let app = spawn_app().await;
    let admin = app.client("admin").await;
    let viewer = app.client("viewer").await;
    assert!(admin.user.is_admin && !viewer.user.is_admin);
    let (admin_token, viewer_token) = (app.token(&admin).await, app.token(&viewer).await);
    let dir = tempfile::tempdir().unwrap();
    let Some(file) = clip(dir.path(), "film.mp4", 4) else {
        return;
    };
    let movie = app.the_work().await;
    let record = add(&app, &movie, &file, &[english(dir.path())]).await;
    let media_url = format!("/api/v1/movies/{}/media", movie.id.0);

    let before = app.api(Method::GET, &media_url, None, None).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.body);
    let b = before.json();
    assert_eq!(
        (b["width"].as_u64(), b["height"].as_u64()),
        (Some(640), Some(360))
    );
    assert_eq!(b["video_codec"], "h264");
    assert_eq!(b["subtitles"][0]["lang"], "en");
    assert_eq!(b["hls"]["ready"], false);
    assert!(b["hls"]["url"].is_null());
    assert_eq!(b["hls"]["job"]["state"], "queued");

    // Jobs are for administrators only.
    let anon = app.api(Method::GET, "/api/v1/jobs", None, None).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    let denied = app
        .api(Method::GET, "/api/v1/jobs", Some(&viewer_token), None)
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(
        denied.header(header::CONTENT_TYPE),
        "application/problem+json"
    );
    assert_eq!(denied.json()["status"], 403);
    let bad = app
        .api(
            Method::GET,
            "/api/v1/jobs?limit=0",
            Some(&admin_token),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let listed = app
        .api(
            Method::GET,
            &format!("/api/v1/jobs?movie_id={}", movie.id.0),
            Some(&admin_token),
            None,
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let items = listed.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["state"], "queued");
    assert_eq!(items[0]["kind"], "hls");
    assert_eq!(
        app.get("/admin/jobs", Some(&viewer)).await.status,
        StatusCode::FORBIDDEN
    );
    let page = app.get("/admin/jobs", Some(&admin)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("The Work"), "{}", page.body);
    assert!(page.body.contains("data-state=\"queued\""), "{}", page.body);
    assert!(
        app.get("/admin/movies", Some(&admin))
            .await
            .body
            .contains("href=\"/admin/jobs\"")
    );

    // A broken source: the job fails with ffmpeg's own words, visible to admins only.
    let key = MediaKey::parse(&record.storage_key).unwrap();
    let path = app.state.media.local_path(&key).unwrap();
    std::fs::write(&path, b"this is not a video any more").unwrap();
    let (job, outcome, _) = claim_and_run(&app, "test-worker").await;
    let Outcome::Failed(reason) = outcome else {
        panic!("expected a failure, got {outcome:?}");
    };
    assert!(reason.contains("ffmpeg failed"), "{reason}");
    assert!(reason.contains("Invalid data"), "{reason}");
    let failed = app.store.job_by_id(job.id).await.unwrap().unwrap();
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.error.as_deref(), Some(reason.as_str()));
    assert!(
        app.state
            .media
            .list(
                &media::folder_of(&record.storage_key)
                    .unwrap()
                    .join("hls")
                    .unwrap()
            )
            .await
            .unwrap()
            .is_empty(),
        "nothing uploaded"
    );
    let page = app.get("/admin/jobs", Some(&admin)).await;
    assert!(page.body.contains("data-state=\"failed\""), "{}", page.body);
    assert!(page.body.contains("Invalid data"), "{}", page.body);
    assert!(page.body.contains("Package again"), "{}", page.body);
    let as_admin = app
        .api(Method::GET, &media_url, Some(&admin_token), None)
        .await
        .json();
    assert_eq!(as_admin["hls"]["job"]["state"], "failed");
    assert!(
        as_admin["hls"]["job"]["error"]
            .as_str()
            .unwrap()
            .contains("Invalid data")
    );
    assert_eq!(as_admin["hls"]["job"]["worker"], "test-worker");
    let as_viewer = app
        .api(Method::GET, &media_url, Some(&viewer_token), None)
        .await
        .json();
    assert_eq!(as_viewer["hls"]["job"]["state"], "failed");
    assert!(as_viewer["hls"]["job"]["error"].is_null());
    assert!(as_viewer["hls"]["job"]["worker"].is_null());

    // Fixed, and queued again by the admin (a form with CSRF, like the other admin forms).
    std::fs::copy(&file, &path).unwrap();
    let form = format!("/admin/movies/{}/package", movie.id.0);
    let forged = app
        .post_form(&form, Some(&admin), &[("csrf_token", "wrong")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.post_form(&form, Some(&viewer), &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let queued = app.post_form(&form, Some(&admin), &[]).await;
    assert_eq!(queued.status, StatusCode::SEE_OTHER, "{}", queued.body);
    assert_eq!(
        queued.location(),
        format!("/admin/jobs?movie={}&notice=queued", movie.id.0)
    );
    let again = app.post_form(&form, Some(&admin), &[]).await;
    assert!(
        again.location().ends_with("notice=active"),
        "{}",
        again.location()
    );
    let jobs = app.store.list_jobs(Some(movie.id), 10).await.unwrap();
    assert_eq!(jobs.len(), 2, "one new job, however often the form is sent");
    let page = app.get(queued.location(), Some(&admin)).await;
    assert!(page.body.contains("Packaging is queued"), "{}", page.body);
    assert!(page.body.contains("data-state=\"queued\""), "{}", page.body);

    let (_, outcome, _) = claim_and_run(&app, "test-worker").await;
    done(outcome);
    let after = app.api(Method::GET, &media_url, None, None).await.json();
    assert_eq!(after["hls"]["ready"], true);
    assert_eq!(
        after["hls"]["url"],
        "http://localhost/media/the-work/hls/master.m3u8"
    );
    assert_eq!(after["hls"]["job"]["state"], "done");
    assert_eq!(after["hls"]["job"]["progress"], 1.0);
    let page = app.get("/admin/jobs", Some(&admin)).await;
    assert!(page.body.contains("data-state=\"done\""), "{}", page.body);
    let playback = app
        .api(
            Method::GET,
            &format!("/api/v1/movies/{}/playback", movie.id.0),
            None,
            None,
        )
        .await
        .json();
    assert_eq!(playback["hls_url"], after["hls"]["url"]);
    let spec = app
        .api(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .json();
    assert!(spec["paths"]["/api/v1/jobs"]["get"].is_object());
    assert!(spec["paths"]["/api/v1/movies/{id}/media"]["get"].is_object());
}

#[tokio::test]
async fn a_job_whose_worker_went_quiet_is_finished_by_another_worker() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let Some(file) = clip(dir.path(), "film.mp4", 4) else {
        return;
    };
    let movie = app.the_work().await;
    add(&app, &movie, &file, &[]).await;

    // A worker claims the job and dies: it never renews its (short) lease, and its work folder
    // stays behind.
    let crashed = app
        .store
        .claim_job(HLS_JOB, "crashed", now_ms(), 50)
        .await
        .unwrap()
        .unwrap();
    let leftover = app
        .state
        .settings
        .data_dir
        .join(format!("work/hls-job-{}-a1", crashed.id));
    std::fs::create_dir_all(leftover.join("out/360p")).unwrap();
    std::fs::write(leftover.join("out/360p/seg_00000.ts"), b"half").unwrap();
    assert!(
        app.store
            .claim_job(HLS_JOB, "other", now_ms(), 60_000)
            .await
            .unwrap()
            .is_none(),
        "held while the lease lasts"
    );
    tokio::time::sleep(Duration::from_millis(80)).await;

    // Another worker starts: it clears the dead attempt's folder and takes the job over.
    let other = packager(&app, "other");
    other.remove_stale_work().await;
    assert!(!leftover.exists());
    let (job, outcome, _) = claim_and_run(&app, "other").await;
    assert_eq!((job.id, job.attempts), (crashed.id, 2));
    done(outcome);
    let finished = app.store.job_by_id(job.id).await.unwrap().unwrap();
    assert_eq!(
        (finished.state, finished.worker.as_deref()),
        (JobState::Done, Some("other"))
    );
    assert!(
        !app.store
            .finish_job(job.id, "crashed", Some("too late"), now_ms())
            .await
            .unwrap(),
        "the first worker no longer holds it"
    );
    let work = app.state.settings.data_dir.join("work");
    assert_eq!(
        std::fs::read_dir(&work).unwrap().count(),
        0,
        "work folders removed"
    );
}

#[tokio::test]
async fn a_worker_that_lost_its_lease_records_nothing_and_a_stopped_one_hands_the_job_back() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let Some(file) = clip(dir.path(), "film.mp4", 4) else {
        return;
    };
    let movie = app.the_work().await;
    let record = add(&app, &movie, &file, &[]).await;
    let hls = media::folder_of(&record.storage_key)
        .unwrap()
        .join("hls")
        .unwrap();

    // `slow` claims with a lease that runs out at once; `fast` takes the job over before `slow`
    // gets to write anything.
    let slow_job = app
        .store
        .claim_job(HLS_JOB, "slow", now_ms(), 1)
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let fast_job = app
        .store
        .claim_job(HLS_JOB, "fast", now_ms(), 60_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fast_job.id, slow_job.id);
    let outcome = packager(&app, "slow")
        .run(&slow_job, &mut |_| {}, None)
        .await;
    assert!(matches!(outcome, Outcome::Lost), "{outcome:?}");
    assert!(app.state.media.list(&hls).await.unwrap().is_empty());
    let media = app.store.media_for(movie.id).await.unwrap().unwrap();
    assert!(media.hls_prefix.is_none());
    assert_eq!(
        app.store
            .job_by_id(fast_job.id)
            .await
            .unwrap()
            .unwrap()
            .worker
            .as_deref(),
        Some("fast"),
        "still the new holder's"
    );
    done(
        packager(&app, "fast")
            .run(&fast_job, &mut |_| {}, None)
            .await,
    );

    // Queued again; a worker asked to stop hands the job straight back to the queue.
    app.store
        .enqueue_job(HLS_JOB, movie.id, now_ms())
        .await
        .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(true);
    let job = app
        .store
        .claim_job(HLS_JOB, "stopping", now_ms(), 60_000)
        .await
        .unwrap()
        .unwrap();
    let outcome = packager(&app, "stopping")
        .run(&job, &mut |_| {}, Some(stop_rx))
        .await;
    drop(stop_tx);
    assert!(matches!(outcome, Outcome::Stopped), "{outcome:?}");
    let next = app
        .store
        .claim_job(HLS_JOB, "next", now_ms(), 60_000)
        .await
        .unwrap()
        .expect("claimable at once, not after the lease");
    assert_eq!((next.id, next.attempts), (job.id, 2));
}

#[tokio::test]
async fn packaging_reads_the_source_from_s3_and_stores_the_output_there() {
    let Some(s3) = marquee_media_store::testing::fresh_s3().await else {
        return;
    };
    let app = spawn_app_with_media(std::sync::Arc::new(s3)).await;
    let dir = tempfile::tempdir().unwrap();
    let Some(file) = clip(dir.path(), "film.mp4", 4) else {
        return;
    };
    let movie = app.the_work().await;
    let record = add(&app, &movie, &file, &[english(dir.path())]).await;
    let key = MediaKey::parse(&record.storage_key).unwrap();
    assert!(app.state.media.local_path(&key).is_none());
    done(claim_and_run(&app, "test-worker").await.1);
    let hls = media::folder_of(&record.storage_key)
        .unwrap()
        .join("hls")
        .unwrap();
    let names: Vec<String> = app
        .state
        .media
        .list(&hls)
        .await
        .unwrap()
        .iter()
        .map(|o| o.key.strip_prefix(&hls).unwrap().to_owned())
        .collect();
    assert!(names.contains(&"master.m3u8".to_owned()), "{names:?}");
    assert!(names.contains(&"subs/en.vtt".to_owned()), "{names:?}");
    let master = fetch(&app, Method::GET, "/media/the-work/hls/master.m3u8").await;
    assert_eq!(master.status, StatusCode::OK);
    assert!(master.text().contains("LANGUAGE=\"en\""));
}

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The film's packaging state from the running server's API.
fn hls_state(addr: &str, movie_id: i64) -> serde_json::Value {
    let (status, body) = get(addr, &format!("/api/v1/movies/{movie_id}/media"));
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<serde_json::Value>(&body).unwrap()["hls"].clone()
}

fn wait_until_packaged(addr: &str, movie_id: i64, limit: Duration) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let hls = hls_state(addr, movie_id);
        if hls["ready"] == true {
            return hls;
        }
        assert_ne!(hls["job"]["state"], "failed", "{hls}");
        assert!(
            started.elapsed() < limit,
            "not packaged after {limit:?}: {hls}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_running_server_packages_new_media_and_ffmpeg_plays_it_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let Some(file) = clip(dir.path(), "film.mp4", 10) else {
        return;
    };
    let data = dir.path().join("data");
    let subs = english(dir.path());
    let server = Server::start(&data, &[], &[]);
    let addr = server.addr.clone();
    ok(marquee(
        &data,
        &["movie", "add", "--title", "The Work", "--year", "2017"],
    ));
    let added = ok(marquee(
        &data,
        &[
            "media",
            "add",
            "the-work-2017",
            file.to_str().unwrap(),
            "--subtitles",
            subs.path.to_str().unwrap(),
            "--lang",
            "en",
        ],
    ));
    assert!(added.contains("HLS packaging is queued"), "{added}");

    let hls = wait_until_packaged(&addr, 1, Duration::from_secs(60));
    // (The URL's host is the server's public URL, `--listen` unless `--public-url` says.)
    assert!(
        hls["url"]
            .as_str()
            .unwrap()
            .ends_with("/media/the-work-2017/hls/master.m3u8"),
        "{hls}"
    );
    // ffmpeg as a device would: master playlist, variant, segments, all over HTTP.
    let url = format!("http://{addr}/media/the-work-2017/hls/master.m3u8");
    let play = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-i", &url])
        .args(["-t", "3", "-f", "null", "-"])
        .output()
        .unwrap();
    assert!(
        play.status.success(),
        "ffmpeg could not play {url}: {}",
        String::from_utf8_lossy(&play.stderr)
    );
    let jobs = ok(marquee(&data, &["media", "jobs"]));
    assert!(jobs.contains("done") && jobs.contains("/serve-"), "{jobs}");
}

#[test]
fn queued_packaging_waits_for_a_worker_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let Some(file) = clip(dir.path(), "film.mp4", 4) else {
        return;
    };
    let data = dir.path().join("data");
    // A web-only instance leaves the job alone.
    let mut web_only = Server::start(&data, &[], &["--no-worker"]);
    let addr = web_only.addr.clone();
    ok(marquee(
        &data,
        &["movie", "add", "--title", "The Work", "--year", "2017"],
    ));
    ok(marquee(
        &data,
        &["media", "add", "the-work-2017", file.to_str().unwrap()],
    ));
    std::thread::sleep(Duration::from_secs(3));
    let hls = hls_state(&addr, 1);
    assert_eq!(
        (hls["ready"].as_bool(), hls["job"]["state"].as_str()),
        (Some(false), Some("queued"))
    );
    assert!(web_only.terminate().success());

    // The job is a row: the next instance with a worker picks it up.
    let server = Server::start(&data, &[], &[]);
    wait_until_packaged(&server.addr, 1, Duration::from_secs(60));
    let shown = ok(marquee(&data, &["media", "show", "the-work-2017"]));
    assert!(shown.contains("HLS: ready"), "{shown}");

    // `media package` in the foreground, for a film whose job is done: a new job, run here.
    drop(server);
    let out = ok(marquee(&data, &["media", "package", "the-work-2017"]));
    assert!(out.contains("× real time"), "{out}");
    assert!(out.contains("remux"), "{out}");
    let jobs = ok(marquee(
        &data,
        &["media", "jobs", "--film", "the-work-2017"],
    ));
    assert!(jobs.contains("/cli-"), "{jobs}");
    let done_rows = jobs.lines().filter(|l| l.contains(" hls   done ")).count();
    assert_eq!(done_rows, 2, "{jobs}");
}

/// A 640x360 MPEG-4 Part 2 clip: quick to make, but not browser-safe, so packaging must encode
/// it (a few seconds of work for a worker to be caught in).
fn mpeg4_clip(dir: &Path, seconds: u32) -> Option<PathBuf> {
    let seconds = seconds.to_string();
    ffmpeg_clip(
        dir.join("old.mp4"),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-t",
            &seconds,
            "-c:v",
            "mpeg4",
            "-q:v",
            "5",
            "-c:a",
            "aac",
        ],
    )
}

#[test]
fn a_server_killed_mid_job_is_replaced_by_one_that_finishes_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let Some(file) = mpeg4_clip(dir.path(), 30) else {
        return;
    };
    let data = dir.path().join("data");
    let lease = ["--job-lease-secs", "5"];
    let mut first = Server::start(&data, &[], &lease);
    ok(marquee(
        &data,
        &["movie", "add", "--title", "The Work", "--year", "2017"],
    ));
    ok(marquee(
        &data,
        &["media", "add", "the-work-2017", file.to_str().unwrap()],
    ));
    let started = Instant::now();
    loop {
        let hls = hls_state(&first.addr, 1);
        match hls["job"]["state"].as_str() {
            Some("running") => break,
            Some("queued") => {}
            other => panic!("the job should be running by now, not {other:?}: {hls}"),
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{hls}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // SIGKILL: no goodbye, the lease is simply never renewed again.
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let dead_attempt = data.join("work/hls-job-1-a1");
    assert!(
        dead_attempt.exists(),
        "the killed worker's folder stays behind"
    );

    let second = Server::start(&data, &[], &lease);
    wait_until_packaged(&second.addr, 1, Duration::from_secs(90));
    let job = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = marquee_store_sqlite::SqliteStore::open(&data.join("marquee.db"))
            .await
            .unwrap();
        store.job_by_id(1).await.unwrap().unwrap()
    });
    assert_eq!((job.state, job.attempts), (JobState::Done, 2), "{job:?}");
    assert!(
        job.worker
            .as_deref()
            .unwrap()
            .contains(&format!("/serve-{}-", second.child.id())),
        "finished by the second server: {job:?}"
    );
    assert!(
        !dead_attempt.exists(),
        "the dead attempt's folder was cleared"
    );
    let shown = ok(marquee(&data, &["media", "show", "the-work-2017"]));
    assert!(shown.contains("HLS: ready"), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_on_one_postgres_database_package_each_film_once() {
    let Some(url) = marquee_store_postgres::testing::fresh_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let Some(file) = clip(dir.path(), "film.mp4", 4) else {
        return;
    };
    // One database and one media folder; each instance has its own data folder (work folders).
    let shared = dir.path().join("media");
    let global = [
        "--database-url",
        url.as_str(),
        "--media-url",
        shared.to_str().unwrap(),
    ];
    let (dir_a, dir_b, dir_cli) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("cli"),
    );
    let a = Server::start(&dir_a, &global, &[]);
    let _b = Server::start(&dir_b, &global, &[]);
    let films = ["first", "second", "third"];
    for title in films {
        let mut args = global.to_vec();
        args.extend(["movie", "add", "--title", title, "--slug", title]);
        ok(marquee(&dir_cli, &args));
        let mut args = global.to_vec();
        args.extend(["media", "add", title, file.to_str().unwrap()]);
        ok(marquee(&dir_cli, &args));
    }
    for id in 1..=3 {
        wait_until_packaged(&a.addr, id, Duration::from_secs(60));
    }
    let store = marquee_store_postgres::PgStore::connect(
        &url,
        &marquee_store_postgres::PgSettings {
            max_connections: 2,
            schema: None,
        },
    )
    .await
    .unwrap();
    let jobs = store.list_jobs(None, 10).await.unwrap();
    assert_eq!(jobs.len(), 3, "{jobs:?}");
    for j in &jobs {
        assert_eq!((j.state, j.attempts), (JobState::Done, 1), "{j:?}");
        assert!(j.worker.as_deref().unwrap().contains("/serve-"), "{j:?}");
    }
}
