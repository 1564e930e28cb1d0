//! The command line: `marquee serve` and `marquee movie add|edit|list|remove`.

use crate::catalog::{draft_from_fields, fields_from_movie};
use crate::render::MovieFormFields;
use crate::{app, posters};
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use marquee_domain::MovieId;
use marquee_store::{Movie, Store};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "marquee",
    version,
    about = "Run your own film service: catalog, title pages, ratings and reviews."
)]
pub struct Cli {
    /// Where the database and uploaded files live.
    #[arg(
        long,
        global = true,
        env = "MARQUEE_DATA_DIR",
        default_value = "./marquee-data"
    )]
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DATABASE`; default: `marquee.db` in the
    /// data folder.
    #[arg(
        long,
        global = true,
        env = "MARQUEE_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Most PostgreSQL connections this process opens.
    #[arg(
        long,
        global = true,
        env = "MARQUEE_DATABASE_CONNECTIONS",
        default_value_t = 16
    )]
    pub database_connections: u32,
    /// Where media files live: a folder, or `s3://BUCKET/PREFIX` (endpoint and credentials from
    /// MARQUEE_S3_ENDPOINT or AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID and
    /// AWS_SECRET_ACCESS_KEY); default: `media` in the data folder.
    #[arg(long, global = true, env = "MARQUEE_MEDIA_URL")]
    pub media_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Start the web server.
    Serve(ServeArgs),
    /// Manage the catalog.
    #[command(subcommand)]
    Movie(Box<MovieCommand>),
    /// Add, replace or remove a film's video and subtitles.
    #[command(subcommand)]
    Media(MediaCommand),
    /// Copy everything (accounts, sessions, tokens, films, credits, ratings, reviews, votes)
    /// from one database to another, then verify the copy.
    MigrateData(MigrateArgs),
    /// Take in films, ratings and lists from a library folder, Letterboxd, MovieLens, IMDb or
    /// a CSV/JSON catalog. A re-run updates instead of duplicating.
    #[command(subcommand)]
    Import(crate::import::ImportCommand),
    /// Recount every film's and review's aggregates from the stored ratings and votes and report
    /// any that disagree (exit status 1 if so).
    Verify,
    /// Write a user's data out in another service's format.
    #[command(subcommand)]
    Export(crate::export::ExportCommand),
}

#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "MARQUEE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The address people reach the service at; `https://…` makes cookies Secure.
    #[arg(long, env = "MARQUEE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Fill an empty database with the demo catalog.
    #[arg(long)]
    pub demo: bool,
    /// A reverse proxy (IP address) whose X-Forwarded-For header names the real client, for
    /// sign-in throttling; repeat for several, or comma-separate in the variable.
    #[arg(
        long = "trusted-proxy",
        env = "MARQUEE_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Log JSON lines instead of text.
    #[arg(long, env = "MARQUEE_LOG_JSON")]
    pub log_json: bool,
    /// Run no packaging worker in this instance (web only); other instances, or
    /// `marquee media package`, package the queued media.
    #[arg(long, env = "MARQUEE_NO_WORKER")]
    pub no_worker: bool,
    /// Seconds a packaging job stays claimed without news from its worker; after that another
    /// instance takes it over (a crashed or killed worker stops renewing every 3 s).
    #[arg(long, env = "MARQUEE_JOB_LEASE_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(5..=3600))]
    pub job_lease_secs: u64,
}

#[derive(Args)]
pub struct MigrateArgs {
    /// The database to copy from, e.g. sqlite://./marquee-data/marquee.db
    #[arg(long)]
    pub from: String,
    /// The database to copy into, e.g. postgres://marquee:…@db.example/marquee
    #[arg(long)]
    pub to: String,
    /// Continue a copy that was interrupted (the target already has some of the rows).
    #[arg(long)]
    pub resume: bool,
    /// Rows per batch.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub batch: u32,
}

#[derive(Subcommand)]
pub enum MediaCommand {
    /// Probe a video file and make it the film's media (replacing any before), with subtitles;
    /// HLS packaging is queued for the server's worker (or run it with `media package`).
    Add {
        /// The film's id or address.
        film: String,
        /// The video file.
        file: PathBuf,
        /// A subtitle file (.srt or .vtt); give --lang after each.
        #[arg(long = "subtitles", value_name = "FILE")]
        subtitles: Vec<PathBuf>,
        /// The language of each --subtitles file, in order, e.g. `en` or `pt-BR`.
        #[arg(long = "lang", value_name = "CODE")]
        langs: Vec<String>,
    },
    /// Add or replace one language's subtitles of a film that has media.
    Subtitles {
        film: String,
        file: PathBuf,
        #[arg(long = "lang", value_name = "CODE")]
        lang: String,
    },
    /// Show a film's media, subtitles and packaging.
    Show { film: String },
    /// Who may watch the film: `public` (anyone) or `members` (signed-in viewers only).
    Access {
        film: String,
        #[arg(value_parser = ["public", "members"])]
        who: String,
    },
    /// Remove a film's media, subtitles and packaging.
    Remove { film: String },
    /// Package the film's media into HLS now, in the foreground, with a progress bar (the film's
    /// queued job, claimed like a server's worker would; queued first if there is none).
    Package(crate::packaging::cli::PackageArgs),
    /// List recent background jobs (HLS packaging) with their state and progress.
    Jobs(crate::packaging::cli::JobsArgs),
}

