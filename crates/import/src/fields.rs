//! Turning a source's loose text into domain values, with the same leniency in every reader.
//!
//! The rule: a required value (the title) or a present-but-unusable scalar (a year of 1500, a
//! runtime of "soon") rejects the row with a message; long free text and long lists (synopsis,
//! genres, directors, cast) are cut to the domain's bounds without complaint, because losing a
//! film over its 201st cast member helps nobody; an unknown content rating is "not rated".

use crate::ExternalKey;
use marquee_domain::{
    CastMember, ContentRating, Genre, Language, MovieDraft, PersonName, Runtime, Slug, Synopsis,
    Title, ValidationError, Year,
};

/// Most genres, directors and cast members a draft may hold (see `MovieDraft::check`).
pub(crate) const MAX_GENRES: usize = 10;
pub(crate) const MAX_DIRECTORS: usize = 20;
pub(crate) const MAX_CAST: usize = 200;

/// A message naming the field, the value (shortened) and what is wrong with it.
pub(crate) fn invalid(what: &str, raw: &str, err: &ValidationError) -> String {
    format!("{what} {:?} {}", cut(raw.trim(), 60), err.message)
}

/// The first `max` characters of `s`, cut at a character boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// A required title.
pub(crate) fn title(raw: &str) -> Result<Title, String> {
    if raw.trim().is_empty() {
        return Err("title is missing".to_owned());
    }
    Title::parse(raw).map_err(|e| invalid("title", raw, &e))
}

/// An optional title: empty is none, anything else must be valid.
pub(crate) fn optional_title(what: &str, raw: &str) -> Result<Option<Title>, String> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    Title::parse(raw)
        .map(Some)
        .map_err(|e| invalid(what, raw, &e))
}

/// A column that holds only a year: empty is none.
pub(crate) fn year(raw: &str) -> Result<Option<Year>, String> {
    match raw.trim() {
        "" => Ok(None),
        s => Year::parse(s)
            .map(Some)
            .map_err(|e| invalid("year", raw, &e)),
    }
}

/// The first run of exactly four digits that is a year from 1888 to 2100, so "Jun 12 1998",
/// "1998-06-12" and "1998" all give 1998. Empty is none; text without such a year is an error.
pub(crate) fn first_year(raw: &str) -> Result<Option<Year>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i - start == 4
            && let Ok(y) = Year::parse(&s[start..i])
        {
            return Ok(Some(y));
        }
    }
    Err(format!(
        "year {:?} holds no year from 1888 to 2100",
        cut(s, 60)
    ))
}

/// A running time in minutes: "89", "89.0", "89 min", "1h 29m", "2 hours". Empty is none.
pub(crate) fn runtime(raw: &str) -> Result<Option<Runtime>, String> {
    let s = raw.trim().to_ascii_lowercase();
    if s.is_empty() {
        return Ok(None);
    }
    let bad = || {
        format!(
            "runtime {:?} is not a number of minutes",
            cut(raw.trim(), 60)
        )
    };
    let minutes = if let Some(whole) = s
        .strip_suffix(".0")
        .or(Some(&s))
        .filter(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()))
    {
        whole.parse::<i64>().map_err(|_| bad())?
    } else {
        let mut total = 0i64;
        let mut rest = s.as_str();
        let mut any = false;
        while !rest.is_empty() {
            rest = rest.trim_start();
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(bad());
            }
            let n: i64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = rest[digits..].trim_start();
            let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            let factor = match &rest[..unit_len] {
                "h" | "hr" | "hrs" | "hour" | "hours" => 60,
                "" | "m" | "min" | "mins" | "minute" | "minutes" => 1,
                _ => return Err(bad()),
            };
            total = total.saturating_add(n.saturating_mul(factor));
            rest = rest[unit_len..].trim_start_matches([' ', ',']);
            any = true;
        }
        if !any {
            return Err(bad());
        }
        total
    };
    Runtime::from_minutes(minutes)
        .map(Some)
        .map_err(|e| invalid("runtime", raw, &e))
}

/// A synopsis, cut to the domain's 5,000 characters; control characters other than newlines
/// and tabs are dropped, so this never fails.
pub(crate) fn synopsis(raw: &str) -> Synopsis {
    let text: String = raw
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect();
    let text = cut(text.trim(), Synopsis::MAX_CHARS);
    Synopsis::parse(text).unwrap_or_else(|_| empty_synopsis())
}

fn empty_synopsis() -> Synopsis {
    Synopsis::parse("").expect("an empty synopsis is valid")
}

/// A language name; empty is allowed.
pub(crate) fn language(raw: &str) -> Result<Language, String> {
    Language::parse(raw).map_err(|e| invalid("language", raw, &e))
}

