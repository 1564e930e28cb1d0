//! Letterboxd exports, both ways: reading the zip (or unzipped folder) that Letterboxd's
//! "Export your data" gives, so people can bring their ratings, reviews, diary and watchlist,
//! and writing the same five files, so they can take them back out.
//!
//! Columns are found by their header names, so a reordered or extended export still reads; a
//! missing file is an empty list. Only the five top-level files are read: the export's
//! `deleted/` and `orphaned/` folders hold copies of entries the person removed.

use crate::fields;
use crate::source::{CsvRows, Dialect, Row, strip_bom};
use crate::{HalfStars, Origin, Problem};
use marquee_domain::{ReviewText, Year};
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};
use time::Date;
use time::macros::format_description;

/// One of the five files of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `ratings.csv`: the current rating of each rated film.
    Ratings,
    /// `reviews.csv`: every review, with its rating and the date watched.
    Reviews,
    /// `watched.csv`: every film marked as watched.
    Watched,
    /// `watchlist.csv`: films the person wants to see.
    Watchlist,
    /// `diary.csv`: every logged viewing.
    Diary,
}

impl Kind {
    /// All five, in the order an export lists them.
    pub const ALL: [Kind; 5] = [
        Self::Ratings,
        Self::Reviews,
        Self::Watched,
        Self::Watchlist,
        Self::Diary,
    ];

    /// The file's name in the export.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Ratings => "ratings.csv",
            Self::Reviews => "reviews.csv",
            Self::Watched => "watched.csv",
            Self::Watchlist => "watchlist.csv",
            Self::Diary => "diary.csv",
        }
    }

    /// The file's columns, as Letterboxd writes them.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Ratings => &["Date", "Name", "Year", "Letterboxd URI", "Rating"],
            Self::Reviews => &[
                "Date",
                "Name",
                "Year",
                "Letterboxd URI",
                "Rating",
                "Rewatch",
                "Review",
                "Tags",
                "Watched Date",
            ],
            Self::Watched | Self::Watchlist => &["Date", "Name", "Year", "Letterboxd URI"],
            Self::Diary => &[
                "Date",
                "Name",
                "Year",
                "Letterboxd URI",
                "Rating",
                "Rewatch",
                "Tags",
                "Watched Date",
            ],
        }
    }
}

/// A Letterboxd export as read: the entries of each file and the rows that were rejected.
#[derive(Debug, Default)]
pub struct Export {
    /// `ratings.csv`.
    pub ratings: Vec<Entry>,
    /// `reviews.csv`.
    pub reviews: Vec<Entry>,
    /// `watched.csv`.
    pub watched: Vec<Entry>,
    /// `watchlist.csv`.
    pub watchlist: Vec<Entry>,
    /// `diary.csv`.
    pub diary: Vec<Entry>,
    /// Rejected rows and unreadable files.
    pub problems: Vec<Problem>,
}

impl Export {
    /// The entries of one file.
    pub fn entries(&self, kind: Kind) -> &[Entry] {
        match kind {
            Kind::Ratings => &self.ratings,
            Kind::Reviews => &self.reviews,
            Kind::Watched => &self.watched,
            Kind::Watchlist => &self.watchlist,
            Kind::Diary => &self.diary,
        }
    }

    fn entries_mut(&mut self, kind: Kind) -> &mut Vec<Entry> {
        match kind {
            Kind::Ratings => &mut self.ratings,
            Kind::Reviews => &mut self.reviews,
            Kind::Watched => &mut self.watched,
            Kind::Watchlist => &mut self.watchlist,
            Kind::Diary => &mut self.diary,
        }
    }
}

