//! Signing in and out through the API, the caller's account, and personal access tokens.

use super::types::*;
use crate::accounts;
use crate::auth::SESSION_COOKIE;
use crate::error::{ApiResult, AppError, Problem};
use crate::state::AppState;
use crate::web::extract::{ApiJson, ApiPath, ApiUser, ClientAddr, Credential, Viewer};
use crate::web::pages::accounts::{issue_token, token_name};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Sign in: sets the session cookie and returns the CSRF token to send with writes.
/// Repeated failures are throttled (429 with Retry-After).
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", request_body = SessionRequest,
    responses((status = 201, body = SessionResponse), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn create_session(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(req): ApiJson<SessionRequest>,
) -> ApiResult<Response> {
    let user = accounts::verify_sign_in(&state, &req.username, &req.password, &client).await?;
    let (sid, cookie) = accounts::open_session(&state, &user).await?;
    let body = SessionResponse {
        user: (&user).into(),
        csrf_token: state.keys.csrf_token(SESSION_COOKIE, &sid),
    };
    let mut res = (StatusCode::CREATED, Json(body)).into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| AppError::Internal(e.into()))?,
    );
    Ok(res)
}

/// Sign out the session of the cookie sent.
#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "sessions", security(("session" = [])),
    responses((status = 204, description = "Signed out"), (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    _user: ApiUser,
) -> ApiResult<Response> {
    let viewer = Viewer::from_request_headers(&headers, &state).await?;
    let Credential::Session(sid) = viewer.credential else {
        return Err(AppError::BadRequest(
            "Only a session cookie can be signed out; delete a token at /api/v1/tokens.".into(),
        )
        .into());
    };
    let clear = accounts::close_session(&state, &sid).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&clear).map_err(|e| AppError::Internal(e.into()))?,
    );
    Ok(res)
}

/// The signed-in caller.
#[utoipa::path(get, path = "/api/v1/me", tag = "sessions", security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = UserResponse), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn me(ApiUser(user): ApiUser) -> Json<UserResponse> {
    Json((&user).into())
}

/// The caller's personal access tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = [TokenResponse]), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list_tokens(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> ApiResult<Json<Vec<TokenResponse>>> {
    let tokens = state.store.list_tokens(user.id).await?;
    Ok(Json(
        tokens
            .into_iter()
            .map(|t| TokenResponse {
                id: t.id,
                name: t.name,
                created_at: rfc3339(t.created_ms),
                last_used_at: t.last_used_ms.map(rfc3339),
            })
            .collect(),
    ))
}

/// Create a personal access token for scripts and devices. The secret is in this response only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = TokenRequest, security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = TokenCreatedResponse), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_token(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(req): ApiJson<TokenRequest>,
) -> ApiResult<(StatusCode, Json<TokenCreatedResponse>)> {
    let name = token_name(&req.name)?;
    let (token, secret) = issue_token(&state, &user, &name).await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenCreatedResponse {
            id: token.id,
            name: token.name,
            token: secret,
            created_at: rfc3339(token.created_ms),
        }),
    ))
}

/// Delete one of the caller's tokens.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = i64, Path, description = "Token id")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_token(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    state.store.delete_token(user.id, id).await?;
    state.tokens.forget_all();
    Ok(StatusCode::NO_CONTENT)
}
