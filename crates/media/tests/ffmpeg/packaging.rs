//! Packaging real clips into HLS and playing the result back with ffmpeg.

use crate::clips::{ffmpeg_available, ffprobe_entries, h264_mp4, play_hls, vp9_webm};
use marquee_media::codecs::avc1_codec;
use marquee_media::hls::{
    MASTER_NAME, MediaPlaylist, PackageError, Rendition, SubtitleTrack, TS_START_OFFSET_90KHZ,
    master_playlist, package_ladder, package_rendition, plan_ladder, subtitle_playlist,
    with_timestamp_map,
};
use marquee_media::subtitles::srt_to_vtt;
use marquee_media::{H264Level, H264Profile, SubtitleLang, ToolError, Tools, probe};
use std::path::Path;
use std::time::Duration;

/// The value of `key=` among ffprobe's lines.
fn entry<'a>(lines: &'a [String], key: &str) -> &'a str {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in {lines:?}"))
}

/// The codecs string for what is really in a segment, to hold `CODECS` against.
fn codecs_in_segment(segment: &Path) -> String {
    let video = ffprobe_entries(segment, "v:0", "stream=profile,level");
    let profile = H264Profile::from_ffprobe(entry(&video, "profile")).expect("a known profile");
    let level = H264Level::from_idc(entry(&video, "level").parse().unwrap()).expect("a level");
    let audio = ffprobe_entries(segment, "a:0", "stream=codec_name,profile");
    assert_eq!(entry(&audio, "codec_name"), "aac");
    assert_eq!(entry(&audio, "profile"), "LC");
    format!("{},mp4a.40.2", avc1_codec(profile, level))
}

fn read_playlist(dir: &Path) -> MediaPlaylist {
    MediaPlaylist::parse(&std::fs::read_to_string(dir.join("index.m3u8")).unwrap()).unwrap()
}

