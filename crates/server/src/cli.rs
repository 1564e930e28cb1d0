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
    /// Copy everything (accounts, sessions, tokens, films, credits, ratings, reviews, votes)
    /// from one database to another, then verify the copy.
    MigrateData(MigrateArgs),
    /// Recount every film's and review's aggregates from the stored ratings and votes and report
    /// any that disagree (exit status 1 if so).
    Verify,
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

async fn find(store: &dyn Store, film: &str) -> anyhow::Result<Movie> {
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
