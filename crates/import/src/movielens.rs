//! MovieLens data sets, the usual seed for a film catalog with real ratings. Two layouts are
//! read: GroupLens' folder (`movies.csv`, `ratings.csv`, optional `links.csv`), and one joined
//! file with a row per rating that repeats the film's columns (as R's `dslabs::movielens`).
//! Films and ratings are separate passes over the files, each streamed, so 100,000s of ratings
//! never sit in memory; in a joined file each film is yielded the first time it appears.
//!
//! MovieLens writes titles library-style ("Matrix, The (1999)"); the year is taken off the end
//! and a trailing article is moved back to the front ("The Matrix").

use crate::fields;
use crate::source::{CsvRows, Dialect, Row};
use crate::{ExternalKey, FilmRecord, HalfStars, Origin, Problem};
use marquee_domain::Year;
use std::collections::{HashMap, HashSet, VecDeque};
use std::io::BufRead;
use std::path::{Path, PathBuf};

type Rows = CsvRows<Box<dyn BufRead + Send>>;

/// A MovieLens data set, its layout found from the path and the headers.
#[derive(Debug, Clone)]
pub struct MovieLens {
    films: Option<FilmsFile>,
    ratings: Option<PathBuf>,
    links: Option<PathBuf>,
}

#[derive(Debug, Clone)]
struct FilmsFile {
    path: PathBuf,
    /// One row per rating, the film's columns repeated.
    joined: bool,
}

/// One person's rating of one film.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlRating {
    /// The file and line.
    pub origin: Origin,
    /// MovieLens' user id.
    pub user: u32,
    /// The film, `movielens:<movieId>`.
    pub film: ExternalKey,
    /// The rating.
    pub rating: HalfStars,
    /// When it was given, in milliseconds since 1970.
    pub at_ms: i64,
}

/// Opens a MovieLens folder, or a single file: the joined layout, or just `movies.csv` or
/// `ratings.csv`. Files may be gzipped.
pub fn open(path: &Path) -> Result<MovieLens, Problem> {
    if path.is_dir() {
        let find = |name: &str| {
            [name.to_owned(), format!("{name}.gz")]
                .into_iter()
                .map(|n| path.join(n))
                .find(|p| p.is_file())
        };
        let movies = find("movies.csv")
            .ok_or_else(|| Problem::file(path, "has no movies.csv: is it a MovieLens folder?"))?;
        // Check the headers now, so a wrong folder fails before anything is stored.
        Rows::open(&movies, Dialect::CSV)?.require(["movieId", "title", "genres"])?;
        let ratings = find("ratings.csv");
        if let Some(ratings) = &ratings {
            Rows::open(ratings, Dialect::CSV)?.require([
                "userId",
                "movieId",
                "rating",
                "timestamp",
            ])?;
        }
        let links = find("links.csv");
        return Ok(MovieLens {
            films: Some(FilmsFile {
                path: movies,
                joined: false,
            }),
            ratings,
            links,
        });
    }
    let rows = Rows::open(path, Dialect::CSV)?;
    let has = |name| rows.column(name).is_some();
    let films = has("movieId") && has("title") && has("genres");
    let ratings = has("userId") && has("movieId") && has("rating") && has("timestamp");
    if !films && !ratings {
        return Err(Problem::at(
            path,
            1,
            format!(
                "is not a MovieLens file: expected movieId,title,genres and/or \
                 userId,movieId,rating,timestamp, found {}",
                rows.headers().join(",")
            ),
        ));
    }
    Ok(MovieLens {
        films: films.then(|| FilmsFile {
            path: path.to_owned(),
            joined: ratings,
        }),
        ratings: ratings.then(|| path.to_owned()),
        links: None,
    })
}

impl MovieLens {
    /// Each film once, keyed `movielens:<movieId>`, with IMDb and TMDB keys from `links.csv`.
    pub fn films(&self) -> Result<Films, Problem> {
        let Some(file) = &self.films else {
            return Ok(Films::default());
        };
        let mut pending = VecDeque::new();
        let links = match &self.links {
            Some(path) => read_links(path, &mut pending)?,
            None => HashMap::new(),
        };
        let rows = Rows::open(&file.path, Dialect::CSV)?;
        let [movie_id, title, genres] = rows.require(["movieId", "title", "genres"])?;
        let year = rows.column("year");
        Ok(Films {
            inner: Some(FilmsInner {
                rows,
                movie_id,
                title,
                genres,
                year,
                links,
                seen: file.joined.then(HashSet::new),
            }),
            pending,
        })
    }

