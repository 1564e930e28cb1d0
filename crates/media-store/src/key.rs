//! `MediaKey`: the only way to name a stored object. It is the security boundary between
//! requests and the filesystem (or a bucket): a key can only be built from short, plain
//! segments, so no request path can climb out of the media folder, name an absolute path, or
//! smuggle in a character a filesystem or S3 treats specially.

use std::fmt;
use std::str::FromStr;

/// Longest accepted key, in bytes (S3 allows 1024; leave room for a bucket prefix).
pub const MAX_KEY_LEN: usize = 512;
/// Longest accepted segment, in bytes (most filesystems cap a file name at 255).
pub const MAX_SEGMENT_LEN: usize = 128;

/// A validated relative object key such as `movies/42/hls/720p/segment-00001.ts`.
///
/// Segments are separated by `/` and each is 1 to [`MAX_SEGMENT_LEN`] ASCII letters, digits,
/// `.`, `_` or `-`, starting with a letter, digit or `_`. That rules out `..` and `.`, hidden
/// names (the local backend's temporary files start with `.`), empty segments (`a//b`, a
/// leading or trailing `/`, so no absolute path), backslashes, NULs, spaces and anything
/// non-ASCII.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MediaKey(String);

/// Why a string is not a [`MediaKey`]. The message names the rule, never echoes more than
/// the offending segment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("a media key cannot be empty")]
    Empty,
    #[error("a media key is at most {MAX_KEY_LEN} bytes long")]
    TooLong,
    #[error("a media key cannot start with `/` or contain an empty segment")]
    EmptySegment,
    #[error("a media key segment is at most {MAX_SEGMENT_LEN} bytes long")]
    SegmentTooLong,
    #[error("a media key cannot contain `.` or `..` segments")]
    DotSegment,
    #[error("a media key segment must start with a letter, a digit or `_`")]
    BadStart,
    #[error(
        "a media key may only contain ASCII letters, digits, `.`, `_`, `-` and `/` (found {0:?})"
    )]
    BadCharacter(char),
}

impl MediaKey {
    /// Checks `key` against the rules above.
    pub fn parse(key: &str) -> Result<Self, KeyError> {
        validate(key)?;
        Ok(Self(key.to_owned()))
    }

    /// This key followed by `rest` (one or more segments, validated the same way).
    pub fn join(&self, rest: &str) -> Result<Self, KeyError> {
        validate(rest)?;
        let joined = format!("{}/{rest}", self.0);
        if joined.len() > MAX_KEY_LEN {
            return Err(KeyError::TooLong);
        }
        Ok(Self(joined))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The segments, in order.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The last segment (the file name).
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The key without its last segment, if it has more than one.
    pub fn parent(&self) -> Option<Self> {
        self.0
            .rsplit_once('/')
            .map(|(parent, _)| Self(parent.to_owned()))
    }

    /// Whether this key lies under `prefix` as a folder: `a/b/c` is under `a/b`, but `a/bc`
    /// is not, and a key is not under itself.
    pub fn is_under(&self, prefix: &MediaKey) -> bool {
        self.0
            .strip_prefix(prefix.as_str())
            .is_some_and(|rest| rest.starts_with('/'))
    }

    /// The part of this key after `prefix/`, when it lies under `prefix`.
    pub fn strip_prefix(&self, prefix: &MediaKey) -> Option<&str> {
        self.0.strip_prefix(prefix.as_str())?.strip_prefix('/')
    }
}

fn validate(key: &str) -> Result<(), KeyError> {
    if key.is_empty() {
        return Err(KeyError::Empty);
    }
    if key.len() > MAX_KEY_LEN {
        return Err(KeyError::TooLong);
    }
    for segment in key.split('/') {
        validate_segment(segment)?;
    }
    Ok(())
}

fn validate_segment(segment: &str) -> Result<(), KeyError> {
    if segment.is_empty() {
        return Err(KeyError::EmptySegment);
    }
    if segment.len() > MAX_SEGMENT_LEN {
        return Err(KeyError::SegmentTooLong);
    }
    if segment == "." || segment == ".." {
        return Err(KeyError::DotSegment);
    }
    if let Some(bad) = segment
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(KeyError::BadCharacter(bad));
    }
    if segment.starts_with(['.', '-']) {
        return Err(KeyError::BadStart);
    }
    Ok(())
}

