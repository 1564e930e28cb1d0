//! Request extractors: who is asking (`Viewer`, `PageUser`, `ApiUser`), the CSRF guard for
//! page forms, and JSON/query/path extractors whose rejections become problem documents.

use crate::auth::{self, ANON_COOKIE, SESSION_COOKIE, TOKEN_PREFIX};
use crate::error::{ApiError, AppError};
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use marquee_domain::time_fmt::now_ms;
use marquee_store::User;
use serde::de::DeserializeOwned;

pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf_token";

/// How a request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    None,
    /// A session cookie (its raw value); state changes need a CSRF token.
    Session(String),
    /// A personal access token; immune to CSRF, since browsers never send it on their own.
    Bearer,
}

/// The person behind a request, if any.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: Option<User>,
    pub credential: Credential,
    /// The token forms on this page must carry, when the visitor has a cookie to bind it to.
    pub csrf_token: Option<String>,
}

fn cookie_header(headers: &HeaderMap) -> &str {
    headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl Viewer {
    pub async fn from_request_headers(
        headers: &HeaderMap,
        state: &AppState,
    ) -> Result<Self, AppError> {
        if let Some(token) = bearer(headers) {
            let user = if token.starts_with(TOKEN_PREFIX) {
                state
                    .tokens
                    .owner(state.store.as_ref(), auth::hash_secret(token), now_ms())
                    .await?
            } else {
                None
            };
            // A wrong token is an error, not an anonymous request: the script should know.
            let user = user.ok_or(AppError::Unauthorized)?;
            return Ok(Self {
                user: Some(user),
                credential: Credential::Bearer,
                csrf_token: None,
            });
        }
        let cookies = cookie_header(headers);
        let sid = auth::cookie(cookies, SESSION_COOKIE);
        let user = match sid {
            Some(sid) => {
                state
                    .store
                    .session_user(&auth::hash_secret(sid), now_ms())
                    .await?
            }
            None => None,
        };
        if let (Some(sid), Some(user)) = (sid, user) {
            return Ok(Self {
                user: Some(user),
                credential: Credential::Session(sid.to_owned()),
                csrf_token: Some(state.keys.csrf_token(SESSION_COOKIE, sid)),
            });
        }
        let csrf_token =
            auth::cookie(cookies, ANON_COOKIE).map(|v| state.keys.csrf_token(ANON_COOKIE, v));
        Ok(Self {
            user: None,
            credential: Credential::None,
            csrf_token,
        })
    }

    /// True when the request carries no cookie that could identify a visitor, so the shared
    /// signed-out rendering of a page is the right one.
    pub fn is_anonymous_request(headers: &HeaderMap) -> bool {
        let cookies = cookie_header(headers);
        auth::cookie(cookies, SESSION_COOKIE).is_none() && bearer(headers).is_none()
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Self::from_request_headers(&parts.headers, state).await
    }
}

/// A signed-in person on a page; others are sent to sign in and brought back.
pub struct PageUser {
    pub user: User,
    pub viewer: Viewer,
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let viewer = Viewer::from_request_headers(&parts.headers, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match viewer.user.clone() {
            Some(user) => Ok(Self { user, viewer }),
            None => {
                // After signing in, come back to the page the form was on (a GET), not to the
                // POST endpoint itself.
                let next = if parts.method == Method::GET {
                    parts
                        .uri
                        .path_and_query()
                        .map_or("/".to_owned(), |p| p.to_string())
                } else {
                    referer_path(&parts.headers).unwrap_or_else(|| "/".to_owned())
                };
                Err(Redirect::to(&format!("/signin?next={}", urlencode(&next))).into_response())
            }
        }
    }
}

/// A signed-in caller of the API: bearer token, or session cookie plus CSRF header for writes.
pub struct ApiUser(pub User);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let viewer = Viewer::from_request_headers(&parts.headers, state).await?;
        let user = viewer.user.ok_or(AppError::Unauthorized)?;
        if let Credential::Session(sid) = &viewer.credential
            && !parts.method.is_safe()
        {
            let provided = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !state.keys.csrf_matches(SESSION_COOKIE, sid, provided) {
                return Err(AppError::Forbidden(
                    "Missing or wrong CSRF token: send the X-CSRF-Token header given at sign-in."
                        .into(),
                )
                .into());
            }
        }
        Ok(Self(user))
    }
}

/// The client's address, for throttling: the TCP peer, or, when the peer is a trusted reverse
/// proxy (`--trusted-proxy`), the nearest address in `X-Forwarded-For` that is not one of ours.
/// Requests built in tests without a connection count as `local`.
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        Ok(Self(client_ip(
            peer,
            &forwarded,
            &state.settings.trusted_proxies,
        )))
    }
}

