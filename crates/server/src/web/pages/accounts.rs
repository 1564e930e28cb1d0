//! Sign-up, sign-in, sign-out and the account page with personal access tokens.

use crate::accounts;
use crate::auth::{self, ANON_COOKIE, SESSION_COOKIE};
use crate::error::{AppError, PageResult};
use crate::render::lists::DeleteAccountView;
use crate::render::{self, Chrome, SignInPage, SignUpPage, TokenRow, TokensPage};
use crate::state::AppState;
use crate::web::extract::{ClientAddr, PageUser, local_path, urlencode};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use marquee_domain::time_fmt::{long_date, now_ms};
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct NextQuery {
    next: Option<String>,
}

fn next_or_home(next: Option<&str>) -> String {
    next.and_then(local_path).unwrap_or_else(|| "/".to_owned())
}

/// Makes sure a signed-out visitor has the cookie their form's CSRF token is bound to.
fn anon_csrf(state: &AppState, headers: &HeaderMap) -> (String, Option<String>) {
    let cookies = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match auth::cookie(cookies, ANON_COOKIE) {
        Some(v) => (state.keys.csrf_token(ANON_COOKIE, v), None),
        None => {
            let v = auth::random_token();
            let set = auth::set_cookie(
                ANON_COOKIE,
                &v,
                7 * 24 * 3600,
                state.settings.secure_cookies(),
            );
            (state.keys.csrf_token(ANON_COOKIE, &v), Some(set))
        }
    }
}

