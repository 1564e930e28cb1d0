//! Catalog values: what a film is made of, each checked once at the edge.

use crate::validation::{ValidationError, clean_text};
use serde::{Deserialize, Serialize};

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $min:expr, $max:expr, $multiline:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(raw: &str) -> Result<Self, ValidationError> {
                clean_text($field, raw, $min, $max, $multiline).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }
    };
}

text_type!(
    /// A film's title as shown on its page.
    Title, "title", 1, 200, false
);
text_type!(
    /// The synopsis: plain text, paragraphs separated by blank lines.
    Synopsis, "synopsis", 0, 5000, true
);
text_type!(
    /// A director's or cast member's name.
    PersonName, "name", 1, 120, false
);
text_type!(
    /// The spoken language, as a name ("English").
    Language, "language", 0, 40, false
);

/// The URL name of a film: `/movies/{slug}`. Lower-case letters, digits and single hyphens, and
/// never only digits, so a slug and a numeric id can not be confused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let s = raw.trim();
        let ok_chars = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if s.is_empty() || s.len() > 120 || !ok_chars {
            return Err(ValidationError::new(
                "slug",
                "must be 1 to 120 characters of a–z, 0–9 and '-'",
            ));
        }
        if s.starts_with('-') || s.ends_with('-') || s.contains("--") {
            return Err(ValidationError::new(
                "slug",
                "must not start or end with '-' or repeat it",
            ));
        }
        if s.chars().all(|c| c.is_ascii_digit()) {
            return Err(ValidationError::new(
                "slug",
                "must contain at least one letter",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// Derives a slug from a title and year: "Nosferatu" (1922) becomes `nosferatu-1922`.
    pub fn from_title(title: &str, year: Option<Year>) -> Self {
        let mut out = String::new();
        for c in title.chars().flat_map(char::to_lowercase) {
            let c = fold_accent(c);
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        let mut out = out
            .trim_end_matches('-')
            .chars()
            .take(100)
            .collect::<String>();
        out = out.trim_end_matches('-').to_owned();
        if let Some(y) = year {
            if !out.is_empty() {
                out.push('-');
            }
            out.push_str(&y.get().to_string());
        }
        if out.is_empty() || out.chars().all(|c| c.is_ascii_digit()) {
            out = if out.is_empty() {
                "film".to_owned()
            } else {
                format!("film-{out}")
            };
        }
        Self(out)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Folds the common Latin accented letters to their base letter (é → e), for slugs and search.
pub fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        'ß' => 's',
        other => other,
    }
}

/// A release year between the first films (1888) and 2100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Year(u16);

impl Year {
    pub fn new(y: i64) -> Result<Self, ValidationError> {
        if (1888..=2100).contains(&y) {
            Ok(Self(y as u16))
        } else {
            Err(ValidationError::new(
                "year",
                "must be between 1888 and 2100",
            ))
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        raw.trim()
            .parse::<i64>()
            .map_err(|_| ValidationError::new("year", "must be a year such as 2017"))
            .and_then(Self::new)
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

/// Running time in whole minutes, 1 to 1000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Runtime(u16);

impl Runtime {
    pub fn from_minutes(m: i64) -> Result<Self, ValidationError> {
        if (1..=1000).contains(&m) {
            Ok(Self(m as u16))
        } else {
            Err(ValidationError::new(
                "runtime_minutes",
                "must be between 1 and 1000 minutes",
            ))
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        raw.trim()
            .parse::<i64>()
            .map_err(|_| {
                ValidationError::new("runtime_minutes", "must be a whole number of minutes")
            })
            .and_then(Self::from_minutes)
    }

    pub fn minutes(self) -> u16 {
        self.0
    }
}

/// A genre name such as "Documentary": 1–40 characters, stored as given (trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Genre(String);

impl Genre {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        clean_text("genres", raw, 1, 40, false).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The audience rating: one of the MPA ratings or NR (not rated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContentRating {
    #[serde(rename = "G")]
    G,
    #[serde(rename = "PG")]
    Pg,
    #[serde(rename = "PG-13")]
    Pg13,
    #[serde(rename = "R")]
    R,
    #[serde(rename = "NC-17")]
    Nc17,
    #[serde(rename = "NR")]
    NotRated,
}

impl ContentRating {
    pub const ALL: [ContentRating; 6] = [
        Self::G,
        Self::Pg,
        Self::Pg13,
        Self::R,
        Self::Nc17,
        Self::NotRated,
    ];

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let r = raw.trim().to_ascii_uppercase();
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == r || (r.is_empty() && *c == Self::NotRated))
            .ok_or_else(|| {
                ValidationError::new(
                    "content_rating",
                    "must be one of G, PG, PG-13, R, NC-17, NR",
                )
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::G => "G",
            Self::Pg => "PG",
            Self::Pg13 => "PG-13",
            Self::R => "R",
            Self::Nc17 => "NC-17",
            Self::NotRated => "NR",
        }
    }
}

/// A cast member in billing order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CastMember {
    pub name: PersonName,
    /// The character played; may be empty (e.g. for documentary subjects).
    pub character: String,
}

impl CastMember {
    pub fn new(name: &str, character: &str) -> Result<Self, ValidationError> {
        Ok(Self {
            name: PersonName::parse(name)?,
            character: clean_text("character", character, 0, 120, false)?,
        })
    }
}

/// Everything needed to create or replace a film: only constructible from valid parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovieDraft {
    pub slug: Slug,
    pub title: Title,
    pub original_title: Option<Title>,
    pub year: Option<Year>,
    pub runtime: Option<Runtime>,
    pub synopsis: Synopsis,
    pub genres: Vec<Genre>,
    pub directors: Vec<PersonName>,
    pub cast: Vec<CastMember>,
    pub content_rating: ContentRating,
    pub language: Language,
}

impl MovieDraft {
    /// A film known only by its address and title; everything else empty or unknown.
    pub fn titled(slug: Slug, title: Title) -> Self {
        Self {
            slug,
            title,
            original_title: None,
            year: None,
            runtime: None,
            synopsis: Synopsis(String::new()),
            genres: Vec::new(),
            directors: Vec::new(),
            cast: Vec::new(),
            content_rating: ContentRating::NotRated,
            language: Language(String::new()),
        }
    }

    /// Checks the parts that only make sense together (no duplicate genres, bounded lists).
    pub fn check(self) -> Result<Self, ValidationError> {
        if self.genres.len() > 10 {
            return Err(ValidationError::new("genres", "at most 10 genres"));
        }
        let mut seen = std::collections::HashSet::new();
        if !self
            .genres
            .iter()
            .all(|g| seen.insert(g.as_str().to_lowercase()))
        {
            return Err(ValidationError::new("genres", "lists a genre twice"));
        }
        if self.directors.len() > 20 {
            return Err(ValidationError::new("directors", "at most 20 directors"));
        }
        if self.cast.len() > 200 {
            return Err(ValidationError::new("cast", "at most 200 cast members"));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_derived_from_title_and_year() {
        let y = Year::new(1922).ok();
        assert_eq!(
            Slug::from_title("Nosferatu, eine Symphonie des Grauens", y).as_str(),
            "nosferatu-eine-symphonie-des-grauens-1922"
        );
        assert_eq!(Slug::from_title("Amélie!", None).as_str(), "amelie");
        assert_eq!(Slug::from_title("1917", None).as_str(), "film-1917");
        assert_eq!(Slug::from_title("???", None).as_str(), "film");
    }

    #[test]
    fn slugs_reject_anything_that_could_reach_a_path_or_look_like_an_id() {
        for bad in ["", "../etc", "a/b", "UPPER", "12345", "-a", "a--b", "a b"] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Slug::parse("the-work").is_ok());
    }

    #[test]
    fn years_and_runtimes_have_sane_bounds() {
        assert!(Year::parse("2017").is_ok());
        assert!(Year::parse("1500").is_err());
        assert!(Year::parse("soon").is_err());
        assert_eq!(Runtime::parse(" 89 ").unwrap().minutes(), 89);
        assert!(Runtime::from_minutes(0).is_err());
    }

    #[test]
    fn content_ratings_parse_case_insensitively_and_empty_means_not_rated() {
        assert_eq!(ContentRating::parse("pg-13").unwrap(), ContentRating::Pg13);
        assert_eq!(ContentRating::parse("").unwrap(), ContentRating::NotRated);
        assert!(ContentRating::parse("X").is_err());
    }
}