/// One row of any of the five files; columns a file does not have are empty, false or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The file and line.
    pub origin: Origin,
    /// The film's title.
    pub name: String,
    /// The film's release year.
    pub year: Option<Year>,
    /// The film's Letterboxd page, e.g. `https://boxd.it/2bbs`.
    pub uri: String,
    /// The `Date` column: when the entry was made.
    pub date: Option<Date>,
    /// The rating, 0.5 to 5 stars.
    pub rating: Option<HalfStars>,
    /// The `Rewatch` column said "Yes".
    pub rewatch: bool,
    /// The review's text.
    pub review: Option<ReviewText>,
    /// The tags, comma-separated, as Letterboxd writes them.
    pub tags: String,
    /// The date the film was watched.
    pub watched_date: Option<Date>,
}

/// Reads an export from its zip file or from the folder it was unzipped into (or, given one
/// of the five CSV files, just that file). Fails only when the path can not be read at all.
pub fn read(path: &Path) -> Result<Export, Problem> {
    let mut export = Export::default();
    if path.is_dir() {
        for kind in Kind::ALL {
            let file = path.join(kind.file_name());
            if file.is_file() {
                read_file(&file, kind, &mut export);
            }
        }
        return Ok(export);
    }
    let lower = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if let Some(kind) = Kind::ALL.into_iter().find(|k| k.file_name() == lower) {
        read_file(path, kind, &mut export);
        return Ok(export);
    }
    let file = File::open(path).map_err(|e| Problem::io(path, &e))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| Problem::file(path, format!("is not a Letterboxd export zip: {e}")))?;
    // Names that are not valid text can not be one of the five files.
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .collect();
    for kind in Kind::ALL {
        let Some(name) = top_level(&names, kind.file_name()) else {
            continue;
        };
        let origin = path.join(&name);
        match zip.by_name(&name) {
            Ok(member) => match strip_bom(member) {
                Ok(reader) => read_rows(&origin, reader, kind, &mut export),
                Err(e) => export.problems.push(Problem::io(&origin, &e)),
            },
            Err(e) => export
                .problems
                .push(Problem::file(&origin, format!("can not be unzipped: {e}"))),
        }
    }
    Ok(export)
}

/// The shallowest member called `file` (`ratings.csv` or `export-folder/ratings.csv`), never
/// one inside `deleted/` or `orphaned/`.
fn top_level(names: &[String], file: &str) -> Option<String> {
    names
        .iter()
        .filter(|n| {
            let parts: Vec<&str> = n.split('/').collect();
            parts.len() <= 2 && parts.last().is_some_and(|p| p.eq_ignore_ascii_case(file))
        })
        .filter(|n| {
            let lower = n.to_ascii_lowercase();
            !lower.starts_with("deleted/") && !lower.starts_with("orphaned/")
        })
        .min_by_key(|n| n.matches('/').count())
        .cloned()
}

fn read_file(path: &Path, kind: Kind, export: &mut Export) {
    match crate::source::open(path) {
        Ok(reader) => read_rows(path, reader, kind, export),
        Err(e) => export.problems.push(Problem::io(path, &e)),
    }
}

/// Where each column is in one file; `None` when the file lacks it.
struct Columns {
    date: Option<usize>,
    name: usize,
    year: Option<usize>,
    uri: Option<usize>,
    rating: Option<usize>,
    rewatch: Option<usize>,
    review: Option<usize>,
    tags: Option<usize>,
    watched_date: Option<usize>,
}

fn read_rows<R: Read>(path: &Path, reader: R, kind: Kind, export: &mut Export) {
    let mut rows = match CsvRows::from_reader(path, reader, Dialect::CSV) {
        Ok(rows) => rows,
        Err(problem) => return export.problems.push(problem),
    };
    let name = match rows.require(["Name"]) {
        Ok([name]) => name,
        Err(problem) => return export.problems.push(problem),
    };
    let columns = Columns {
        date: rows.column("Date"),
        name,
        year: rows.column("Year"),
        uri: rows.column("Letterboxd URI"),
        rating: rows.column("Rating"),
        rewatch: rows.column("Rewatch"),
        review: rows.column("Review"),
        tags: rows.column("Tags"),
        watched_date: rows.column("Watched Date"),
    };
    if kind == Kind::Ratings && columns.rating.is_none() {
        return export.problems.push(rows.missing_column("Rating"));
    }
    rows.allow_line_breaks_in(columns.review);
    let path = rows.path().to_owned();
    for row in rows {
        let parsed = row.and_then(|row| {
            entry(&path, &row, &columns, kind).map_err(|m| Problem::at(&path, row.line, m))
        });
        match parsed {
            Ok(entry) => export.entries_mut(kind).push(entry),
            Err(problem) => export.problems.push(problem),
        }
    }
}

