//! Dates as people read them on a title page: "November 27, 2017".

use time::OffsetDateTime;
use time::macros::format_description;

/// Formats milliseconds since the Unix epoch as a long US date in UTC.
pub fn long_date(unix_ms: i64) -> String {
    let fmt = format_description!("[month repr:long] [day padding:none], [year]");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

/// The current time in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_like_a_store_page() {
        // 2017-11-27T12:00:00Z
        assert_eq!(long_date(1_511_784_000_000), "November 27, 2017");
        assert_eq!(long_date(1_509_580_800_000), "November 2, 2017");
    }
}

/// A duration as a clock reading: `1:29:10`, or `4:05` under an hour.
pub fn clock(ms: u64) -> String {
    let s = ms / 1000;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod clock_tests {
    #[test]
    fn hours_show_only_when_there_are_some() {
        assert_eq!(super::clock(5_350_000), "1:29:10");
        assert_eq!(super::clock(245_999), "4:05");
        assert_eq!(super::clock(0), "0:00");
    }
}
