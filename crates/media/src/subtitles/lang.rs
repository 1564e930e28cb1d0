//! A subtitle track's language as a BCP 47 tag of the common shape: a primary language of two or
//! three letters, then an optional script (`Hant`) and region (`BR`, `419`). It goes into HLS
//! `LANGUAGE` attributes and `<track srclang>`, where players match it against the viewer's
//! preferences, so it is normalized the way those comparisons expect (`pt-BR`, `zh-Hant-TW`) and
//! three-letter codes that have a two-letter form are shortened (`eng` to `en`), as BCP 47 asks.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A language tag such as `en`, `pt-BR` or `zh-Hant`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SubtitleLang(String);

/// A language code that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a language code such as en or pt-BR: {reason}")]
pub struct LangError {
    pub input: String,
    pub reason: &'static str,
}

/// (ISO 639-1, ISO 639-2 codes, English name) for languages subtitles commonly come in.
const LANGUAGES: &[(&str, &[&str], &str)] = &[
    ("ar", &["ara"], "Arabic"),
    ("bg", &["bul"], "Bulgarian"),
    ("ca", &["cat"], "Catalan"),
    ("cs", &["ces", "cze"], "Czech"),
    ("da", &["dan"], "Danish"),
    ("de", &["deu", "ger"], "German"),
    ("el", &["ell", "gre"], "Greek"),
    ("en", &["eng"], "English"),
    ("es", &["spa"], "Spanish"),
    ("et", &["est"], "Estonian"),
    ("fa", &["fas", "per"], "Persian"),
    ("fi", &["fin"], "Finnish"),
    ("fr", &["fra", "fre"], "French"),
    ("he", &["heb"], "Hebrew"),
    ("hi", &["hin"], "Hindi"),
    ("hr", &["hrv"], "Croatian"),
    ("hu", &["hun"], "Hungarian"),
    ("id", &["ind"], "Indonesian"),
    ("is", &["isl", "ice"], "Icelandic"),
    ("it", &["ita"], "Italian"),
    ("ja", &["jpn"], "Japanese"),
    ("ko", &["kor"], "Korean"),
    ("lt", &["lit"], "Lithuanian"),
    ("lv", &["lav"], "Latvian"),
    ("ms", &["msa", "may"], "Malay"),
    ("nb", &["nob"], "Norwegian Bokmål"),
    ("nl", &["nld", "dut"], "Dutch"),
    ("no", &["nor"], "Norwegian"),
    ("pl", &["pol"], "Polish"),
    ("pt", &["por"], "Portuguese"),
    ("ro", &["ron", "rum"], "Romanian"),
    ("ru", &["rus"], "Russian"),
    ("sk", &["slk", "slo"], "Slovak"),
    ("sl", &["slv"], "Slovenian"),
    ("sr", &["srp"], "Serbian"),
    ("sv", &["swe"], "Swedish"),
    ("th", &["tha"], "Thai"),
    ("tr", &["tur"], "Turkish"),
    ("uk", &["ukr"], "Ukrainian"),
    ("vi", &["vie"], "Vietnamese"),
    ("zh", &["zho", "chi"], "Chinese"),
];

const REGIONS: &[(&str, &str)] = &[
    ("419", "Latin America"),
    ("AR", "Argentina"),
    ("AT", "Austria"),
    ("AU", "Australia"),
    ("BE", "Belgium"),
    ("BR", "Brazil"),
    ("CA", "Canada"),
    ("CH", "Switzerland"),
    ("CN", "China"),
    ("DE", "Germany"),
    ("ES", "Spain"),
    ("FR", "France"),
    ("GB", "United Kingdom"),
    ("HK", "Hong Kong"),
    ("IE", "Ireland"),
    ("IN", "India"),
    ("MX", "Mexico"),
    ("NZ", "New Zealand"),
    ("PT", "Portugal"),
    ("SG", "Singapore"),
    ("TW", "Taiwan"),
    ("US", "United States"),
];

const SCRIPTS: &[(&str, &str)] = &[
    ("Hans", "Simplified"),
    ("Hant", "Traditional"),
    ("Latn", "Latin"),
    ("Cyrl", "Cyrillic"),
];

impl SubtitleLang {
    /// Accepts `en`, `EN`, `eng`, `pt-BR`, `pt_br`, `es-419`, `zh-Hant-TW`; rejects anything else,
    /// and `und`/`mul`/`zxx`/`mis`, which name no single language a viewer could pick.
    pub fn parse(raw: &str) -> Result<Self, LangError> {
        let err = |reason| LangError {
            input: raw.chars().take(40).collect(),
            reason,
        };
        let raw_t = raw.trim();
        if raw_t.is_empty() {
            return Err(err("it is empty"));
        }
        let mut parts = raw_t.split(['-', '_']);
        let primary = parts.next().unwrap_or_default();
        if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(err("the language must be two or three letters"));
        }
        let mut primary = primary.to_ascii_lowercase();
        if ["und", "mul", "zxx", "mis"].contains(&primary.as_str()) {
            return Err(err("it does not name one language"));
        }
        if let Some((two, ..)) = LANGUAGES
            .iter()
            .find(|(_, three, _)| three.contains(&&*primary))
        {
            primary = (*two).to_owned();
        }