/// Walks `X-Forwarded-For` from the right (the entries our proxies appended) past every trusted
/// proxy; the first other address is the client. Anything unparsable stops the walk, so a
/// client can not push a fake address past a trusted proxy.
pub fn client_ip(
    peer: Option<std::net::IpAddr>,
    forwarded: &str,
    trusted: &[std::net::IpAddr],
) -> String {
    let Some(mut current) = peer else {
        return "local".to_owned();
    };
    if trusted.contains(&current) {
        for hop in forwarded
            .rsplit(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
        {
            match hop.parse::<std::net::IpAddr>() {
                Ok(ip) => {
                    current = ip;
                    if !trusted.contains(&ip) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
    }
    current.to_string()
}

/// Any API caller; `None` when signed out.
pub struct ApiViewer(pub Option<User>);

impl FromRequestParts<AppState> for ApiViewer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(
            Viewer::from_request_headers(&parts.headers, state)
                .await?
                .user,
        ))
    }
}

/// Only a path on this site, never `//evil.example` or `https://…`: where a redirect may go.
pub fn local_path(raw: &str) -> Option<String> {
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.contains('\\')
        && !raw.chars().any(char::is_control);
    ok.then(|| raw.to_owned())
}

fn referer_path(headers: &HeaderMap) -> Option<String> {
    let r = headers.get(header::REFERER)?.to_str().ok()?;
    let after_scheme = r.split_once("://").map_or(r, |(_, rest)| rest);
    let path = &after_scheme[after_scheme.find('/')?..];
    local_path(path)
}

pub fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Rejects page form posts (any unsafe method) whose CSRF token does not match the visitor's
/// cookie, or whose Origin is another site. The token comes from the `X-CSRF-Token` header,
/// the `csrf_token` form field, or, for file uploads, the `csrf_token` query parameter.
pub async fn csrf_guard(
    state: axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if req.method().is_safe() {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    if let Some(origin) = parts
        .headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let origin_host = origin.split_once("://").map_or(origin, |(_, h)| h);
        if origin != "null" && origin_host != host {
            return AppError::Forbidden(
                "This form was sent from another site and was refused.".into(),
            )
            .into_response();
        }
    }
    let cookies = cookie_header(&parts.headers);
    let binding = auth::cookie(cookies, SESSION_COOKIE)
        .map(|v| (SESSION_COOKIE, v.to_owned()))
        .or_else(|| auth::cookie(cookies, ANON_COOKIE).map(|v| (ANON_COOKIE, v.to_owned())));
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let from_header = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let from_query = parts
        .uri
        .query()
        .and_then(|q| form_field(q.as_bytes(), CSRF_FIELD));
    let (provided, body) = if from_header.is_some() || from_query.is_some() {
        (from_header.or(from_query), axum::body::Body::new(body))
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let bytes = match axum::body::to_bytes(axum::body::Body::new(body), 1024 * 1024).await {
            Ok(b) => b,
            Err(_) => return AppError::PayloadTooLarge.into_response(),
        };
        (
            form_field(&bytes, CSRF_FIELD),
            axum::body::Body::from(bytes),
        )
    } else {
        (None, axum::body::Body::new(body))
    };
    let valid = match (&binding, &provided) {
        (Some((name, value)), Some(token)) => state.keys.csrf_matches(name, value, token),
        _ => false,
    };
    if !valid {
        return AppError::Forbidden(
            "This form has expired or did not come from this site (missing or wrong CSRF token). \
             Go back, reload the page and try again; nothing was changed."
                .into(),
        )
        .into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// `axum::Json`, answering a malformed body with a problem document.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|axum::Json(v)| Self(v))
            .map_err(|e| AppError::BadRequest(e.body_text()).into())
    }
}

/// `axum::extract::Query`, answering a malformed query with a problem document.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e| AppError::BadRequest(e.body_text()).into())
    }
}

/// `axum::extract::Path`, answering a malformed id with a problem document.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|e| AppError::BadRequest(e.body_text()).into())
    }
}

/// An API caller who may be signed out: the bearer token's owner when one is sent (a wrong
/// token is a 401, not a silent sign-out), else the session cookie's, else nobody. Reads only.
pub struct ApiCaller(pub Option<User>);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            let ApiUser(user) = ApiUser::from_request_parts(parts, state).await?;
            return Ok(Self(Some(user)));
        }
        let ApiViewer(user) = ApiViewer::from_request_parts(parts, state).await?;
        Ok(Self(user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_accepted_as_redirect_targets() {
        assert_eq!(
            local_path("/movies/the-work").as_deref(),
            Some("/movies/the-work")
        );
        for bad in [
            "//evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "/\\evil",
            "",
        ] {
            assert!(local_path(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_client_address_comes_from_forwarded_for_only_behind_a_trusted_proxy() {
        let proxy: std::net::IpAddr = "127.0.0.1".parse().unwrap();
        let trusted = [proxy];
        assert_eq!(
            client_ip(Some(proxy), "203.0.113.9", &trusted),
            "203.0.113.9"
        );
        // A client-supplied entry to the left of the real one is ignored.
        assert_eq!(
            client_ip(Some(proxy), "6.6.6.6, 203.0.113.9", &trusted),
            "203.0.113.9"
        );
        // Without trust the header means nothing.
        assert_eq!(client_ip(Some(proxy), "203.0.113.9", &[]), "127.0.0.1");
        let other: std::net::IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(
            client_ip(Some(other), "203.0.113.9", &trusted),
            "198.51.100.7"
        );
        assert_eq!(client_ip(Some(proxy), "garbage", &trusted), "127.0.0.1");
        assert_eq!(client_ip(None, "", &trusted), "local");
    }

    #[test]
    fn form_fields_are_percent_decoded() {
        assert_eq!(
            form_field(b"a=1&csrf_token=x%2By+z", "csrf_token").as_deref(),
            Some("x+y z")
        );
        assert_eq!(form_field(b"a=1", "csrf_token"), None);
    }
}
