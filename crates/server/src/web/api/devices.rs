//! The device endpoints of the OAuth 2.0 Device Authorization Grant (RFC 8628):
//! `POST /api/v1/device/code` and `POST /api/v1/device/token`. The rules are in
//! [`crate::devices`].
//!
//! These two answer errors as RFC 6749 JSON (`{"error": "authorization_pending", …}`, status
//! 400), not as problem documents like the rest of the API: that is the wire format the RFC
//! fixes and every device-flow client library parses, so [`OAuthError`] has its own
//! `IntoResponse` here. Bodies are accepted as a form (what the RFC specifies) or as JSON.

use crate::devices::{self, OAuthError};
use crate::error::ApiError;
use crate::state::AppState;
use crate::web::extract::ClientAddr;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A body sent as `application/x-www-form-urlencoded` (or with no type) or as JSON.
pub struct FormOrJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for FormOrJson<T> {
    type Rejection = OAuthError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/json"));
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| OAuthError::InvalidRequest(e.body_text()))?;
        let parsed = if json {
            serde_json::from_slice(&bytes).map_err(|e| e.to_string())
        } else {
            serde_urlencoded::from_bytes(&bytes).map_err(|e| e.to_string())
        };
        parsed
            .map(Self)
            .map_err(|e| OAuthError::InvalidRequest(format!("The request body is not valid: {e}")))
    }
}

/// An RFC 6749 error response body.
#[derive(Serialize, ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_grant`, `unsupported_grant_type`, `authorization_pending`,
    /// `slow_down`, `access_denied` or `expired_token`.
    pub error: String,
    pub error_description: String,
    /// After `slow_down`: the seconds to wait between polls from now on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<u32>,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        // Our failure, not the client's: logged and hidden like any other 5xx.
        let e = match self {
            OAuthError::Internal(e) => return ApiError(e).into_response(),
            e => e,
        };
        let status = match &e {
            OAuthError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::BAD_REQUEST,
        };
        let body = OAuthErrorBody {
            error: e.code().to_owned(),
            error_description: e.to_string(),
            interval: match &e {
                OAuthError::SlowDown { interval_s } => Some(*interval_s),
                _ => None,
            },
        };
        let mut res = (status, Json(body)).into_response();
        if let OAuthError::TooManyRequests { retry_after_s, .. } = e {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
        }
        no_store(res)
    }
}

/// RFC 6749 section 5.1: responses carrying or about credentials are not cached.
fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

#[derive(Deserialize, ToSchema)]
pub struct DeviceCodeRequest {
    /// What the device calls itself, shown to the viewer at `/activate` and used as the name of
    /// its token, e.g. `Living-room TV`. 1 to 60 characters.
    pub client_name: Option<String>,
    /// Accepted in place of `client_name`, for generic OAuth clients.
    pub client_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DeviceCodeResponse {
    /// The device's secret for polling `/api/v1/device/token`.
    pub device_code: String,
    /// What the viewer types at `verification_uri`, e.g. `BCDF-GHJK`.
    pub user_code: String,
    pub verification_uri: String,
    /// `verification_uri` with the code filled in, e.g. for a QR code.
    pub verification_uri_complete: String,
    /// Seconds until the codes expire.
    pub expires_in: i64,
    /// Seconds to wait between polls.
    pub interval: u32,
}

/// Start signing in a device: get a code for the viewer to enter at `/activate`.
#[utoipa::path(post, path = "/api/v1/device/code", tag = "devices",
    request_body(content = DeviceCodeRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = DeviceCodeResponse),
              (status = 400, body = OAuthErrorBody, description = "invalid_request"),
              (status = 429, body = OAuthErrorBody, description = "Too many codes from this address")))]
pub async fn request_device_code(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    FormOrJson(req): FormOrJson<DeviceCodeRequest>,
) -> Result<Response, OAuthError> {
    let name = req
        .client_name
        .or(req.client_id)
        .unwrap_or_else(|| "Device".to_owned());
    let issued = devices::issue_code(&state, &name, &client).await?;
    let verification_uri = format!("{}/activate", state.settings.public_url);
    let body = DeviceCodeResponse {
        device_code: issued.device_code,
        user_code: issued.user_code.to_string(),
        verification_uri_complete: format!("{verification_uri}?code={}", issued.user_code),
        verification_uri,
        expires_in: issued.expires_in_s,
        interval: issued.interval_s,
    };
    Ok(no_store(Json(body).into_response()))
}

#[derive(Deserialize, ToSchema)]
pub struct DeviceTokenRequest {
    /// `urn:ietf:params:oauth:grant-type:device_code`
    pub grant_type: Option<String>,
    pub device_code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DeviceTokenResponse {
    /// A personal access token: send it as `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
}

/// Poll for the device's token. Until the viewer decides: `authorization_pending` (or
/// `slow_down`, when polling faster than `interval`; the interval then grows by 5 s). Then the
/// token, once; later exchanges of the same code are `invalid_grant`.
#[utoipa::path(post, path = "/api/v1/device/token", tag = "devices",
    request_body(content = DeviceTokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, body = DeviceTokenResponse),
              (status = 400, body = OAuthErrorBody,
               description = "authorization_pending, slow_down, access_denied, expired_token, invalid_grant, unsupported_grant_type or invalid_request")))]
pub async fn exchange_device_code(
    State(state): State<AppState>,
    FormOrJson(req): FormOrJson<DeviceTokenRequest>,
) -> Result<Response, OAuthError> {
    let token = devices::exchange(
        &state,
        req.grant_type.as_deref(),
        req.device_code.as_deref(),
    )
    .await?;
    Ok(no_store(
        Json(DeviceTokenResponse {
            access_token: token,
            token_type: "Bearer".to_owned(),
        })
        .into_response(),
    ))
}