#[tokio::test]
async fn a_720p_h264_clip_becomes_a_playable_hls_ladder() {
    if !ffmpeg_available("a_720p_h264_clip_becomes_a_playable_hls_ladder") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clip = h264_mp4(dir.path(), "film.mp4", 1280, 720, 10);
    let tools = Tools::default();
    let info = probe(&tools, &clip).await.unwrap();

    let ladder = plan_ladder(&info);
    let names: Vec<&str> = ladder.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["720p", "480p", "360p"]);
    assert!(ladder[0].is_remux() && !ladder[1].is_remux() && !ladder[2].is_remux());

    let root = dir.path().join("hls");
    let mut fractions = Vec::new();
    let outputs = package_ladder(&tools, &clip, &ladder, &root, info.duration(), |f| {
        fractions.push(f)
    })
    .await
    .unwrap();

    assert!(fractions.len() > 3, "{fractions:?}");
    assert!(fractions.windows(2).all(|w| w[0] <= w[1]), "{fractions:?}");
    assert!(fractions.iter().all(|f| (0.0..=1.0).contains(f)));
    assert_eq!(fractions.last(), Some(&1.0));

    let mut grids = Vec::new();
    for (rendition, output) in ladder.iter().zip(&outputs) {
        let rdir = root.join(&rendition.name);
        let playlist = read_playlist(&rdir);
        assert!(playlist.ended);
        let durations: Vec<f64> = playlist.segments.iter().map(|s| s.duration_secs).collect();
        assert_eq!(durations.len(), 3, "{}: {durations:?}", rendition.name);
        for d in &durations[..2] {
            assert!((d - 4.0).abs() < 0.1, "{}: {durations:?}", rendition.name);
        }
        assert!((playlist.total_secs() - 10.0).abs() < 0.2, "{durations:?}");
        assert!(playlist.target_duration <= 5);
        grids.push(durations);

        for seg in &playlist.segments {
            assert!(std::fs::metadata(rdir.join(&seg.uri)).unwrap().len() > 0);
        }
        assert_eq!(output.segment_count, 3);
        assert_eq!(output.uri, format!("{}/index.m3u8", rendition.name));
        assert!(output.peak_bandwidth >= output.average_bandwidth);
        assert!(output.average_bandwidth > 50_000);

        // What the master playlist will claim must be what is in the segments.
        let first = rdir.join(&playlist.segments[0].uri);
        assert_eq!(
            output.codecs,
            codecs_in_segment(&first),
            "{}",
            rendition.name
        );
        let size = ffprobe_entries(&first, "v:0", "stream=width,height");
        assert_eq!(entry(&size, "width"), rendition.width.to_string());
        assert_eq!(entry(&size, "height"), rendition.height.to_string());

        // The MPEG-TS timeline starts where X-TIMESTAMP-MAP says (plus B-frame delay).
        let start = ffprobe_entries(&first, "v:0", "stream=start_time");
        let start: f64 = entry(&start, "start_time").parse().unwrap();
        let offset = TS_START_OFFSET_90KHZ as f64 / 90_000.0;
        assert!(
            (offset..offset + 0.2).contains(&start),
            "start_time {start}"
        );
    }
    // Every rendition cuts at the same instants, so players can switch at any boundary.
    for g in &grids[1..] {
        for (a, b) in g.iter().zip(&grids[0]) {
            assert!((a - b).abs() < 0.05, "{grids:?}");
        }
    }

    // Subtitles next to the renditions, as the server would place them.
    let srt = "1\n00:00:01,000 --> 00:00:03,000\nHello\n\n2\n00:00:05,000 --> 00:00:07,000\nBye\n";
    let vtt = srt_to_vtt(srt).unwrap().vtt;
    std::fs::create_dir_all(root.join("subs")).unwrap();
    std::fs::write(root.join("subs/en.vtt"), with_timestamp_map(&vtt)).unwrap();
    std::fs::write(
        root.join("subs/en.m3u8"),
        subtitle_playlist(info.duration(), "en.vtt"),
    )
    .unwrap();
    let track = SubtitleTrack::new(SubtitleLang::parse("en").unwrap(), "subs/en.m3u8");

    let master = master_playlist(&outputs, &[track]);
    std::fs::write(root.join(MASTER_NAME), &master).unwrap();
    for (r, o) in ladder.iter().zip(&outputs) {
        let line = format!(
            "CODECS=\"{}\",RESOLUTION={}x{},FRAME-RATE=25.000,SUBTITLES=\"subs\"\n{}/index.m3u8\n",
            o.codecs, r.width, r.height, r.name
        );
        assert!(master.contains(&line), "missing {line:?} in\n{master}");
    }
    assert_eq!(master.matches("DEFAULT=YES").count(), 1);

    play_hls(&root.join(MASTER_NAME), 3).unwrap_or_else(|e| panic!("{e}\n{master}"));
}

#[tokio::test]
async fn a_vp9_webm_is_encoded_to_h264_and_aac() {
    if !ffmpeg_available("a_vp9_webm_is_encoded_to_h264_and_aac") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clip = vp9_webm(dir.path(), "film.webm", 320, 180, 6);
    let tools = Tools::default();
    let info = probe(&tools, &clip).await.unwrap();
    let ladder = plan_ladder(&info);
    assert_eq!(ladder.len(), 1);

    let out = dir.path().join("hls").join(&ladder[0].name);
    let output = package_rendition(&tools, &clip, &ladder[0], &out, info.duration(), |_| {})
        .await
        .unwrap();

    assert_eq!(output.codecs, "avc1.4D401E,mp4a.40.2");
    let playlist = read_playlist(&out);
    let durations: Vec<f64> = playlist.segments.iter().map(|s| s.duration_secs).collect();
    assert_eq!(durations.len(), 2, "{durations:?}");
    assert!((durations[0] - 4.0).abs() < 0.1, "{durations:?}");
    let first = out.join(&playlist.segments[0].uri);
    assert_eq!(codecs_in_segment(&first), output.codecs);

    play_hls(&out.join("index.m3u8"), 3).unwrap();
}

