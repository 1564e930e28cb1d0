//! `marquee media package <film>` and `marquee media jobs`: packaging in the foreground with a
//! progress bar, and the job list, from the command line.

use super::{LEASE, Outcome, Packager, Report, worker_name};
use crate::cli::{Cli, find};
use crate::media::HLS_JOB;
use crate::web::api::types::rfc3339;
use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use marquee_domain::time_fmt::now_ms;
use marquee_store::{Job, JobState, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Args, Debug)]
pub struct PackageArgs {
    /// The film's id or address.
    pub film: String,
    /// Package only the top rendition (a remux when the source is browser-safe H.264); for
    /// measuring the remux path. Devices then get one quality only.
    #[arg(long)]
    pub top_only: bool,
}

#[derive(Args, Debug)]
pub struct JobsArgs {
    /// Only this film's jobs (id or address).
    #[arg(long)]
    pub film: Option<String>,
    /// How many, newest first.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
}

fn progress_bar() -> ProgressBar {
    let bar = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ProgressBar::new(1000)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {percent:>3}% {elapsed} (eta {eta})")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar
}

/// `marquee media package <film> [--top-only]`
pub async fn package(cli: &Cli, store: Arc<dyn Store>, args: &PackageArgs) -> anyhow::Result<()> {
    let movie = find(store.as_ref(), &args.film).await?;
    let media = store.media_for(movie.id).await?.with_context(|| {
        format!(
            "'{}' has no media; add it with `marquee media add`",
            movie.title
        )
    })?;
    let tools = marquee_media::Tools::default();
    tools.check().await?;
    let storage = marquee_media_store::open(cli.media_url.as_deref(), &cli.data_dir).await?;
    let packager = Packager {
        store: store.clone(),
        storage,
        tools,
        work_root: cli.data_dir.join("work"),
        worker: worker_name("cli"),
        lease: LEASE,
        top_only: args.top_only,
    };
    let queued = store.enqueue_job(HLS_JOB, movie.id, now_ms()).await?;
    let claimed = store
        .claim_job_for(
            HLS_JOB,
            movie.id,
            &packager.worker,
            now_ms(),
            LEASE.as_millis() as i64,
        )
        .await?;
    let Some(job) = claimed else {
        return follow(store.as_ref(), &queued, &movie.title).await;
    };
    println!(
        "Packaging '{}' ({}x{} {}, {}) as job {}…",
        movie.title,
        media.width,
        media.height,
        media.video_codec,
        marquee_domain::time_fmt::clock(media.duration_ms),
        job.id
    );
    // Ctrl-C interrupts cleanly: ffmpeg is stopped, the work folder removed, the job handed back.
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = stop_tx.send(true);
        }
    });
    let bar = progress_bar();
    bar.set_message("packaging");
    let outcome = {
        let bar = bar.clone();
        let mut on_progress = move |f: f64| bar.set_position((f * 1000.0) as u64);
        packager.run(&job, &mut on_progress, Some(stop_rx)).await
    };
    bar.finish_and_clear();
    match outcome {
        Outcome::Done(report) => {
            print_report(&movie.title, &report);
            Ok(())
        }
        Outcome::Failed(reason) => bail!("packaging failed: {reason}"),
        Outcome::Lost => {
            bail!("the job was taken over by another worker, or the media was replaced or removed")
        }
        Outcome::Discarded => {
            bail!("the media was replaced while it was being packaged; the output was discarded")
        }
        Outcome::Stopped => bail!("interrupted; the job is back in the queue"),
    }
}

fn print_report(title: &str, r: &Report) {
    println!(
        "Packaged '{title}' in {:.2} s ({:.1}× real time) under {}:",
        r.elapsed.as_secs_f64(),
        r.speed(),
        r.prefix
    );
    for x in &r.renditions {
        println!(
            "  {:>6}  {}x{}  {}  {}  peak {:.0} kbit/s",
            x.name,
            x.width,
            x.height,
            if x.remux { "remux " } else { "encode" },
            x.codecs,
            x.peak_bandwidth as f64 / 1000.0
        );
    }
    if !r.subtitles.is_empty() {
        println!("  subtitles: {}", r.subtitles.join(", "));
    }
    println!(
        "  {} files, {:.1} MB",
        r.files,
        r.bytes as f64 / 1_000_000.0
    );
}

/// Another worker (a running server) holds the film's job: show its progress until it ends.
async fn follow(store: &dyn Store, job: &Job, title: &str) -> anyhow::Result<()> {
    println!(
        "'{title}' is being packaged by {} (job {}); following its progress.",
        job.worker.as_deref().unwrap_or("another worker"),
        job.id
    );
    let bar = progress_bar();
    bar.set_message("packaging");
    loop {
        let Some(now) = store.job_by_id(job.id).await? else {
            bar.finish_and_clear();
            bail!("the job was removed (the media was replaced or removed)");
        };
        bar.set_position((now.progress * 1000.0) as u64);
        match now.state {
            JobState::Done => {
                bar.finish_and_clear();
                println!("Packaged '{title}' (job {}).", now.id);
                return Ok(());
            }
            JobState::Failed => {
                bar.finish_and_clear();
                bail!(
                    "packaging failed: {}",
                    now.error.as_deref().unwrap_or("no reason recorded")
                );
            }
            JobState::Queued | JobState::Running => {}
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// `marquee media jobs [--film F] [--limit N]`
pub async fn jobs(store: &dyn Store, args: &JobsArgs) -> anyhow::Result<()> {
    let movie = match &args.film {
        Some(f) => Some(find(store, f).await?),
        None => None,
    };
    let jobs = store
        .list_jobs(movie.as_ref().map(|m| m.id), args.limit)
        .await?;
    if jobs.is_empty() {
        println!("No jobs.");
        return Ok(());
    }
    println!(
        "{:>6}  {:<28}  {:<4}  {:<8}  {:>5}  {:>8}  {:<28}  updated",
        "id", "film", "kind", "state", "done", "attempts", "worker"
    );
    for j in &jobs {
        let title = match &movie {
            Some(m) => m.title.clone(),
            None => store
                .movie_by_id(j.movie_id)
                .await?
                .map_or_else(|| format!("film {}", j.movie_id), |m| m.title),
        };
        println!(
            "{:>6}  {:<28}  {:<4}  {:<8}  {:>4}%  {:>8}  {:<28}  {}",
            j.id,
            title.chars().take(28).collect::<String>(),
            j.kind,
            j.state.as_str(),
            (j.progress * 100.0).round(),
            j.attempts,
            j.worker.as_deref().unwrap_or("-"),
            rfc3339(j.updated_ms)
        );
        if let Some(e) = &j.error {
            for line in e.lines() {
                println!("        {line}");
            }
        }
    }
    Ok(())
}