impl FromStr for MediaKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for MediaKey {
    type Error = KeyError;
    fn try_from(s: &str) -> Result<Self, KeyError> {
        Self::parse(s)
    }
}

impl TryFrom<String> for MediaKey {
    type Error = KeyError;
    fn try_from(s: String) -> Result<Self, KeyError> {
        validate(&s)?;
        Ok(Self(s))
    }
}

impl AsRef<str> for MediaKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MediaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for MediaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MediaKey({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::{Component, Path};

    proptest! {
        /// Whatever a request sends, a key that parses names a file strictly inside the root.
        #[test]
        fn a_parsed_key_never_leaves_the_folder(raw in r"[a-z0-9./\\:_ -]{0,24}|(\.\./)+[a-z]{1,3}") {
            if let Ok(key) = MediaKey::parse(&raw) {
                let root = Path::new("/srv/media");
                let mut path = root.to_path_buf();
                path.extend(key.segments());
                prop_assert!(path.starts_with(root) && path != root);
                prop_assert!(path
                    .strip_prefix(root)
                    .unwrap()
                    .components()
                    .all(|c| matches!(c, Component::Normal(_))));
                prop_assert_eq!(path.strip_prefix(root).unwrap().to_str(), Some(key.as_str()));
            }
        }
    }

    #[test]
    fn ordinary_media_names_are_keys() {
        for ok in [
            "a",
            "movies/42/source.mp4",
            "movies/42/hls/720p/seg-00001.ts",
            "movies/42/subs/en.vtt",
            "_tmp/x",
            "1080p/index.m3u8",
            "file.name.with.dots",
        ] {
            assert_eq!(MediaKey::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn paths_that_could_escape_the_folder_are_refused() {
        let cases = [
            ("", KeyError::Empty),
            ("../x", KeyError::DotSegment),
            ("a/../../x", KeyError::DotSegment),
            ("./a", KeyError::DotSegment),
            ("a/.", KeyError::DotSegment),
            ("/etc/passwd", KeyError::EmptySegment),
            ("a//b", KeyError::EmptySegment),
            ("a/", KeyError::EmptySegment),
            ("a\\b", KeyError::BadCharacter('\\')),
            ("..\\x", KeyError::BadCharacter('\\')),
            ("a\0b", KeyError::BadCharacter('\0')),
            ("C:/x", KeyError::BadCharacter(':')),
            ("a b", KeyError::BadCharacter(' ')),
            ("caf\u{e9}", KeyError::BadCharacter('\u{e9}')),
            ("a/%2e%2e", KeyError::BadCharacter('%')),
            ("a/.hidden", KeyError::BadStart),
            ("-rf", KeyError::BadStart),
        ];
        for (bad, why) in cases {
            assert_eq!(MediaKey::parse(bad), Err(why), "{bad:?}");
        }
        assert_eq!(
            MediaKey::parse(&"a".repeat(MAX_SEGMENT_LEN + 1)),
            Err(KeyError::SegmentTooLong)
        );
        let long = vec!["abcdefgh"; 64].join("/");
        assert_eq!(MediaKey::parse(&long), Err(KeyError::TooLong));
    }

    #[test]
    fn joining_validates_the_added_segments() {
        let base = MediaKey::parse("movies/42").unwrap();
        assert_eq!(
            base.join("hls/index.m3u8").unwrap().as_str(),
            "movies/42/hls/index.m3u8"
        );
        assert!(base.join("../43").is_err());
        assert!(base.join("/x").is_err());
        assert!(base.join("").is_err());
    }

    #[test]
    fn a_key_lies_under_a_prefix_only_at_a_segment_boundary() {
        let key = MediaKey::parse("movies/42/a.mp4").unwrap();
        assert!(key.is_under(&MediaKey::parse("movies").unwrap()));
        assert!(key.is_under(&MediaKey::parse("movies/42").unwrap()));
        assert!(!key.is_under(&MediaKey::parse("movies/4").unwrap()));
        assert!(!key.is_under(&key));
        assert_eq!(
            key.strip_prefix(&MediaKey::parse("movies").unwrap()),
            Some("42/a.mp4")
        );
        assert_eq!(key.file_name(), "a.mp4");
        assert_eq!(key.parent().unwrap().as_str(), "movies/42");
        assert_eq!(MediaKey::parse("top").unwrap().parent(), None);
    }
}