#[derive(Subcommand)]
pub enum MovieCommand {
    /// Add a film.
    Add(MovieFields),
    /// Change a film (by id or address); only the options given change.
    Edit {
        /// The film's id or address (slug).
        film: String,
        #[command(flatten)]
        fields: MovieFields,
    },
    /// List the catalog.
    List,
    /// Remove a film with its ratings and reviews.
    Remove {
        /// The film's id or address (slug).
        film: String,
    },
}

#[derive(Args, Default)]
pub struct MovieFields {
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long)]
    pub original_title: Option<String>,
    /// The address, /movies/<slug>; made from title and year when left out.
    #[arg(long)]
    pub slug: Option<String>,
    #[arg(long)]
    pub year: Option<String>,
    /// Runtime in minutes.
    #[arg(long)]
    pub runtime: Option<String>,
    #[arg(long)]
    pub synopsis: Option<String>,
    /// Read the synopsis from a file.
    #[arg(long, conflicts_with = "synopsis")]
    pub synopsis_file: Option<PathBuf>,
    /// A genre (repeat for several; replaces all genres on edit).
    #[arg(long = "genre")]
    pub genres: Vec<String>,
    /// A director (repeat for several).
    #[arg(long = "director")]
    pub directors: Vec<String>,
    /// A cast member as "Name" or "Name as Character", in billing order (repeat).
    #[arg(long = "cast")]
    pub cast: Vec<String>,
    /// G, PG, PG-13, R, NC-17 or NR.
    #[arg(long)]
    pub content_rating: Option<String>,
    #[arg(long)]
    pub language: Option<String>,
    /// A JPEG, PNG or WebP poster.
    #[arg(long)]
    pub poster: Option<PathBuf>,
}

impl MovieFields {
    fn apply(&self, f: &mut MovieFormFields) -> anyhow::Result<()> {
        let set = |target: &mut String, v: &Option<String>| {
            if let Some(v) = v {
                target.clone_from(v);
            }
        };
        set(&mut f.title, &self.title);
        set(&mut f.original_title, &self.original_title);
        set(&mut f.slug, &self.slug);
        set(&mut f.year, &self.year);
        set(&mut f.runtime_minutes, &self.runtime);
        set(&mut f.synopsis, &self.synopsis);
        set(&mut f.content_rating, &self.content_rating);
        set(&mut f.language, &self.language);
        if let Some(path) = &self.synopsis_file {
            f.synopsis = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
        }
        if !self.genres.is_empty() {
            f.genres = self.genres.join(",");
        }
        if !self.directors.is_empty() {
            f.directors = self.directors.join("\n");
        }
        if !self.cast.is_empty() {
            f.cast = self.cast.join("\n");
        }
        Ok(())
    }
}

impl Cli {
    /// Opens the backend named by `--database-url` (SQLite in the data folder by default).
    pub async fn open_store(&self) -> anyhow::Result<Arc<dyn Store>> {
        let pg = marquee_store_postgres::PgSettings {
            max_connections: self.database_connections,
            schema: None,
        };
        crate::database::open(self.database_url.as_deref(), &self.data_dir, &pg).await
    }
}

pub(crate) async fn find(store: &dyn Store, film: &str) -> anyhow::Result<Movie> {
    let found = match film.parse::<i64>() {
        Ok(id) => store.movie_by_id(MovieId(id)).await?,
        Err(_) => store.movie_by_slug(film).await?,
    };
    found.with_context(|| format!("no film has the id or address '{film}'"))
}

async fn attach_poster(
    store: &dyn Store,
    data_dir: &std::path::Path,
    movie: &Movie,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    let bytes = tokio::fs::read(file)
        .await
        .with_context(|| format!("reading {}", file.display()))?;
    let dir = data_dir.join("posters");
    let name = posters::save(&dir, movie.id.0, &bytes).await?;
    store.set_poster(movie.id, Some(&name)).await?;
    if let Some(old) = &movie.poster {
        posters::remove(&dir, old).await;
    }
    Ok(())
}

