//! `marquee import <kind> <path>`: taking in films, ratings and lists from where people already
//! keep them. The readers in `marquee-import` turn files into checked records; this module
//! stores them in batches (one transaction each, so an interruption leaves whole batches and a
//! re-run finishes the job), shows progress, and ends with a summary: added, updated, unchanged,
//! skipped and rejected, with every rejected row named by its file and line.

mod catalogs;
mod letterboxd;
mod library;
mod movielens;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use marquee_import::{FilmRecord, Problem};
use marquee_store::{ExternalRating, FilmOutcome, ImportFilm, Store};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Films stored per transaction.
const FILM_BATCH: usize = 1000;
/// Ratings stored per transaction. Each batch rewrites the counters of every film it touches
/// (and their sort indexes), and rating exports come viewer by viewer, so nearly every batch
/// touches thousands of films: fewer, larger batches rewrite far fewer film rows.
const RATING_BATCH: usize = 20_000;
/// Rejected rows printed in full; the rest are counted.
const SHOWN_PROBLEMS: usize = 50;

#[derive(Subcommand)]
pub enum ImportCommand {
    /// A Kodi/Jellyfin movie library: a folder per film with its video, `movie.nfo`, poster
    /// and `<video>.<lang>.srt` subtitles. A re-run picks up new, changed and removed folders.
    Library(LibraryArgs),
    /// A Letterboxd export (the folder or the .zip) into one user's account: ratings, reviews,
    /// diary, watched films and watchlist, matching films by title and year.
    Letterboxd(LetterboxdArgs),
    /// MovieLens: a folder with movies.csv and ratings.csv (and links.csv), or one joined CSV;
    /// creates the films and an account per MovieLens user with their ratings.
    Movielens(PathArgs),
    /// IMDb's public title.basics.tsv (gzipped or not), with title.ratings.tsv if given.
    Imdb(ImdbArgs),
    /// A CSV or JSON catalog with a column mapping, e.g. `--map title=Title --map year="Release Date"`.
    Catalog(CatalogArgs),
}

#[derive(Args)]
pub struct PathArgs {
    pub path: PathBuf,
}

#[derive(Args)]
pub struct LibraryArgs {
    /// The library's root folder.
    pub path: PathBuf,
    /// Only read the films' details: no video, subtitles or posters are copied.
    #[arg(long)]
    pub no_media: bool,
}

#[derive(Args)]
pub struct LetterboxdArgs {
    /// The export's folder or .zip file.
    pub path: PathBuf,
    /// The Marquee account that receives the ratings and lists.
    #[arg(long)]
    pub user: String,
}

#[derive(Args)]
pub struct ImdbArgs {
    /// title.basics.tsv or title.basics.tsv.gz
    pub basics: PathBuf,
    /// title.ratings.tsv or title.ratings.tsv.gz: IMDb's average and votes per film.
    #[arg(long)]
    pub ratings: Option<PathBuf>,
    /// The title types to take (IMDb's titleType column).
    #[arg(long, value_delimiter = ',', default_value = "movie,tvMovie")]
    pub types: Vec<String>,
}

#[derive(Args)]
pub struct CatalogArgs {
    /// A .csv (or .csv.gz) with a header row, or a .json array of objects (or JSON lines).
    pub path: PathBuf,
    /// The catalog's name: its films' keys are `catalog:<name>:<id>`, so a re-run finds them.
    #[arg(long)]
    pub name: String,
    /// `field=Column`, repeated. Fields: id, title (required), original_title, year, runtime,
    /// synopsis, genres, genre_flags (comma-separated 0/1 columns), directors, cast,
    /// content_rating, language, rating, rating_scale, votes.
    #[arg(long = "map", value_name = "FIELD=COLUMN", required = true)]
    pub map: Vec<String>,
}

