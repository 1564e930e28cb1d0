//! SubRip to WebVTT. SubRip has no specification, and files drift from the usual shape (missing
//! blank lines, one-digit milliseconds, coordinates after the timing, cue numbers out of order),
//! so the reader is lenient about shape and strict about timing: a cue whose times can not be read
//! is skipped and reported, and a file with no readable cue is rejected.

use super::{SubtitleError, WebVtt, normalize, vtt_timestamp};

/// The result of a conversion: the WebVTT and the blocks that could not be used, so a person can
/// be told "3 cues skipped, first at line 120" instead of losing them silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrtConversion {
    pub vtt: WebVtt,
    pub skipped: Vec<SkippedCue>,
}

/// A block of the SubRip file that did not become a cue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedCue {
    /// 1-based line number in the file.
    pub line: usize,
    pub problem: String,
}

struct Cue {
    start_ms: u64,
    end_ms: u64,
    text: Vec<String>,
}

/// Converts SubRip text (already decoded; see `decode_text`) to WebVTT. Cue numbers are dropped,
/// `,` in timestamps becomes `.`, and the text with its `<i>`/`<b>`/`<u>` tags is kept.
pub fn srt_to_vtt(srt: &str) -> Result<SrtConversion, SubtitleError> {
    let text = normalize(srt);
    let lines: Vec<&str> = text.lines().collect();
    let blank = |i: usize| lines[i].trim().is_empty();
    // A new cue starts at a timing line, or at a number directly above one; checking this inside
    // cue text copes with files that lost the blank line between cues.
    let cue_starts_at = |i: usize| {
        parse_timing(lines[i]).is_ok()
            || (is_cue_number(lines[i])
                && i + 1 < lines.len()
                && parse_timing(lines[i + 1]).is_ok())
    };

    let mut cues = Vec::new();
    let mut skipped = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if blank(i) {
            i += 1;
            continue;
        }
        if is_cue_number(lines[i]) && i + 1 < lines.len() && lines[i + 1].contains("-->") {
            i += 1;
        }
        let timing = if lines[i].contains("-->") {
            parse_timing(lines[i])
        } else {
            Err(format!(
                "expected a cue number or a timing line like `00:00:01,000 --> 00:00:04,000`, \
                 found `{}`",
                excerpt(lines[i])
            ))
        };
        let (start_ms, end_ms) = match timing {
            Ok(t) => t,
            Err(problem) => {
                skipped.push(SkippedCue {
                    line: i + 1,
                    problem,
                });
                // Skip the rest of the block, up to a blank line or the next real cue.
                i += 1;
                while i < lines.len() && !blank(i) && !cue_starts_at(i) {
                    i += 1;
                }
                continue;
            }
        };
        let timing_line = i + 1;
        i += 1;
        let mut text = Vec::new();
        while i < lines.len() && !blank(i) && !cue_starts_at(i) {
            // `-->` may not appear in WebVTT cue text; the character reference shows the same.
            text.push(lines[i].trim_end().replace("-->", "--&gt;"));
            i += 1;
        }
        if end_ms <= start_ms {
            skipped.push(SkippedCue {
                line: timing_line,
                problem: "the cue ends before it starts".to_owned(),
            });
            continue;
        }
        cues.push(Cue {
            start_ms,
            end_ms,
            text,
        });
    }

    if cues.is_empty() {
        return Err(match skipped.into_iter().next() {
            Some(first) => SubtitleError::NoCues {
                line: first.line,
                problem: first.problem,
            },
            None => SubtitleError::Empty,
        });
    }
    for s in &skipped {
        tracing::debug!(line = s.line, problem = %s.problem, "skipped a SubRip block");
    }

    let mut out = String::from("WEBVTT\n");
    for cue in &cues {
        out.push('\n');
        out.push_str(&vtt_timestamp(cue.start_ms));
        out.push_str(" --> ");
        out.push_str(&vtt_timestamp(cue.end_ms));
        out.push('\n');
        for line in &cue.text {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(SrtConversion {
        vtt: WebVtt::from_trusted(out),
        skipped,
    })
}

fn is_cue_number(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
}

/// Reads `00:00:01,000 --> 00:00:04,000`, ignoring anything after the end time (some tools add
/// `X1:.. Y1:..` coordinates, which mean nothing to WebVTT).
fn parse_timing(line: &str) -> Result<(u64, u64), String> {
    let Some((start, rest)) = line.split_once("-->") else {
        return Err(format!("expected a timing line, found `{}`", excerpt(line)));
    };
    let end = rest.split_whitespace().next().unwrap_or("");
    let bad = |which: &str, s: &str| {
        format!(
            "the {which} time `{}` is not a time like 00:00:01,000",
            excerpt(s.trim())
        )
    };
    let start_ms = parse_time(start.trim()).ok_or_else(|| bad("start", start))?;
    let end_ms = parse_time(end).ok_or_else(|| bad("end", end))?;
    Ok((start_ms, end_ms))
}

/// `H:MM:SS,mmm` with any number of hour digits, `.` accepted for `,`, the hours optional, and
/// one to three fraction digits read as a fraction (`1,5` is 1.5 s).
fn parse_time(s: &str) -> Option<u64> {
    let (clock, frac) = match s.split_once([',', '.']) {
        Some((c, f)) => (c, f),
        None => (s, "0"),
    };
    if frac.is_empty() || frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ms: u64 = format!("{frac:0<3}").parse().ok()?;
    let parts: Vec<&str> = clock.split(':').collect();
    let num = |p: &str| -> Option<u64> {
        (!p.is_empty() && p.len() <= 6 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let (h, m, sec) = match parts.as_slice() {
        [h, m, s] => (num(h)?, num(m)?, num(s)?),
        [m, s] => (0, num(m)?, num(s)?),
        _ => return None,
    };
    if m >= 60 || sec >= 60 {
        return None;
    }
    Some(((h * 60 + m) * 60 + sec) * 1000 + ms)
}

/// A line as quoted in an error: short, so a binary file does not fill a page.
fn excerpt(line: &str) -> String {
    let t = line.trim();
    let mut out: String = t.chars().take(60).collect();
    if t.chars().count() > 60 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(srt: &str) -> SrtConversion {
        srt_to_vtt(srt).unwrap()
    }

    #[test]
    fn a_plain_srt_becomes_webvtt() {
        let srt = "1\n00:00:01,000 --> 00:00:04,500\nHello, <i>world</i>!\n\n\
                   2\n00:00:05,000 --> 00:00:06,000\nTwo\nlines\n";
        let out = convert(srt);
        assert_eq!(
            out.vtt.as_str(),
            "WEBVTT\n\n00:00:01.000 --> 00:00:04.500\nHello, <i>world</i>!\n\n\
             00:00:05.000 --> 00:00:06.000\nTwo\nlines\n"
        );
        assert!(out.skipped.is_empty());
    }

    #[test]
    fn a_bom_and_crlf_line_ends_are_handled() {
        let srt = "\u{feff}1\r\n00:00:01,000 --> 00:00:02,000\r\nHi\r\n\r\n";
        assert_eq!(
            convert(srt).vtt.as_str(),
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHi\n"
        );
    }

    #[test]
    fn cues_without_blank_lines_between_them_are_still_separate() {
        let srt = "1\n00:00:01,000 --> 00:00:02,000\nOne\n2\n00:00:03,000 --> 00:00:04,000\nTwo\n\
                   00:00:05,000 --> 00:00:06,000\nThree\n";
        let vtt = convert(srt).vtt;
        assert_eq!(vtt.as_str().matches("-->").count(), 3, "{}", vtt.as_str());
        assert!(vtt.as_str().contains("\nOne\n\n00:00:03.000"));
    }

    #[test]
    fn a_number_inside_cue_text_stays_text() {
        let srt = "1\n00:00:01,000 --> 00:00:02,000\nThe year was\n1984\n";
        assert!(convert(srt).vtt.as_str().ends_with("The year was\n1984\n"));
    }

    #[test]
    fn loose_timestamps_are_read_and_coordinates_dropped() {
        let srt = "00:01,5 --> 1:00:02.25 X1:100 X2:200\nLoose\n";
        assert_eq!(
            convert(srt).vtt.as_str(),
            "WEBVTT\n\n00:00:01.500 --> 01:00:02.250\nLoose\n"
        );
    }

    #[test]
    fn an_arrow_in_text_is_escaped() {
        let srt = "1\n00:00:01,000 --> 00:00:02,000\nA --> B\n";
        assert!(convert(srt).vtt.as_str().contains("A --&gt; B"));
    }

    #[test]
    fn bad_blocks_are_skipped_and_reported_with_their_line() {
        let srt = "1\n00:00:01,000 --> 00:00:02,000\nGood\n\n\
                   2\n00:00:03,000 --> 00:0x:04,000\nBad time\n\n\
                   3\n00:00:09,000 --> 00:00:08,000\nBackwards\n\n\
                   4\n00:00:10,000 --> 00:00:11,000\nGood too\n";
        let out = convert(srt);
        assert_eq!(out.vtt.as_str().matches("-->").count(), 2);
        assert!(!out.vtt.as_str().contains("Bad time"));
        assert!(!out.vtt.as_str().contains("Backwards"));
        assert_eq!(out.skipped.len(), 2);
        assert_eq!(out.skipped[0].line, 6);
        assert!(out.skipped[0].problem.contains("end time `00:0x:04,000`"));
        assert_eq!(out.skipped[1].line, 10);
        assert_eq!(out.skipped[1].problem, "the cue ends before it starts");
    }

    #[test]
    fn a_file_without_any_cue_is_rejected_naming_the_first_bad_line() {
        let err = srt_to_vtt("\n\nThis is a shopping list\nmilk\n").unwrap_err();
        let SubtitleError::NoCues { line, problem } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(*line, 3);
        assert!(
            problem.contains("found `This is a shopping list`"),
            "{problem}"
        );
        assert!(
            err.to_string()
                .starts_with("no subtitle cue found; line 3:")
        );
    }

    #[test]
    fn an_empty_file_is_rejected_as_empty() {
        assert_eq!(srt_to_vtt("").unwrap_err(), SubtitleError::Empty);
        assert_eq!(
            srt_to_vtt("\u{feff}\r\n \n").unwrap_err(),
            SubtitleError::Empty
        );
    }

    #[test]
    fn times_are_range_checked() {
        assert_eq!(parse_time("00:00:01,000"), Some(1000));
        assert_eq!(parse_time("123:00:00,000"), Some(442_800_000));
        assert_eq!(parse_time("00:60:00,000"), None);
        assert_eq!(parse_time("00:00:61,000"), None);
        assert_eq!(parse_time("00:00:01,1234"), None);
        assert_eq!(parse_time("00:00:01,"), None);
        assert_eq!(parse_time("1"), None);
        assert_eq!(parse_time("-1:00:00,000"), None);
        assert_eq!(parse_time("00:00:01"), Some(1000));
    }

    #[test]
    fn the_converted_text_is_valid_webvtt() {
        let srt = "1\n00:00:01,000 --> 00:00:04,000\nHi\n";
        let vtt = convert(srt).vtt;
        assert_eq!(WebVtt::parse(vtt.as_str()).unwrap(), vtt);
    }
}
