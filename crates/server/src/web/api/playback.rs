//! Playback for players and devices: what to play (HLS master, direct file, subtitles) and
//! where to start, and the position reports that make "resume" and "Continue watching" work.

use crate::access;
use crate::error::{ApiResult, AppError};
use crate::signed_urls::UrlSigner;
use crate::state::AppState;
use crate::web::extract::{ApiCaller, ApiJson, ApiPath, ApiUser};
use axum::Json;
use axum::extract::State;
use marquee_domain::MovieId;
use marquee_domain::time_fmt::now_ms;
use marquee_store::PlaybackPosition;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct SubtitleTrack {
    /// BCP 47 language tag.
    pub lang: String,
    pub label: String,
    /// WebVTT.
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct Playback {
    pub movie_id: i64,
    pub title: String,
    pub duration_ms: u64,
    /// The HLS master playlist, once the film is packaged (adaptive, for TVs and phones).
    pub hls_url: Option<String>,
    /// The file as added, served with byte ranges.
    pub direct_url: String,
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    pub subtitles: Vec<SubtitleTrack>,
    /// Where to start; 0 when signed out, never started, or finished.
    pub resume_ms: u64,
    /// When the caller first watched past 90 %, as Unix milliseconds.
    pub watched_ms: Option<i64>,
}

/// What to play for a film, for the caller. With a bearer token (a TV, a phone, a player) the
/// stream URLs are signed (`?u=…&exp=…&sig=…`) and work without credentials for six hours.
#[utoipa::path(get, path = "/api/v1/movies/{id}/playback", tag = "playback", params(("id" = i64, Path, description = "Film id")),
    security((), ("bearer" = []), ("session" = [])),
    responses((status = 200, body = Playback), (status = 401, body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn playback(
    State(state): State<AppState>,
    ApiCaller(user): ApiCaller,
    ApiPath(id): ApiPath<i64>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Json<Playback>> {
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
    let base = &state.settings.public_url;
    // A device (a bearer token) gets signed, expiring stream URLs: its player can not send the
    // token. A browser's cookie travels with its requests, so its URLs stay plain.
    let device = user
        .as_ref()
        .filter(|_| UrlSigner::is_bearer(&headers))
        .map(|u| u.id);
    let sign = UrlSigner::for_device(&state.keys, movie.id, device);
    let position = match &user {
        Some(u) => state.store.position(u.id, movie.id).await?,
        None => None,
    };
    let subtitles = state
        .store
        .subtitles_for(movie.id)
        .await?
        .into_iter()
        .map(|s| SubtitleTrack {
            url: sign.url(format!(
                "{base}/media/{}/subtitles/{}.vtt",
                movie.slug, s.lang
            )),
            lang: s.lang,
            label: s.label,
        })
        .collect();
    Ok(Json(Playback {
        movie_id: movie.id.0,
        title: movie.title.clone(),
        duration_ms: media.duration_ms,
        hls_url: media
            .hls_prefix
            .as_ref()
            .map(|_| sign.url(format!("{base}/media/{}/hls/master.m3u8", movie.slug))),
        direct_url: sign.url(format!("{base}/media/{}/file", movie.slug)),
        content_type: media.content_type.clone(),
        width: media.width,
        height: media.height,
        subtitles,
        resume_ms: position.as_ref().map_or(0, PlaybackPosition::resume_ms),
        watched_ms: position.and_then(|p| p.watched_ms),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct ProgressRequest {
    /// How far in the player is, in milliseconds.
    pub position_ms: u64,
}

#[derive(Serialize, ToSchema)]
pub struct ProgressResponse {
    pub position_ms: u64,
    pub duration_ms: u64,
    /// Where the next playback starts (0 once finished).
    pub resume_ms: u64,
    pub watched_ms: Option<i64>,
}

/// Report where the player is: every ~10 s while playing, and on pause or leaving. Past 90 % of
/// the film it counts as watched, and today's diary gets an entry for it (once per day).
#[utoipa::path(put, path = "/api/v1/movies/{id}/progress", tag = "playback", params(("id" = i64, Path, description = "Film id")),
    request_body = ProgressRequest, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ProgressResponse), (status = 401, body = crate::error::Problem, content_type = "application/problem+json"),
              (status = 404, body = crate::error::Problem, content_type = "application/problem+json"),
              (status = 400, body = crate::error::Problem, content_type = "application/problem+json")))]
pub async fn progress(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ProgressRequest>,
) -> ApiResult<Json<ProgressResponse>> {
    let media = state
        .store
        .media_for(MovieId(id))
        .await?
        .ok_or(AppError::NotFound("media"))?;
    // The film's length comes from the probe, not the client, so "watched" means the same for
    // every player. A position a little past the end (rounding in players) is the end.
    if req.position_ms > media.duration_ms + 60_000 {
        return Err(AppError::BadRequest(format!(
            "position_ms {} is past the end of the film ({} ms)",
            req.position_ms, media.duration_ms
        ))
        .into());
    }
    let p = state
        .store
        .save_position(
            user.id,
            MovieId(id),
            req.position_ms.min(media.duration_ms),
            media.duration_ms,
            now_ms(),
        )
        .await?;
    // Past 90 %: the film goes in today's diary (once per film and day). The position is saved
    // whatever happens there, so a failure is logged rather than failing the report.
    if let Err(e) = crate::lists::log_finished_playback(&state, &user, &p).await {
        tracing::warn!(movie.id = id, user.id = %user.id, error = %e, "could not log a finished film in the diary");
    }
    Ok(Json(ProgressResponse {
        position_ms: p.position_ms,
        duration_ms: p.duration_ms,
        resume_ms: p.resume_ms(),
        watched_ms: p.watched_ms,
    }))
}
