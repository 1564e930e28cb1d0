//! HTTP dates (RFC 9110 §5.6.7) for `Last-Modified` and `If-Range`: written in the preferred
//! IMF-fixdate form, read in all three forms the RFC says a recipient must accept.

use std::time::SystemTime;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, macros::format_description};

/// `Sun, 06 Nov 1994 08:49:37 GMT`. HTTP dates have whole seconds; the fraction is dropped.
pub fn format_http_date(t: SystemTime) -> String {
    let t = OffsetDateTime::from(t);
    t.format(format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    ))
    .unwrap_or_default()
}

/// Reads an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), an RFC 850 date
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) or an asctime date (`Sun Nov  6 08:49:37 1994`).
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    let tokens: Vec<&str> = s.split_whitespace().collect();
    let (day, month, year, clock) = match tokens.as_slice() {
        [wd, day, mon, year, clock, "GMT"] if wd.ends_with(',') => {
            (two_digits(day)?, *mon, four_digits(year)?, *clock)
        }
        [wd, date, clock, "GMT"] if wd.ends_with(',') => {
            let mut parts = date.split('-');
            let (day, mon, yy) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() {
                return None;
            }
            // RFC 9110: a two-digit year more than 50 years ahead is in the past century; for
            // dates from files on disk, 70..99 as 19xx is the same rule in practice.
            let yy: i32 = two_digits(yy)?;
            (
                two_digits(day)?,
                mon,
                if yy >= 70 { 1900 + yy } else { 2000 + yy },
                *clock,
            )
        }
        [_wd, mon, day, clock, year] => {
            let day: u8 = day.parse().ok().filter(|_| (1..=2).contains(&day.len()))?;
            (day, *mon, four_digits(year)?, *clock)
        }
        _ => return None,
    };
    let month = month_from_name(month)?;
    let mut hms = clock.split(':');
    let (h, m, sec) = (
        two_digits(hms.next()?)?,
        two_digits(hms.next()?)?,
        two_digits(hms.next()?)?,
    );
    if hms.next().is_some() {
        return None;
    }
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(h, m, sec).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc().into())
}

fn two_digits<T: From<u8>>(s: &str) -> Option<T> {
    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse::<u8>().ok().map(T::from))
        .flatten()
}

fn four_digits(s: &str) -> Option<i32> {
    (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn month_from_name(name: &str) -> Option<Month> {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let i = NAMES.iter().position(|n| n.eq_ignore_ascii_case(name))?;
    Month::try_from(i as u8 + 1).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn nov_6_1994() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(784_111_777)
    }

    #[test]
    fn dates_are_written_as_imf_fixdate() {
        assert_eq!(
            format_http_date(nov_6_1994()),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        let with_fraction = nov_6_1994() + Duration::from_millis(999);
        assert_eq!(
            format_http_date(with_fraction),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
    }

    #[test]
    fn all_three_forms_are_read() {
        for s in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(s), Some(nov_6_1994()), "{s}");
        }
    }

    #[test]
    fn malformed_dates_are_not_read() {
        for s in [
            "",
            "yesterday",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:49:37 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "\"an-etag\"",
        ] {
            assert_eq!(parse_http_date(s), None, "{s}");
        }
    }

    #[test]
    fn writing_and_reading_round_trip_at_whole_seconds() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_123);
        assert_eq!(parse_http_date(&format_http_date(t)), Some(t));
    }
}
