//! Kodi/Jellyfin movie NFO files: the XML that media managers write next to a video to say which
//! film it is. They are read as written ([`Nfo`], all text) and then turned into a draft
//! leniently, because scrapers fill them with odd values ("Rated PG-13", a year of 0, 300 actors)
//! that should cost a field, not the film. Only XML that can not be parsed at all is an error,
//! so a damaged file never overwrites good data with guesses.

use crate::fields;
use crate::{ExternalKey, ExternalRating};
use marquee_domain::{MovieDraft, Year};
use quick_xml::events::{BytesStart, Event};
use std::fmt;

/// An NFO file's content, as text, before any checking.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nfo {
    /// `<title>`.
    pub title: String,
    /// `<originaltitle>`.
    pub original_title: String,
    /// `<year>`.
    pub year: String,
    /// `<premiered>`, a date such as `1994-09-23`.
    pub premiered: String,
    /// `<runtime>`, in minutes.
    pub runtime: String,
    /// `<plot>`.
    pub plot: String,
    /// `<outline>`, the short plot, used when there is no `<plot>`.
    pub outline: String,
    /// Each `<genre>`.
    pub genres: Vec<String>,
    /// Each `<director>`.
    pub directors: Vec<String>,
    /// Each `<actor>`.
    pub actors: Vec<Actor>,
    /// `<mpaa>`, e.g. `Rated PG-13` or `US:PG-13`.
    pub mpaa: String,
    /// Each `<uniqueid type="...">`.
    pub unique_ids: Vec<UniqueId>,
    /// The legacy `<id>`, `<imdbid>` and `<tmdbid>` elements, as (element, text).
    pub legacy_ids: Vec<(String, String)>,
    /// Each `<ratings><rating>`.
    pub ratings: Vec<NfoRating>,
}

/// One `<actor>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// `<name>`.
    pub name: String,
    /// `<role>`, the character.
    pub role: String,
    /// `<order>`, the billing position, when given.
    pub order: Option<u32>,
}

/// One `<uniqueid type="imdb" default="true">tt0111161</uniqueid>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UniqueId {
    /// The `type` attribute, lower-cased: `imdb`, `tmdb`, ...
    pub kind: String,
    /// The id.
    pub value: String,
    /// The `default` attribute.
    pub default: bool,
}

/// One `<rating name="imdb" max="10"><value>7.2</value><votes>123</votes></rating>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NfoRating {
    /// The `name` attribute, lower-cased.
    pub name: String,
    /// The `max` attribute (10 when absent).
    pub max: String,
    /// `<value>`.
    pub value: String,
    /// `<votes>`.
    pub votes: String,
}

/// An NFO that is not usable XML, with the line where the parser gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct NfoError {
    /// The 1-based line, when known.
    pub line: Option<u64>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for NfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Parses a movie NFO. A file with no XML at all but a link to IMDb or TMDB (Kodi's "URL
/// NFO") gives just those ids.
pub fn parse(text: &str) -> Result<Nfo, NfoError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !text.trim_start().starts_with('<') {
        return Ok(from_urls(text));
    }
    let root = parse_tree(text)?;
    if root.name != "movie" {
        return Err(NfoError {
            line: None,
            message: format!("the root element is <{}>, not <movie>", root.name),
        });
    }
    let mut nfo = Nfo::default();
    for child in &root.children {
        let text = || child.text.trim().to_owned();
        match child.name.as_str() {
            "title" => nfo.title = text(),
            "originaltitle" => nfo.original_title = text(),
            "year" => nfo.year = text(),
            "premiered" | "releasedate" if nfo.premiered.is_empty() => nfo.premiered = text(),
            "runtime" => nfo.runtime = text(),
            "plot" => nfo.plot = text(),
            "outline" => nfo.outline = text(),
            "genre" => nfo.genres.push(text()),
            "director" => nfo.directors.push(text()),
            "mpaa" => nfo.mpaa = text(),
            "actor" => nfo.actors.push(Actor {
                name: child.child_text("name"),
                role: child.child_text("role"),
                order: child.child_text("order").parse().ok(),
            }),
            "uniqueid" => nfo.unique_ids.push(UniqueId {
                kind: child.attr("type").to_ascii_lowercase(),
                value: text(),
                default: child.attr("default").eq_ignore_ascii_case("true"),
            }),
            "id" | "imdbid" | "imdb_id" | "tmdbid" => {
                nfo.legacy_ids.push((child.name.clone(), text()));
            }
            "ratings" => {
                for r in child.children.iter().filter(|r| r.name == "rating") {
                    nfo.ratings.push(NfoRating {
                        name: r.attr("name").to_ascii_lowercase(),
                        max: r.attr("max").to_owned(),
                        value: r.child_text("value"),
                        votes: r.child_text("votes"),
                    });
                }
            }
            _ => {}
        }
    }
    Ok(nfo)
}

