//! The master playlist (RFC 8216 §4.3.4): one `EXT-X-STREAM-INF` per rendition with measured
//! bit rates, `CODECS` and `RESOLUTION`, and one subtitle group in which exactly one track is the
//! default.

use super::package::RenditionOutput;
use super::subtitles::SubtitleTrack;
use std::collections::HashSet;
use std::fmt::Write;

/// The subtitle group's id; every variant refers to it.
const SUBTITLE_GROUP: &str = "subs";

/// Writes the master playlist for `renditions` (in the given order: players that start with the
/// first variant start there) and `subtitles`.
pub fn master_playlist(renditions: &[RenditionOutput], subtitles: &[SubtitleTrack]) -> String {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:3\n");

    let default = subtitles.iter().position(|t| t.default).unwrap_or(0);
    let mut names = HashSet::new();
    for (i, track) in subtitles.iter().enumerate() {
        let name = unique_name(&mut names, &quoted(&track.name));
        let is_default = if i == default { "YES" } else { "NO" };
        let _ = writeln!(
            out,
            "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"{SUBTITLE_GROUP}\",NAME=\"{name}\",\
             LANGUAGE=\"{}\",DEFAULT={is_default},AUTOSELECT=YES,URI=\"{}\"",
            track.lang.as_str(),
            uri(&track.uri),
        );
    }

    for r in renditions {
        let _ = write!(
            out,
            "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},CODECS=\"{}\",RESOLUTION={}x{}",
            r.peak_bandwidth.max(1),
            r.average_bandwidth.max(1),
            quoted(&r.codecs),
            r.width,
            r.height,
        );
        if let Some(fps) = r.frame_rate {
            let _ = write!(out, ",FRAME-RATE={:.3}", fps.as_f64());
        }
        if !subtitles.is_empty() {
            let _ = write!(out, ",SUBTITLES=\"{SUBTITLE_GROUP}\"");
        }
        let _ = writeln!(out, "\n{}", uri(&r.uri));
    }
    out
}

/// RFC 8216 quoted-strings have no escapes: a `"`, CR or LF can not appear at all. Quotes become
/// apostrophes and control characters spaces, so a track named `The "Director's" cut` still
/// produces a playlist every parser reads.
fn quoted(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// NAME must differ between the tracks of a group; a second "English" becomes "English 2".
fn unique_name(seen: &mut HashSet<String>, name: &str) -> String {
    let base = if name.is_empty() { "Subtitles" } else { name };
    let mut candidate = base.to_owned();
    let mut n = 1;
    while !seen.insert(candidate.clone()) {
        n += 1;
        candidate = format!("{base} {n}");
    }
    candidate
}

/// A URI as it may appear in a playlist: characters that a URI can not hold (spaces, quotes,
/// controls, non-ASCII) are percent-encoded, and a leading `#` is encoded so the line is not read
/// as a tag.
pub(super) fn uri(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, b) in s.bytes().enumerate() {
        let keep = b.is_ascii_graphic() && !b"\"<>\\^`{|}".contains(&b) && !(i == 0 && b == b'#');
        if keep {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codecs::Ratio;
    use crate::subtitles::SubtitleLang;

    fn output(name: &str, width: u32, height: u32, peak: u64, avg: u64) -> RenditionOutput {
        RenditionOutput {
            name: name.into(),
            uri: format!("{name}/index.m3u8"),
            width,
            height,
            frame_rate: Ratio::new(25, 1),
            codecs: "avc1.64001F,mp4a.40.2".into(),
            peak_bandwidth: peak,
            average_bandwidth: avg,
            segment_count: 3,
            duration_secs: 10.0,
        }
    }

    fn track(lang: &str, default: bool) -> SubtitleTrack {
        SubtitleTrack {
            default,
            ..SubtitleTrack::new(
                SubtitleLang::parse(lang).unwrap(),
                format!("subs/{lang}.m3u8"),
            )
        }
    }

    #[test]
    fn a_master_playlist_lists_renditions_and_one_default_subtitle() {
        let text = master_playlist(
            &[
                output("720p", 1280, 720, 3_000_000, 2_500_000),
                output("360p", 640, 360, 900_000, 800_000),
            ],
            &[track("en", false), track("pt-BR", true)],
        );
        assert_eq!(
            text,
            "#EXTM3U\n#EXT-X-VERSION:3\n\
             #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English\",LANGUAGE=\"en\",\
             DEFAULT=NO,AUTOSELECT=YES,URI=\"subs/en.m3u8\"\n\
             #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"Portuguese (Brazil)\",\
             LANGUAGE=\"pt-BR\",DEFAULT=YES,AUTOSELECT=YES,URI=\"subs/pt-BR.m3u8\"\n\
             #EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2500000,\
             CODECS=\"avc1.64001F,mp4a.40.2\",RESOLUTION=1280x720,FRAME-RATE=25.000,\
             SUBTITLES=\"subs\"\n720p/index.m3u8\n\
             #EXT-X-STREAM-INF:BANDWIDTH=900000,AVERAGE-BANDWIDTH=800000,\
             CODECS=\"avc1.64001F,mp4a.40.2\",RESOLUTION=640x360,FRAME-RATE=25.000,\
             SUBTITLES=\"subs\"\n360p/index.m3u8\n"
        );
    }

    #[test]
    fn exactly_one_track_is_default_whatever_the_input_says() {
        let count = |tracks: &[SubtitleTrack]| {
            master_playlist(&[output("a", 2, 2, 1, 1)], tracks)
                .matches("DEFAULT=YES")
                .count()
        };
        assert_eq!(count(&[track("en", false), track("fr", false)]), 1);
        assert_eq!(count(&[track("en", true), track("fr", true)]), 1);
        let text = master_playlist(&[], &[track("en", false), track("fr", false)]);
        assert!(text.contains("NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES"));
    }

    #[test]
    fn without_subtitles_there_is_no_group() {
        let text = master_playlist(&[output("720p", 1280, 720, 10, 5)], &[]);
        assert!(!text.contains("SUBTITLES"));
        assert!(!text.contains("EXT-X-MEDIA"));
    }

    #[test]
    fn names_are_made_safe_and_unique() {
        let mut a = track("en", true);
        a.name = "The \"Director's\"\ncut".into();
        let mut b = track("en", false);
        b.name = a.name.clone();
        let text = master_playlist(&[], &[a, b]);
        assert!(text.contains("NAME=\"The 'Director's' cut\""), "{text}");
        assert!(text.contains("NAME=\"The 'Director's' cut 2\""), "{text}");
        assert_eq!(text.lines().count(), 4);
    }

    #[test]
    fn uris_are_percent_encoded_where_needed() {
        assert_eq!(uri("720p/index.m3u8"), "720p/index.m3u8");
        assert_eq!(uri("a b/\"x\".m3u8"), "a%20b/%22x%22.m3u8");
        assert_eq!(uri("#x/é"), "%23x/%C3%A9");
        assert_eq!(uri("a/b?sig=1&exp=2"), "a/b?sig=1&exp=2");
    }

    #[test]
    fn missing_measurements_never_produce_a_zero_bandwidth() {
        let text = master_playlist(&[output("a", 2, 2, 0, 0)], &[]);
        assert!(text.contains("BANDWIDTH=1,AVERAGE-BANDWIDTH=1,"));
    }
}
