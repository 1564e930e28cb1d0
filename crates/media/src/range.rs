//! HTTP byte ranges (RFC 9110 §14) for a file whose size is known: which bytes a `Range` header
//! asks for, whether an `If-Range` validator still holds, and the `Content-Range` to answer with.
//!
//! Browsers seek in a `<video>` by asking for ranges; without correct answers `video.seekable` is
//! empty and seeking silently stays at the start. Only single ranges are served: a multi-range
//! request is answered with the whole file, which RFC 9110 allows (a server may ignore `Range`)
//! and which players never need.

use crate::http_date::parse_http_date;
use std::time::{SystemTime, UNIX_EPOCH};

/// What to send for a request's `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// 200 with the whole file: no `Range`, one that can not be read, or several ranges.
    Full,
    /// 206 with bytes `start..=end_inclusive`, always inside the file.
    Partial { start: u64, end_inclusive: u64 },
    /// 416 with `Content-Range: bytes */{size}`: the range starts past the end of the file.
    Unsatisfiable,
}

impl ByteRange {
    /// Reads a `Range` header value for a file of `size` bytes.
    ///
    /// `bytes=0-`, `bytes=100-199` and `bytes=-500` (the last 500 bytes) are single ranges; an end
    /// past the file is cut at the file's end and a suffix longer than the file means the whole
    /// file. A start at or past the end is `Unsatisfiable`. Anything that does not parse is
    /// ignored (`Full`), as RFC 9110 tells a server to do with a header it does not understand.
    ///
    /// An empty file has no byte to point at: `bytes=0-` is `Unsatisfiable` there, and a suffix
    /// range is `Full` (RFC 9110 counts it satisfiable, and there is no 206 for zero bytes).
    pub fn parse(header: &str, size: u64) -> Self {
        let Some(spec) = parse_single(header) else {
            return Self::Full;
        };
        match spec {
            Spec::From { first, last } => {
                if first >= size {
                    return Self::Unsatisfiable;
                }
                let end = last.map_or(size - 1, |l| l.min(size - 1));
                Self::Partial {
                    start: first,
                    end_inclusive: end,
                }
            }
            Spec::Suffix(0) => Self::Unsatisfiable,
            Spec::Suffix(_) if size == 0 => Self::Full,
            Spec::Suffix(len) => Self::Partial {
                start: size.saturating_sub(len),
                end_inclusive: size - 1,
            },
        }
    }

    /// What to send for a request, from its `Range` and `If-Range` headers and the file's
    /// validators: the whole file when there is no `Range` or when `If-Range` names another
    /// version of the file (the client's cached part is stale), else `parse`.
    pub fn for_request(
        range: Option<&str>,
        if_range: Option<&str>,
        etag: Option<&str>,
        last_modified: Option<SystemTime>,
        size: u64,
    ) -> Self {
        let Some(range) = range else {
            return Self::Full;
        };
        if if_range.is_some_and(|v| !if_range_matches(v, etag, last_modified)) {
            return Self::Full;
        }
        Self::parse(range, size)
    }

    /// How many bytes the response body holds.
    pub fn len(&self, size: u64) -> u64 {
        match *self {
            Self::Full => size,
            Self::Partial {
                start,
                end_inclusive,
            } => end_inclusive - start + 1,
            Self::Unsatisfiable => 0,
        }
    }

    /// Whether the response body is empty (only for `Unsatisfiable` or an empty file).
    pub fn is_empty(&self, size: u64) -> bool {
        self.len(size) == 0
    }

    /// The `Content-Range` value: `bytes 0-99/1000` for a partial answer, `bytes */1000` for an
    /// unsatisfiable one, none for the whole file.
    pub fn content_range(&self, size: u64) -> Option<String> {
        match *self {
            Self::Full => None,
            Self::Partial {
                start,
                end_inclusive,
            } => Some(format!("bytes {start}-{end_inclusive}/{size}")),
            Self::Unsatisfiable => Some(format!("bytes */{size}")),
        }
    }
}

enum Spec {
    From { first: u64, last: Option<u64> },
    Suffix(u64),
}

/// One `bytes` range-spec, or `None` when the header is not exactly one valid range. Empty list
/// elements (`bytes=0-99,`) are allowed, as the RFC's list rule says.
fn parse_single(header: &str) -> Option<Spec> {
    let (unit, set) = header.trim().split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return None;
    }
    let mut specs = set.split(',').map(str::trim).filter(|s| !s.is_empty());
    let spec = specs.next()?;
    if specs.next().is_some() {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        return Some(Spec::Suffix(digits(last)?));
    }
    let first = digits(first)?;
    let last = if last.is_empty() {
        None
    } else {
        Some(digits(last)?)
    };
    if last.is_some_and(|l| l < first) {
        return None;
    }
    Some(Spec::From { first, last })
}

