//! Probing real clips, and the errors for files that are not films.

use crate::clips::{ffmpeg, ffmpeg_available, h264_mp4, vp9_webm};
use marquee_media::hls::{VideoPlan, plan_ladder};
use marquee_media::{ProbeError, ToolError, Tools, browser_safe_h264, content_type, probe};

#[tokio::test]
async fn an_h264_mp4_is_probed_with_its_streams() {
    if !ffmpeg_available("an_h264_mp4_is_probed_with_its_streams") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clip = h264_mp4(dir.path(), "clip.mp4", 640, 360, 6);

    let info = probe(&Tools::default(), &clip).await.unwrap();
    assert!(
        (5_900..=6_100).contains(&info.duration_ms),
        "{}",
        info.duration_ms
    );
    assert!(info.format_name.contains("mp4"));
    assert_eq!(info.size_bytes, std::fs::metadata(&clip).unwrap().len());
    let v = &info.video;
    assert_eq!((v.codec.as_str(), v.width, v.height), ("h264", 640, 360));
    assert_eq!(v.profile.as_deref(), Some("High"));
    assert_eq!(v.pix_fmt.as_deref(), Some("yuv420p"));
    assert_eq!(v.frame_rate.map(|r| r.as_f64()), Some(25.0));
    assert!(v.level.is_some() && v.bit_rate.is_some());
    assert!(browser_safe_h264(v));
    assert_eq!(info.audio.len(), 1);
    assert!(info.audio[0].is_aac_lc());
    assert_eq!(info.audio[0].channels, 1);
    assert_eq!(content_type::for_media(&info), Some(content_type::MP4));
}

#[tokio::test]
async fn a_vp9_webm_is_probed_and_planned_for_encoding() {
    if !ffmpeg_available("a_vp9_webm_is_probed_and_planned_for_encoding") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clip = vp9_webm(dir.path(), "clip.webm", 320, 180, 6);

    let info = probe(&Tools::default(), &clip).await.unwrap();
    assert!(
        (5_900..=6_100).contains(&info.duration_ms),
        "{}",
        info.duration_ms
    );
    assert_eq!(info.video.codec, "vp9");
    assert_eq!(info.audio[0].codec, "opus");
    assert!(!browser_safe_h264(&info.video));
    assert_eq!(content_type::for_media(&info), Some(content_type::WEBM));

    let ladder = plan_ladder(&info);
    assert_eq!(ladder.len(), 1);
    assert!(matches!(ladder[0].video, VideoPlan::Encode { .. }));
}

#[tokio::test]
async fn a_text_file_is_not_a_playable_video_and_the_error_names_it() {
    if !ffmpeg_available("a_text_file_is_not_a_playable_video_and_the_error_names_it") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "This is not a film.\n").unwrap();

    let err = probe(&Tools::default(), &path).await.unwrap_err();
    let ProbeError::NotPlayable { file, reason } = &err else {
        panic!("expected NotPlayable, got {err:?}");
    };
    assert_eq!(file, "notes.txt");
    assert!(reason.contains("Invalid data"), "{reason}");
    assert!(!reason.contains(dir.path().to_str().unwrap()), "{reason}");
    assert!(
        err.to_string()
            .starts_with("notes.txt is not a playable video: ")
    );
}

#[tokio::test]
async fn an_audio_file_is_not_a_playable_video() {
    if !ffmpeg_available("an_audio_file_is_not_a_playable_video") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("song.m4a");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine",
        "-t",
        "1",
        path.to_str().unwrap(),
    ]);

    let err = probe(&Tools::default(), &path).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "song.m4a is not a playable video: it has no video stream"
    );
}

#[tokio::test]
async fn a_rotated_phone_clip_is_seen_upright() {
    if !ffmpeg_available("a_rotated_phone_clip_is_seen_upright") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clip = h264_mp4(dir.path(), "flat.mp4", 320, 180, 1);
    let rotated = dir.path().join("phone.mp4");
    ffmpeg(&[
        "-i",
        clip.to_str().unwrap(),
        "-c",
        "copy",
        "-metadata:s:v",
        "rotate=90",
        rotated.to_str().unwrap(),
    ]);

    let info = probe(&Tools::default(), &rotated).await.unwrap();
    assert_eq!(info.video.rotation % 180, 90);
    assert_eq!(info.video.display_size(), (180, 320));
    let ladder = plan_ladder(&info);
    assert_eq!((ladder[0].width, ladder[0].height), (180, 320));
    assert!(!ladder[0].is_remux());
}

#[tokio::test]
async fn a_missing_file_is_unreadable_rather_than_unplayable() {
    let err = probe(
        &Tools::default(),
        std::path::Path::new("/nonexistent/film.mp4"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ProbeError::Unreadable { .. }), "{err:?}");
    assert!(err.to_string().starts_with("film.mp4 could not be read"));
}

#[tokio::test]
async fn a_missing_ffprobe_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("film.mp4");
    std::fs::write(&path, b"whatever").unwrap();
    let tools = Tools::new("/nonexistent/ffmpeg", "/nonexistent/ffprobe");

    let err = probe(&tools, &path).await.unwrap_err();
    assert!(
        matches!(
            err,
            ProbeError::Tool(ToolError::Missing {
                tool: "ffprobe",
                ..
            })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("ffprobe was not found"));
}