/// What an import did, for the summary.
#[derive(Debug, Default)]
pub struct Report {
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Rows that were fine but not for us (another title type, a rating of an unknown film).
    pub skipped: u64,
    pub problems: Vec<Problem>,
    /// Rows of a Letterboxd export whose film is not in the catalog: "Title (Year)".
    pub unmatched: Vec<String>,
    /// Per kind of row, for imports with several ("ratings", "diary").
    pub parts: Vec<(String, marquee_store::ImportCounts)>,
}

impl Report {
    pub fn count(&mut self, outcome: FilmOutcome) {
        match outcome {
            FilmOutcome::Added(_) => self.added += 1,
            FilmOutcome::Updated(_) => self.updated += 1,
            FilmOutcome::Unchanged(_) => self.unchanged += 1,
        }
    }

    pub fn rejected(&self) -> usize {
        self.problems.len()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in self.problems.iter().take(SHOWN_PROBLEMS) {
            writeln!(f, "rejected: {p}")?;
        }
        if self.problems.len() > SHOWN_PROBLEMS {
            writeln!(
                f,
                "rejected: … and {} more",
                self.problems.len() - SHOWN_PROBLEMS
            )?;
        }
        if !self.unmatched.is_empty() {
            writeln!(f, "not in the catalog ({}):", self.unmatched.len())?;
            for u in &self.unmatched {
                writeln!(f, "  {u}")?;
            }
        }
        for (name, c) in &self.parts {
            writeln!(
                f,
                "{name}: {} added, {} updated, {} unchanged",
                c.added, c.updated, c.unchanged
            )?;
        }
        write!(
            f,
            "films: {} added, {} updated, {} unchanged; {} skipped, {} rejected",
            self.added,
            self.updated,
            self.unchanged,
            self.skipped,
            self.rejected()
        )
    }
}

