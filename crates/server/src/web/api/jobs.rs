//! Media and its packaging through the API: `GET /api/v1/movies/{id}/media` (what the film's file
//! is and whether its HLS packaging is ready, for anyone who may watch it) and `GET /api/v1/jobs`
//! (the background jobs, for administrators).

use super::movies::page_limit;
use super::types::rfc3339;
use crate::access;
use crate::error::{ApiResult, AppError, Problem};
use crate::media::HLS_JOB;
use crate::state::AppState;
use crate::web::extract::{ApiCaller, ApiPath, ApiQuery, ApiUser};
use axum::Json;
use axum::extract::State;
use marquee_domain::MovieId;
use marquee_store::Job;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A background job.
#[derive(Serialize, ToSchema)]
pub struct JobResponse {
    pub id: i64,
    /// What it does: `hls` packages a film's media into HLS.
    pub kind: String,
    pub movie_id: i64,
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    /// From 0 to 1.
    pub progress: f64,
    /// How many times a worker claimed it (more than 1: a worker stopped mid-job and another
    /// took over).
    pub attempts: u32,
    /// Who holds (or last held) it, e.g. `host/serve-1234-ab12`; administrators only.
    pub worker: Option<String>,
    /// Why it failed (the end of ffmpeg's output, for example); administrators only.
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl JobResponse {
    fn new(j: &Job, admin: bool) -> Self {
        Self {
            id: j.id,
            kind: j.kind.clone(),
            movie_id: j.movie_id.0,
            state: j.state.as_str().to_owned(),
            progress: j.progress,
            attempts: j.attempts,
            worker: j.worker.clone().filter(|_| admin),
            error: j.error.clone().filter(|_| admin),
            created_at: rfc3339(j.created_ms),
            updated_at: rfc3339(j.updated_ms),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct JobListResponse {
    /// Newest first.
    pub items: Vec<JobResponse>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobListQuery {
    /// Only this film's jobs.
    pub movie_id: Option<i64>,
    /// How many, 1–100 (default 50).
    pub limit: Option<u32>,
}

/// Background jobs (HLS packaging), newest first. Administrators only.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "media", params(JobListQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = JobListResponse),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_jobs(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<JobListQuery>,
) -> ApiResult<Json<JobListResponse>> {
    if !user.is_admin {
        return Err(AppError::Forbidden("Only an administrator can see jobs.".into()).into());
    }
    let limit = page_limit(q.limit, 50)?;
    let jobs = state
        .store
        .list_jobs(q.movie_id.map(MovieId), limit)
        .await?;
    Ok(Json(JobListResponse {
        items: jobs.iter().map(|j| JobResponse::new(j, true)).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct SubtitleInfo {
    /// BCP 47 language tag.
    pub lang: String,
    pub label: String,
}

/// Whether the film plays over HLS yet, and how its packaging is going.
#[derive(Serialize, ToSchema)]
pub struct HlsStatus {
    /// The packaging is done and served.
    pub ready: bool,
    /// The master playlist, once ready.
    pub url: Option<String>,
    /// The film's latest packaging job (a new one may be running while an older packaging is
    /// served).
    pub job: Option<JobResponse>,
}

#[derive(Serialize, ToSchema)]
pub struct MediaResponse {
    pub movie_id: i64,
    /// The name the file was added under.
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub duration_ms: u64,
    pub width: u32,
    pub height: u32,
    pub video_codec: String,
    pub audio_codec: Option<String>,
    pub subtitles: Vec<SubtitleInfo>,
    pub hls: HlsStatus,
}

/// A film's media file as probed, its subtitles, and the state of its HLS packaging.
#[utoipa::path(get, path = "/api/v1/movies/{id}/media", tag = "media", params(("id" = i64, Path, description = "Film id")),
    security((), ("bearer" = []), ("session" = [])),
    responses((status = 200, body = MediaResponse),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_media(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<MediaResponse>> {
    let movie = state
        .store
        .movie_by_id(MovieId(id))
        .await?
        .ok_or(AppError::NotFound("film"))?;
    access::require_watch(&movie, user.as_ref())?;
    let media = state
        .store
        .media_for(movie.id)
        .await?
        .ok_or(AppError::NotFound("media"))?;
    let subtitles = state.store.subtitles_for(movie.id).await?;
    let admin = user.as_ref().is_some_and(|u| u.is_admin);
    let job = state
        .store
        .list_jobs(Some(movie.id), 10)
        .await?
        .into_iter()
        .find(|j| j.kind == HLS_JOB);
    Ok(Json(MediaResponse {
        movie_id: movie.id.0,
        file_name: media.file_name,
        content_type: media.content_type,
        size_bytes: media.size_bytes,
        duration_ms: media.duration_ms,
        width: media.width,
        height: media.height,
        video_codec: media.video_codec,
        audio_codec: media.audio_codec,
        subtitles: subtitles
            .into_iter()
            .map(|s| SubtitleInfo {
                lang: s.lang,
                label: s.label,
            })
            .collect(),
        hls: HlsStatus {
            ready: media.hls_prefix.is_some(),
            url: media.hls_prefix.as_ref().map(|_| {
                format!(
                    "{}/media/{}/hls/master.m3u8",
                    state.settings.public_url, movie.slug
                )
            }),
            job: job.as_ref().map(|j| JobResponse::new(j, admin)),
        },
    }))
}
