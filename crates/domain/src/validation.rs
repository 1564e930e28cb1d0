//! The one error every domain constructor returns: which field was wrong and why, in words a
//! person filling in a form can act on.

use std::fmt;

/// A value that could not become a domain type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// The form or JSON field the value came from, e.g. `"stars"`.
    pub field: &'static str,
    /// A sentence for the person who sent it.
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ValidationError {}

/// Trims `raw` and checks its length in characters (not bytes, so "é" counts once) and that it
/// holds no control characters other than newlines and tabs where `multiline` allows them.
pub(crate) fn clean_text(
    field: &'static str,
    raw: &str,
    min: usize,
    max: usize,
    multiline: bool,
) -> Result<String, ValidationError> {
    let text = if multiline {
        normalize_newlines(raw.trim())
    } else {
        raw.trim().to_owned()
    };
    let len = text.chars().count();
    if len < min {
        return Err(if min == 1 {
            ValidationError::new(field, "must not be empty")
        } else {
            ValidationError::new(field, format!("must be at least {min} characters"))
        });
    }
    if len > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters (this one has {len})"),
        ));
    }
    let bad = text
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t')));
    if bad {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(text)
}

/// Browsers send form text with CRLF line ends; store one form so lengths and paragraphs agree.
fn normalize_newlines(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}