fn report_invalid(errors: Vec<marquee_domain::ValidationError>) -> anyhow::Error {
    anyhow::anyhow!(
        "the film was not saved:\n{}",
        errors
            .iter()
            .map(|e| format!("  --{}: {}", e.field.replace('_', "-"), e.message))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve(args) => app::serve(&cli, args.clone()).await,
        Command::MigrateData(args) => migrate_data(&cli, args).await,
        Command::Export(cmd) => crate::export::run(&cli, cmd).await,
        Command::Verify => {
            let store = cli.open_store().await?;
            let problems = store.audit_aggregates().await;
            store.close().await;
            let problems = problems?;
            if problems.is_empty() {
                println!(
                    "consistent: every average, histogram, review count and vote count matches the stored rows"
                );
                Ok(())
            } else {
                for p in &problems {
                    println!("{p}");
                }
                bail!(
                    "{} aggregates disagree with the stored rows",
                    problems.len()
                )
            }
        }
        Command::Media(cmd) => {
            let store = cli.open_store().await?;
            let result = match cmd {
                MediaCommand::Package(args) => {
                    crate::packaging::cli::package(&cli, store.clone(), args).await
                }
                MediaCommand::Jobs(args) => crate::packaging::cli::jobs(store.as_ref(), args).await,
                cmd => media_command(&cli, store.as_ref(), cmd).await,
            };
            store.close().await;
            result
        }
        Command::Import(cmd) => {
            let store = cli.open_store().await?;
            let result = crate::import::run(&cli, store.clone(), cmd).await;
            store.close().await;
            result
        }
        Command::Movie(cmd) => {
            let store = cli.open_store().await?;
            let result = movie_command(store.as_ref(), &cli.data_dir, cmd).await;
            store.close().await;
            result
        }
    }
}

