//! IMDb's public data files (`title.basics.tsv.gz`, `title.ratings.tsv.gz`), the largest free
//! film catalog: millions of rows, so both are streamed. They are tab-separated with `\N` for
//! null and no quoting at all (titles hold bare `"` characters), which is why they are not read
//! as CSV. Most rows are episodes, shorts and the like; only the title types asked for become
//! films, and the rest are counted, not reported.

use crate::fields;
use crate::source::{CsvRows, Dialect, Row};
use crate::{ExternalKey, ExternalRating, FilmRecord, Problem};
use std::io::BufRead;
use std::path::Path;

type Rows = CsvRows<Box<dyn BufRead + Send>>;

/// The title types imported when none are given: feature films and TV films.
pub const DEFAULT_TYPES: &[&str] = &["movie", "tvMovie"];

/// IMDb's null.
const NULL: &str = "\\N";

/// Films from `title.basics.tsv` (gzipped or not) whose `titleType` is one of `types`, keyed
/// `imdb:<tconst>`. Adult titles are left out unless [`Basics::include_adult`] says otherwise.
pub fn basics(path: &Path, types: &[&str]) -> Result<Basics, Problem> {
    let rows = Rows::open(path, Dialect::TSV_UNQUOTED)?;
    let columns = rows.require([
        "tconst",
        "titleType",
        "primaryTitle",
        "originalTitle",
        "isAdult",
        "startYear",
        "runtimeMinutes",
        "genres",
    ])?;
    Ok(Basics {
        rows,
        columns,
        types: types.iter().map(|t| (*t).to_owned()).collect(),
        include_adult: false,
        skipped: 0,
    })
}

/// The films of `title.basics.tsv`; see [`basics`].
pub struct Basics {
    rows: Rows,
    columns: [usize; 8],
    types: Vec<String>,
    include_adult: bool,
    skipped: u64,
}

impl Basics {
    /// Whether to keep titles marked `isAdult` (left out by default).
    pub fn include_adult(mut self, include: bool) -> Self {
        self.include_adult = include;
        self
    }

    /// Rows passed over so far because of their type (or adult flag).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    fn film(&self, row: &Row) -> Result<FilmRecord, String> {
        let [tconst, _, primary, original, _, start_year, runtime, genres] = self.columns;
        let cell = |i| match row.get(i) {
            NULL => "",
            s => s,
        };
        let key = fields::imdb_key(cell(tconst))
            .ok_or_else(|| format!("tconst {:?} is not an IMDb title id", cell(tconst)))?;
        let title = fields::title(cell(primary))?;
        let mut draft = fields::draft(title, fields::year(cell(start_year))?);
        if cell(original) != draft.title.as_str() {
            draft.original_title = fields::optional_title("originalTitle", cell(original))?;
        }
        draft.runtime = fields::runtime(cell(runtime))?;
        for genre in cell(genres).split(',') {
            fields::push_genre(&mut draft.genres, genre)?;
        }
        Ok(FilmRecord {
            origin: self.rows.origin(row.line),
            key,
            other_keys: Vec::new(),
            draft: fields::check(draft)?,
            external_rating: None,
        })
    }
}

impl Iterator for Basics {
    type Item = Result<FilmRecord, Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        let [_, title_type, _, _, is_adult, ..] = self.columns;
        loop {
            let row = match self.rows.next()? {
                Ok(row) => row,
                Err(problem) => return Some(Err(problem)),
            };
            let wanted = self.types.iter().any(|t| t == row.get(title_type))
                && (self.include_adult || row.get(is_adult) != "1");
            if !wanted {
                self.skipped += 1;
                continue;
            }
            return Some(self.film(&row).map_err(|m| self.rows.problem(row.line, m)));
        }
    }
}

/// IMDb ratings from `title.ratings.tsv` (gzipped or not): `imdb:<tconst>` and the rating.
pub fn ratings(path: &Path) -> Result<RatingsFile, Problem> {
    let rows = Rows::open(path, Dialect::TSV_UNQUOTED)?;
    let columns = rows.require(["tconst", "averageRating", "numVotes"])?;
    Ok(RatingsFile { rows, columns })
}

/// The rows of `title.ratings.tsv`; see [`ratings`].
pub struct RatingsFile {
    rows: Rows,
    columns: [usize; 3],
}

impl Iterator for RatingsFile {
    type Item = Result<(ExternalKey, ExternalRating), Problem>;

