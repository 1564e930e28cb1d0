//! HLS packaging as a background job queued in the database.
//!
//! `marquee media add` (and the admin upload) queue a job of kind [`HLS_JOB`] for the film. A
//! worker — one task in every `marquee serve` that was not started with `--no-worker`, or
//! `marquee media package <film>` in the foreground — claims it through the store, which hands
//! each job to exactly one claimer, and holds it under a lease that it renews every few seconds
//! with its progress. A worker that dies stops renewing; once the lease has run out another
//! worker claims the job again (its `attempts` grows), so jobs survive crashes and restarts.
//!
//! One attempt ([`Packager::run`]):
//! 1. read the film's media record and its probe (`MediaInfo`), find the source as a local file
//!    (or download it from S3 into the work folder);
//! 2. plan the ladder and package it with ffmpeg into a work folder under the data folder;
//! 3. write each subtitle track as WebVTT with `X-TIMESTAMP-MAP` plus a one-segment playlist, and
//!    the master playlist itself (one subtitle group, exactly one default);
//! 4. upload everything under `films/{id}/{upload}/hls/` beside the source (master last), drop
//!    objects an earlier packaging left there, record the prefix (`set_hls`) and announce it.
//!
//! The attempt stops, writes nothing more and cleans up when the lease is lost (another worker
//! has the job, or the job row went away because the media was replaced or removed) or the
//! media's source changed under it. The work folder is removed whatever happens.

pub mod cli;

use crate::media::{HLS_JOB, folder_of};
use crate::state::AppState;
use anyhow::{Context, anyhow};
use marquee_domain::MovieId;
use marquee_domain::time_fmt::now_ms;
use marquee_media::hls::{
    MASTER_NAME, SubtitleTrack, master_playlist, package_ladder, plan_ladder, subtitle_playlist,
    with_timestamp_map,
};
use marquee_media::subtitles::{SubtitleLang, WebVtt};
use marquee_media::{MediaInfo, Tools};
use marquee_media_store::{MediaKey, MediaStorage};
use marquee_store::{Job, JobState, MediaRecord, Store};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long a claim holds without renewal. Generous, so a busy machine or a slow database
/// round trip does not hand a running job to a second worker.
pub const LEASE: Duration = Duration::from_secs(60);
/// How often a running job renews its lease and records its progress.
pub const RENEW_EVERY: Duration = Duration::from_secs(3);
/// How often an idle worker asks for a job.
pub const POLL_EVERY: Duration = Duration::from_secs(2);
/// Claims after which a job that never finished (its worker was killed each time, e.g. out of
/// memory) is marked failed instead of being tried again.
pub const MAX_ATTEMPTS: u32 = 5;

/// Shares of the progress bar: fetching the source from S3, ffmpeg, uploading.
const FETCH_SHARE: f64 = 0.05;
const UPLOAD_SHARE: f64 = 0.10;

/// What packaging needs, without the web parts of `AppState`, so the CLI can run it too.
#[derive(Clone)]
pub struct Packager {
    pub store: Arc<dyn Store>,
    pub storage: Arc<dyn MediaStorage>,
    pub tools: Tools,
    /// Work folders go here (`<data>/work`); each attempt has its own and removes it.
    pub work_root: PathBuf,
    /// Who holds the lease, as the admin page shows it: `host/serve-PID-xxxx`.
    pub worker: String,
    pub lease: Duration,
    /// Package only the top rendition (a remux when the source allows): `media package
    /// --top-only`, to measure the remux path on its own.
    pub top_only: bool,
}

/// How an attempt ended.
#[derive(Debug)]
pub enum Outcome {
    /// Packaged, recorded and announced.
    Done(Report),
    /// Marked failed with this reason.
    Failed(String),
    /// The job is no longer ours (another worker took it over, or the media was replaced or
    /// removed, which removes its jobs): nothing was recorded.
    Lost,
    /// The media's source changed while packaging; the output was thrown away.
    Discarded,
    /// The worker was asked to stop; the lease was handed back for another worker.
    Stopped,
}