/// A progress line on a terminal (nothing when the output is not one).
pub fn progress(message: &'static str, total: Option<u64>) -> ProgressBar {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return ProgressBar::hidden();
    }
    let bar = match total {
        Some(n) => ProgressBar::new(n).with_style(
            ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} {per_sec} (eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {msg}: {pos} rows, {per_sec}, {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    };
    bar.set_message(message);
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// A stable digest of what a source says about a film: equal on a re-run when nothing changed.
fn fingerprint(record: &FilmRecord, extra: &str) -> String {
    let mut h = Sha256::new();
    h.update(format!(
        "{:?}\u{0}{:?}\u{0}{extra}",
        record.draft, record.external_rating
    ));
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn to_store_rating(r: &marquee_import::ExternalRating) -> ExternalRating {
    ExternalRating {
        source: r.source.clone(),
        tenths: r.tenths,
        votes: r.votes,
    }
}

fn import_film(record: &FilmRecord, extra: &str) -> ImportFilm {
    ImportFilm {
        key: record.key.as_str().to_owned(),
        other_keys: record
            .other_keys
            .iter()
            .map(|k| k.as_str().to_owned())
            .collect(),
        draft: record.draft.clone(),
        fingerprint: fingerprint(record, extra),
        external_rating: record.external_rating.as_ref().map(to_store_rating),
    }
}

/// Stores films in batches and remembers which film each key became.
pub struct FilmWriter<'a> {
    store: &'a dyn Store,
    pending: Vec<ImportFilm>,
    /// `key -> film`, for the rows that refer to films by their source's key (ratings).
    pub ids: HashMap<String, marquee_domain::MovieId>,
    remember_ids: bool,
    bar: ProgressBar,
}

impl<'a> FilmWriter<'a> {
    pub fn new(store: &'a dyn Store, remember_ids: bool, bar: ProgressBar) -> Self {
        Self {
            store,
            pending: Vec::with_capacity(FILM_BATCH),
            ids: HashMap::new(),
            remember_ids,
            bar,
        }
    }

    pub async fn push(
        &mut self,
        record: &FilmRecord,
        extra: &str,
        report: &mut Report,
    ) -> anyhow::Result<Vec<FilmOutcome>> {
        self.pending.push(import_film(record, extra));
        if self.pending.len() >= FILM_BATCH {
            return self.flush(report).await;
        }
        Ok(Vec::new())
    }

    /// Stores what is pending; answers the outcomes in the order the films were pushed.
    pub async fn flush(&mut self, report: &mut Report) -> anyhow::Result<Vec<FilmOutcome>> {
        if self.pending.is_empty() {
            return Ok(Vec::new());
        }
        let now = marquee_domain::time_fmt::now_ms();
        let outcomes = self.store.import_films(&self.pending, now).await?;
        for (film, outcome) in self.pending.iter().zip(&outcomes) {
            report.count(*outcome);
            if self.remember_ids {
                self.ids.insert(film.key.clone(), outcome.id());
            }
        }
        self.bar.inc(self.pending.len() as u64);
        self.pending.clear();
        Ok(outcomes)
    }
}

/// Runs one import command against the store.
pub async fn run(
    cli: &crate::cli::Cli,
    store: Arc<dyn Store>,
    cmd: &ImportCommand,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let report = match cmd {
        ImportCommand::Library(args) => library::run(cli, store.as_ref(), args).await,
        ImportCommand::Letterboxd(args) => letterboxd::run(store.as_ref(), args).await,
        ImportCommand::Movielens(args) => movielens::run(store.as_ref(), &args.path).await,
        ImportCommand::Imdb(args) => catalogs::imdb(store.as_ref(), args).await,
        ImportCommand::Catalog(args) => catalogs::catalog(store.as_ref(), args).await,
    };
    // Even a failed import may have stored some batches: they are tidied, and running servers
    // must drop what they cached about films it touched.
    if let Err(e) = store.tidy_after_import().await {
        tracing::warn!(error = %e, "could not tidy the search index after the import");
    }
    if let Err(e) = store.announce_all().await {
        tracing::warn!(error = %e, "could not tell running servers about the import");
    }
    let report = report?;
    println!("{report}");
    println!("took {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Runs a reader on a blocking thread and hands its items over in batches, so parsing the next
/// batch overlaps with storing this one and the async runtime never waits on file reads.
pub fn batches<I>(
    make: impl FnOnce() -> I + Send + 'static,
    size: usize,
) -> tokio::sync::mpsc::Receiver<Vec<I::Item>>
where
    I: Iterator,
    I::Item: Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(size);
        for item in make() {
            batch.push(item);
            if batch.len() == size {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(size));
                if tx.blocking_send(full).is_err() {
                    return;
                }
            }
        }
        if !batch.is_empty() {
            let _ = tx.blocking_send(batch);
        }
    });
    rx
}

/// A reader's rows, or its one problem when the file could not be opened at all (a missing
/// column, an unreadable file): either way the import goes on and reports it.
pub fn rows_or_problem<I, T>(
    opened: Result<I, Problem>,
) -> Box<dyn Iterator<Item = Result<T, Problem>> + Send>
where
    I: Iterator<Item = Result<T, Problem>> + Send + 'static,
    T: Send + 'static,
{
    match opened {
        Ok(rows) => Box::new(rows),
        Err(p) => Box::new(std::iter::once(Err(p))),
    }
}

/// Stores every film a reader yields, in batches; answers which film each source key became
/// when `remember_ids` (for ratings that refer to films by key).
pub async fn store_films<I>(
    store: &dyn Store,
    label: &'static str,
    remember_ids: bool,
    reader: impl FnOnce() -> I + Send + 'static,
    report: &mut Report,
) -> anyhow::Result<HashMap<String, marquee_domain::MovieId>>
where
    I: Iterator<Item = Result<FilmRecord, Problem>>,
{
    let bar = progress(label, None);
    let mut films = FilmWriter::new(store, remember_ids, bar.clone());
    let mut rx = batches(reader, FILM_BATCH);
    while let Some(batch) = rx.recv().await {
        for item in batch {
            match item {
                Ok(record) => {
                    films.push(&record, "", report).await?;
                }
                Err(p) => report.problems.push(p),
            }
        }
    }
    films.flush(report).await?;
    bar.finish_and_clear();
    Ok(films.ids)
}
