//! WebVTT text that has been checked: it starts with the `WEBVTT` header, every timing line reads,
//! and there is at least one cue. Stored with `\n` line ends and no byte-order mark.

use super::{SubtitleError, normalize};
use serde::Serialize;

/// A WebVTT document that browsers will accept as a `<track>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct WebVtt(String);

impl WebVtt {
    /// Checks uploaded WebVTT (decoded; see `decode_text`). Cue text, styles and regions are kept
    /// as they are; only the header and the timing lines are checked, since those decide whether
    /// a browser shows anything at all.
    pub fn parse(text: &str) -> Result<Self, SubtitleError> {
        let text = normalize(text);
        if text.trim().is_empty() {
            return Err(SubtitleError::Empty);
        }
        let first = text.lines().next().unwrap_or("");
        let header_ok = first
            .strip_prefix("WEBVTT")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']));
        if !header_ok {
            return Err(SubtitleError::MissingHeader);
        }
        let mut cues = 0;
        for (n, line) in text.lines().enumerate().skip(1) {
            if line.contains("-->") {
                parse_timing(line).map_err(|problem| SubtitleError::BadCue {
                    line: n + 1,
                    problem,
                })?;
                cues += 1;
            }
        }
        if cues == 0 {
            return Err(SubtitleError::NoCues {
                line: 1,
                problem: "the file has a WEBVTT header but no `start --> end` timing line"
                    .to_owned(),
            });
        }
        let mut text = text;
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Ok(Self(text))
    }

    /// For text this crate wrote itself.
    pub(crate) fn from_trusted(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The number of cues.
    pub fn cue_count(&self) -> usize {
        self.0.lines().filter(|l| l.contains("-->")).count()
    }
}

/// Reads `[hh:]mm:ss.ttt --> [hh:]mm:ss.ttt [settings]` as the WebVTT spec writes it: exactly three
/// fraction digits and `.` (a `,` is the most common mistake, from SubRip habits).
fn parse_timing(line: &str) -> Result<(u64, u64), String> {
    let (start, rest) = line.split_once("-->").unwrap_or((line, ""));
    let end = rest.split_whitespace().next().unwrap_or("");
    let start_ms = parse_time(start.trim()).ok_or_else(|| bad_time(start.trim()))?;
    let end_ms = parse_time(end).ok_or_else(|| bad_time(end))?;
    if end_ms <= start_ms {
        return Err("the cue ends before it starts".to_owned());
    }
    Ok((start_ms, end_ms))
}

fn bad_time(s: &str) -> String {
    let s: String = s.chars().take(40).collect();
    format!("`{s}` is not a WebVTT time like 00:01.000 or 01:02:03.000")
}

fn parse_time(s: &str) -> Option<u64> {
    let (clock, frac) = s.split_once('.')?;
    let digits = |p: &str, min: usize, max: usize| -> Option<u64> {
        (p.len() >= min && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let ms = digits(frac, 3, 3)?;
    let parts: Vec<&str> = clock.split(':').collect();
    let (h, m, sec) = match parts.as_slice() {
        [h, m, s] => (digits(h, 2, 9)?, digits(m, 2, 2)?, digits(s, 2, 2)?),
        [m, s] => (0, digits(m, 2, 2)?, digits(s, 2, 2)?),
        _ => return None,
    };
    if m >= 60 || sec >= 60 {
        return None;
    }
    Some(((h * 60 + m) * 60 + sec) * 1000 + ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_file_is_accepted_and_normalized() {
        let vtt = WebVtt::parse(
            "\u{feff}WEBVTT - a film\r\n\r\nNOTE made by hand\r\n\r\n\
             intro\r\n00:01.000 --> 00:04.000 align:start\r\n<v Anna>Hello",
        )
        .unwrap();
        assert!(vtt.as_str().starts_with("WEBVTT - a film\n\nNOTE"));
        assert!(vtt.as_str().ends_with("<v Anna>Hello\n"));
        assert_eq!(vtt.cue_count(), 1);
    }

    #[test]
    fn the_header_must_come_first() {
        for text in [
            "00:01.000 --> 00:02.000\nHi",
            "WEBVTTX\n\n00:01.000 --> 00:02.000\nHi",
        ] {
            assert_eq!(
                WebVtt::parse(text).unwrap_err(),
                SubtitleError::MissingHeader
            );
        }
        assert_eq!(WebVtt::parse(" \n").unwrap_err(), SubtitleError::Empty);
    }

    #[test]
    fn a_bad_timing_line_is_reported_with_its_line_number() {
        let err = WebVtt::parse("WEBVTT\n\n00:00:01,000 --> 00:00:02,000\nHi\n").unwrap_err();
        let SubtitleError::BadCue { line, problem } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(*line, 3);
        assert!(problem.contains("`00:00:01,000`"), "{problem}");
    }

    #[test]
    fn a_header_without_cues_is_rejected() {
        assert!(matches!(
            WebVtt::parse("WEBVTT\n\nNOTE nothing here\n"),
            Err(SubtitleError::NoCues { .. })
        ));
    }

    #[test]
    fn webvtt_times_are_strict() {
        assert_eq!(parse_time("00:01.000"), Some(1000));
        assert_eq!(parse_time("01:00:01.250"), Some(3_601_250));
        assert_eq!(parse_time("100:00:00.000"), Some(360_000_000));
        assert_eq!(parse_time("0:01.000"), None);
        assert_eq!(parse_time("00:01.00"), None);
        assert_eq!(parse_time("00:61.000"), None);
        assert_eq!(parse_time("00:01,000"), None);
    }
}
