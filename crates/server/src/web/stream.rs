//! Serving media bytes: the direct-play file with HTTP range requests (what makes seeking work
//! in a browser's `<video>`) and subtitles as WebVTT. Objects are named only by what the store
//! recorded for a film, never by a path taken from the request.

use crate::access;
use crate::cache::TitleData;
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
use marquee_media_store::{ChosenRange, MediaKey, ObjectMeta, RangeBytes, StorageError};
use marquee_store::{MediaRecord, Movie, User};
use std::ops::Range;
use std::sync::Arc;

/// A film that has media, as the title-page cache holds it: the film is shared with the cache,
/// not copied for each of a player's range requests.
pub struct Playable {
    title: Arc<TitleData>,
    pub media: MediaRecord,
}

impl Playable {
    pub fn movie(&self) -> &Movie {
        &self.title.movie
    }
}

/// The film and its media, or 404; 401 when the viewer may not watch it; 403 when the request's
/// query carries a stream signature (`?u=…&exp=…&sig=…`) that is wrong or expired.
pub async fn watchable_media(
    state: &AppState,
    slug: &str,
    viewer: Option<&User>,
    query: Option<&str>,
) -> Result<Playable, AppError> {
    let film = film_media(state, slug).await?;
    access::check_stream(&state.keys, film.movie(), viewer, query)?;
    Ok(film)
}

/// The film and its media, or 404. Read through the title-page cache, so that a player's
/// stream of range requests costs no database query once the film's page has been read; the
/// cache is dropped whenever the film, its media or its access rule changes.
pub async fn film_media(state: &AppState, slug: &str) -> Result<Playable, AppError> {
    let (_, title) = crate::web::pages::movies::title_data(state, slug).await?;
    let media = title.media.clone().ok_or(AppError::NotFound("media"))?;
    Ok(Playable { title, media })
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
    let film = watchable_media(&state, &slug, viewer.user.as_ref(), query.as_deref()).await?;
    let key = stored_key(&film.media.storage_key)?;
    serve_object(&state, &key, &film.media.content_type, &method, &headers).await
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
    let film = watchable_media(&state, &slug, viewer.user.as_ref(), query.as_deref()).await?;
    let track = state
        .store
        .subtitles_for(film.movie().id)
        .await?
        .into_iter()
        .find(|s| s.lang == lang.as_str())
        .ok_or(AppError::NotFound("subtitles"))?;
    let key = stored_key(&track.storage_key)?;
    serve_object(&state, &key, WEBVTT, &method, &headers).await
}

/// Answers GET or HEAD for one stored object: validators, conditional GET, and a single byte
/// range (or the whole object), read by the storage in the same step as the object's metadata:
/// a small range in one buffer, a large one streamed in pieces.
pub async fn serve_object(
    state: &AppState,
    key: &MediaKey,
    content_type: &str,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response, AppError> {
    let conditions = Conditions::of(method, headers);
    let choose = {
        let conditions = conditions.clone();
        Box::new(move |meta: &ObjectMeta| conditions.body_range(meta))
    };
    let ChosenRange { meta, bytes } = state
        .media
        .get_chosen_range(key, choose)
        .await
        .map_err(storage_error)?
        .ok_or(AppError::NotFound("media file"))?;
    let answer = conditions.answer(&meta);
    if let Answer::Unsatisfiable = answer {
        let mut res = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
        set(
            res.headers_mut(),
            header::CONTENT_RANGE,
            &format!("bytes */{}", meta.size),
        );
        return Ok(res);
    }
    let mut res = Response::new(Body::empty());
    let h = res.headers_mut();
    set(h, header::CONTENT_TYPE, content_type);
    set(h, header::ACCEPT_RANGES, "bytes");
    set(h, header::ETAG, &quoted_etag(&meta));
    set(
        h,
        header::LAST_MODIFIED,
        &format_http_date(meta.last_modified),
    );
    // Each upload gets a new key, so a key's bytes never change; `private` because a film may be
    // for signed-in viewers only.
    set(h, header::CACHE_CONTROL, "private, max-age=86400");
    let Answer::Bytes { range, len, .. } = answer else {
        *res.status_mut() = StatusCode::NOT_MODIFIED;
        return Ok(res);
    };
    if let Some(cr) = range.content_range(meta.size) {
        set(res.headers_mut(), header::CONTENT_RANGE, &cr);
        *res.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    set(res.headers_mut(), header::CONTENT_LENGTH, &len.to_string());
    *res.body_mut() = match bytes {
        // A body that is one buffer costs hyper less than a stream of one chunk.
        Some(RangeBytes::Whole(bytes)) => Body::from(bytes),
        Some(RangeBytes::Stream(stream)) => {
            Body::from_stream(stream.map_err(std::io::Error::other))
        }
        // HEAD, or nothing to send.
        None => Body::empty(),
    };
    Ok(res)
}

/// The parts of a request that decide the answer, owned so that the storage can apply them to
/// the object's metadata where it reads the object (on a blocking thread next to the file).
#[derive(Debug, Clone)]
struct Conditions {
    head: bool,
    range: Option<String>,
    if_range: Option<String>,
    if_none_match: Option<String>,
}

/// What to answer, from the request's conditions and the object's metadata.
enum Answer {
    NotModified,
    Unsatisfiable,
    /// 200 (`ByteRange::Full`) or 206 with `len` bytes from `start`.
    Bytes {
        range: ByteRange,
        start: u64,
        len: u64,
    },
}

impl Conditions {
    fn of(method: &Method, headers: &HeaderMap) -> Self {
        let owned = |name| header_str(headers, name).map(str::to_owned);
        Self {
            head: method == Method::HEAD,
            range: owned(header::RANGE),
            if_range: owned(header::IF_RANGE),
            if_none_match: owned(header::IF_NONE_MATCH),
        }
    }

    fn answer(&self, meta: &ObjectMeta) -> Answer {
        let etag = quoted_etag(meta);
        if self
            .if_none_match
            .as_deref()
            .is_some_and(|v| not_modified(v, &etag))
        {
            return Answer::NotModified;
        }
        let range = ByteRange::for_request(
            self.range.as_deref(),
            self.if_range.as_deref(),
            Some(&etag),
            Some(meta.last_modified),
            meta.size,
        );
        match range {
            ByteRange::Unsatisfiable => Answer::Unsatisfiable,
            ByteRange::Full => Answer::Bytes {
                range,
                start: 0,
                len: meta.size,
            },
            ByteRange::Partial { start, .. } => Answer::Bytes {
                range,
                start,
                len: range.len(meta.size),
            },
        }
    }

    /// The bytes the answer's body holds: none for a HEAD, a 304, a 416 or an empty body.
    fn body_range(&self, meta: &ObjectMeta) -> Option<Range<u64>> {
        match self.answer(meta) {
            Answer::Bytes { start, len, .. } if !self.head && len > 0 => {
                Some(start..(start + len).min(meta.size))
            }
            _ => None,
        }
    }
}

/// The object's ETag as a header value: its strong validator in quotes.
fn quoted_etag(meta: &ObjectMeta) -> String {
    format!("\"{}\"", meta.etag.trim_matches('"'))
}

fn set(h: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// An `If-None-Match` value naming the current version (weak comparison, as RFC 9110 asks
/// for it).
fn not_modified(value: &str, etag: &str) -> bool {
    value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}
