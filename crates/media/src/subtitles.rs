//! Subtitles for browsers and HLS: uploaded SubRip (`.srt`) becomes WebVTT, uploaded WebVTT is
//! checked, and a track's language is a `SubtitleLang` that can only hold a sensible code.
//!
//! Browsers show only WebVTT in `<track>`, and HLS carries subtitles as WebVTT too, so WebVTT is
//! the one form Marquee stores.

mod lang;
mod srt;
mod text;
mod vtt;

pub use lang::{LangError, SubtitleLang};
pub use srt::{SkippedCue, SrtConversion, srt_to_vtt};
pub use text::decode_text;
pub use vtt::WebVtt;

/// A subtitle file that can not be used, with the line to look at where there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubtitleError {
    #[error("the subtitle file is empty")]
    Empty,
    #[error("no subtitle cue found; line {line}: {problem}")]
    NoCues { line: usize, problem: String },
    #[error("not a WebVTT file: the first line must start with WEBVTT")]
    MissingHeader,
    #[error("line {line}: {problem}")]
    BadCue { line: usize, problem: String },
}

/// Milliseconds as a WebVTT timestamp, `HH:MM:SS.mmm` (hours grow past two digits if needed).
pub(crate) fn vtt_timestamp(ms: u64) -> String {
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, ms) = (rest / 1000, rest % 1000);
    format!("{h:02}:{m:02}:{s:02}.{ms:03}")
}

/// One form of text for parsing: no byte-order mark, `\n` line ends (files come from Windows,
/// old Macs and everything in between).
pub(crate) fn normalize(text: &str) -> String {
    text.strip_prefix('\u{feff}')
        .unwrap_or(text)
        .replace("\r\n", "\n")
        .replace('\r', "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_zero_padded_and_hours_may_grow() {
        assert_eq!(vtt_timestamp(0), "00:00:00.000");
        assert_eq!(vtt_timestamp(3_723_004), "01:02:03.004");
        assert_eq!(vtt_timestamp(360_000_000), "100:00:00.000");
    }

    #[test]
    fn normalizing_removes_the_bom_and_old_line_ends() {
        assert_eq!(normalize("\u{feff}a\r\nb\rc\n"), "a\nb\nc\n");
    }
}