/// A run of ASCII digits; values beyond u64 saturate, since they are past any file's end anyway.
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.parse().unwrap_or(u64::MAX))
}

/// Whether an `If-Range` value still describes the file, so the range may be served; when it does
/// not, the client's cached part is stale and it must get the whole file.
///
/// An entity tag matches only by strong comparison (weak tags never match, RFC 9110 §13.1.5); a
/// date matches only when it equals `Last-Modified` to the second. `etag` is the header value as
/// sent (`"abc"` or `W/"abc"`).
pub fn if_range_matches(
    if_range: &str,
    etag: Option<&str>,
    last_modified: Option<SystemTime>,
) -> bool {
    let value = if_range.trim();
    if value.starts_with('"') || value.starts_with("W/") {
        return match etag {
            Some(current) => {
                let current = current.trim();
                is_strong_tag(value) && is_strong_tag(current) && value == current
            }
            None => false,
        };
    }
    match (parse_http_date(value), last_modified) {
        (Some(date), Some(modified)) => whole_seconds(date) == whole_seconds(modified),
        _ => false,
    }
}

fn is_strong_tag(tag: &str) -> bool {
    tag.len() >= 2 && tag.starts_with('"') && tag.ends_with('"')
}

fn whole_seconds(t: SystemTime) -> i128 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i128::from(d.as_secs()),
        // Before 1970: round toward minus infinity, so -0.5 s is second -1 as in HTTP dates.
        Err(e) => -i128::from(e.duration().as_secs()) - i128::from(e.duration().subsec_nanos() > 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http_date::format_http_date;
    use proptest::prelude::*;
    use std::time::Duration;

    fn partial(start: u64, end_inclusive: u64) -> ByteRange {
        ByteRange::Partial {
            start,
            end_inclusive,
        }
    }

    #[test]
    fn single_ranges_are_read() {
        assert_eq!(ByteRange::parse("bytes=0-", 1000), partial(0, 999));
        assert_eq!(ByteRange::parse("bytes=100-199", 1000), partial(100, 199));
        assert_eq!(ByteRange::parse("bytes=999-999", 1000), partial(999, 999));
        assert_eq!(ByteRange::parse("Bytes = 5 - 9 ", 1000), partial(5, 9));
        assert_eq!(ByteRange::parse("bytes=0-99,", 1000), partial(0, 99));
    }

    #[test]
    fn suffix_ranges_count_from_the_end() {
        assert_eq!(ByteRange::parse("bytes=-500", 1000), partial(500, 999));
        assert_eq!(ByteRange::parse("bytes=-1", 1000), partial(999, 999));
        assert_eq!(ByteRange::parse("bytes=-5000", 1000), partial(0, 999));
        assert_eq!(ByteRange::parse("bytes=-0", 1000), ByteRange::Unsatisfiable);
    }

    #[test]
    fn ends_past_the_file_are_cut_at_its_end() {
        assert_eq!(ByteRange::parse("bytes=900-5000", 1000), partial(900, 999));
        assert_eq!(
            ByteRange::parse("bytes=0-99999999999999999999999", 1000),
            partial(0, 999)
        );
    }

    #[test]
    fn starts_past_the_file_are_unsatisfiable() {
        assert_eq!(
            ByteRange::parse("bytes=1000-", 1000),
            ByteRange::Unsatisfiable
        );
        assert_eq!(
            ByteRange::parse("bytes=1000-2000", 1000),
            ByteRange::Unsatisfiable
        );
        assert_eq!(
            ByteRange::parse("bytes=99999999999999999999999-", 1000),
            ByteRange::Unsatisfiable
        );
    }

    #[test]
    fn an_empty_file_has_no_partial_answer() {
        assert_eq!(ByteRange::parse("bytes=0-", 0), ByteRange::Unsatisfiable);
        assert_eq!(ByteRange::parse("bytes=-10", 0), ByteRange::Full);
    }

    #[test]
    fn invalid_headers_and_multiple_ranges_are_ignored() {
        for h in [
            "",
            "bytes",
            "bytes=",
            "bytes=abc",
            "bytes=5-3",
            "bytes=--5",
            "bytes=1-2-3",
            "bytes=+1-2",
            "bytes=0x10-",
            "items=0-10",
            "bytes=0-99,200-299",
            "bytes=-",
            "bytes=1 2-3",
        ] {
            assert_eq!(ByteRange::parse(h, 1000), ByteRange::Full, "{h:?}");
        }
    }

    #[test]
    fn content_range_is_formatted_per_rfc_9110() {
        assert_eq!(
            partial(0, 99).content_range(1000).as_deref(),
            Some("bytes 0-99/1000")
        );
        assert_eq!(
            ByteRange::Unsatisfiable.content_range(1000).as_deref(),
            Some("bytes */1000")
        );
        assert_eq!(ByteRange::Full.content_range(1000), None);
        assert_eq!(partial(0, 99).len(1000), 100);
        assert_eq!(ByteRange::Full.len(1000), 1000);
        assert!(ByteRange::Unsatisfiable.is_empty(1000));
    }

    #[test]
    fn if_range_with_an_etag_needs_a_strong_exact_match() {
        assert!(if_range_matches("\"v1\"", Some("\"v1\""), None));
        assert!(!if_range_matches("\"v1\"", Some("\"v2\""), None));
        assert!(!if_range_matches("W/\"v1\"", Some("W/\"v1\""), None));
        assert!(!if_range_matches("\"v1\"", Some("W/\"v1\""), None));
        assert!(!if_range_matches("\"v1\"", None, Some(SystemTime::now())));
    }

    #[test]
    fn if_range_with_a_date_needs_the_same_second() {
        let modified = UNIX_EPOCH + Duration::from_millis(1_700_000_000_400);
        let header = format_http_date(modified);
        assert!(if_range_matches(&header, Some("\"v1\""), Some(modified)));
        let later = modified + Duration::from_secs(1);
        assert!(!if_range_matches(&header, None, Some(later)));
        assert!(!if_range_matches(&header, None, None));
        assert!(!if_range_matches("garbage", None, Some(modified)));
    }

    #[test]
    fn a_request_gets_its_range_only_while_if_range_still_matches() {
        let etag = Some("\"v2\"");
        let get = |range, if_range| ByteRange::for_request(range, if_range, etag, None, 1000);
        assert_eq!(get(None, None), ByteRange::Full);
        assert_eq!(get(None, Some("\"v2\"")), ByteRange::Full);
        assert_eq!(get(Some("bytes=0-9"), None), partial(0, 9));
        assert_eq!(get(Some("bytes=0-9"), Some("\"v2\"")), partial(0, 9));
        assert_eq!(get(Some("bytes=0-9"), Some("\"v1\"")), ByteRange::Full);
        assert_eq!(get(Some("bytes=5000-"), Some("\"v1\"")), ByteRange::Full);
        assert_eq!(get(Some("bytes=5000-"), None), ByteRange::Unsatisfiable);
    }

    #[test]
    fn times_before_1970_round_down_to_the_second() {
        let t = UNIX_EPOCH - Duration::from_millis(500);
        assert_eq!(whole_seconds(t), -1);
        assert_eq!(whole_seconds(UNIX_EPOCH - Duration::from_secs(2)), -2);
    }

    /// Headers of every shape the parser distinguishes, with numbers near the file size.
    fn header_strategy() -> impl Strategy<Value = String> {
        let n = prop_oneof![0u64..2_000, any::<u64>()];
        prop_oneof![
            (n.clone(), n.clone()).prop_map(|(a, b)| format!("bytes={a}-{b}")),
            n.clone().prop_map(|a| format!("bytes={a}-")),
            n.clone().prop_map(|a| format!("bytes=-{a}")),
            (n.clone(), n).prop_map(|(a, b)| format!("bytes={a}-{b},{b}-")),
            ".*",
        ]
    }

    proptest! {
        #[test]
        fn a_partial_range_is_always_inside_the_file(
            header in header_strategy(),
            size in prop_oneof![0u64..2_000, any::<u64>()],
        ) {
            if let ByteRange::Partial { start, end_inclusive } = ByteRange::parse(&header, size) {
                prop_assert!(start <= end_inclusive);
                prop_assert!(end_inclusive < size);
                let len = ByteRange::parse(&header, size).len(size);
                prop_assert!(len >= 1 && len <= size);
            }
        }

        #[test]
        fn a_suffix_range_is_the_last_bytes_of_the_file(len in 1u64..5_000, size in 1u64..5_000) {
            let got = ByteRange::parse(&format!("bytes=-{len}"), size);
            prop_assert_eq!(got, partial(size - len.min(size), size - 1));
        }

        #[test]
        fn a_range_inside_the_file_is_served_exactly(a in 0u64..1_000, b in 0u64..1_000) {
            let (a, b) = (a.min(b), a.max(b));
            prop_assert_eq!(ByteRange::parse(&format!("bytes={a}-{b}"), 1_000), partial(a, b));
        }

        #[test]
        fn an_unsatisfiable_range_starts_at_or_past_the_end(
            first in 0u64..3_000,
            size in 0u64..3_000,
        ) {
            let got = ByteRange::parse(&format!("bytes={first}-"), size);
            prop_assert_eq!(got == ByteRange::Unsatisfiable, first >= size);
        }
    }
}
