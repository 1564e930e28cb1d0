//! Files the binary serves itself: the stylesheet, the script and uploaded posters. Nothing is
//! loaded from another site.

use crate::error::AppError;
use crate::posters;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

const APP_CSS: &str = include_str!("../../assets/app.css");
const APP_JS: &str = include_str!("../../assets/app.js");
const PLAYER_JS: &str = include_str!("../../assets/player.js");

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    res
}

pub async fn app_css() -> Response {
    asset(APP_CSS, "text/css; charset=utf-8")
}

pub async fn app_js() -> Response {
    asset(APP_JS, "text/javascript; charset=utf-8")
}

pub async fn player_js() -> Response {
    asset(PLAYER_JS, "text/javascript; charset=utf-8")
}

/// `GET /posters/{name}`: only names the poster store made can be served.
pub async fn poster(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let path =
        posters::path(&state.settings.poster_dir(), &name).ok_or(AppError::NotFound("poster"))?;
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|_| AppError::NotFound("poster"))?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(posters::content_type(&name)),
    );
    // A new upload gets a new name, so a poster never changes under its name.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(res)
}
