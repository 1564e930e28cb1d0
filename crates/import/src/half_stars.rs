//! Half-star ratings, the scale MovieLens and Letterboxd use, kept exactly so an export can give
//! back what was imported, and mapped onto Marquee's whole stars where a review needs them.

use marquee_domain::{Stars, ValidationError};
use std::fmt;

/// A rating from 0.5 to 5.0 in steps of 0.5, held as a count of half stars (1 to 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HalfStars(u8);

impl HalfStars {
    /// From a count of half stars, 1 (0.5) to 10 (5.0).
    pub fn from_halves(halves: u8) -> Result<Self, ValidationError> {
        if (1..=10).contains(&halves) {
            Ok(Self(halves))
        } else {
            Err(Self::error())
        }
    }

    /// Parses `0.5`, `3`, `3.0`, `3.5` or `3.50`; anything else (`7`, `0`, `2.25`) is an error.
    /// The text is read as a decimal, never through a float, so no rounding can creep in.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        let dangling_point = s.ends_with('.');
        if whole.is_empty() || whole.len() > 2 || !digits(whole) || !digits(frac) || dangling_point
        {
            return Err(Self::error());
        }
        let half = match frac.trim_end_matches('0') {
            "" => 0,
            "5" => 1,
            _ => return Err(Self::error()),
        };
        let whole: u8 = whole.parse().map_err(|_| Self::error())?;
        Self::from_halves(whole.saturating_mul(2).saturating_add(half))
    }

    /// Marquee's whole stars, rounding halves up: 0.5 and 1.0 are 1, 3.5 is 4.
    pub fn stars(self) -> Stars {
        Stars::new(i64::from(self.0.div_ceil(2))).expect("1..=10 halves round into 1..=5 stars")
    }

    /// The rating as a number, e.g. 3.5.
    pub fn as_f32(self) -> f32 {
        f32::from(self.0) / 2.0
    }

    /// The count of half stars, 1 to 10.
    pub fn halves(self) -> u8 {
        self.0
    }

    fn error() -> ValidationError {
        ValidationError::new("rating", "must be 0.5 to 5 in steps of 0.5")
    }
}

/// Writes `3` or `3.5`, as Letterboxd's export does.
impl fmt::Display for HalfStars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(2) {
            write!(f, "{}", self.0 / 2)
        } else {
            write!(f, "{}.5", self.0 / 2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_stars_parse_every_step_and_display_it_back() {
        for halves in 1..=10u8 {
            let h = HalfStars::from_halves(halves).unwrap();
            assert_eq!(HalfStars::parse(&h.to_string()).unwrap(), h);
            assert_eq!(HalfStars::parse(&format!("{:.1}", h.as_f32())).unwrap(), h);
        }
        assert_eq!(HalfStars::parse(" 3.50 ").unwrap().halves(), 7);
    }

    #[test]
    fn half_stars_reject_whole_numbers_above_five_and_other_fractions() {
        for bad in [
            "7", "0", "0.0", "5.5", "2.25", "", "abc", "-1", "3.", ".5", "1e1",
        ] {
            assert!(HalfStars::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn half_stars_round_half_up_onto_whole_stars() {
        let stars = |s: &str| HalfStars::parse(s).unwrap().stars().get();
        assert_eq!(stars("0.5"), 1);
        assert_eq!(stars("1.0"), 1);
        assert_eq!(stars("1.5"), 2);
        assert_eq!(stars("3.5"), 4);
        assert_eq!(stars("5"), 5);
        assert_eq!(HalfStars::parse("3.5").unwrap().as_f32(), 3.5);
    }
}