#[tokio::test]
async fn an_mpeg_ts_rendition_can_be_seeked_into() {
    if !ffmpeg_available("an_mpeg_ts_rendition_can_be_seeked_into") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clip = h264_mp4(dir.path(), "film.mp4", 320, 180, 8);
    let tools = Tools::default();
    let info = probe(&tools, &clip).await.unwrap();
    let ladder = plan_ladder(&info);
    let out = dir.path().join("hls/180p");
    package_rendition(&tools, &clip, &ladder[0], &out, info.duration(), |_| {})
        .await
        .unwrap();

    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-v", "error", "-ss", "5", "-i"])
        .arg(out.join("index.m3u8"))
        .args(["-t", "2", "-f", "null", "-"])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[tokio::test]
async fn a_failing_ffmpeg_reports_what_it_said() {
    if !ffmpeg_available("a_failing_ffmpeg_reports_what_it_said") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clip = h264_mp4(dir.path(), "film.mp4", 320, 180, 1);
    let info = probe(&Tools::default(), &clip).await.unwrap();
    let rendition = plan_ladder(&info).remove(0);
    let broken = dir.path().join("broken.mp4");
    std::fs::write(&broken, b"definitely not an mp4").unwrap();

    let err = package_rendition(
        &Tools::default(),
        &broken,
        &rendition,
        &dir.path().join("out"),
        info.duration(),
        |_| {},
    )
    .await
    .unwrap_err();
    let PackageError::Tool(ToolError::Failed { stderr_tail, .. }) = &err else {
        panic!("expected a failed ffmpeg, got {err:?}");
    };
    assert!(stderr_tail.contains("Invalid data"), "{stderr_tail}");
    assert!(err.to_string().starts_with("ffmpeg failed ("), "{err}");
}

#[tokio::test]
async fn a_missing_ffmpeg_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let rendition = Rendition {
        name: "360p".into(),
        width: 640,
        height: 360,
        frame_rate: None,
        video: marquee_media::hls::VideoPlan::Remux {
            stream_index: 0,
            profile: H264Profile::High,
            level: H264Level::from_idc(30).unwrap(),
        },
        audio: None,
    };
    let tools = Tools::new("/nonexistent/ffmpeg", "/nonexistent/ffprobe");
    let err = package_rendition(
        &tools,
        Path::new("film.mp4"),
        &rendition,
        &dir.path().join("out"),
        Duration::from_secs(1),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("ffmpeg was not found"), "{err}");
}

/// Whether any process's command line mentions `needle` (zombies have an empty one).
#[cfg(target_os = "linux")]
fn process_mentioning(needle: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
    })
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn dropping_a_packaging_job_kills_ffmpeg() {
    if !ffmpeg_available("dropping_a_packaging_job_kills_ffmpeg") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clip = h264_mp4(dir.path(), "film.mp4", 320, 180, 1);
    let info = probe(&Tools::default(), &clip).await.unwrap();
    let rendition = plan_ladder(&info).remove(0);
    // ffmpeg blocks opening a FIFO that nobody writes to: a job that would never finish.
    let fifo = dir.path().join("stalled-input");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let out = dir.path().join("out-cancel-test");

    let tools = Tools::default();
    let mut job = Box::pin(package_rendition(
        &tools,
        &fifo,
        &rendition,
        &out,
        info.duration(),
        |_| {},
    ));
    let timed_out = tokio::time::timeout(Duration::from_millis(500), &mut job).await;
    assert!(timed_out.is_err(), "the job should still have been running");
    let needle = out.to_string_lossy().into_owned();
    assert!(process_mentioning(&needle), "ffmpeg should be running");

    drop(job);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while process_mentioning(&needle) {
        assert!(
            std::time::Instant::now() < deadline,
            "ffmpeg is still running after its job was dropped"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