/// What a finished packaging holds, for the CLI and the logs.
#[derive(Debug, Clone)]
pub struct Report {
    pub movie_id: MovieId,
    /// The storage prefix the HLS files live under.
    pub prefix: String,
    pub renditions: Vec<RenditionReport>,
    pub subtitles: Vec<String>,
    pub files: usize,
    pub bytes: u64,
    pub media_duration: Duration,
    pub elapsed: Duration,
}

#[derive(Debug, Clone)]
pub struct RenditionReport {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub remux: bool,
    pub codecs: String,
    pub peak_bandwidth: u64,
}

impl Report {
    /// Media seconds packaged per second of wall time ("12× real time").
    pub fn speed(&self) -> f64 {
        self.media_duration.as_secs_f64() / self.elapsed.as_secs_f64().max(1e-3)
    }
}

/// A name for a worker that says where it runs: `host/serve-1234-ab12`.
pub fn worker_name(role: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    let tag: String = crate::auth::random_token()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(4)
        .collect();
    format!("{host}/{role}-{}-{tag}", std::process::id())
}

/// The progress of an attempt, shared between the work and the lease renewals.
struct Progress(AtomicU64);

impl Progress {
    fn new() -> Self {
        Self(AtomicU64::new(0f64.to_bits()))
    }
    fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
    fn set(&self, f: f64) {
        self.0.store(f.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
    }
}

/// A work folder removed when dropped, whatever happened.
struct WorkDir(PathBuf);

impl Drop for WorkDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.0.display(), error = %e, "could not remove a work folder");
        }
    }
}

/// Why `package` stopped early without an error worth recording.
enum Interrupted {
    Lost,
    Discarded,
}

type Attempt = Result<Result<Report, Interrupted>, anyhow::Error>;

impl Packager {
    /// The packager of a running server, named `worker`.
    pub fn from_state(state: &AppState, worker: String) -> Self {
        Self {
            store: state.store.clone(),
            storage: state.media.clone(),
            tools: state.tools.clone(),
            work_root: state.settings.data_dir.join("work"),
            worker,
            lease: LEASE,
            top_only: false,
        }
    }

    fn lease_ms(&self) -> i64 {
        self.lease.as_millis() as i64
    }

