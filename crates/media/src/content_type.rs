//! Content types for what Marquee serves. Browsers refuse an HLS playlist or a WebVTT track sent
//! with a guessed type, and general-purpose guessers get `.m3u8`, `.ts` and `.m4s` wrong (`.ts`
//! comes out as TypeScript), so the types are spelled out here.

use crate::probe::MediaInfo;
use std::path::Path;

/// RFC 8216's type for playlists; the one Safari and Apple devices expect.
pub const HLS_PLAYLIST: &str = "application/vnd.apple.mpegurl";
/// MPEG transport stream segments.
pub const MPEG_TS: &str = "video/mp2t";
/// WebVTT subtitles.
pub const WEBVTT: &str = "text/vtt; charset=utf-8";
pub const MP4: &str = "video/mp4";
pub const WEBM: &str = "video/webm";
pub const MATROSKA: &str = "video/x-matroska";

/// The type of a media file served as it is (direct play), from its file extension.
pub fn for_direct_play(path: &Path) -> Option<&'static str> {
    match extension(path)?.as_str() {
        "mp4" | "m4v" => Some(MP4),
        "webm" => Some(WEBM),
        "mkv" => Some(MATROSKA),
        _ => None,
    }
}

/// The type of a media file from what ffprobe found in it, for files whose name says nothing
/// (stored under an id) or says something wrong. A Matroska file holding only VP8/VP9/AV1 and
/// Opus/Vorbis is WebM, which browsers play; any other Matroska file is not.
pub fn for_media(info: &MediaInfo) -> Option<&'static str> {
    let formats: Vec<&str> = info.format_name.split(',').collect();
    if formats.contains(&"mp4") || formats.contains(&"mov") {
        return Some(MP4);
    }
    if formats.contains(&"matroska") || formats.contains(&"webm") {
        let webm_video = matches!(info.video.codec.as_str(), "vp8" | "vp9" | "av1");
        let webm_audio = info
            .audio
            .iter()
            .all(|a| matches!(a.codec.as_str(), "opus" | "vorbis"));
        return Some(if webm_video && webm_audio {
            WEBM
        } else {
            MATROSKA
        });
    }
    None
}

/// The type of a file in an HLS output folder: playlists, segments, subtitles.
pub fn for_hls_file(path: &Path) -> Option<&'static str> {
    match extension(path)?.as_str() {
        "m3u8" => Some(HLS_PLAYLIST),
        "ts" => Some(MPEG_TS),
        "vtt" => Some(WEBVTT),
        "m4s" | "mp4" => Some(MP4),
        _ => None,
    }
}

fn extension(path: &Path) -> Option<String> {
    Some(path.extension()?.to_str()?.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{AudioStream, VideoStream};

    #[test]
    fn direct_play_types_come_from_the_extension_in_any_case() {
        assert_eq!(for_direct_play(Path::new("a/film.MP4")), Some(MP4));
        assert_eq!(for_direct_play(Path::new("film.m4v")), Some(MP4));
        assert_eq!(for_direct_play(Path::new("film.webm")), Some(WEBM));
        assert_eq!(for_direct_play(Path::new("film.mkv")), Some(MATROSKA));
        assert_eq!(for_direct_play(Path::new("film.avi")), None);
        assert_eq!(for_direct_play(Path::new("film")), None);
    }

    #[test]
    fn hls_files_get_the_types_players_require() {
        assert_eq!(
            for_hls_file(Path::new("720p/index.m3u8")),
            Some(HLS_PLAYLIST)
        );
        assert_eq!(for_hls_file(Path::new("seg_00001.ts")), Some(MPEG_TS));
        assert_eq!(for_hls_file(Path::new("subs/en.vtt")), Some(WEBVTT));
        assert_eq!(for_hls_file(Path::new("x.txt")), None);
    }

    fn info(format: &str, video: &str, audio: &[&str]) -> MediaInfo {
        MediaInfo {
            duration_ms: 1,
            format_name: format.into(),
            size_bytes: 1,
            bit_rate: None,
            video: VideoStream {
                index: 0,
                codec: video.into(),
                profile: None,
                level: None,
                width: 2,
                height: 2,
                sample_aspect_ratio: None,
                rotation: 0,
                pix_fmt: None,
                frame_rate: None,
                bit_rate: None,
            },
            audio: audio
                .iter()
                .enumerate()
                .map(|(i, c)| AudioStream {
                    index: i as u32 + 1,
                    codec: (*c).into(),
                    profile: None,
                    channels: 2,
                    sample_rate: None,
                    language: None,
                    title: None,
                    default: false,
                })
                .collect(),
            subtitles: vec![],
        }
    }

    #[test]
    fn the_probed_container_and_codecs_decide_between_webm_and_matroska() {
        let mp4 = "mov,mp4,m4a,3gp,3g2,mj2";
        let mkv = "matroska,webm";
        assert_eq!(for_media(&info(mp4, "h264", &["aac"])), Some(MP4));
        assert_eq!(for_media(&info(mkv, "vp9", &["opus"])), Some(WEBM));
        assert_eq!(for_media(&info(mkv, "av1", &[])), Some(WEBM));
        assert_eq!(for_media(&info(mkv, "h264", &["aac"])), Some(MATROSKA));
        assert_eq!(
            for_media(&info(mkv, "vp9", &["opus", "ac3"])),
            Some(MATROSKA)
        );
        assert_eq!(for_media(&info("avi", "mpeg4", &["mp3"])), None);
    }
}
