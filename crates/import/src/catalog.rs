//! Generic film catalogs: any CSV/TSV (gzipped or not) or JSON file (an array of objects, or one
//! object per line) whose columns are named on the command line, e.g.
//! `title=Title year="Release Date" runtime="Running Time min"`. This is how data sets that no
//! reader knows (spreadsheets, R and Python packages' tables, other services' dumps) come in.
//!
//! The mapping is checked against the file's header (for JSON, the first object's keys) before
//! any row is read, so a typo fails at once instead of yielding 50,000 empty films. Rows are
//! keyed by the mapped id column, or else by title and year, and a key seen twice in one file
//! is reported with the line of its first appearance.

use crate::fields;
use crate::source::{self, CsvRows, Dialect, JsonObjects};
use crate::{ExternalKey, ExternalRating, FilmRecord, Origin, Problem};
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

/// A field of a film that a catalog column can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The catalog's own id for the film; makes the key `catalog:<name>:<id>`.
    Id,
    /// Required.
    Title,
    /// The title in the original language.
    OriginalTitle,
    /// The first four-digit year from 1888 to 2100 in the value: "1998", "Jun 12 1998".
    Year,
    /// Minutes: "89", "89 min", "1h 29m".
    Runtime,
    /// Plain text; cut to 5,000 characters.
    Synopsis,
    /// Genres split on `|`, `,` or `;` (or a JSON array).
    Genres,
    /// Directors split on `|`, `,` or `;` (or a JSON array).
    Directors,
    /// Cast members split on `|`, `,` or `;` (or a JSON array), in billing order.
    Cast,
    /// "PG-13", "Rated R"; anything unknown is not rated.
    ContentRating,
    /// The spoken language's name.
    Language,
    /// The audience rating on `rating_scale`.
    Rating,
    /// How many people rated.
    Votes,
}

impl Field {
    const ALL: [(&'static str, Field); 13] = [
        ("id", Self::Id),
        ("title", Self::Title),
        ("original_title", Self::OriginalTitle),
        ("year", Self::Year),
        ("runtime", Self::Runtime),
        ("synopsis", Self::Synopsis),
        ("genres", Self::Genres),
        ("directors", Self::Directors),
        ("cast", Self::Cast),
        ("content_rating", Self::ContentRating),
        ("language", Self::Language),
        ("rating", Self::Rating),
        ("votes", Self::Votes),
    ];
}

/// Which column holds which field, and how to read the rating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    name: String,
    columns: Vec<(Field, String)>,
    genre_flags: Vec<String>,
    rating_scale: u16,
    rating_source: String,
}

impl Mapping {
    /// Reads `field=Column` specs for the catalog called `name` (a key-safe word such as
    /// `vega`). Besides the [`Field`]s, `genre_flags=Action,Comedy` names columns whose value
    /// 1/true means the column's name is a genre, `rating_scale=5|10|100` says what the rating
    /// is out of (10 when not given), and `rating_source=imdb` whose rating it is (the catalog's
    /// name when not given).
    pub fn parse(name: &str, specs: &[String]) -> Result<Self, String> {
        if !is_word(name) {
            return Err(format!(
                "catalog name {name:?} must be 1 to 40 lower-case letters, digits, '-' or '_'"
            ));
        }
        let mut mapping = Self {
            name: name.to_owned(),
            columns: Vec::new(),
            genre_flags: Vec::new(),
            rating_scale: 10,
            rating_source: name.to_owned(),
        };
        let mut seen = Vec::new();
        for spec in specs {
            let Some((field, column)) = spec.split_once('=') else {
                return Err(format!("{spec:?} should look like field=Column"));
            };
            let (field, column) = (field.trim(), column.trim());
            if column.is_empty() {
                return Err(format!("{spec:?} names no column"));
            }
            if seen.contains(&field) {
                return Err(format!("{field} is given twice"));
            }
            seen.push(field);
            match field {
                "genre_flags" => {
                    mapping.genre_flags = column
                        .split(',')
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned)
                        .collect();
                }
                "rating_scale" => {
                    mapping.rating_scale = match column {
                        "5" => 5,
                        "10" => 10,
                        "100" => 100,
                        _ => {
                            return Err(format!(
                                "rating_scale must be 5, 10 or 100, not {column:?}"
                            ));
                        }
                    };
                }
                "rating_source" => {
                    if !is_word(column) {
                        return Err(format!(
                            "rating_source {column:?} must be lower-case letters, digits, '-' or '_'"
                        ));
                    }
                    mapping.rating_source = column.to_owned();
                }
                _ => {
                    let Some((_, f)) = Field::ALL.iter().find(|(n, _)| *n == field) else {
                        let known: Vec<&str> = Field::ALL.iter().map(|(n, _)| *n).collect();
                        return Err(format!(
                            "unknown field {field:?}; the fields are {}, genre_flags, \
                             rating_scale and rating_source",
                            known.join(", ")
                        ));
                    };
                    mapping.columns.push((*f, column.to_owned()));
                }
            }
        }
        if mapping.column(Field::Title).is_none() {
            return Err("title=<column> is required".to_owned());
        }
        if mapping.column(Field::Votes).is_some() && mapping.column(Field::Rating).is_none() {
            return Err("votes needs rating=<column> too".to_owned());
        }
        Ok(mapping)
    }

    /// The catalog's name, as in its keys.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The column mapped to `field`.
    pub fn column(&self, field: Field) -> Option<&str> {
        self.columns
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, c)| c.as_str())
    }

    /// Every column the mapping reads: the fields' in order, then the genre flags.
    fn all_columns(&self) -> impl Iterator<Item = &str> {
        self.columns
            .iter()
            .map(|(_, c)| c.as_str())
            .chain(self.genre_flags.iter().map(String::as_str))
    }
}

