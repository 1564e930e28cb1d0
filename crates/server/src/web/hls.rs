//! Serving a film's HLS packaging: `GET|HEAD /media/{slug}/hls/{*path}` answers only files that
//! lie under the prefix recorded for the film's current media, with the MIME types players
//! require. The request path becomes a storage key only through `MediaKey`, so `..`, an encoded
//! `%2e%2e`, a backslash or another film's folder can never be named. Who may watch is decided
//! as for the direct file (`watchable_media`).

use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::Viewer;
use crate::web::stream::{serve_object, watchable_media};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::Response;
use marquee_media::content_type::{HLS_PLAYLIST, for_hls_file};
use marquee_media_store::MediaKey;

/// `GET|HEAD /media/{slug}/hls/{*path}`: the master playlist, rendition playlists, segments and
/// subtitle files of a packaged film.
#[tracing::instrument(skip_all, fields(film.slug = %slug))]
pub async fn hls_file(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, path)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let not_found = || AppError::NotFound("file");
    let content_type = for_hls_file(std::path::Path::new(&path)).ok_or_else(not_found)?;
    let film = watchable_media(&state, &slug, viewer.user.as_ref(), query.as_deref()).await?;
    let prefix = film
        .media
        .hls_prefix
        .as_deref()
        .and_then(|p| MediaKey::parse(p).ok())
        .ok_or(AppError::NotFound("packaging"))?;
    // The packaging belongs to the current upload (it sits beside the source): a prefix that
    // does not is never served, whatever the record says.
    let upload = crate::media::folder_of(&film.media.storage_key).ok_or_else(not_found)?;
    if !prefix.is_under(&upload) {
        return Err(not_found());
    }
    let key = prefix.join(&path).map_err(|_| not_found())?;
    if !key.is_under(&prefix) {
        return Err(not_found());
    }
    let mut res = serve_object(&state, &key, content_type, &method, &headers).await?;
    // Playlists are re-read (a new packaging replaces them in place); segments and subtitle
    // files keep the media's caching.
    if content_type == HLS_PLAYLIST {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
    }
    Ok(res)
}