        let mut tag = primary;
        let mut seen_script = false;
        let mut seen_region = false;
        for part in parts {
            let alpha = part.bytes().all(|b| b.is_ascii_alphabetic());
            let digits = part.bytes().all(|b| b.is_ascii_digit());
            if part.len() == 4 && alpha && !seen_script && !seen_region {
                seen_script = true;
                tag.push('-');
                tag.push_str(&part[..1].to_ascii_uppercase());
                tag.push_str(&part[1..].to_ascii_lowercase());
            } else if ((part.len() == 2 && alpha) || (part.len() == 3 && digits)) && !seen_region {
                seen_region = true;
                tag.push('-');
                tag.push_str(&part.to_ascii_uppercase());
            } else {
                return Err(err(
                    "after the language only a script (Hant) and a region (BR, 419) may follow",
                ));
            }
        }
        Ok(Self(tag))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary language alone: `pt` for `pt-BR`.
    pub fn primary(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }

    /// A name for menus: "Portuguese (Brazil)", "Chinese (Traditional)". Languages outside the
    /// built-in list show their tag.
    pub fn display_name(&self) -> String {
        let mut parts = self.0.split('-');
        let primary = parts.next().unwrap_or_default();
        let Some((_, _, name)) = LANGUAGES.iter().find(|(two, ..)| *two == primary) else {
            return self.0.clone();
        };
        let qualifiers: Vec<&str> = parts
            .map(|p| {
                SCRIPTS
                    .iter()
                    .chain(REGIONS)
                    .find(|(code, _)| *code == p)
                    .map_or(p, |(_, n)| *n)
            })
            .collect();
        if qualifiers.is_empty() {
            (*name).to_owned()
        } else {
            format!("{name} ({})", qualifiers.join(", "))
        }
    }
}

impl fmt::Display for SubtitleLang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for SubtitleLang {
    type Error = LangError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<SubtitleLang> for String {
    fn from(lang: SubtitleLang) -> Self {
        lang.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(s: &str) -> String {
        SubtitleLang::parse(s).unwrap().as_str().to_owned()
    }

    #[test]
    fn common_tags_are_accepted_and_normalized() {
        assert_eq!(tag("en"), "en");
        assert_eq!(tag(" EN "), "en");
        assert_eq!(tag("pt-BR"), "pt-BR");
        assert_eq!(tag("pt_br"), "pt-BR");
        assert_eq!(tag("es-419"), "es-419");
        assert_eq!(tag("zh-hant-tw"), "zh-Hant-TW");
        assert_eq!(tag("fil"), "fil");
    }

    #[test]
    fn three_letter_codes_with_a_two_letter_form_are_shortened() {
        assert_eq!(tag("eng"), "en");
        assert_eq!(tag("fre"), "fr");
        assert_eq!(tag("deu"), "de");
        assert_eq!(tag("ger-AT"), "de-AT");
    }

    #[test]
    fn malformed_tags_are_rejected() {
        for bad in [
            "",
            "e",
            "engl",
            "e1",
            "en-",
            "en-USA",
            "en-US-GB",
            "en-US-Latn",
            "en--US",
            "12",
            "en-12",
            "x-klingon",
            "en US",
            "ру",
        ] {
            assert!(SubtitleLang::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn codes_that_name_no_language_are_rejected() {
        let err = SubtitleLang::parse("und").unwrap_err();
        assert_eq!(err.reason, "it does not name one language");
        assert!(err.to_string().starts_with("`und` is not a language code"));
    }

    #[test]
    fn display_names_read_naturally() {
        let name = |s: &str| SubtitleLang::parse(s).unwrap().display_name();
        assert_eq!(name("en"), "English");
        assert_eq!(name("pt-BR"), "Portuguese (Brazil)");
        assert_eq!(name("es-419"), "Spanish (Latin America)");
        assert_eq!(name("zh-Hant-TW"), "Chinese (Traditional, Taiwan)");
        assert_eq!(name("de-LI"), "German (LI)");
        assert_eq!(name("fil"), "fil");
    }

    #[test]
    fn serde_round_trips_and_validates() {
        let lang: SubtitleLang = serde_json::from_str("\"pt_br\"").unwrap();
        assert_eq!(serde_json::to_string(&lang).unwrap(), "\"pt-BR\"");
        assert!(serde_json::from_str::<SubtitleLang>("\"nope nope\"").is_err());
        assert_eq!(lang.primary(), "pt");
    }
}