    /// Runs one claimed job to its end: packages, renews the lease meanwhile, records the
    /// outcome in the job. `on_progress` gets the share done (0 to 1); `stop` (when given)
    /// interrupts the attempt and hands the job back.
    #[tracing::instrument(skip_all, fields(job.id = job.id, movie.id = %job.movie_id, attempt = job.attempts))]
    pub async fn run(
        &self,
        job: &Job,
        on_progress: &mut (dyn FnMut(f64) + Send),
        stop: Option<watch::Receiver<bool>>,
    ) -> Outcome {
        let store = self.store.as_ref();
        if job.attempts > MAX_ATTEMPTS {
            let reason = format!(
                "gave up after {MAX_ATTEMPTS} attempts that never finished \
                 (was the worker stopped or killed each time, e.g. out of memory?)"
            );
            return self.fail(job, reason).await;
        }
        let dir = self
            .work_root
            .join(format!("hls-job-{}-a{}", job.id, job.attempts));
        self.remove_earlier_attempts(job.id).await;
        let progress = Progress::new();
        let started = Instant::now();
        let result = {
            let work = self.package(job, &dir, &progress, on_progress);
            tokio::pin!(work);
            let mut stop = stop;
            let mut renew =
                tokio::time::interval_at(tokio::time::Instant::now() + RENEW_EVERY, RENEW_EVERY);
            renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    result = &mut work => break Some(result),
                    _ = renew.tick() => {
                        match store
                            .renew_job(job.id, &self.worker, progress.get(), now_ms(), self.lease_ms())
                            .await
                        {
                            Ok(true) => {}
                            // Dropping `work` kills ffmpeg and stops any upload.
                            Ok(false) => break Some(Ok(Err(Interrupted::Lost))),
                            Err(e) => tracing::warn!(error = %e, "could not renew the job's lease"),
                        }
                    }
                    _ = stopped(&mut stop) => break None,
                }
            }
        };
        // The work future is gone: ffmpeg is killed, nothing writes into the folder any more.
        drop(WorkDir(dir));
        match result {
            None => {
                // Hand the job back at once (a lease that ends now) rather than in a minute.
                let _ = store
                    .renew_job(job.id, &self.worker, progress.get(), now_ms(), 0)
                    .await;
                tracing::info!("packaging interrupted; the job goes back to the queue");
                Outcome::Stopped
            }
            Some(Ok(Ok(mut report))) => {
                report.elapsed = started.elapsed();
                match store.finish_job(job.id, &self.worker, None, now_ms()).await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(
                        "packaged, but the job had been taken over meanwhile; its new holder \
                         will write the same files again"
                    ),
                    Err(e) => tracing::warn!(error = %e, "could not mark the job done"),
                }
                tracing::info!(
                    elapsed_ms = report.elapsed.as_millis() as u64,
                    renditions = report.renditions.len(),
                    files = report.files,
                    bytes = report.bytes,
                    speed = format!("{:.1}", report.speed()),
                    "packaged"
                );
                Outcome::Done(report)
            }
            Some(Ok(Err(Interrupted::Lost))) => {
                tracing::info!("the job was taken over or removed; stopped packaging");
                Outcome::Lost
            }
            Some(Ok(Err(Interrupted::Discarded))) => {
                tracing::info!("the media changed while packaging; output discarded");
                let _ = store
                    .finish_job(
                        job.id,
                        &self.worker,
                        Some("the media was replaced while it was being packaged"),
                        now_ms(),
                    )
                    .await;
                Outcome::Discarded
            }
            Some(Err(e)) => self.fail(job, format!("{e:#}")).await,
        }
    }

    async fn fail(&self, job: &Job, reason: String) -> Outcome {
        tracing::warn!(error = %reason, "packaging failed");
        if let Err(e) = self
            .store
            .finish_job(job.id, &self.worker, Some(&reason), now_ms())
            .await
        {
            tracing::warn!(error = %e, "could not record the failure");
        }
        Outcome::Failed(reason)
    }

    /// The attempt itself; `Ok(Err(_))` when it stopped for a reason that is no error.
    async fn package(
        &self,
        job: &Job,
        dir: &Path,
        progress: &Progress,
        on_progress: &mut (dyn FnMut(f64) + Send),
    ) -> Attempt {
        let mut report_progress = |f: f64| {
            progress.set(f);
            on_progress(f);
        };
        report_progress(0.0);
        let movie = job.movie_id;
        let Some(media) = self.store.media_for(movie).await? else {
            return Ok(Err(Interrupted::Lost));
        };
        let source = MediaKey::parse(&media.storage_key)
            .with_context(|| format!("the stored media key {:?}", media.storage_key))?;
        let folder = folder_of(&media.storage_key)
            .ok_or_else(|| anyhow!("the media's key {} has no folder", media.storage_key))?;
        let prefix = folder.join("hls").expect("a plain name");
        let out = dir.join("out");
        tokio::fs::create_dir_all(&out)
            .await
            .with_context(|| format!("creating the work folder {}", out.display()))?;

        // The source as a file ffmpeg can read.
        let input = match self.storage.local_path(&source) {
            Some(p) if tokio::fs::try_exists(&p).await.unwrap_or(false) => p,
            _ => {
                let ext = Path::new(source.file_name())
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("bin");
                let dest = dir.join(format!("source.{ext}"));
                self.storage
                    .download_to(&source, &dest)
                    .await
                    .with_context(|| format!("fetching {} from the media storage", source))?;
                dest
            }
        };
        report_progress(FETCH_SHARE);

        let info = match serde_json::from_str::<MediaInfo>(&media.probe_json) {
            Ok(info) => info,
            // Recorded before probes were kept, or unreadable: probe again.
            Err(_) => marquee_media::probe(&self.tools, &input).await?,
        };
        let mut ladder = plan_ladder(&info);
        if self.top_only {
            ladder.truncate(1);
        }
        let ffmpeg_share = 1.0 - FETCH_SHARE - UPLOAD_SHARE;
        let outputs = package_ladder(&self.tools, &input, &ladder, &out, info.duration(), |f| {
            report_progress(FETCH_SHARE + f * ffmpeg_share);
        })
        .await?;

        // Subtitles: the stored WebVTT with the MPEG-TS mapping, one playlist each.
        let records = self.store.subtitles_for(movie).await?;
        let mut tracks = Vec::with_capacity(records.len());
        if !records.is_empty() {
            tokio::fs::create_dir_all(out.join("subs")).await?;
        }
        for (i, s) in records.iter().enumerate() {
            let lang = SubtitleLang::parse(&s.lang)
                .map_err(|e| anyhow!("the stored subtitle language {:?}: {e}", s.lang))?;
            let key = MediaKey::parse(&s.storage_key)?;
            let bytes = self
                .storage
                .get(&key)
                .await
                .with_context(|| format!("reading the {} subtitles", s.label))?;
            let vtt = WebVtt::parse(&String::from_utf8_lossy(&bytes))
                .map_err(|e| anyhow!("the stored {} subtitles: {e}", s.label))?;
            let name = lang.as_str().to_owned();
            tokio::fs::write(
                out.join(format!("subs/{name}.vtt")),
                with_timestamp_map(&vtt),
            )
            .await?;
            tokio::fs::write(
                out.join(format!("subs/{name}.m3u8")),
                subtitle_playlist(info.duration(), &format!("{name}.vtt")),
            )
            .await?;
            let mut track = SubtitleTrack::new(lang, format!("subs/{name}.m3u8"));
            track.name.clone_from(&s.label);
            // The same default as the watch page's <track>s: the first.
            track.default = i == 0;
            tracks.push(track);
        }
        tokio::fs::write(out.join(MASTER_NAME), master_playlist(&outputs, &tracks)).await?;

        if !self.still_current(&media).await? {
            return Ok(Err(Interrupted::Discarded));
        }
        // Check the claim before writing where viewers read.
        if !self
            .store
            .renew_job(
                job.id,
                &self.worker,
                progress.get(),
                now_ms(),
                self.lease_ms(),
            )
            .await?
        {
            return Ok(Err(Interrupted::Lost));
        }
        let (files, bytes) = self
            .upload(&out, &prefix, |f| {
                report_progress(1.0 - UPLOAD_SHARE + f * UPLOAD_SHARE)
            })
            .await?;

        if !self.still_current(&media).await? {
            crate::media::remove_folder(self.storage.as_ref(), &prefix).await;
            return Ok(Err(Interrupted::Discarded));
        }
        self.store.set_hls(movie, Some(prefix.as_str())).await?;
        // Replaced in the instant between the check and the write: the new media's record must
        // not point at this output.
        if !self.still_current(&media).await? {
            let current = self.store.media_for(movie).await?;
            if current.is_some_and(|m| m.hls_prefix.as_deref() == Some(prefix.as_str())) {
                self.store.set_hls(movie, None).await?;
            }
            return Ok(Err(Interrupted::Discarded));
        }
        if let Err(e) = self.store.announce(movie).await {
            tracing::warn!(error = %e, "could not announce the packaging");
        }
        report_progress(1.0);
        Ok(Ok(Report {
            movie_id: movie,
            prefix: prefix.as_str().to_owned(),
            renditions: ladder
                .iter()
                .zip(&outputs)
                .map(|(r, o)| RenditionReport {
                    name: o.name.clone(),
                    width: o.width,
                    height: o.height,
                    remux: r.is_remux(),
                    codecs: o.codecs.clone(),
                    peak_bandwidth: o.peak_bandwidth,
                })
                .collect(),
            subtitles: records.iter().map(|s| s.lang.clone()).collect(),
            files,
            bytes,
            media_duration: info.duration(),
            elapsed: Duration::ZERO,
        }))
    }

    /// Whether the film still has the media this attempt started from.
    async fn still_current(&self, media: &MediaRecord) -> anyhow::Result<bool> {
        Ok(self
            .store
            .media_for(media.movie_id)
            .await?
            .is_some_and(|m| m.storage_key == media.storage_key))
    }

    /// Uploads every file of `out` under `prefix`, segments and subtitles first and the master
    /// playlist last, then removes objects under `prefix` that this packaging did not write (an
    /// earlier packaging's). Returns the number of files and bytes.
    async fn upload(
        &self,
        out: &Path,
        prefix: &MediaKey,
        mut on_progress: impl FnMut(f64),
    ) -> anyhow::Result<(usize, u64)> {
        let mut files = Vec::new();
        list_files(out, out, &mut files).await?;
        // Playlists after the files they name; the master after everything.
        files.sort_by_key(|(rel, _)| {
            let rank = if rel == MASTER_NAME {
                2
            } else if rel.ends_with(".m3u8") {
                1
            } else {
                0
            };
            (rank, rel.clone())
        });
        let total: u64 = files.iter().map(|(_, size)| *size).sum::<u64>().max(1);
        let mut done = 0;
        let mut written = BTreeSet::new();
        for (rel, size) in &files {
            let key = prefix
                .join(rel)
                .with_context(|| format!("naming the packaged file {rel}"))?;
            self.storage
                .put_file(&key, &out.join(rel))
                .await
                .with_context(|| format!("storing {key}"))?;
            written.insert(key);
            done += size;
            on_progress(done as f64 / total as f64);
        }
        for old in self.storage.list(prefix).await? {
            if !written.contains(&old.key) {
                self.storage.delete(&old.key).await?;
            }
        }
        Ok((files.len(), done))
    }

    /// Removes work folders of this job's earlier attempts (a worker that was killed leaves
    /// its folder behind; whoever held that attempt has lost the lease by now).
    async fn remove_earlier_attempts(&self, job: i64) {
        let prefix = format!("hls-job-{job}-");
        for (name, path) in work_dirs(&self.work_root).await {
            if name.starts_with(&prefix) {
                drop(WorkDir(path));
            }
        }
    }

    /// Removes work folders whose attempt is over: the job is finished, gone, retried since,
    /// or its lease has run out. Run when a worker starts.
    pub async fn remove_stale_work(&self) {
        let now = now_ms();
        for (name, path) in work_dirs(&self.work_root).await {
            let Some((id, attempt)) = parse_work_dir(&name) else {
                continue;
            };
            let live = match self.store.job_by_id(id).await {
                Ok(Some(j)) => {
                    j.state == JobState::Running && j.attempts == attempt && j.lease_until_ms > now
                }
                Ok(None) => false,
                Err(_) => true,
            };
            if !live {
                drop(WorkDir(path));
            }
        }
    }
}