fn entry(path: &Path, row: &Row, c: &Columns, kind: Kind) -> Result<Entry, String> {
    let name = row.get(c.name);
    if name.is_empty() {
        return Err("Name is empty".to_owned());
    }
    let rating = match row.opt(c.rating) {
        "" if kind == Kind::Ratings => return Err("Rating is empty".to_owned()),
        "" => None,
        raw => Some(HalfStars::parse(raw).map_err(|e| fields::invalid("Rating", raw, &e))?),
    };
    let review = ReviewText::parse_optional(Some(row.opt(c.review)))
        .map_err(|e| fields::invalid("Review", row.opt(c.review), &e))?;
    Ok(Entry {
        origin: Origin::line(path, row.line),
        name: name.to_owned(),
        year: fields::year(row.opt(c.year))?,
        uri: row.opt(c.uri).to_owned(),
        date: date("Date", row.opt(c.date))?,
        rating,
        rewatch: row.opt(c.rewatch).eq_ignore_ascii_case("yes"),
        review,
        tags: row.opt(c.tags).to_owned(),
        watched_date: date("Watched Date", row.opt(c.watched_date))?,
    })
}

fn date(column: &str, raw: &str) -> Result<Option<Date>, String> {
    if raw.is_empty() {
        return Ok(None);
    }
    Date::parse(raw, format_description!("[year]-[month]-[day]"))
        .map(Some)
        .map_err(|_| format!("{column} {raw:?} is not a date like 2024-01-31"))
}

fn format_date(date: Option<Date>) -> String {
    date.and_then(|d| d.format(format_description!("[year]-[month]-[day]")).ok())
        .unwrap_or_default()
}

/// What to write: the rows of each file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportOut {
    /// `ratings.csv`.
    pub ratings: Vec<EntryOut>,
    /// `reviews.csv`.
    pub reviews: Vec<EntryOut>,
    /// `watched.csv`.
    pub watched: Vec<EntryOut>,
    /// `watchlist.csv`.
    pub watchlist: Vec<EntryOut>,
    /// `diary.csv`.
    pub diary: Vec<EntryOut>,
}

impl ExportOut {
    /// The rows of one file.
    pub fn entries(&self, kind: Kind) -> &[EntryOut] {
        match kind {
            Kind::Ratings => &self.ratings,
            Kind::Reviews => &self.reviews,
            Kind::Watched => &self.watched,
            Kind::Watchlist => &self.watchlist,
            Kind::Diary => &self.diary,
        }
    }
}

/// One row to write; each file writes only its own columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryOut {
    /// The film's title.
    pub name: String,
    /// The film's release year.
    pub year: Option<Year>,
    /// The film's Letterboxd page; empty for films that did not come from Letterboxd.
    pub uri: String,
    /// When the entry was made.
    pub date: Option<Date>,
    /// The rating.
    pub rating: Option<HalfStars>,
    /// A rewatch.
    pub rewatch: bool,
    /// The review text; empty for none.
    pub review: String,
    /// Comma-separated tags.
    pub tags: String,
    /// When the film was watched.
    pub watched_date: Option<Date>,
}

impl From<&Entry> for EntryOut {
    fn from(e: &Entry) -> Self {
        Self {
            name: e.name.clone(),
            year: e.year,
            uri: e.uri.clone(),
            date: e.date,
            rating: e.rating,
            rewatch: e.rewatch,
            review: e
                .review
                .as_ref()
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
            tags: e.tags.clone(),
            watched_date: e.watched_date,
        }
    }
}