    /// Every rating, in file order.
    pub fn ratings(&self) -> Result<Ratings, Problem> {
        let Some(path) = &self.ratings else {
            return Ok(Ratings { inner: None });
        };
        let rows = Rows::open(path, Dialect::CSV)?;
        let columns = rows.require(["userId", "movieId", "rating", "timestamp"])?;
        Ok(Ratings {
            inner: Some((rows, columns)),
        })
    }
}

/// The films of a MovieLens data set; see [`MovieLens::films`].
#[derive(Default)]
pub struct Films {
    inner: Option<FilmsInner>,
    /// Problems found in `links.csv`, yielded first.
    pending: VecDeque<Problem>,
}

struct FilmsInner {
    rows: Rows,
    movie_id: usize,
    title: usize,
    genres: usize,
    year: Option<usize>,
    links: HashMap<u32, Vec<ExternalKey>>,
    /// In a joined file: the films already yielded (or rejected).
    seen: Option<HashSet<u32>>,
}

impl Iterator for Films {
    type Item = Result<FilmRecord, Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(p) = self.pending.pop_front() {
            return Some(Err(p));
        }
        let inner = self.inner.as_mut()?;
        loop {
            let row = match inner.rows.next()? {
                Ok(row) => row,
                Err(problem) => return Some(Err(problem)),
            };
            let id = match movie_id(row.get(inner.movie_id)) {
                Ok(id) => id,
                Err(m) => return Some(Err(inner.rows.problem(row.line, m))),
            };
            if let Some(seen) = &mut inner.seen
                && !seen.insert(id)
            {
                continue;
            }
            return Some(
                inner
                    .film(id, &row)
                    .map_err(|m| inner.rows.problem(row.line, m)),
            );
        }
    }
}

impl FilmsInner {
    fn film(&mut self, id: u32, row: &Row) -> Result<FilmRecord, String> {
        let raw_title = row.get(self.title);
        let (title, year) = match self.year {
            Some(col) => (raw_title, fields::year(row.get(col))?),
            None => split_year(raw_title)?,
        };
        let title = fields::title(&front_article(title))?;
        let mut draft = fields::draft(title, year);
        let genres = row.get(self.genres);
        if genres != "(no genres listed)" {
            for genre in genres.split('|') {
                fields::push_genre(&mut draft.genres, genre)?;
            }
        }
        Ok(FilmRecord {
            origin: self.rows.origin(row.line),
            key: key(id),
            other_keys: self.links.remove(&id).unwrap_or_default(),
            draft: fields::check(draft)?,
            external_rating: None,
        })
    }
}

/// The ratings of a MovieLens data set; see [`MovieLens::ratings`].
pub struct Ratings {
    inner: Option<(Rows, [usize; 4])>,
}

impl Iterator for Ratings {
    type Item = Result<MlRating, Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        let (rows, [user, movie, rating, timestamp]) = self.inner.as_mut()?;
        let row = match rows.next()? {
            Ok(row) => row,
            Err(problem) => return Some(Err(problem)),
        };
        let parsed = (|| {
            let user = row
                .get(*user)
                .parse()
                .map_err(|_| format!("userId {:?} is not a whole number", row.get(*user)))?;
            let film = key(movie_id(row.get(*movie))?);
            let raw = row.get(*rating);
            let rating = HalfStars::parse(raw).map_err(|e| fields::invalid("rating", raw, &e))?;
            let seconds: i64 = row.get(*timestamp).parse().map_err(|_| {
                format!(
                    "timestamp {:?} is not a number of seconds",
                    row.get(*timestamp)
                )
            })?;
            Ok(MlRating {
                origin: rows.origin(row.line),
                user,
                film,
                rating,
                at_ms: seconds.saturating_mul(1000),
            })
        })();
        Some(parsed.map_err(|m: String| rows.problem(row.line, m)))
    }
}

fn movie_id(raw: &str) -> Result<u32, String> {
    raw.parse()
        .map_err(|_| format!("movieId {raw:?} is not a whole number"))
}

fn key(id: u32) -> ExternalKey {
    ExternalKey::new("movielens", &id.to_string()).expect("a number is a valid key id")
}

