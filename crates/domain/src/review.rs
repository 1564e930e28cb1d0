//! Ratings and reviews: stars, the optional headline and text, and how lists of reviews are
//! sorted, filtered and paged.

use crate::validation::{ValidationError, clean_text};
use serde::Serialize;

/// A rating from one to five stars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Stars(u8);

impl Stars {
    pub fn new(n: i64) -> Result<Self, ValidationError> {
        if (1..=5).contains(&n) {
            Ok(Self(n as u8))
        } else {
            Err(ValidationError::new(
                "stars",
                "must be a whole number from 1 to 5",
            ))
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw.trim() {
            "" => Err(ValidationError::new("stars", "choose from 1 to 5 stars")),
            s => s
                .parse::<i64>()
                .map_err(|_| ValidationError::new("stars", "must be a whole number from 1 to 5"))
                .and_then(Self::new),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// An optional one-line summary above a review, at most 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Headline(String);

impl Headline {
    pub const MAX_CHARS: usize = 100;

    /// Empty or blank input means "no headline".
    pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>, ValidationError> {
        match raw.map(str::trim) {
            None | Some("") => Ok(None),
            Some(s) => clean_text("headline", s, 1, Self::MAX_CHARS, false).map(|s| Some(Self(s))),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The body of a review: plain text, at most 5,000 characters after trimming, paragraphs kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ReviewText(String);

impl ReviewText {
    pub const MAX_CHARS: usize = 5000;

    /// Empty or blank input means "a rating without a review".
    pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>, ValidationError> {
        match raw.map(str::trim) {
            None | Some("") => Ok(None),
            Some(s) => clean_text("body", s, 1, Self::MAX_CHARS, true).map(|s| Some(Self(s))),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The paragraphs, split on blank lines; single newlines stay inside a paragraph.
    pub fn paragraphs(text: &str) -> impl Iterator<Item = &str> {
        text.split("\n\n").map(str::trim).filter(|p| !p.is_empty())
    }
}

/// Orders for a film's reviews.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewSort {
    /// Wilson lower bound of the Yes share, ties newest first.
    #[default]
    Helpful,
    Newest,
    Highest,
    Lowest,
}

impl ReviewSort {
    pub const ALL: [ReviewSort; 4] = [Self::Helpful, Self::Newest, Self::Highest, Self::Lowest];

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                ValidationError::new("sort", "must be one of helpful, newest, highest, lowest")
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Helpful => "helpful",
            Self::Newest => "newest",
            Self::Highest => "highest",
            Self::Lowest => "lowest",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Helpful => "Most helpful",
            Self::Newest => "Newest",
            Self::Highest => "Highest rating",
            Self::Lowest => "Lowest rating",
        }
    }
}

/// Which reviews of a film to list, in which order, from where.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewFilter {
    pub sort: ReviewSort,
    pub stars: Option<Stars>,
    pub after: Option<ReviewCursor>,
    pub limit: u32,
}

/// The position after the last review of a page, in the sort's own key. Keyset paging on
/// `(key, created, id)` never repeats or skips a review while new ones are added, unlike OFFSET.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReviewCursor {
    pub sort: ReviewSort,
    pub score: f64,
    pub stars: u8,
    pub created_ms: i64,
    pub id: i64,
}

impl ReviewCursor {
    /// An opaque, URL-safe token. The score travels as its exact bit pattern so the next page
    /// starts exactly where this one ended.
    pub fn encode(&self) -> String {
        format!(
            "{}~{:x}~{}~{}~{}",
            self.sort.as_str(),
            self.score.to_bits(),
            self.stars,
            self.created_ms,
            self.id
        )
    }

    /// Parses a token made by [`encode`](Self::encode) for the same sort.
    pub fn decode(raw: &str, sort: ReviewSort) -> Result<Self, ValidationError> {
        let bad = || {
            ValidationError::new(
                "cursor",
                "is not a cursor from this list; start again from the first page",
            )
        };
        let mut parts = raw.split('~');
        let (Some(s), Some(score), Some(stars), Some(created), Some(id), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(bad());
        };
        if s != sort.as_str() {
            return Err(bad());
        }
        let score = f64::from_bits(u64::from_str_radix(score, 16).map_err(|_| bad())?);
        if !score.is_finite() {
            return Err(bad());
        }
        Ok(Self {
            sort,
            score,
            stars: stars.parse().map_err(|_| bad())?,
            created_ms: created.parse().map_err(|_| bad())?,
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_outside_one_to_five_are_rejected() {
        assert!(Stars::new(0).is_err());
        assert!(Stars::new(6).is_err());
        assert!(Stars::parse("abc").is_err());
        assert_eq!(Stars::parse(" 4 ").unwrap().get(), 4);
    }

    #[test]
    fn review_text_is_trimmed_before_its_length_is_checked() {
        let padded = format!("   {}   ", "a".repeat(5000));
        assert!(ReviewText::parse_optional(Some(&padded)).unwrap().is_some());
        assert!(ReviewText::parse_optional(Some(&"a".repeat(5001))).is_err());
        assert_eq!(ReviewText::parse_optional(Some("  \n ")).unwrap(), None);
    }

    #[test]
    fn review_text_keeps_paragraphs_and_normalizes_line_ends() {
        let t = ReviewText::parse_optional(Some("One.\r\n\r\nTwo.\r\nstill two."))
            .unwrap()
            .unwrap();
        let paras: Vec<_> = ReviewText::paragraphs(t.as_str()).collect();
        assert_eq!(paras, ["One.", "Two.\nstill two."]);
    }

    #[test]
    fn headlines_over_a_hundred_characters_are_rejected() {
        assert!(
            Headline::parse_optional(Some(&"h".repeat(100)))
                .unwrap()
                .is_some()
        );
        assert!(Headline::parse_optional(Some(&"h".repeat(101))).is_err());
    }

    #[test]
    fn cursors_round_trip_exactly_and_reject_other_sorts_and_garbage() {
        let c = ReviewCursor {
            sort: ReviewSort::Helpful,
            score: 0.1 + 0.2,
            stars: 4,
            created_ms: 1_511_740_800_000,
            id: 42,
        };
        assert_eq!(
            ReviewCursor::decode(&c.encode(), ReviewSort::Helpful).unwrap(),
            c
        );
        assert!(ReviewCursor::decode(&c.encode(), ReviewSort::Newest).is_err());
        assert!(ReviewCursor::decode("helpful~zz~1~2~3", ReviewSort::Helpful).is_err());
        assert!(ReviewCursor::decode("", ReviewSort::Helpful).is_err());
    }
}
