//! Playback records: a film's media file and subtitles, where each viewer is in each film, and
//! the background jobs (HLS packaging) queued in the database.

use crate::StoreResult;
use async_trait::async_trait;
use marquee_domain::{MovieId, UserId};
use serde::Serialize;

/// A film's playable file, as probed when it was added.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaRecord {
    pub movie_id: MovieId,
    /// The object's key in the media storage.
    pub storage_key: String,
    /// The name the file was added under, for people.
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub duration_ms: u64,
    pub width: u32,
    pub height: u32,
    pub video_codec: String,
    pub audio_codec: Option<String>,
    /// ffprobe's findings as JSON (`marquee_media::MediaInfo`), for the packager.
    #[serde(skip)]
    pub probe_json: String,
    /// Where the HLS renditions live once packaged.
    pub hls_prefix: Option<String>,
    pub created_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubtitleRecord {
    pub movie_id: MovieId,
    /// A BCP 47 language tag, e.g. `en` or `pt-BR`.
    pub lang: String,
    pub label: String,
    /// The WebVTT object in the media storage.
    pub storage_key: String,
    pub created_ms: i64,
}

/// Where a viewer is in a film.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlaybackPosition {
    pub movie_id: MovieId,
    pub position_ms: u64,
    pub duration_ms: u64,
    /// When the viewer first passed 90 % of the film; `None` while they have not.
    pub watched_ms: Option<i64>,
    pub updated_ms: i64,
}

/// The share of a film after which it counts as watched.
pub const WATCHED_FRACTION: f64 = 0.9;

impl PlaybackPosition {
    /// Past 90 %: the film counts as watched, and playing it again starts from the beginning.
    pub fn is_finished(&self) -> bool {
        self.duration_ms > 0
            && self.position_ms as f64 >= WATCHED_FRACTION * self.duration_ms as f64
    }

    /// Where the player should start.
    pub fn resume_ms(&self) -> u64 {
        if self.is_finished() {
            0
        } else {
            self.position_ms
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            _ => return None,
        })
    }
}

/// A background job; `kind` says what it does (today `hls`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub movie_id: MovieId,
    pub state: JobState,
    /// From 0 to 1.
    pub progress: f64,
    pub worker: Option<String>,
    pub lease_until_ms: i64,
    pub attempts: u32,
    pub error: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A media file to record for a film.
#[derive(Debug, Clone)]
pub struct NewMedia {
    pub movie_id: MovieId,
    pub storage_key: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub duration_ms: u64,
    pub width: u32,
    pub height: u32,
    pub video_codec: String,
    pub audio_codec: Option<String>,
    pub probe_json: String,
    pub now_ms: i64,
}

#[async_trait]
pub trait MediaStore: Send + Sync {
    /// Records (or replaces) a film's media file, dropping its old subtitles and packaging, and
    /// sets the film's runtime from the media when the film has none. Returns the record it
    /// replaced, whose stored objects the caller removes. `NotFound` for a missing film.
    async fn put_media(&self, media: &NewMedia) -> StoreResult<Option<MediaRecord>>;
    async fn media_for(&self, movie: MovieId) -> StoreResult<Option<MediaRecord>>;
    /// Removes the media record (subtitles and jobs with it); returns it so the caller can
    /// remove the stored objects.
    async fn delete_media(&self, movie: MovieId) -> StoreResult<Option<MediaRecord>>;
    /// Records where the HLS packaging of the current media lives (or clears it).
    async fn set_hls(&self, movie: MovieId, prefix: Option<&str>) -> StoreResult<()>;

    /// Adds or replaces the subtitles in one language. `NotFound` when the film has no media.
    async fn put_subtitle(&self, subtitle: &SubtitleRecord) -> StoreResult<Option<SubtitleRecord>>;
    /// Subtitles ordered by language.
    async fn subtitles_for(&self, movie: MovieId) -> StoreResult<Vec<SubtitleRecord>>;

    /// Records where a viewer is; marks the film watched the first time they pass 90 %.
    async fn save_position(
        &self,
        user: UserId,
        movie: MovieId,
        position_ms: u64,
        duration_ms: u64,
        now_ms: i64,
    ) -> StoreResult<PlaybackPosition>;
    async fn position(&self, user: UserId, movie: MovieId)
    -> StoreResult<Option<PlaybackPosition>>;
    /// Films the viewer started and has not finished, most recent first.
    async fn continue_watching(
        &self,
        user: UserId,
        limit: u32,
    ) -> StoreResult<Vec<PlaybackPosition>>;

    /// Queues a job unless one of its kind is already queued or running for the film; returns
    /// the job either way.
    async fn enqueue_job(&self, kind: &str, movie: MovieId, now_ms: i64) -> StoreResult<Job>;
    /// Claims the oldest claimable job of a kind (queued, or running under an expired lease):
    /// exactly one caller gets each job, however many instances ask at once.
    async fn claim_job(
        &self,
        kind: &str,
        worker: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<Option<Job>>;
    /// Like `claim_job`, but only the film's job of that kind (`marquee media package <film>`
    /// runs one film's job in the foreground, with the same one-claimer guarantee).
    async fn claim_job_for(
        &self,
        kind: &str,
        movie: MovieId,
        worker: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<Option<Job>>;
    /// Records progress and renews the lease; `false` when the worker no longer holds the job.
    async fn renew_job(
        &self,
        id: i64,
        worker: &str,
        progress: f64,
        now_ms: i64,
        lease_ms: i64,
    ) -> StoreResult<bool>;
    /// Ends a job held by the worker: done, or failed with the reason.
    async fn finish_job(
        &self,
        id: i64,
        worker: &str,
        error: Option<&str>,
        now_ms: i64,
    ) -> StoreResult<bool>;
    async fn job_by_id(&self, id: i64) -> StoreResult<Option<Job>>;
    /// Recent jobs, newest first; only the film's when given.
    async fn list_jobs(&self, movie: Option<MovieId>, limit: u32) -> StoreResult<Vec<Job>>;
}