    fn next(&mut self) -> Option<Self::Item> {
        let [tconst, average, votes] = self.columns;
        let row = match self.rows.next()? {
            Ok(row) => row,
            Err(problem) => return Some(Err(problem)),
        };
        let parsed = (|| {
            let key = fields::imdb_key(row.get(tconst))
                .ok_or_else(|| format!("tconst {:?} is not an IMDb title id", row.get(tconst)))?;
            let tenths = fields::tenths(row.get(average), 10)?
                .ok_or_else(|| "averageRating is empty".to_owned())?;
            let votes = fields::votes(row.get(votes))?.unwrap_or(0);
            Ok((
                key,
                ExternalRating {
                    source: "imdb".to_owned(),
                    tenths,
                    votes,
                },
            ))
        })();
        Some(parsed.map_err(|m: String| self.rows.problem(row.line, m)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use marquee_domain::Year;
    use std::fs;
    use std::io::Write;

    const BASICS: &str = "tconst\ttitleType\tprimaryTitle\toriginalTitle\tisAdult\tstartYear\tendYear\truntimeMinutes\tgenres\n\
        tt0000009\tmovie\tMiss Jerry\tMiss Jerry\t0\t1894\t\\N\t45\tRomance\n\
        tt0000147\tshort\tThe Corbett-Fitzsimmons Fight\tThe Corbett-Fitzsimmons Fight\t0\t1897\t\\N\t100\tDocumentary,News,Sport\n\
        tt0111161\tmovie\tThe Shawshank Redemption\tThe Shawshank Redemption\t0\t1994\t\\N\t142\tDrama\n\
        tt0211915\tmovie\tAmélie\tLe fabuleux destin d'Amélie Poulain\t0\t2001\t\\N\t122\tComedy,Romance\n\
        tt0000001\tmovie\t\"Quoted\" Title\t\"Quoted\" Title\t0\t\\N\t\\N\t\\N\t\\N\n\
        tt0000002\tmovie\tToo Early\tToo Early\t0\t1874\t\\N\t1\tDocumentary\n\
        tt0000003\ttvMovie\tFour Days\tFour Days\t0\t2001\t\\N\t5760\tDrama\n\
        tt0000004\tmovie\tAdult\tAdult\t1\t2001\t\\N\t90\tAdult\n\
        tt0000005\tmovie\t\\N\t\\N\t0\t2001\t\\N\t90\tDrama\n";

    fn gz(path: &Path, text: &str) {
        let mut gz = flate2::write::GzEncoder::new(
            fs::File::create(path).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap();
    }

    #[test]
    fn imdb_basics_yield_movies_only_with_literal_quotes_and_nulls() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("title.basics.tsv.gz");
        gz(&path, BASICS);
        let mut basics = basics(&path, DEFAULT_TYPES).unwrap();
        let items: Vec<_> = basics.by_ref().collect();
        assert_eq!(basics.skipped(), 2);
        let films: Vec<&FilmRecord> = items.iter().filter_map(|i| i.as_ref().ok()).collect();
        let keys: Vec<_> = films.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "imdb:tt0000009",
                "imdb:tt0111161",
                "imdb:tt0211915",
                "imdb:tt0000001"
            ]
        );
        assert_eq!(films[1].draft.original_title, None);
        assert_eq!(films[1].draft.runtime.map(|r| r.minutes()), Some(142));
        assert_eq!(
            films[2].draft.original_title.as_ref().unwrap().as_str(),
            "Le fabuleux destin d'Amélie Poulain"
        );
        assert_eq!(films[2].draft.genres.len(), 2);
        assert_eq!(films[3].draft.title.as_str(), "\"Quoted\" Title");
        assert_eq!(films[3].draft.year, None);
        assert_eq!(films[0].draft.year, Year::new(1894).ok());

        let shown = path.display().to_string();
        let problems: Vec<String> = items
            .iter()
            .filter_map(|i| i.as_ref().err().map(ToString::to_string))
            .collect();
        assert_eq!(
            problems,
            [
                format!("{shown}:7: year \"1874\" must be between 1888 and 2100"),
                format!("{shown}:8: runtime \"5760\" must be between 1 and 1000 minutes"),
                format!("{shown}:10: title is missing"),
            ]
        );
    }

    #[test]
    fn imdb_ratings_become_tenths_with_votes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("title.ratings.tsv");
        fs::write(
            &path,
            "tconst\taverageRating\tnumVotes\ntt0111161\t9.3\t2900000\ntt0000009\tx\t1\n",
        )
        .unwrap();
        let items: Vec<_> = ratings(&path).unwrap().collect();
        let (key, rating) = items[0].as_ref().unwrap();
        assert_eq!(key.as_str(), "imdb:tt0111161");
        assert_eq!((rating.tenths, rating.votes), (93, 2_900_000));
        assert!(
            items[1]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains(":3: rating \"x\"")
        );
    }
}