fn is_word(s: &str) -> bool {
    (1..=40).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Opens a catalog and checks `mapping` against its header. JSON is told from CSV by the
/// first character (`[` or `{`), gzip by its magic bytes, TSV by a `.tsv` name.
pub fn open(path: &Path, mapping: &Mapping) -> Result<Catalog, Problem> {
    let mut reader = source::open(path).map_err(|e| Problem::io(path, &e))?;
    let first = reader
        .fill_buf()
        .map_err(|e| Problem::io(path, &e))?
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .copied();
    let input = if matches!(first, Some(b'[' | b'{')) {
        let mut objects = JsonObjects::new(path, reader);
        let first = objects.next();
        let keys: Vec<String> = match &first {
            Some(Ok((_, object))) => object.keys().cloned().collect(),
            Some(Err(problem)) => return Err(problem.clone()),
            // An empty catalog has nothing to check and nothing to yield.
            None => mapping.all_columns().map(str::to_owned).collect(),
        };
        let columns = mapping
            .all_columns()
            .map(|c| resolve(&keys, c).map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| missing(path, mapping, &keys, "the first object's keys"))?;
        Input::Json {
            objects,
            first,
            columns,
        }
    } else {
        let name = path.to_string_lossy().to_ascii_lowercase();
        let dialect = if name.ends_with(".tsv") || name.ends_with(".tsv.gz") {
            Dialect::TSV
        } else {
            Dialect::CSV
        };
        let mut rows = CsvRows::from_reader(path, reader, dialect)?;
        let columns = mapping
            .all_columns()
            .map(|c| rows.column(c))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| missing(path, mapping, rows.headers(), "the header's columns"))?;
        if let Some(c) = mapping.column(Field::Synopsis) {
            rows.allow_line_breaks_in(rows.column(c));
        }
        Input::Csv { rows, columns }
    };
    let slots = mapping
        .columns
        .iter()
        .enumerate()
        .map(|(i, (f, _))| (*f, i))
        .collect();
    Ok(Catalog {
        path: path.to_owned(),
        mapping: mapping.clone(),
        input,
        slots,
        seen: HashMap::new(),
        cells: Vec::new(),
    })
}

/// The key matching `column` exactly, or else ignoring case.
fn resolve<'a>(keys: &'a [String], column: &str) -> Option<&'a str> {
    keys.iter()
        .find(|k| *k == column)
        .or_else(|| keys.iter().find(|k| k.eq_ignore_ascii_case(column)))
        .map(String::as_str)
}