/// `links.csv`: movieId,imdbId,tmdbId, read whole (it has one short row per film).
fn read_links(
    path: &Path,
    problems: &mut VecDeque<Problem>,
) -> Result<HashMap<u32, Vec<ExternalKey>>, Problem> {
    let rows = Rows::open(path, Dialect::CSV)?;
    let [movie, imdb] = rows.require(["movieId", "imdbId"])?;
    let tmdb = rows.column("tmdbId");
    let path = rows.path().to_owned();
    let mut links = HashMap::new();
    for row in rows {
        let row = match row {
            Ok(row) => row,
            Err(p) => {
                problems.push_back(p);
                continue;
            }
        };
        let id = match movie_id(row.get(movie)) {
            Ok(id) => id,
            Err(m) => {
                problems.push_back(Problem::at(&path, row.line, m));
                continue;
            }
        };
        let mut keys = Vec::new();
        let imdb_raw = row.get(imdb);
        match fields::imdb_key(imdb_raw) {
            Some(k) => keys.push(k),
            None if imdb_raw.is_empty() => {}
            None => problems.push_back(Problem::at(
                &path,
                row.line,
                format!("imdbId {imdb_raw:?} is not an IMDb number"),
            )),
        }
        keys.extend(fields::tmdb_key(row.opt(tmdb)));
        links.insert(id, keys);
    }
    Ok(links)
}

/// Takes the year off "Heat (1995)" (or a series' "(1995-1999)"); a title without one has none.
fn split_year(raw: &str) -> Result<(&str, Option<Year>), String> {
    let t = raw.trim();
    if let Some(before) = t.strip_suffix(')')
        && let Some(open) = before.rfind('(')
    {
        let inside = &before[open + 1..];
        let first = inside.get(..4).unwrap_or("");
        let rest = &inside[first.len()..];
        let is_year = first.len() == 4
            && first.bytes().all(|b| b.is_ascii_digit())
            && (rest.is_empty() || rest.starts_with(['-', '–']));
        if is_year {
            let year = fields::year(first)?;
            return Ok((before[..open].trim_end(), year));
        }
    }
    Ok((t, None))
}

/// Articles MovieLens moves to the end of a title.
const ARTICLES: &[&str] = &[
    "The", "A", "An", "Les", "La", "Le", "L'", "Il", "Die", "Der", "Das", "El", "Los", "Las",
];

