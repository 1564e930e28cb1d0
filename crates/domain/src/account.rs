//! Account values: the sign-in name, the name shown beside reviews, and the password rules.

use crate::validation::{ValidationError, clean_text};
use std::fmt;

/// The name an account signs in with: 3–32 characters of `a-z`, `0-9`, `_` and `-`, stored in
/// lower case so "Ada" and "ada" are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = raw.trim().to_lowercase();
        let len = name.chars().count();
        if !(3..=32).contains(&len) {
            return Err(ValidationError::new(
                "username",
                "must be 3 to 32 characters",
            ));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        {
            return Err(ValidationError::new(
                "username",
                "may only use letters a–z, digits, '_' and '-'",
            ));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name shown with a person's reviews: 1–60 characters, any script. It is text, never
/// markup; pages escape it like everything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        clean_text("display_name", raw, 1, 60, false).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: at least 10 characters. The upper bound keeps hashing cost bounded.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let len = raw.chars().count();
        if len < Self::MIN_CHARS {
            return Err(ValidationError::new(
                "password",
                format!("must be at least {} characters", Self::MIN_CHARS),
            ));
        }
        if len > 1024 {
            return Err(ValidationError::new(
                "password",
                "must be at most 1024 characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

// Never print a password, not even in a debug log.
impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lowercased_and_limited_to_a_safe_alphabet() {
        assert_eq!(
            Username::parse(" Ada_Lovelace ").unwrap().as_str(),
            "ada_lovelace"
        );
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse("a b c").is_err());
        assert!(Username::parse("<script>").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
    }

    #[test]
    fn display_names_are_trimmed_and_may_hold_any_script_but_no_control_characters() {
        assert_eq!(
            DisplayName::parse("  Zoë 山田 ").unwrap().as_str(),
            "Zoë 山田"
        );
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse("a\u{0}b").is_err());
        assert!(DisplayName::parse(&"x".repeat(61)).is_err());
    }

    #[test]
    fn passwords_need_ten_characters_and_never_show_in_debug_output() {
        assert!(Password::parse("short").is_err());
        let p = Password::parse("correct horse").unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
    }
}