fn missing(path: &Path, mapping: &Mapping, have: &[String], what: &str) -> Problem {
    let absent: Vec<String> = mapping
        .all_columns()
        .filter(|c| resolve(have, c).is_none())
        .map(|c| format!("{c:?}"))
        .collect();
    Problem::file(
        path,
        format!(
            "has no column {} (these are {what}: {})",
            absent.join(", "),
            have.join(", ")
        ),
    )
}

enum Input {
    Csv {
        rows: CsvRows<Box<dyn BufRead + Send>>,
        columns: Vec<usize>,
    },
    Json {
        objects: JsonObjects<Box<dyn BufRead + Send>>,
        /// The first object, read early to check the mapping.
        first: Option<Result<source::JsonObject, Problem>>,
        columns: Vec<String>,
    },
}

/// A catalog's films, streamed; see [`open`].
pub struct Catalog {
    path: std::path::PathBuf,
    mapping: Mapping,
    input: Input,
    slots: HashMap<Field, usize>,
    /// Keys seen so far and the line each was first seen on.
    seen: HashMap<String, u64>,
    /// The current row's mapped values, in `Mapping::all_columns` order; empty is missing.
    cells: Vec<String>,
}

impl Iterator for Catalog {
    type Item = Result<FilmRecord, Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        self.cells.clear();
        let line = match &mut self.input {
            Input::Csv { rows, columns } => {
                let row = match rows.next()? {
                    Ok(row) => row,
                    Err(problem) => return Some(Err(problem)),
                };
                self.cells
                    .extend(columns.iter().map(|i| row.get(*i).to_owned()));
                row.line
            }
            Input::Json {
                objects,
                first,
                columns,
            } => {
                let item = match first.take() {
                    Some(item) => item,
                    None => objects.next()?,
                };
                let (line, object) = match item {
                    Ok(item) => item,
                    Err(problem) => return Some(Err(problem)),
                };
                self.cells
                    .extend(columns.iter().map(|k| json_text(object.get(k))));
                line
            }
        };
        Some(
            self.record(line)
                .map_err(|m| Problem::at(&self.path, line, m)),
        )
    }
}

impl Catalog {
    /// The catalog's mapping.
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    fn cell(&self, field: Field) -> &str {
        self.slots.get(&field).map_or("", |i| self.cells[*i].trim())
    }

    fn record(&mut self, line: u64) -> Result<FilmRecord, String> {
        let title = fields::title(self.cell(Field::Title))?;
        let year = fields::first_year(self.cell(Field::Year))?;
        let key = match self.slots.get(&Field::Id) {
            Some(_) => match self.cell(Field::Id) {
                "" => return Err("id is missing".to_owned()),
                id => format!("catalog:{}:{id}", self.mapping.name),
            },
            None => {
                let words: Vec<String> = title
                    .as_str()
                    .split_whitespace()
                    .map(str::to_lowercase)
                    .collect();
                match year {
                    Some(y) => format!(
                        "catalog:{}:{} ({})",
                        self.mapping.name,
                        words.join(" "),
                        y.get()
                    ),
                    None => format!("catalog:{}:{}", self.mapping.name, words.join(" ")),
                }
            }
        };
        let key = ExternalKey::parse(&key).map_err(|e| e.to_string())?;

        let mut draft = fields::draft(title, year);
        let original = self.cell(Field::OriginalTitle);
        if original != draft.title.as_str() {
            draft.original_title = fields::optional_title("original_title", original)?;
        }
        draft.runtime = fields::runtime(self.cell(Field::Runtime))?;
        draft.synopsis = fields::synopsis(self.cell(Field::Synopsis));
        for genre in fields::split_list(self.cell(Field::Genres)) {
            fields::push_genre(&mut draft.genres, genre)?;
        }
        let flags = self.mapping.columns.len();
        for (i, genre) in self.mapping.genre_flags.iter().enumerate() {
            if fields::truthy(&self.cells[flags + i]) {
                fields::push_genre(&mut draft.genres, genre)?;
            }
        }
        for director in fields::split_list(self.cell(Field::Directors)) {
            fields::push_director(&mut draft.directors, director)?;
        }
        for name in fields::split_list(self.cell(Field::Cast)) {
            fields::push_cast(&mut draft.cast, name, "")?;
        }
        draft.content_rating = fields::content_rating(self.cell(Field::ContentRating));
        draft.language = fields::language(self.cell(Field::Language))?;
        let external_rating = fields::tenths(self.cell(Field::Rating), self.mapping.rating_scale)?
            .map(|tenths| {
                fields::votes(self.cell(Field::Votes)).map(|votes| ExternalRating {
                    source: self.mapping.rating_source.clone(),
                    tenths,
                    votes: votes.unwrap_or(0),
                })
            })
            .transpose()?;
        let draft = fields::check(draft)?;

        if let Some(first) = self.seen.get(key.as_str()) {
            return Err(format!("{key} is a duplicate of line {first}"));
        }
        self.seen.insert(key.as_str().to_owned(), line);
        Ok(FilmRecord {
            origin: Origin::line(&self.path, line),
            key,
            other_keys: Vec::new(),
            draft,
            external_rating,
        })
    }
}

