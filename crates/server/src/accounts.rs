//! Signing up, signing in (with throttling) and out, shared by the pages and the API.

use crate::auth::{self, SESSION_COOKIE, SESSION_DAYS};
use crate::error::AppError;
use crate::state::AppState;
use marquee_domain::time_fmt::now_ms;
use marquee_domain::{DisplayName, Password, Username, ValidationError};
use marquee_store::{NewUser, User};

/// Parses and creates an account; the first one becomes the admin.
/// Username prefixes of accounts that Marquee makes itself.
const RESERVED_PREFIXES: &[&str] = &["movielens-", "deleted-"];

pub async fn sign_up(
    state: &AppState,
    username: &str,
    display_name: &str,
    password: &str,
) -> Result<User, AppError> {
    // Imports and account deletion name the accounts they make `movielens-…` and `deleted-…`;
    // a person taking such a name would receive an import's ratings.
    let username = Username::parse(username).and_then(|u| {
        if RESERVED_PREFIXES.iter().any(|p| u.as_str().starts_with(p)) {
            Err(ValidationError::new(
                "username",
                "may not start with 'movielens-' or 'deleted-' (reserved for imported and deleted accounts)",
            ))
        } else {
            Ok(u)
        }
    });
    let display_name = DisplayName::parse(display_name);
    let password = Password::parse(password);
    let (Ok(username), Ok(display_name), Ok(password)) = (&username, &display_name, &password)
    else {
        let errors: Vec<ValidationError> = [username.err(), display_name.err(), password.err()]
            .into_iter()
            .flatten()
            .collect();
        return Err(AppError::Invalid(errors));
    };
    let password = password.clone();
    let password_hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| AppError::Internal(e.into()))??;
    let user = state
        .store
        .create_user(&NewUser {
            username: username.clone(),
            display_name: display_name.clone(),
            password_hash,
            now_ms: now_ms(),
        })
        .await?;
    tracing::info!(user.id = %user.id, admin = user.is_admin, "account created");
    Ok(user)
}

/// Checks a password, counting failures per account and per client address; after too many
/// in the window, refuses without even checking.
pub async fn verify_sign_in(
    state: &AppState,
    username: &str,
    password: &str,
    client: &str,
) -> Result<User, AppError> {
    let s = &state.settings;
    let (window, allowed) = (s.signin_window_ms, s.signin_failures_allowed);
    let name = username.trim().to_lowercase();
    let user_key = format!("user:{name}");
    let client_key = format!("client:{client}");
    let now = now_ms();
    let too_many = || AppError::TooManyRequests {
        message: format!(
            "Too many failed sign-ins. Wait {} minutes and try again.",
            (window / 60_000).max(1)
        ),
        retry_after_s: (window / 1000) as u64,
    };
    if state.store.login_failures(&user_key, now, window).await? >= allowed
        || state.store.login_failures(&client_key, now, window).await? >= allowed * 10
    {
        return Err(too_many());
    }
    let found = state.store.credentials(&name).await?;
    let (user, hash) = match found {
        Some((u, h)) => (Some(u), h),
        None => (None, state.dummy_hash.to_string()),
    };
    let candidate = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&hash, &candidate))
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    match user {
        Some(u) if ok => {
            state.store.clear_login_failures(&user_key).await?;
            Ok(u)
        }
        _ => {
            let n = state
                .store
                .record_login_failure(&user_key, now, window)
                .await?;
            state
                .store
                .record_login_failure(&client_key, now, window)
                .await?;
            tracing::warn!(failures = n, "sign-in failed");
            if n >= allowed {
                return Err(too_many());
            }
            Err(AppError::Forbidden(
                "That username and password do not match.".into(),
            ))
        }
    }
}

/// Opens a session; returns the cookie value and the `Set-Cookie` header for it.
pub async fn open_session(state: &AppState, user: &User) -> Result<(String, String), AppError> {
    let sid = auth::random_token();
    let now = now_ms();
    let max_age = SESSION_DAYS * 24 * 3600;
    state
        .store
        .create_session(&auth::hash_secret(&sid), user.id, now, now + max_age * 1000)
        .await?;
    let cookie = auth::set_cookie(
        SESSION_COOKIE,
        &sid,
        max_age,
        state.settings.secure_cookies(),
    );
    Ok((sid, cookie))
}

/// Ends the session named by the cookie value; returns the `Set-Cookie` header that clears it.
pub async fn close_session(state: &AppState, sid: &str) -> Result<String, AppError> {
    state.store.delete_session(&auth::hash_secret(sid)).await?;
    Ok(auth::set_cookie(
        SESSION_COOKIE,
        "",
        0,
        state.settings.secure_cookies(),
    ))
}