/// Writes the five files into a zip, deflated, as Letterboxd's export is laid out.
pub fn write_zip<W: Write + Seek>(out: W, export: &ExportOut) -> io::Result<()> {
    let mut zip = zip::ZipWriter::new(out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for kind in Kind::ALL {
        zip.start_file(kind.file_name(), options)?;
        write_csv(&mut zip, kind, export.entries(kind))?;
    }
    zip.finish()?;
    Ok(())
}

/// Writes the five files into `dir`, creating it if needed.
pub fn write_dir(dir: &Path, export: &ExportOut) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    for kind in Kind::ALL {
        let path: PathBuf = dir.join(kind.file_name());
        let mut file = io::BufWriter::new(File::create(path)?);
        write_csv(&mut file, kind, export.entries(kind))?;
        file.flush()?;
    }
    Ok(())
}

fn write_csv<W: Write>(out: W, kind: Kind, rows: &[EntryOut]) -> io::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(kind.columns())?;
    for row in rows {
        let fields = kind.columns().iter().map(|column| match *column {
            "Date" => format_date(row.date),
            "Name" => row.name.clone(),
            "Year" => row.year.map(|y| y.get().to_string()).unwrap_or_default(),
            "Letterboxd URI" => row.uri.clone(),
            "Rating" => row.rating.map(|r| r.to_string()).unwrap_or_default(),
            "Rewatch" => if row.rewatch { "Yes" } else { "" }.to_owned(),
            "Review" => row.review.clone(),
            "Tags" => row.tags.clone(),
            "Watched Date" => format_date(row.watched_date),
            other => unreachable!("no column {other}"),
        });
        csv.write_record(fields)?;
    }
    csv.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn sample() -> ExportOut {
        let year = |y| Year::new(y).ok();
        let half = |s| HalfStars::parse(s).ok();
        let base = |name: &str, y| EntryOut {
            name: name.to_owned(),
            year: year(y),
            uri: format!("https://boxd.it/{}", name.len()),
            date: Some(date!(2024 - 01 - 31)),
            ..EntryOut::default()
        };
        ExportOut {
            ratings: vec![
                EntryOut {
                    rating: half("4.5"),
                    ..base("Paris, Texas", 1984)
                },
                EntryOut {
                    rating: half("0.5"),
                    uri: String::new(),
                    ..base("\"Quoted\" Title", 2001)
                },
            ],
            reviews: vec![EntryOut {
                rating: half("3"),
                rewatch: true,
                review: "First paragraph, with a comma.\n\nSecond \"quoted\" one.".to_owned(),
                tags: "cinema, 35mm".to_owned(),
                watched_date: Some(date!(2024 - 01 - 30)),
                ..base("Stalker", 1979)
            }],
            watched: vec![base("Stalker", 1979), base("Ran", 1985)],
            watchlist: vec![EntryOut {
                year: None,
                date: None,
                ..base("Untitled Project", 2000)
            }],
            diary: vec![EntryOut {
                rating: half("5"),
                tags: "rewatch".to_owned(),
                watched_date: Some(date!(2023 - 12 - 24)),
                ..base("Ran", 1985)
            }],
        }
    }

    fn read_back(export: &Export) -> ExportOut {
        let all = |kind| export.entries(kind).iter().map(EntryOut::from).collect();
        ExportOut {
            ratings: all(Kind::Ratings),
            reviews: all(Kind::Reviews),
            watched: all(Kind::Watched),
            watchlist: all(Kind::Watchlist),
            diary: all(Kind::Diary),
        }
    }

    #[test]
    fn an_export_written_as_a_zip_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("letterboxd.zip");
        write_zip(File::create(&path).unwrap(), &sample()).unwrap();
        let export = read(&path).unwrap();
        assert!(export.problems.is_empty(), "{:?}", export.problems);
        assert_eq!(read_back(&export), sample());
        assert_eq!(
            export.reviews[0].origin.to_string(),
            format!("{}:2", path.join("reviews.csv").display())
        );
    }

    #[test]
    fn an_export_written_to_a_folder_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        write_dir(dir.path(), &sample()).unwrap();
        let export = read(dir.path()).unwrap();
        assert!(export.problems.is_empty(), "{:?}", export.problems);
        assert_eq!(read_back(&export), sample());
        let header = fs::read_to_string(dir.path().join("reviews.csv")).unwrap();
        assert!(header.starts_with(
            "Date,Name,Year,Letterboxd URI,Rating,Rewatch,Review,Tags,Watched Date\n"
        ));
    }

    #[test]
    fn bad_rows_are_reported_by_file_and_line_and_missing_files_are_empty() {
        let dir = tempfile::tempdir().unwrap();
        let ratings = "\u{feff}Date,Name,Year,Letterboxd URI,Rating\n\
            2024-01-01,Good,1999,https://boxd.it/a,4\n\
            2024-01-02,Too high,1999,https://boxd.it/b,7\n\
            2024-01-03,,1999,https://boxd.it/c,3\n\
            2024-13-04,Bad date,1999,https://boxd.it/d,3\n\
            2024-01-05,Bad year,19x9,https://boxd.it/e,3\n\
            2024-01-06,Half,2001,https://boxd.it/f,2.5\n";
        fs::write(dir.path().join("ratings.csv"), ratings).unwrap();
        // Columns in another order, one extra, and a review that opens a quote it never closes.
        let reviews = "Name,Review,Extra,Date\n\
            Fine,\"Good.\nReally.\",x,2024-02-01\n\
            Broken,\"never closed,x,2024-02-02\n\
            Lost,text,x,2024-02-03\n";
        fs::write(dir.path().join("reviews.csv"), reviews).unwrap();
        let export = read(dir.path()).unwrap();

        let names: Vec<_> = export.ratings.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["Good", "Half"]);
        assert_eq!(export.ratings[1].origin.line, Some(7));
        let file = dir.path().join("ratings.csv");
        let problems: Vec<String> = export.problems.iter().map(|p| p.to_string()).collect();
        let at = |line: u64, rest: &str| format!("{}:{line}: {rest}", file.display());
        assert_eq!(
            problems[0],
            at(3, "Rating \"7\" must be 0.5 to 5 in steps of 0.5")
        );
        assert_eq!(problems[1], at(4, "Name is empty"));
        assert_eq!(
            problems[2],
            at(5, "Date \"2024-13-04\" is not a date like 2024-01-31")
        );
        assert_eq!(
            problems[3],
            at(6, "year \"19x9\" must be a year such as 2017")
        );
        assert_eq!(export.reviews.len(), 1);
        assert_eq!(
            export.reviews[0].review.as_ref().unwrap().as_str(),
            "Good.\nReally."
        );
        let reviews_file = dir.path().join("reviews.csv");
        assert_eq!(
            problems[4],
            format!(
                "{}:4: has 2 fields where the header has 4",
                reviews_file.display()
            )
        );
        assert_eq!(problems.len(), 5, "{problems:#?}");
        assert!(export.diary.is_empty() && export.watchlist.is_empty());
    }

    #[test]
    fn a_zip_with_a_top_folder_is_read_and_deleted_entries_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.zip");
        let mut zip = zip::ZipWriter::new(File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("deleted/diary.csv", options).unwrap();
        zip.write_all(b"Name,Rating\nGone,1\n").unwrap();
        zip.start_file("letterboxd-me-2024/diary.csv", options)
            .unwrap();
        zip.write_all(b"Name,Rating\nKept,2\n").unwrap();
        zip.finish().unwrap();
        let export = read(&path).unwrap();
        assert_eq!(export.diary.len(), 1);
        assert_eq!(export.diary[0].name, "Kept");
        assert!(read(&dir.path().join("missing.zip")).is_err());
    }
}
