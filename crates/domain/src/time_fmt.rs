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