async fn migrate_data(cli: &Cli, args: &MigrateArgs) -> anyhow::Result<()> {
    let pg = marquee_store_postgres::PgSettings {
        max_connections: 4,
        schema: None,
    };
    let open = |url: &str| {
        let url = url.to_owned();
        let pg = pg.clone();
        async move {
            crate::database::kind_of(&url)?;
            crate::database::open(Some(&url), &cli.data_dir, &pg).await
        }
    };
    let from = open(&args.from)
        .await
        .context("opening the source (--from)")?;
    let to = open(&args.to).await.context("opening the target (--to)")?;
    let opts = crate::transfer::Options {
        batch: args.batch,
        resume: args.resume,
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let result = crate::transfer::migrate(from.as_ref(), to.as_ref(), &opts).await;
    from.close().await;
    to.close().await;
    let report = result?;
    for t in &report.tables {
        println!(
            "{:>14}: {:>9} rows, {:>9} copied now",
            t.name, t.rows, t.copied
        );
    }
    println!(
        "verified: every table has the same rows in {} as in {}",
        crate::database::redact(&args.to),
        crate::database::redact(&args.from)
    );
    Ok(())
}

async fn movie_command(
    store: &dyn Store,
    data_dir: &std::path::Path,
    cmd: &MovieCommand,
) -> anyhow::Result<()> {
    match cmd {
        MovieCommand::Add(fields) => {
            let mut f = MovieFormFields {
                content_rating: "NR".into(),
                ..Default::default()
            };
            fields.apply(&mut f)?;
            if fields.title.is_none() {
                bail!("--title is required");
            }
            let draft = draft_from_fields(&f).map_err(report_invalid)?;
            let movie = store.create_movie(&draft).await?;
            store.announce(movie.id).await?;
            if let Some(p) = &fields.poster {
                attach_poster(store, data_dir, &movie, p).await?;
            }
            println!("added film {} at /movies/{}", movie.id, movie.slug);
        }
        MovieCommand::Edit { film, fields } => {
            let movie = find(store, film).await?;
            let mut f = fields_from_movie(&movie);
            fields.apply(&mut f)?;
            let draft = draft_from_fields(&f).map_err(report_invalid)?;
            let updated = store.update_movie(movie.id, &draft).await?;
            store.announce(movie.id).await?;
            if let Some(p) = &fields.poster {
                attach_poster(store, data_dir, &updated, p).await?;
            }
            println!("updated film {} at /movies/{}", updated.id, updated.slug);
        }
        MovieCommand::List => {
            let mut after: Option<(String, MovieId)> = None;
            println!("{:>6}  {:<40}  {:>4}  address", "id", "title", "year");
            loop {
                let page = store
                    .list_movies(after.as_ref().map(|(t, i)| (t.as_str(), *i)), 500)
                    .await?;
                for m in &page {
                    let year = m.year.map(|y| y.to_string()).unwrap_or_default();
                    println!(
                        "{:>6}  {:<40}  {:>4}  /movies/{}",
                        m.id, m.title, year, m.slug
                    );
                }
                match page.last() {
                    Some(m) if page.len() == 500 => after = Some((m.title.clone(), m.id)),
                    _ => break,
                }
            }
        }
        MovieCommand::Remove { film } => {
            let movie = find(store, film).await?;
            store.delete_movie(movie.id).await?;
            store.announce(movie.id).await?;
            if let Some(p) = &movie.poster {
                posters::remove(&data_dir.join("posters"), p).await;
            }
            println!("removed film {} ({})", movie.id, movie.title);
        }
    }
    Ok(())
}

async fn media_command(cli: &Cli, store: &dyn Store, cmd: &MediaCommand) -> anyhow::Result<()> {
    use crate::media::{self, SubtitleInput};
    use marquee_media::SubtitleLang;
    let storage = marquee_media_store::open(cli.media_url.as_deref(), &cli.data_dir).await?;
    let tools = marquee_media::Tools::default();
    let lang =
        |code: &str| SubtitleLang::parse(code).map_err(|e| anyhow::anyhow!("--lang {code}: {e}"));
    match cmd {
        MediaCommand::Add {
            film,
            file,
            subtitles,
            langs,
        } => {
            let movie = find(store, film).await?;
            if subtitles.len() != langs.len() {
                bail!(
                    "give one --lang for each --subtitles file ({} files, {} languages)",
                    subtitles.len(),
                    langs.len()
                );
            }
            let mut inputs = Vec::new();
            for (path, code) in subtitles.iter().zip(langs) {
                inputs.push(SubtitleInput {
                    path: path.clone(),
                    name: None,
                    lang: lang(code)?,
                });
            }
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "video".into());
            let record = media::add_media(
                store,
                storage.as_ref(),
                &tools,
                &movie,
                file,
                &name,
                &inputs,
            )
            .await?;
            store.announce(movie.id).await?;
            println!(
                "Added {} to '{}': {}x{} {}, {}, {} subtitle track(s). HLS packaging is queued.",
                record.file_name,
                movie.title,
                record.width,
                record.height,
                record.video_codec,
                marquee_domain::time_fmt::clock(record.duration_ms),
                inputs.len()
            );
        }
        MediaCommand::Subtitles {
            film,
            file,
            lang: code,
        } => {
            let movie = find(store, film).await?;
            let input = SubtitleInput {
                path: file.clone(),
                name: None,
                lang: lang(code)?,
            };
            let record = media::add_subtitle(store, storage.as_ref(), movie.id, &input).await?;
            store.announce(movie.id).await?;
            println!("Added {} subtitles to '{}'.", record.label, movie.title);
        }
        MediaCommand::Show { film } => {
            let movie = find(store, film).await?;
            let Some(m) = store.media_for(movie.id).await? else {
                println!("'{}' has no media.", movie.title);
                return Ok(());
            };
            println!(
                "{}: {} ({}), {} bytes, {}x{} {} / {}, {}",
                movie.title,
                m.file_name,
                m.content_type,
                m.size_bytes,
                m.width,
                m.height,
                m.video_codec,
                m.audio_codec.as_deref().unwrap_or("no audio"),
                marquee_domain::time_fmt::clock(m.duration_ms)
            );
            for s in store.subtitles_for(movie.id).await? {
                println!("  subtitles: {} ({})", s.label, s.lang);
            }
            match &m.hls_prefix {
                Some(_) => println!("  HLS: ready"),
                None => println!("  HLS: not packaged"),
            }
            for j in store.list_jobs(Some(movie.id), 5).await? {
                println!(
                    "  job {}: {} {} {:.0}%{}",
                    j.id,
                    j.kind,
                    j.state.as_str(),
                    j.progress * 100.0,
                    j.error.map(|e| format!(" ({e})")).unwrap_or_default()
                );
            }
        }
        MediaCommand::Access { film, who } => {
            let movie = find(store, film).await?;
            store.set_members_only(movie.id, who == "members").await?;
            store.announce(movie.id).await?;
            println!(
                "'{}' can now be watched by {}.",
                movie.title,
                if who == "members" {
                    "signed-in viewers only"
                } else {
                    "anyone"
                }
            );
        }
        MediaCommand::Remove { film } => {
            let movie = find(store, film).await?;
            if media::remove_media(store, storage.as_ref(), movie.id).await? {
                store.announce(movie.id).await?;
                println!("Removed the media of '{}'.", movie.title);
            } else {
                bail!("'{}' has no media", movie.title);
            }
        }
        MediaCommand::Package(_) | MediaCommand::Jobs(_) => {
            unreachable!("`run` sends these to crate::packaging::cli")
        }
    }
    Ok(())
}