/// A JSON value as cell text: strings as they are, numbers and booleans written out, arrays
/// joined with `|`, null and objects empty.
fn json_text(value: Option<&serde_json::Value>) -> String {
    use serde_json::Value;
    match value {
        None | Some(Value::Null | Value::Object(_)) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| json_text(Some(v)))
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("|"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn specs(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn mappings_refuse_unknown_fields_and_a_missing_title() {
        let err = Mapping::parse("x", &specs(&["title=t", "plot=p"])).unwrap_err();
        assert!(err.starts_with("unknown field \"plot\""), "{err}");
        let err = Mapping::parse("x", &specs(&["year=y"])).unwrap_err();
        assert_eq!(err, "title=<column> is required");
        assert!(Mapping::parse("Bad Name", &specs(&["title=t"])).is_err());
        assert!(Mapping::parse("x", &specs(&["title=t", "rating_scale=7"])).is_err());
        assert!(Mapping::parse("x", &specs(&["title"])).is_err());
        let m = Mapping::parse(
            "x",
            &specs(&["title = Release Title ", "year=Release Date"]),
        )
        .unwrap();
        assert_eq!(m.column(Field::Title), Some("Release Title"));
    }

    #[test]
    fn a_column_the_header_lacks_is_an_error_before_any_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("films.csv");
        fs::write(&path, "Name,Year\nBrazil,1985\n").unwrap();
        let m = Mapping::parse("x", &specs(&["title=Name", "year=Released"])).unwrap();
        let err = open(&path, &m).err().unwrap().to_string();
        assert!(
            err.ends_with(
                "has no column \"Released\" (these are the header's columns: Name, Year)"
            ),
            "{err}"
        );
        let json = dir.path().join("films.json");
        fs::write(&json, "[{\"Name\": \"Brazil\"}]").unwrap();
        let m = Mapping::parse("x", &specs(&["title=Name", "year=Released"])).unwrap();
        assert!(open(&json, &m).is_err());
        fs::write(&json, " [ ] ").unwrap();
        assert_eq!(open(&json, &m).unwrap().count(), 0);
    }

    #[test]
    fn csv_catalog_rows_become_films_and_bad_rows_problems_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("films.csv");
        fs::write(
            &path,
            "id,name,released,length,genre,Action,Comedy,director,score,votes,mpaa,plot\n\
             1,Brazil,Jun 12 1985,2h 22m,Sci-Fi|Satire,0,1,Terry Gilliam,8.0,\"12,345\",Rated R,\"Sam\nLowry.\"\n\
             2,,1990,90,,0,0,,,,,\n\
             3,Bad Year,someday,90,,0,0,,,,,\n\
             4,Too Long,1990,90 fortnights,,0,0,,,,,\n\
             1,Brazil again,1985,90,,0,0,,,,,\n\
             6,Too High,1990,90,,0,0,,11,,,\n\
             5,\"Broken quote,1990,90,,0,0,,,,,\n\
             7,Swallowed,1990,90,,0,0,,,,,\n",
        )
        .unwrap();
        let m = Mapping::parse(
            "mine",
            &specs(&[
                "id=id",
                "title=name",
                "year=released",
                "runtime=length",
                "genres=genre",
                "genre_flags=Action,Comedy",
                "directors=director",
                "rating=score",
                "votes=votes",
                "content_rating=mpaa",
                "synopsis=plot",
            ]),
        )
        .unwrap();
        let items: Vec<_> = open(&path, &m).unwrap().collect();
        let brazil = items[0].as_ref().unwrap();
        assert_eq!(brazil.key.as_str(), "catalog:mine:1");
        assert_eq!(brazil.draft.year.map(|y| y.get()), Some(1985));
        assert_eq!(brazil.draft.runtime.map(|r| r.minutes()), Some(142));
        let genres: Vec<_> = brazil.draft.genres.iter().map(|g| g.as_str()).collect();
        assert_eq!(genres, ["Sci-Fi", "Satire", "Comedy"]);
        assert_eq!(brazil.draft.directors[0].as_str(), "Terry Gilliam");
        assert_eq!(brazil.draft.content_rating.as_str(), "R");
        assert_eq!(brazil.draft.synopsis.as_str(), "Sam\nLowry.");
        assert_eq!(
            brazil.external_rating,
            Some(ExternalRating {
                source: "mine".into(),
                tenths: 80,
                votes: 12_345
            })
        );
        let shown = path.display().to_string();
        let problems: Vec<String> = items[1..]
            .iter()
            .map(|i| i.as_ref().unwrap_err().to_string())
            .collect();
        assert_eq!(
            problems,
            [
                format!("{shown}:4: title is missing"),
                format!("{shown}:5: year \"someday\" holds no year from 1888 to 2100"),
                format!("{shown}:6: runtime \"90 fortnights\" is not a number of minutes"),
                format!("{shown}:7: catalog:mine:1 is a duplicate of line 2"),
                format!("{shown}:8: rating \"11\" is not a number from 0 to 10"),
                format!(
                    "{shown}:9: a quoted field runs on to line 10: is a closing quote missing?"
                ),
            ]
        );
    }

    #[test]
    fn json_catalogs_accept_numbers_strings_arrays_and_nulls() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("films.json");
        fs::write(
            &path,
            r#"[
  {"Title": "Brazil", "Date": "Feb 20 1985", "Minutes": 142, "Genres": ["Comedy", "Sci-Fi"], "IMDB": 8.0},
  {"Title": 1776, "Date": 1972, "Minutes": null, "Genres": null, "IMDB": null},
  {"Title": null, "Date": "1990", "Minutes": 90, "Genres": "Drama", "IMDB": 7},
  {"Title": "brazil", "Date": "1985-01-01", "Minutes": 90, "Genres": "", "IMDB": 5}
]"#,
        )
        .unwrap();
        let m = Mapping::parse(
            "vega",
            &specs(&[
                "title=title",
                "year=Date",
                "runtime=Minutes",
                "genres=Genres",
                "rating=IMDB",
                "rating_source=imdb",
            ]),
        )
        .unwrap();
        let items: Vec<_> = open(&path, &m).unwrap().collect();
        let brazil = items[0].as_ref().unwrap();
        assert_eq!(brazil.key.as_str(), "catalog:vega:brazil (1985)");
        assert_eq!(brazil.draft.genres.len(), 2);
        assert_eq!(brazil.external_rating.as_ref().unwrap().source, "imdb");
        assert_eq!(brazil.external_rating.as_ref().unwrap().tenths, 80);
        let n1776 = items[1].as_ref().unwrap();
        assert_eq!(n1776.draft.title.as_str(), "1776");
        assert_eq!(n1776.draft.runtime, None);
        let shown = path.display().to_string();
        assert_eq!(
            items[2].as_ref().unwrap_err().to_string(),
            format!("{shown}:4: title is missing")
        );
        assert_eq!(
            items[3].as_ref().unwrap_err().to_string(),
            format!("{shown}:5: catalog:vega:brazil (1985) is a duplicate of line 2")
        );
    }

    #[test]
    fn json_lines_catalogs_stream_one_object_per_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("films.jsonl");
        fs::write(&path, "{\"t\": \"A\"}\n{\"t\": \"B\"}\n{\"t\": }\n").unwrap();
        let m = Mapping::parse("x", &specs(&["title=t"])).unwrap();
        let items: Vec<_> = open(&path, &m).unwrap().collect();
        assert_eq!(items.len(), 3);
        assert!(
            items[2]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains(":3: is not valid JSON")
        );
    }
}