/// Adds a genre unless it is blank, already listed (ignoring case) or the list is full.
pub(crate) fn push_genre(genres: &mut Vec<Genre>, raw: &str) -> Result<(), String> {
    let raw = raw.trim();
    if raw.is_empty() || genres.len() >= MAX_GENRES {
        return Ok(());
    }
    let genre = Genre::parse(raw).map_err(|e| invalid("genre", raw, &e))?;
    let lower = genre.as_str().to_lowercase();
    if !genres.iter().any(|g| g.as_str().to_lowercase() == lower) {
        genres.push(genre);
    }
    Ok(())
}

/// Adds a director unless blank, already listed or the list is full.
pub(crate) fn push_director(directors: &mut Vec<PersonName>, raw: &str) -> Result<(), String> {
    let raw = raw.trim();
    if raw.is_empty() || directors.len() >= MAX_DIRECTORS {
        return Ok(());
    }
    let name = PersonName::parse(raw).map_err(|e| invalid("director", raw, &e))?;
    if !directors.contains(&name) {
        directors.push(name);
    }
    Ok(())
}

/// Adds a cast member unless blank or the list is full; the character is cut to fit.
pub(crate) fn push_cast(
    cast: &mut Vec<CastMember>,
    name: &str,
    character: &str,
) -> Result<(), String> {
    let name = name.trim();
    if name.is_empty() || cast.len() >= MAX_CAST {
        return Ok(());
    }
    let character: String = character.chars().filter(|c| !c.is_control()).collect();
    CastMember::new(name, cut(character.trim(), 120))
        .map(|m| cast.push(m))
        .map_err(|e| invalid("cast member", name, &e))
}

