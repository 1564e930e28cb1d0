//! The watch page: the browser's own `<video>` with the film's file, its subtitles, and the
//! viewer's saved position.

use crate::access;
use crate::error::PageResult;
use crate::render::{self, Chrome, SubtitleTrackView, WatchPage};
use crate::state::AppState;
use crate::web::extract::{Viewer, urlencode};
use crate::web::stream::film_media;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

/// `GET /watch/{slug}`
pub async fn watch(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
) -> PageResult<Response> {
    let film = film_media(&state, &slug).await?;
    let (movie, media) = (film.movie(), &film.media);
    if !access::may_watch(movie, viewer.user.as_ref()) {
        // Members only: sign in, then come straight back.
        let next = urlencode(&format!("/watch/{}", movie.slug));
        return Ok(Redirect::to(&format!("/signin?next={next}")).into_response());
    }
    let subtitles = state.store.subtitles_for(movie.id).await?;
    let resume_ms = match &viewer.user {
        Some(u) => state
            .store
            .position(u.id, movie.id)
            .await?
            .map_or(0, |p| p.resume_ms()),
        None => 0,
    };
    let page = WatchPage {
        chrome: Chrome::for_user(viewer.user.as_ref(), viewer.csrf_token.clone()),
        title: movie.title.clone(),
        slug: movie.slug.clone(),
        movie_id: movie.id.0,
        facts_line: render::facts_line(movie.year, movie.runtime_minutes),
        poster_url: movie.poster.as_ref().map(|p| format!("/posters/{p}")),
        direct_url: format!("/media/{}/file", movie.slug),
        content_type: media.content_type.clone(),
        hls_url: media
            .hls_prefix
            .as_ref()
            .map(|_| format!("/media/{}/hls/master.m3u8", movie.slug)),
        subtitles: subtitles
            .iter()
            .map(|s| SubtitleTrackView {
                lang: s.lang.clone(),
                label: s.label.clone(),
                url: format!("/media/{}/subtitles/{}.vtt", movie.slug, s.lang),
            })
            .collect(),
        resume_s: resume_ms as f64 / 1000.0,
        signed_in: viewer.user.is_some(),
    };
    let mut res = Html(render::page(&page)?.0).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(res)
}
