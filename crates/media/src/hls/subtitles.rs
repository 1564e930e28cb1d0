//! Subtitles in HLS: the track list for the master playlist, a media playlist per track holding
//! one WebVTT segment for the whole film, and the timestamp mapping WebVTT needs next to MPEG-TS.

use crate::subtitles::{SubtitleLang, WebVtt};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Where MPEG-TS segments from ffmpeg start: 1.4 s, in 90 kHz ticks. ffmpeg's MPEG-TS muxer
/// starts its timeline there (measured with ffmpeg 5.1, and checked by the packaging test), so a
/// WebVTT cue at 00:00:00.000 belongs at MPEG-TS time 126000; without saying so, players show cues
/// 1.4 s early.
pub const TS_START_OFFSET_90KHZ: u64 = 126_000;

/// One subtitle track in the master playlist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubtitleTrack {
    pub lang: SubtitleLang,
    /// What players show in their menu; unique within the film (duplicates get a number).
    pub name: String,
    /// The track's media playlist, relative to the master playlist: `subs/en.m3u8`.
    pub uri: String,
    /// The track chosen when the viewer has no preference. If none or several are marked, the
    /// master playlist marks the first marked (or the first) and no other.
    pub default: bool,
}

impl SubtitleTrack {
    /// A track named after its language ("Portuguese (Brazil)"), not the default.
    pub fn new(lang: SubtitleLang, uri: impl Into<String>) -> Self {
        Self {
            name: lang.display_name(),
            lang,
            uri: uri.into(),
            default: false,
        }
    }
}

/// A VOD media playlist with a single WebVTT segment as long as the film.
pub fn subtitle_playlist(duration: Duration, vtt_uri: &str) -> String {
    let secs = duration.as_secs_f64();
    // Every EXTINF rounded to the nearest second must be at most the target duration.
    let target = (secs.ceil() as u64).max(1);
    format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{target}\n#EXT-X-MEDIA-SEQUENCE:0\n\
         #EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:{secs:.3},\n{}\n#EXT-X-ENDLIST\n",
        super::master::uri(vtt_uri)
    )
}

/// The WebVTT text to serve inside HLS: the same cues with `X-TIMESTAMP-MAP` in the header, so
/// players line them up with the MPEG-TS segments. Browsers' `<track>` get the plain file.
pub fn with_timestamp_map(vtt: &WebVtt) -> String {
    let text = vtt.as_str();
    let mut out = String::with_capacity(text.len() + 64);
    let mut lines = text.split_inclusive('\n');
    out.push_str(lines.next().unwrap_or("WEBVTT\n"));
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!(
        "X-TIMESTAMP-MAP=MPEGTS:{TS_START_OFFSET_90KHZ},LOCAL:00:00:00.000\n"
    ));
    // The header runs to the first blank line. An uploaded file may carry its own mapping (for
    // some other segmenter); ours replaces it.
    let mut in_header = true;
    for line in lines {
        if in_header {
            if line.trim().is_empty() {
                in_header = false;
            } else if line.starts_with("X-TIMESTAMP-MAP") {
                continue;
            }
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subtitle_playlist_is_one_segment_covering_the_film() {
        let p = subtitle_playlist(Duration::from_millis(5_400_250), "en.vtt");
        assert_eq!(
            p,
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:5401\n#EXT-X-MEDIA-SEQUENCE:0\n\
             #EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:5400.250,\nen.vtt\n#EXT-X-ENDLIST\n"
        );
        assert!(subtitle_playlist(Duration::ZERO, "a.vtt").contains("TARGETDURATION:1\n"));
    }

    #[test]
    fn the_timestamp_map_goes_right_after_the_header_line() {
        let vtt = WebVtt::parse("WEBVTT\n\n00:01.000 --> 00:02.000\nHi\n").unwrap();
        assert_eq!(
            with_timestamp_map(&vtt),
            "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n\
             00:01.000 --> 00:02.000\nHi\n"
        );
    }

    #[test]
    fn an_existing_timestamp_map_is_replaced_and_other_headers_kept() {
        let vtt = WebVtt::parse(
            "WEBVTT title\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\nKind: captions\n\n\
             00:01.000 --> 00:02.000\nHi\n",
        )
        .unwrap();
        let out = with_timestamp_map(&vtt);
        assert_eq!(out.matches("X-TIMESTAMP-MAP").count(), 1);
        assert!(out.starts_with(
            "WEBVTT title\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\nKind: captions\n\n"
        ));
        assert!(out.ends_with("00:01.000 --> 00:02.000\nHi\n"));
        assert!(WebVtt::parse(&out).is_ok());
    }

    #[test]
    fn a_track_is_named_after_its_language() {
        let t = SubtitleTrack::new(SubtitleLang::parse("pt-BR").unwrap(), "subs/pt-BR.m3u8");
        assert_eq!(t.name, "Portuguese (Brazil)");
        assert!(!t.default);
    }
}