/// Splits a list written in one cell: "Drama|Comedy", "Drama, Comedy" or "Drama; Comedy".
pub(crate) fn split_list(raw: &str) -> impl Iterator<Item = &str> {
    raw.split(['|', ',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The audience rating as sources write it: "PG-13", "Rated PG-13", "US:PG-13",
/// "Rated R for violence", "US:R / UK:15", "pg13". Anything else is "not rated".
pub(crate) fn content_rating(raw: &str) -> ContentRating {
    for part in raw.split(['/', ',', '|']) {
        let (country, rating) = match part.rsplit_once(':') {
            Some((c, r)) => (Some(c.trim()), r),
            None => (None, part),
        };
        if country.is_some_and(|c| !c.eq_ignore_ascii_case("us") && !c.eq_ignore_ascii_case("usa"))
        {
            continue;
        }
        let rating = rating.trim();
        let rating = if rating.len() > 6 && rating[..6].eq_ignore_ascii_case("rated ") {
            &rating[6..]
        } else {
            rating
        };
        let token: String = rating
            .split_whitespace()
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_uppercase();
        let found = match token.as_str() {
            "G" => Some(ContentRating::G),
            "PG" => Some(ContentRating::Pg),
            "PG13" => Some(ContentRating::Pg13),
            "R" => Some(ContentRating::R),
            "NC17" => Some(ContentRating::Nc17),
            _ => None,
        };
        if let Some(found) = found {
            return found;
        }
    }
    ContentRating::NotRated
}

/// A yes-like cell: 1, true, yes, y, t (any case).
pub(crate) fn truthy(raw: &str) -> bool {
    matches!(
        raw.trim().to_ascii_lowercase().as_str(),
        "1" | "1.0" | "true" | "yes" | "y" | "t"
    )
}

/// An IMDb key from "tt0111161", "0111161" or "111161" (zero-padded to seven digits).
pub(crate) fn imdb_key(raw: &str) -> Option<ExternalKey> {
    let s = raw.trim();
    let digits = s.strip_prefix("tt").unwrap_or(s);
    if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    ExternalKey::new("imdb", &format!("tt{n:07}")).ok()
}

/// A TMDB key from its numeric id.
pub(crate) fn tmdb_key(raw: &str) -> Option<ExternalKey> {
    let s = raw.trim();
    let s = s.strip_suffix(".0").unwrap_or(s);
    let n: u64 = s.parse().ok().filter(|n| *n > 0)?;
    ExternalKey::new("tmdb", &n.to_string()).ok()
}

/// A draft with only a title and year; the reader fills in the rest.
pub(crate) fn draft(title: Title, year: Option<Year>) -> MovieDraft {
    MovieDraft {
        slug: Slug::from_title(title.as_str(), year),
        title,
        original_title: None,
        year,
        runtime: None,
        synopsis: empty_synopsis(),
        genres: Vec::new(),
        directors: Vec::new(),
        cast: Vec::new(),
        content_rating: ContentRating::NotRated,
        language: Language::parse("").expect("an empty language is valid"),
    }
}

/// Runs the draft's whole-film checks.
pub(crate) fn check(draft: MovieDraft) -> Result<MovieDraft, String> {
    draft.check().map_err(|e| e.to_string())
}

/// Tenths of 10 from a rating on a `scale` of 5, 10 or 100: 7.2 of 10 is 72, 4.5 of 5 is 90.
pub(crate) fn tenths(raw: &str, scale: u16) -> Result<Option<u16>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let bad = || format!("rating {:?} is not a number from 0 to {scale}", cut(s, 60));
    let v: f64 = s.parse().map_err(|_| bad())?;
    if !v.is_finite() || v < 0.0 || v > f64::from(scale) {
        return Err(bad());
    }
    Ok(Some((v * 100.0 / f64::from(scale)).round() as u16))
}

/// A vote count: "12345", "12,345" or "12345.0". Empty is none.
pub(crate) fn votes(raw: &str) -> Result<Option<u32>, String> {
    let s = raw.trim().replace(',', "");
    if s.is_empty() {
        return Ok(None);
    }
    let s = s.strip_suffix(".0").unwrap_or(&s);
    s.parse()
        .map(Some)
        .map_err(|_| format!("votes {:?} is not a whole number", cut(raw.trim(), 60)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_year_finds_the_year_in_dates_of_any_shape() {
        let y = |s: &str| first_year(s).unwrap().map(Year::get);
        assert_eq!(y("Jun 12 1998"), Some(1998));
        assert_eq!(y("1998-06-12"), Some(1998));
        assert_eq!(y("12/06/1998"), Some(1998));
        assert_eq!(y(" "), None);
        assert!(first_year("Jun 12").is_err());
        assert!(first_year("12345").is_err());
        assert!(first_year("1500").is_err());
    }

    #[test]
    fn runtimes_accept_minutes_and_hours_in_the_usual_spellings() {
        let m = |s: &str| runtime(s).unwrap().map(Runtime::minutes);
        assert_eq!(m("89"), Some(89));
        assert_eq!(m("89.0"), Some(89));
        assert_eq!(m("89 min"), Some(89));
        assert_eq!(m("1h 29m"), Some(89));
        assert_eq!(m("1h29min"), Some(89));
        assert_eq!(m("2 hours"), Some(120));
        assert_eq!(m(""), None);
        assert!(runtime("soon").is_err());
        assert!(runtime("0").is_err());
        assert!(runtime("89 furlongs").is_err());
    }

    #[test]
    fn content_ratings_are_found_in_the_ways_sources_write_them() {
        let r = |s: &str| content_rating(s).as_str();
        assert_eq!(r("PG-13"), "PG-13");
        assert_eq!(r("Rated PG-13"), "PG-13");
        assert_eq!(r("US:PG-13"), "PG-13");
        assert_eq!(r("UK:15 / US:R"), "R");
        assert_eq!(r("Rated R for strong violence, and language"), "R");
        assert_eq!(r("nc17"), "NC-17");
        assert_eq!(r("Not Rated"), "NR");
        assert_eq!(r("TV-MA"), "NR");
        assert_eq!(r(""), "NR");
    }

    #[test]
    fn genres_are_deduplicated_ignoring_case_and_capped_at_ten() {
        let mut genres = Vec::new();
        for g in ["Drama", "drama", " ", "Comedy"] {
            push_genre(&mut genres, g).unwrap();
        }
        assert_eq!(genres.len(), 2);
        for i in 0..20 {
            push_genre(&mut genres, &format!("G{i}")).unwrap();
        }
        assert_eq!(genres.len(), MAX_GENRES);
        assert!(push_genre(&mut Vec::new(), &"x".repeat(41)).is_err());
    }

    #[test]
    fn long_synopses_are_cut_at_a_character_boundary() {
        let s = synopsis(&"é".repeat(6000));
        assert_eq!(s.as_str().chars().count(), 5000);
        assert_eq!(synopsis("a\u{7}b\r\nc").as_str(), "ab\nc");
    }

    #[test]
    fn ratings_become_tenths_of_ten_from_any_scale() {
        assert_eq!(tenths("7.2", 10).unwrap(), Some(72));
        assert_eq!(tenths("4.5", 5).unwrap(), Some(90));
        assert_eq!(tenths("85", 100).unwrap(), Some(85));
        assert!(tenths("11", 10).is_err());
        assert_eq!(votes("12,345").unwrap(), Some(12345));
    }

    #[test]
    fn imdb_ids_are_zero_padded_to_seven_digits() {
        assert_eq!(imdb_key("114709").unwrap().as_str(), "imdb:tt0114709");
        assert_eq!(imdb_key("tt0111161").unwrap().as_str(), "imdb:tt0111161");
        assert_eq!(imdb_key("tt10872600").unwrap().as_str(), "imdb:tt10872600");
        assert!(imdb_key("nm0000001").is_none());
        assert_eq!(tmdb_key("278").unwrap().as_str(), "tmdb:278");
        assert!(tmdb_key("").is_none());
    }
}
