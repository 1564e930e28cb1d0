//! The caller's data and the account's end: `GET /api/v1/me/export` (the Letterboxd-format zip
//! the account page offers) and `DELETE /api/v1/me`.

use crate::accounts;
use crate::error::{ApiResult, AppError, Problem};
use crate::lists as rules;
use crate::state::AppState;
use crate::web::extract::{ApiJson, ApiUser, ClientAddr, Credential, Viewer};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

/// A zip file's bytes, for the OpenAPI description.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ZipFile(
    #[expect(
        dead_code,
        reason = "it only describes the body in the OpenAPI document"
    )]
    Vec<u8>,
);

/// Download the caller's ratings, reviews, diary, watched films and watchlist as a Letterboxd
/// export: a zip of `ratings.csv`, `reviews.csv`, `watched.csv`, `watchlist.csv` and `diary.csv`.
#[utoipa::path(get, path = "/api/v1/me/export", tag = "account", security(("bearer" = []), ("session" = [])),
    responses((status = 200, content_type = "application/zip", body = ZipFile, description = "The zip, with Content-Disposition: attachment"),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn export(State(state): State<AppState>, ApiUser(user): ApiUser) -> ApiResult<Response> {
    Ok(crate::export::download(&state, &user).await?)
}

#[derive(Deserialize, ToSchema)]
pub struct DeleteAccountRequest {
    /// The account's password, to confirm.
    #[serde(default)]
    pub password: String,
    /// `remove`: the ratings and reviews go, with the votes on them. `keep`: they stay, shown as
    /// "A Marquee user".
    #[schema(example = "keep")]
    pub reviews: Option<String>,
}

/// Delete the caller's account: sessions, tokens, watchlist, diary and playback positions go;
/// ratings and reviews go or stay as "A Marquee user", as asked. A wrong password is a 403 and
/// counts towards the sign-in throttle (429 after too many); nothing is deleted then. The site's
/// administrator can not be deleted (409).
#[utoipa::path(delete, path = "/api/v1/me", tag = "account", request_body = DeleteAccountRequest,
    security(("bearer" = []), ("session" = [])),
    responses((status = 204, description = "Deleted; a session cookie is cleared"), (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
              (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_me(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddr(client): ClientAddr,
    ApiUser(user): ApiUser,
    ApiJson(req): ApiJson<DeleteAccountRequest>,
) -> ApiResult<Response> {
    let reviews = rules::parse_leaving(req.reviews.as_deref()).map_err(AppError::from)?;
    let session = match Viewer::from_request_headers(&headers, &state)
        .await?
        .credential
    {
        Credential::Session(sid) => Some(sid),
        _ => None,
    };
    rules::delete_account(&state, &user, &req.password, &client, reviews).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Some(sid) = session {
        // The store already ended the session; this only clears the browser's cookie.
        let clear = accounts::close_session(&state, &sid).await?;
        res.headers_mut().insert(
            header::SET_COOKIE,
            HeaderValue::from_str(&clear).map_err(|e| AppError::Internal(e.into()))?,
        );
    }
    Ok(res)
}
