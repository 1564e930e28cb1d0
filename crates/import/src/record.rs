//! What every reader yields: a film record with its identity in the source, and the problems
//! found on the way, each pointing at the file and line it came from so a person can fix the
//! input and import again.

use marquee_domain::MovieDraft;
use std::fmt;
use std::path::{Path, PathBuf};

/// Where a record came from, for reports: `ratings.csv:17`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// The file (or, inside an archive, `archive.zip/member.csv`).
    pub path: PathBuf,
    /// The 1-based line the record starts on, when the source has lines.
    pub line: Option<u64>,
}

impl Origin {
    /// A whole file or folder.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            line: None,
        }
    }

    /// One line of a file.
    pub fn line(path: impl Into<PathBuf>, line: u64) -> Self {
        Self {
            path: path.into(),
            line: Some(line),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.path.display()),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

/// A rejected row or file. Displays as `path:line: message` (or `path: message`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct Problem {
    /// Where the rejected input is.
    pub origin: Origin,
    /// What is wrong with it, in words a person can act on.
    pub message: String,
}

impl Problem {
    /// A problem at `origin`.
    pub fn new(origin: Origin, message: impl Into<String>) -> Self {
        Self {
            origin,
            message: message.into(),
        }
    }

    /// A problem with a whole file or folder.
    pub fn file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::new(Origin::file(path), message)
    }

    /// A problem on one line of a file.
    pub fn at(path: impl Into<PathBuf>, line: u64, message: impl Into<String>) -> Self {
        Self::new(Origin::line(path, line), message)
    }

    /// A file that could not be opened or read.
    pub(crate) fn io(path: &Path, err: &std::io::Error) -> Self {
        Self::file(path, format!("can not be read: {err}"))
    }
}

/// The reason a string can not be an [`ExternalKey`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid external key {key:?}: {reason}")]
pub struct InvalidKey {
    /// The rejected key, cut to 80 characters.
    pub key: String,
    /// Why it was rejected.
    pub reason: &'static str,
}

/// A film's identity in a source, used to match re-imports: `imdb:tt0111161`, `tmdb:278`,
/// `movielens:1`, `library:<folder relative to the library root, '/' separated>`,
/// `catalog:<name>:<id or normalised 'title (year)'>`.
///
/// Only constructible valid: a source of lower-case letters, digits, `-` or `_`, a colon, and a
/// non-empty rest; at most 300 characters in all and no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExternalKey(String);

impl ExternalKey {
    /// The longest key, in characters.
    pub const MAX_CHARS: usize = 300;

    /// Parses `source:id`.
    pub fn parse(raw: &str) -> Result<Self, InvalidKey> {
        let bad = |reason| InvalidKey {
            key: raw.chars().take(80).collect(),
            reason,
        };
        let Some((source, id)) = raw.split_once(':') else {
            return Err(bad("must look like source:id"));
        };
        let source_ok = !source.is_empty()
            && source
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !source_ok {
            return Err(bad(
                "the source before ':' must be lower-case letters, digits, '-' or '_'",
            ));
        }
        if id.trim().is_empty() {
            return Err(bad("the id after ':' must not be empty"));
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(bad("must be at most 300 characters"));
        }
        if raw.chars().any(char::is_control) {
            return Err(bad("must not contain control characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// Joins a source and an id: `ExternalKey::new("tmdb", "278")` is `tmdb:278`.
    pub fn new(source: &str, id: &str) -> Result<Self, InvalidKey> {
        Self::parse(&format!("{source}:{id}"))
    }

    /// The whole key, `source:id`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the first `:`, e.g. `imdb`.
    pub fn source(&self) -> &str {
        self.0.split_once(':').map_or("", |(s, _)| s)
    }

    /// The part after the first `:`, e.g. `tt0111161`.
    pub fn id(&self) -> &str {
        self.0.split_once(':').map_or("", |(_, id)| id)
    }
}

impl fmt::Display for ExternalKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A rating from another site on its own scale, e.g. IMDb 7.2/10 from 12,345 votes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalRating {
    /// Whose rating: `imdb`, or a catalog's name (a key-safe word).
    pub source: String,
    /// Tenths of a point out of 10, 0 to 100: 72 is 7.2 of 10.
    pub tenths: u16,
    /// How many people rated; 0 when the source does not say.
    pub votes: u32,
}

/// A film to create or update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilmRecord {
    /// Where it was read.
    pub origin: Origin,
    /// Its identity in this source, to match it when the same source is imported again.
    pub key: ExternalKey,
    /// Other identities the source knows (IMDb, TMDB), to match it across sources.
    pub other_keys: Vec<ExternalKey>,
    /// The film itself, checked.
    pub draft: MovieDraft,
    /// The source's audience rating, when it has one.
    pub external_rating: Option<ExternalRating>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_read_as_path_line_and_message() {
        let p = Problem::at("ratings.csv", 17, "rating \"7\" is not a half-star rating");
        assert_eq!(
            p.to_string(),
            "ratings.csv:17: rating \"7\" is not a half-star rating"
        );
        assert_eq!(
            Problem::file("movie.nfo", "is not XML").to_string(),
            "movie.nfo: is not XML"
        );
    }

    #[test]
    fn external_keys_split_into_source_and_id() {
        let k = ExternalKey::parse("catalog:vega:brazil (1985)").unwrap();
        assert_eq!(k.source(), "catalog");
        assert_eq!(k.id(), "vega:brazil (1985)");
        assert_eq!(
            ExternalKey::new("tmdb", "278").unwrap().as_str(),
            "tmdb:278"
        );
    }

    #[test]
    fn external_keys_reject_empty_long_and_control_character_keys() {
        for bad in [
            "",
            "imdb",
            "imdb:",
            ":tt1",
            "IMDB:tt1",
            "imdb: ",
            "imdb:tt\n1",
        ] {
            assert!(
                ExternalKey::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        let long = format!("library:{}", "a".repeat(293));
        assert!(ExternalKey::parse(&long).is_err());
        assert!(ExternalKey::parse(&long[..300]).is_ok());
    }
}
