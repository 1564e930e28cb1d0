//! Serving media bytes: the direct-play file with HTTP range requests (what makes seeking work
//! in a browser's `<video>`) and subtitles as WebVTT. Objects are named only by what the store
//! recorded for a film, never by a path taken from the request.

use crate::access;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::Viewer;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use marquee_media::ByteRange;
use marquee_media::content_type::WEBVTT;
use marquee_media::http_date::format_http_date;
use marquee_media::subtitles::SubtitleLang;
use marquee_media_store::{MediaKey, ObjectMeta, StorageError};
use marquee_store::{MediaRecord, Movie, User};

/// The film and its media, or 404; 401 when the viewer may not watch it; 403 when the request's
/// query carries a stream signature (`?u=…&exp=…&sig=…`) that is wrong or expired.
pub async fn watchable_media(
    state: &AppState,
    slug: &str,
    viewer: Option<&User>,
    query: Option<&str>,
) -> Result<(Movie, MediaRecord), AppError> {
    let (movie, media) = film_media(state, slug).await?;
    access::check_stream(&state.keys, &movie, viewer, query)?;
    Ok((movie, media))
}

/// The film and its media, or 404.
pub async fn film_media(state: &AppState, slug: &str) -> Result<(Movie, MediaRecord), AppError> {
    let movie = state
        .store
        .movie_by_slug(slug)
        .await?
        .ok_or(AppError::NotFound("film"))?;
    let media = state
        .store
        .media_for(movie.id)
        .await?
        .ok_or(AppError::NotFound("media"))?;
    Ok((movie, media))
}

fn stored_key(key: &str) -> Result<MediaKey, AppError> {
    MediaKey::parse(key).map_err(|e| AppError::Internal(anyhow::anyhow!("stored key {key}: {e}")))
}

fn storage_error(e: StorageError) -> AppError {
    match e {
        StorageError::NotFound(_) => AppError::NotFound("media file"),
        e => AppError::Internal(anyhow::Error::new(e).context("reading media")),
    }
}

/// `GET|HEAD /media/{slug}/file`: the film's file as it was added, for direct play.
pub async fn direct(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (_, media) = watchable_media(&state, &slug, viewer.user.as_ref(), query.as_deref()).await?;
    let key = stored_key(&media.storage_key)?;
    serve_object(&state, &key, &media.content_type, &method, &headers).await
}

/// `GET /media/{slug}/subtitles/{lang}.vtt`
pub async fn subtitles(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((slug, file)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let lang = file
        .strip_suffix(".vtt")
        .and_then(|l| SubtitleLang::parse(l).ok())
        .ok_or(AppError::NotFound("subtitles"))?;
    let (movie, _) = watchable_media(&state, &slug, viewer.user.as_ref(), query.as_deref()).await?;
    let track = state
        .store
        .subtitles_for(movie.id)
        .await?
        .into_iter()
        .find(|s| s.lang == lang.as_str())
        .ok_or(AppError::NotFound("subtitles"))?;
    let key = stored_key(&track.storage_key)?;
    serve_object(&state, &key, WEBVTT, &method, &headers).await
}

/// Answers GET or HEAD for one stored object: validators, conditional GET, and a single byte
/// range (or the whole object), streamed in pieces straight from the storage.
pub async fn serve_object(
    state: &AppState,
    key: &MediaKey,
    content_type: &str,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response, AppError> {
    let meta = state
        .media
        .head(key)
        .await
        .map_err(storage_error)?
        .ok_or(AppError::NotFound("media file"))?;
    let etag = format!("\"{}\"", meta.etag.trim_matches('"'));
    let mut res = Response::new(Body::empty());
    let h = res.headers_mut();
    set(h, header::CONTENT_TYPE, content_type);
    set(h, header::ACCEPT_RANGES, "bytes");
    set(h, header::ETAG, &etag);
    set(
        h,
        header::LAST_MODIFIED,
        &format_http_date(meta.last_modified),
    );
    // Each upload gets a new key, so a key's bytes never change; `private` because a film may be
    // for signed-in viewers only.
    set(h, header::CACHE_CONTROL, "private, max-age=86400");

    if not_modified(headers, &etag) {
        *res.status_mut() = StatusCode::NOT_MODIFIED;
        return Ok(res);
    }
    let range = ByteRange::for_request(
        header_str(headers, header::RANGE),
        header_str(headers, header::IF_RANGE),
        Some(&etag),
        Some(meta.last_modified),
        meta.size,
    );
    let (status, start, len) = match range {
        ByteRange::Unsatisfiable => {
            let mut res = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            set(
                res.headers_mut(),
                header::CONTENT_RANGE,
                &format!("bytes */{}", meta.size),
            );
            return Ok(res);
        }
        ByteRange::Full => (StatusCode::OK, 0, meta.size),
        ByteRange::Partial { start, .. } => {
            let cr = range.content_range(meta.size).unwrap_or_default();
            set(res.headers_mut(), header::CONTENT_RANGE, &cr);
            (StatusCode::PARTIAL_CONTENT, start, range.len(meta.size))
        }
    };
    *res.status_mut() = status;
    set(res.headers_mut(), header::CONTENT_LENGTH, &len.to_string());
    if method == Method::HEAD || len == 0 {
        return Ok(res);
    }
    *res.body_mut() = body(state, key, &meta, start, len).await?;
    Ok(res)
}

async fn body(
    state: &AppState,
    key: &MediaKey,
    meta: &ObjectMeta,
    start: u64,
    len: u64,
) -> Result<Body, AppError> {
    let end = (start + len).min(meta.size);
    let stream = state
        .media
        .get_range(key, start..end)
        .await
        .map_err(storage_error)?;
    Ok(Body::from_stream(stream.map_err(std::io::Error::other)))
}

fn set(h: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// `If-None-Match` naming the current version (weak comparison, as RFC 9110 asks for it).
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    let Some(value) = header_str(headers, header::IF_NONE_MATCH) else {
        return false;
    };
    value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}