/// "Matrix, The" is "The Matrix"; "City of Lost Children, The (Cité des enfants perdus, La)"
/// is "The City of Lost Children (Cité des enfants perdus, La)".
fn front_article(title: &str) -> String {
    let (main, tail) = match title.find(" (") {
        Some(i) if title.ends_with(')') => title.split_at(i),
        _ => (title, ""),
    };
    for article in ARTICLES {
        if let Some(rest) = main.strip_suffix(&format!(", {article}")) {
            let space = if article.ends_with('\'') { "" } else { " " };
            return format!("{article}{space}{rest}{tail}");
        }
    }
    title.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::io::Write;

    #[test]
    fn years_come_off_titles_and_articles_go_back_in_front() {
        assert_eq!(split_year("Heat (1995)").unwrap().0, "Heat");
        assert_eq!(
            split_year("Fawlty Towers (1975-1979)")
                .unwrap()
                .1
                .map(Year::get),
            Some(1975)
        );
        assert_eq!(split_year("Babylon 5").unwrap(), ("Babylon 5", None));
        assert_eq!(
            split_year("Seven (a.k.a. Se7en) (1995)").unwrap().0,
            "Seven (a.k.a. Se7en)"
        );
        assert!(split_year("Old (1500)").is_err());
        assert_eq!(front_article("Matrix, The"), "The Matrix");
        assert_eq!(
            front_article("Auberge espagnole, L'"),
            "L'Auberge espagnole"
        );
        assert_eq!(
            front_article("City of Lost Children, The (Cité des enfants perdus, La)"),
            "The City of Lost Children (Cité des enfants perdus, La)"
        );
        assert_eq!(front_article("Them!"), "Them!");
    }

    fn folder() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join("movies.csv"),
            "movieId,title,genres\n\
             1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n\
             2,\"Matrix, The (1999)\",Action|Sci-Fi\n\
             3,Bad Year (1500),Drama\n\
             4,,Drama\n\
             5,Untitled,(no genres listed)\n\
             x,Not a number (2000),Drama\n",
        )
        .unwrap();
        fs::write(
            dir.path().join("links.csv"),
            "movieId,imdbId,tmdbId\n1,0114709,862\n2,133093,603\n5,abc,\n",
        )
        .unwrap();
        // ratings.csv gzipped, to read it through the magic bytes.
        let mut gz = flate2::write::GzEncoder::new(
            fs::File::create(dir.path().join("ratings.csv")).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(
            b"userId,movieId,rating,timestamp\n\
              1,1,4.0,964982703\n\
              1,2,6.5,964981247\n\
              1,2,7,964981247\n\
              2,1,0.5,964982224\n\
              2,\"1,964982224\n",
        )
        .unwrap();
        gz.finish().unwrap();
        dir
    }

    #[test]
    fn a_movielens_folder_yields_films_with_links_and_reports_bad_rows_by_line() {
        let dir = folder();
        let ml = open(dir.path()).unwrap();
        let (films, problems): (Vec<_>, Vec<_>) = ml.films().unwrap().partition(Result::is_ok);
        let films: Vec<FilmRecord> = films.into_iter().map(Result::unwrap).collect();
        let problems: Vec<String> = problems
            .into_iter()
            .map(|p| p.unwrap_err().to_string())
            .collect();

        let titles: Vec<_> = films.iter().map(|f| f.draft.title.as_str()).collect();
        assert_eq!(titles, ["Toy Story", "The Matrix", "Untitled"]);
        assert_eq!(films[1].key.as_str(), "movielens:2");
        assert_eq!(films[1].draft.year.map(Year::get), Some(1999));
        assert_eq!(films[1].origin.line, Some(3));
        let keys: Vec<_> = films[0]
            .other_keys
            .iter()
            .map(ExternalKey::as_str)
            .collect();
        assert_eq!(keys, ["imdb:tt0114709", "tmdb:862"]);
        assert!(films[2].draft.genres.is_empty());
        assert_eq!(films[0].draft.genres.len(), 5);

        let movies = dir.path().join("movies.csv").display().to_string();
        let links = dir.path().join("links.csv").display().to_string();
        assert_eq!(
            problems,
            [
                format!("{links}:4: imdbId \"abc\" is not an IMDb number"),
                format!("{movies}:4: year \"1500\" must be between 1888 and 2100"),
                format!("{movies}:5: title is missing"),
                format!("{movies}:7: movieId \"x\" is not a whole number"),
            ]
        );
    }

    #[test]
    fn movielens_ratings_stream_from_gzip_and_reject_ratings_off_the_half_star_scale() {
        let dir = folder();
        let ml = open(dir.path()).unwrap();
        let all: Vec<_> = ml.ratings().unwrap().collect();
        assert_eq!(all.len(), 5);
        let first = all[0].as_ref().unwrap();
        assert_eq!((first.user, first.film.as_str()), (1, "movielens:1"));
        assert_eq!(first.rating.stars().get(), 4);
        assert_eq!(first.at_ms, 964_982_703_000);
        assert_eq!(all[3].as_ref().unwrap().rating.as_f32(), 0.5);
        let ratings = dir.path().join("ratings.csv").display().to_string();
        let err = |i: usize| all[i].as_ref().unwrap_err().to_string();
        assert_eq!(
            err(1),
            format!("{ratings}:3: rating \"6.5\" must be 0.5 to 5 in steps of 0.5")
        );
        assert_eq!(
            err(2),
            format!("{ratings}:4: rating \"7\" must be 0.5 to 5 in steps of 0.5")
        );
        assert_eq!(
            err(4),
            format!("{ratings}:6: a quoted field runs on to line 6: is a closing quote missing?")
        );
    }

    #[test]
    fn a_joined_file_yields_each_film_once_and_every_rating() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("movielens.csv");
        fs::write(
            &path,
            "movieId,title,year,genres,userId,rating,timestamp\n\
             31,Dangerous Minds,1995,Drama,1,2.5,1260759144\n\
             1029,Dumbo,1941,Animation|Children,1,3.0,1260759179\n\
             31,Dangerous Minds,1995,Drama,2,4.0,1260759185\n\
             7,\"Shawshank Redemption, The\",,Drama,2,5.0,1260759186\n",
        )
        .unwrap();
        let ml = open(&path).unwrap();
        let films: Vec<FilmRecord> = ml.films().unwrap().map(Result::unwrap).collect();
        let ids: Vec<_> = films.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(ids, ["movielens:31", "movielens:1029", "movielens:7"]);
        assert_eq!(films[2].draft.title.as_str(), "The Shawshank Redemption");
        assert_eq!(films[2].draft.year, None);
        assert_eq!(ml.ratings().unwrap().filter(Result::is_ok).count(), 4);
    }

    #[test]
    fn a_file_that_is_not_movielens_is_refused_before_any_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.csv");
        fs::write(&path, "a,b\n1,2\n").unwrap();
        let err = open(&path).unwrap_err().to_string();
        assert!(err.contains(":1: is not a MovieLens file"), "{err}");
        assert!(
            open(dir.path())
                .unwrap_err()
                .to_string()
                .contains("has no movies.csv")
        );
    }
}