impl Nfo {
    /// The film this NFO describes. The title and year from the folder name fill in where the
    /// NFO has none; odd optional values are left out, long lists and texts are cut.
    pub fn draft(
        &self,
        fallback_title: &str,
        fallback_year: Option<Year>,
    ) -> Result<MovieDraft, String> {
        let raw_title = if self.title.trim().is_empty() {
            fallback_title
        } else {
            &self.title
        };
        let title = fields::title(raw_title)?;
        let year = fields::year(&self.year)
            .ok()
            .flatten()
            .or_else(|| fields::first_year(&self.premiered).ok().flatten())
            .or(fallback_year);
        let mut draft = fields::draft(title, year);
        if self.original_title.trim() != draft.title.as_str() {
            draft.original_title = fields::optional_title("original title", &self.original_title)
                .ok()
                .flatten();
        }
        draft.runtime = fields::runtime(&self.runtime).ok().flatten();
        let plot = if self.plot.trim().is_empty() {
            &self.outline
        } else {
            &self.plot
        };
        draft.synopsis = fields::synopsis(plot);
        // Older scrapers put several genres in one element: "Action / Comedy".
        for genre in self.genres.iter().flat_map(|g| g.split(" / ")) {
            let _ = fields::push_genre(&mut draft.genres, genre);
        }
        for director in self.directors.iter().flat_map(|d| d.split(" / ")) {
            let _ = fields::push_director(&mut draft.directors, director);
        }
        let mut actors: Vec<&Actor> = self.actors.iter().collect();
        actors.sort_by_key(|a| a.order.unwrap_or(u32::MAX));
        for actor in actors {
            let _ = fields::push_cast(&mut draft.cast, &actor.name, &actor.role);
        }
        draft.content_rating = fields::content_rating(&self.mpaa);
        fields::check(draft)
    }

    /// The IMDb and TMDB ids, the default one first, each once.
    pub fn keys(&self) -> Vec<ExternalKey> {
        let mut ids: Vec<&UniqueId> = self.unique_ids.iter().collect();
        ids.sort_by_key(|u| !u.default);
        let unique = ids.into_iter().filter_map(|u| match u.kind.as_str() {
            "imdb" => fields::imdb_key(&u.value),
            "tmdb" => fields::tmdb_key(&u.value),
            _ => None,
        });
        let legacy = self.legacy_ids.iter().filter_map(|(name, value)| {
            match name.as_str() {
                "tmdbid" => fields::tmdb_key(value),
                // The legacy <id> held IMDb ids; a bare number there could be anything.
                _ if value.trim().starts_with("tt") => fields::imdb_key(value),
                _ => None,
            }
        });
        let mut keys: Vec<ExternalKey> = Vec::new();
        for key in unique.chain(legacy) {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        keys
    }

    /// The IMDb rating from `<ratings>`, when there is one.
    pub fn external_rating(&self) -> Option<ExternalRating> {
        let r = self.ratings.iter().find(|r| r.name == "imdb")?;
        let max = r
            .max
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|m| *m > 0.0)
            .unwrap_or(10.0);
        let value: f64 = r.value.trim().parse().ok()?;
        if !(0.0..=max).contains(&value) {
            return None;
        }
        Some(ExternalRating {
            source: "imdb".to_owned(),
            tenths: (value * 100.0 / max).round() as u16,
            votes: fields::votes(&r.votes).ok().flatten().unwrap_or(0),
        })
    }
}