fn with_cookie(mut res: Response, set_cookie: Option<String>) -> Response {
    if let Some(c) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

fn sign_in_page(
    state: &AppState,
    headers: &HeaderMap,
    next: &str,
    username: &str,
    error: Option<String>,
    status: StatusCode,
) -> PageResult<Response> {
    let (csrf, set) = anon_csrf(state, headers);
    let page = SignInPage {
        chrome: Chrome::default(),
        csrf,
        next: next.to_owned(),
        next_encoded: urlencode(next),
        username: username.to_owned(),
        error,
    };
    Ok(with_cookie(
        (status, render::page(&page)?).into_response(),
        set,
    ))
}

/// `GET /signin`
pub async fn show_sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> PageResult<Response> {
    sign_in_page(
        &state,
        &headers,
        &next_or_home(q.next.as_deref()),
        "",
        None,
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// `POST /signin`
pub async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientAddr(client): ClientAddr,
    Form(form): Form<SignInForm>,
) -> PageResult<Response> {
    let next = next_or_home(form.next.as_deref());
    match accounts::verify_sign_in(&state, &form.username, &form.password, &client).await {
        Ok(user) => {
            let (_, cookie) = accounts::open_session(&state, &user).await?;
            Ok(with_cookie(
                Redirect::to(&next).into_response(),
                Some(cookie),
            ))
        }
        Err(e @ (AppError::Forbidden(_) | AppError::TooManyRequests { .. })) => {
            let status = e.status();
            let mut res = sign_in_page(
                &state,
                &headers,
                &next,
                &form.username,
                Some(e.to_string()),
                status,
            )?;
            if let AppError::TooManyRequests { retry_after_s, .. } = e {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
            }
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

fn sign_up_page(
    state: &AppState,
    headers: &HeaderMap,
    next: &str,
    form: Option<&SignUpForm>,
    errors: Vec<String>,
    first_account: bool,
    status: StatusCode,
) -> PageResult<Response> {
    let (csrf, set) = anon_csrf(state, headers);
    let page = SignUpPage {
        chrome: Chrome::default(),
        csrf,
        next: next.to_owned(),
        next_encoded: urlencode(next),
        username: form.map(|f| f.username.clone()).unwrap_or_default(),
        display_name: form.map(|f| f.display_name.clone()).unwrap_or_default(),
        errors,
        first_account,
    };
    Ok(with_cookie(
        (status, render::page(&page)?).into_response(),
        set,
    ))
}

/// `GET /signup`
pub async fn show_sign_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> PageResult<Response> {
    let first = state.store.count_users().await? == 0;
    sign_up_page(
        &state,
        &headers,
        &next_or_home(q.next.as_deref()),
        None,
        Vec::new(),
        first,
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// `POST /signup`: creates the account and signs it in.
pub async fn sign_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SignUpForm>,
) -> PageResult<Response> {
    let next = next_or_home(form.next.as_deref());
    match accounts::sign_up(&state, &form.username, &form.display_name, &form.password).await {
        Ok(user) => {
            let (_, cookie) = accounts::open_session(&state, &user).await?;
            Ok(with_cookie(
                Redirect::to(&next).into_response(),
                Some(cookie),
            ))
        }
        Err(AppError::Invalid(errors)) => {
            let first = state.store.count_users().await? == 0;
            let msgs = errors.iter().map(|e| e.to_string()).collect();
            sign_up_page(
                &state,
                &headers,
                &next,
                Some(&form),
                msgs,
                first,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(AppError::Conflict(m)) => {
            let first = state.store.count_users().await? == 0;
            sign_up_page(
                &state,
                &headers,
                &next,
                Some(&form),
                vec![m],
                first,
                StatusCode::CONFLICT,
            )
        }
        Err(e) => Err(e),
    }
}

/// `POST /signout`
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> PageResult<Response> {
    let cookies = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let clear = match auth::cookie(cookies, SESSION_COOKIE) {
        Some(sid) => Some(accounts::close_session(&state, sid).await?),
        None => None,
    };
    Ok(with_cookie(Redirect::to("/").into_response(), clear))
}

async fn tokens_page(
    state: &AppState,
    pu: &PageUser,
    new_token: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> PageResult<Response> {
    account_page(
        state,
        pu,
        new_token,
        error,
        DeleteAccountView::default(),
        status,
    )
    .await
}

/// The account page (tokens, links to the viewer's lists and data, and the "Delete account"
/// form as given).
pub(crate) async fn account_page(
    state: &AppState,
    pu: &PageUser,
    new_token: Option<String>,
    error: Option<String>,
    delete: DeleteAccountView,
    status: StatusCode,
) -> PageResult<Response> {
    let tokens = state.store.list_tokens(pu.user.id).await?;
    let page = TokensPage {
        chrome: Chrome::for_user(Some(&pu.user), pu.viewer.csrf_token.clone()),
        csrf: pu.viewer.csrf_token.clone().unwrap_or_default(),
        username: pu.user.username.clone(),
        display_name: pu.user.display_name.clone(),
        tokens: tokens
            .into_iter()
            .map(|t| TokenRow {
                id: t.id,
                name: t.name,
                created: long_date(t.created_ms),
                last_used: t.last_used_ms.map_or_else(|| "never".to_owned(), long_date),
            })
            .collect(),
        new_token,
        error,
        delete,
    };
    Ok(with_cookie(
        (status, render::page(&page)?).into_response(),
        None,
    ))
}

/// `GET /account/tokens`
pub async fn show_tokens(State(state): State<AppState>, pu: PageUser) -> PageResult<Response> {
    tokens_page(&state, &pu, None, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
}

/// Validates a token's name: 1–60 characters.
pub fn token_name(raw: &str) -> Result<String, AppError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Err(AppError::Invalid(vec![
            marquee_domain::ValidationError::new("name", "must be 1 to 60 characters"),
        ]));
    }
    Ok(name.to_owned())
}

/// Creates a token for the user; returns its secret, shown once.
pub async fn issue_token(
    state: &AppState,
    user: &marquee_store::User,
    name: &str,
) -> Result<(marquee_store::ApiToken, String), AppError> {
    let secret = format!("{}{}", auth::TOKEN_PREFIX, auth::random_token());
    let token = state
        .store
        .create_token(user.id, name, &auth::hash_secret(&secret), now_ms())
        .await?;
    Ok((token, secret))
}

/// `POST /account/tokens`
pub async fn create_token(
    State(state): State<AppState>,
    pu: PageUser,
    Form(form): Form<TokenForm>,
) -> PageResult<Response> {
    match token_name(&form.name) {
        Ok(name) => {
            let (_, secret) = issue_token(&state, &pu.user, &name).await?;
            tokens_page(&state, &pu, Some(secret), None, StatusCode::OK).await
        }
        Err(e) => {
            tokens_page(
                &state,
                &pu,
                None,
                Some(e.to_string()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /account/tokens/{id}/delete`
pub async fn delete_token(
    State(state): State<AppState>,
    pu: PageUser,
    Path(id): Path<String>,
) -> PageResult<Response> {
    let id = id.parse::<i64>().map_err(|_| AppError::NotFound("token"))?;
    state.store.delete_token(pu.user.id, id).await?;
    state.tokens.forget_all();
    Ok(Redirect::to("/account/tokens").into_response())
}