/// `hls-job-12-a3` → (12, 3).
fn parse_work_dir(name: &str) -> Option<(i64, u32)> {
    let rest = name.strip_prefix("hls-job-")?;
    let (id, attempt) = rest.split_once("-a")?;
    Some((id.parse().ok()?, attempt.parse().ok()?))
}

async fn work_dirs(root: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let Ok(mut entries) = tokio::fs::read_dir(root).await else {
        return out;
    };
    while let Ok(Some(e)) = entries.next_entry().await {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("hls-job-") {
            out.push((name, e.path()));
        }
    }
    out
}

/// Every file under `dir`, as a `/`-separated path relative to `root`, with its size.
async fn list_files(root: &Path, dir: &Path, out: &mut Vec<(String, u64)>) -> anyhow::Result<()> {
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(e) = entries.next_entry().await? {
        let meta = e.metadata().await?;
        let path = e.path();
        if meta.is_dir() {
            Box::pin(list_files(root, &path, out)).await?;
        } else {
            let rel = path
                .strip_prefix(root)?
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, meta.len()));
        }
    }
    Ok(())
}

/// Resolves when `stop` says so; never, without one.
async fn stopped(stop: &mut Option<watch::Receiver<bool>>) {
    match stop {
        Some(rx) => {
            if rx.wait_for(|s| *s).await.is_err() {
                // The sender is gone: nobody can ask us to stop any more.
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending().await,
    }
}

/// The worker of `marquee serve`: claims one HLS job at a time, runs it, and asks again every
/// couple of seconds, until `stop` turns true. One job at a time, because an encode already uses
/// every core of a small machine.
pub async fn run_worker(state: AppState, packager: Packager, mut stop: watch::Receiver<bool>) {
    packager.remove_stale_work().await;
    tracing::info!(worker = %packager.worker, "packaging worker started");
    loop {
        if *stop.borrow() {
            break;
        }
        let claimed = packager
            .store
            .claim_job(
                HLS_JOB,
                &packager.worker,
                now_ms(),
                packager.lease.as_millis() as i64,
            )
            .await;
        match claimed {
            Ok(Some(job)) => {
                let outcome = packager.run(&job, &mut |_| {}, Some(stop.clone())).await;
                if matches!(outcome, Outcome::Done(_)) {
                    // The store's announcement reaches the other instances; this one's cache
                    // is dropped here.
                    state.cache.invalidate(job.movie_id);
                }
                // Straight on to the next job, if any.
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not ask for a packaging job"),
        }
        tokio::select! {
            () = tokio::time::sleep(POLL_EVERY) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    tracing::info!("packaging worker stopped");
}

/// A running worker task and the switch that stops it.
pub struct WorkerHandle {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl WorkerHandle {
    /// Starts the worker of a server, claiming jobs for `lease` at a time.
    pub fn spawn(state: &AppState, lease: Duration) -> Self {
        let (stop, rx) = watch::channel(false);
        let mut packager = Packager::from_state(state, worker_name("serve"));
        packager.lease = lease;
        let task = tokio::spawn(run_worker(state.clone(), packager, rx));
        Self { stop, task }
    }

    /// Stops the worker: a running job is interrupted (ffmpeg killed, work folder removed) and
    /// handed back to the queue for the next worker.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .is_err()
        {
            tracing::warn!("the packaging worker did not stop within 10 s");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_folders_name_their_job_and_attempt() {
        assert_eq!(parse_work_dir("hls-job-12-a3"), Some((12, 3)));
        assert_eq!(parse_work_dir("hls-job-12"), None);
        assert_eq!(parse_work_dir("hls-job-x-a1"), None);
        assert_eq!(parse_work_dir("other"), None);
    }

    #[test]
    fn worker_names_say_where_they_run() {
        let name = worker_name("serve");
        let (host, rest) = name.split_once('/').unwrap();
        assert!(!host.is_empty());
        assert!(rest.starts_with(&format!("serve-{}-", std::process::id())));
        assert_ne!(name, worker_name("serve"));
    }

    #[test]
    fn speed_is_media_time_over_wall_time() {
        let r = Report {
            movie_id: MovieId(1),
            prefix: String::new(),
            renditions: vec![],
            subtitles: vec![],
            files: 0,
            bytes: 0,
            media_duration: Duration::from_secs(60),
            elapsed: Duration::from_secs(4),
        };
        assert_eq!(r.speed(), 15.0);
    }
}