/// Ids from an NFO that is only a link: `https://www.imdb.com/title/tt0111161/` or
/// `https://www.themoviedb.org/movie/278`.
fn from_urls(text: &str) -> Nfo {
    let mut nfo = Nfo::default();
    for word in text.split_whitespace() {
        if let Some((_, rest)) = word.split_once("imdb.com/title/") {
            let id: String = rest
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            nfo.legacy_ids.push(("id".to_owned(), id));
        } else if let Some((_, rest)) = word.split_once("themoviedb.org/movie/") {
            let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
            nfo.legacy_ids.push(("tmdbid".to_owned(), id));
        }
    }
    nfo
}

/// A parsed element: enough of a tree for NFO files, which are small.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn attr(&self, name: &str) -> &str {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map_or("", |(_, v)| v.as_str())
    }

    fn child_text(&self, name: &str) -> String {
        self.children
            .iter()
            .find(|c| c.name == name)
            .map_or_else(String::new, |c| c.text.trim().to_owned())
    }
}

fn parse_tree(text: &str) -> Result<Element, NfoError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let line_at = |pos: u64| {
        let pos = usize::try_from(pos).unwrap_or(usize::MAX).min(text.len());
        1 + text.as_bytes()[..pos]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64
    };
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader.read_event().map_err(|e| NfoError {
            line: Some(line_at(reader.error_position())),
            message: e.to_string(),
        })?;
        let bad = |message: String| NfoError {
            line: Some(line_at(reader.buffer_position())),
            message,
        };
        match event {
            Event::Start(e) => stack.push(element(&e).map_err(bad)?),
            Event::Empty(e) => {
                let el = element(&e).map_err(bad)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => {
                        root.get_or_insert(el);
                    }
                }
            }
            Event::End(_) => {
                let el = stack
                    .pop()
                    .ok_or_else(|| bad("an end tag without a start".into()))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => {
                        root.get_or_insert(el);
                    }
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    let s = t.xml10_content().map_err(|e| bad(e.to_string()))?;
                    top.text.push_str(&s);
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    let s = t.xml10_content().map_err(|e| bad(e.to_string()))?;
                    top.text.push_str(&s);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(top) = stack.last_mut() {
                    if let Some(c) = r.resolve_char_ref().map_err(|e| bad(e.to_string()))? {
                        top.text.push(c);
                    } else {
                        let name = r.decode().map_err(|e| bad(e.to_string()))?;
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(s) => top.text.push_str(s),
                            // Not XML, but HTML entities such as &nbsp; turn up; keep them.
                            None => top.text.push_str(&format!("&{name};")),
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(NfoError {
            line: Some(line_at(text.len() as u64)),
            message: format!("the file ends inside <{}>", open.name),
        });
    }
    root.ok_or_else(|| NfoError {
        line: None,
        message: "has no XML element".to_owned(),
    })
}

fn element(e: &BytesStart<'_>) -> Result<Element, String> {
    let name = String::from_utf8_lossy(e.local_name().as_ref()).to_ascii_lowercase();
    let mut attrs = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|e| e.to_string())?;
        let key = String::from_utf8_lossy(attr.key.local_name().as_ref()).into_owned();
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?
            .into_owned();
        attrs.push((key, value));
    }
    Ok(Element {
        name,
        attrs,
        ..Element::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHAWSHANK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<movie>
  <title>The Shawshank Redemption</title>
  <originaltitle>The Shawshank Redemption</originaltitle>
  <ratings>
    <rating name="imdb" max="10" default="true"><value>9.3</value><votes>2,500,000</votes></rating>
  </ratings>
  <plot>Two imprisoned men bond over a number of years &amp; find solace.</plot>
  <runtime>142</runtime>
  <mpaa>Rated R</mpaa>
  <uniqueid type="imdb" default="true">tt0111161</uniqueid>
  <uniqueid type="tmdb">278</uniqueid>
  <genre>Drama</genre>
  <genre>drama</genre>
  <genre>Crime</genre>
  <director>Frank Darabont</director>
  <premiered>1994-09-23</premiered>
  <actor><name>Morgan Freeman</name><role>Ellis Boyd 'Red' Redding</role><order>1</order></actor>
  <actor><name>Tim Robbins</name><role>Andy Dufresne</role><order>0</order></actor>
  <fileinfo><streamdetails><video><codec>h264</codec></video></streamdetails></fileinfo>
</movie>
"#;

    #[test]
    fn a_kodi_nfo_gives_a_full_draft_with_ids_and_the_imdb_rating() {
        let nfo = parse(SHAWSHANK).unwrap();
        let draft = nfo.draft("ignored", None).unwrap();
        assert_eq!(draft.title.as_str(), "The Shawshank Redemption");
        assert_eq!(draft.original_title, None);
        assert_eq!(draft.year.map(Year::get), Some(1994));
        assert_eq!(draft.slug.as_str(), "the-shawshank-redemption-1994");
        assert_eq!(draft.runtime.map(|r| r.minutes()), Some(142));
        assert!(draft.synopsis.as_str().contains("years & find"));
        let genres: Vec<_> = draft.genres.iter().map(|g| g.as_str()).collect();
        assert_eq!(genres, ["Drama", "Crime"]);
        assert_eq!(draft.directors[0].as_str(), "Frank Darabont");
        assert_eq!(draft.cast[0].name.as_str(), "Tim Robbins");
        assert_eq!(draft.cast[1].character, "Ellis Boyd 'Red' Redding");
        assert_eq!(draft.content_rating.as_str(), "R");
        let keys: Vec<_> = nfo.keys().iter().map(|k| k.to_string()).collect();
        assert_eq!(keys, ["imdb:tt0111161", "tmdb:278"]);
        assert_eq!(
            nfo.external_rating(),
            Some(ExternalRating {
                source: "imdb".into(),
                tenths: 93,
                votes: 2_500_000
            })
        );
    }

    #[test]
    fn an_nfo_without_title_or_year_falls_back_to_the_folder_name() {
        let nfo = parse("<movie><id>tt0062622</id><mpaa>US:G</mpaa></movie>").unwrap();
        let year = Year::new(1968).ok();
        let draft = nfo.draft("2001: A Space Odyssey", year).unwrap();
        assert_eq!(draft.title.as_str(), "2001: A Space Odyssey");
        assert_eq!(draft.year, year);
        assert_eq!(draft.content_rating.as_str(), "G");
        assert_eq!(nfo.keys()[0].as_str(), "imdb:tt0062622");
    }

    #[test]
    fn malformed_nfo_files_are_errors_with_a_line() {
        let err = parse("<movie>\n<title>Broken</titel>\n</movie>").unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        let err = parse("<movie>\n<title>Cut short</title>\n").unwrap_err();
        assert!(err.message.contains("ends inside <movie>"), "{err}");
        assert!(parse("<tvshow><title>Show</title></tvshow>").is_err());
    }

    #[test]
    fn a_url_only_nfo_gives_the_ids_in_its_links() {
        let nfo = parse("https://www.imdb.com/title/tt0111161/\n").unwrap();
        assert_eq!(nfo.keys()[0].as_str(), "imdb:tt0111161");
        let nfo = parse("https://www.themoviedb.org/movie/278-x").unwrap();
        assert_eq!(nfo.keys()[0].as_str(), "tmdb:278");
    }

    #[test]
    fn long_plots_and_casts_are_cut_and_odd_values_dropped() {
        let actors: String = (0..250)
            .map(|i| format!("<actor><name>Actor {i}</name></actor>"))
            .collect();
        let xml = format!(
            "<movie><title>Long</title><year>0</year><runtime>soon</runtime><plot>{}</plot>{actors}<mpaa>TV-MA</mpaa></movie>",
            "p".repeat(6000)
        );
        let draft = parse(&xml).unwrap().draft("x", None).unwrap();
        assert_eq!(draft.synopsis.as_str().len(), 5000);
        assert_eq!(draft.cast.len(), 200);
        assert_eq!(draft.year, None);
        assert_eq!(draft.runtime, None);
        assert_eq!(draft.content_rating.as_str(), "NR");
    }
}
