//! Signing in a TV with a code: the OAuth 2.0 Device Authorization Grant (RFC 8628).
//!
//! 1. The device posts to `/api/v1/device/code` and gets a secret `device_code` (only its
//!    SHA-256 is stored), a short `user_code` it shows on screen, and `/activate`.
//! 2. The viewer, signed in on a phone or computer, enters the code at `/activate` and approves
//!    or denies the device by name.
//! 3. Meanwhile the device polls `/api/v1/device/token` every `interval` seconds and, once the
//!    code is approved, receives a personal access token named after itself, exactly once. The
//!    viewer sees it on `/account/tokens` and can revoke it there.
//!
//! Codes live ten minutes. Guessing user codes is throttled per viewer and per client address,
//! and handing out codes is throttled per client address, all with the sign-in failure counters
//! under keys of their own. The HTTP shapes are in `web/api/devices.rs` and
//! `web/pages/devices.rs`; this module holds the rules.

use crate::auth::{self, TOKEN_PREFIX};
use crate::error::AppError;
use crate::state::AppState;
use marquee_domain::time_fmt::now_ms;
use marquee_store::{DeviceCode, DeviceCodeState, DeviceDecision, DevicePoll, StoreError, User};
use rand::Rng;

/// The `grant_type` a device sends when polling.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// How long a code can be entered and polled: ten minutes.
pub const CODE_LIFETIME_S: i64 = 600;
/// The polling interval a device starts with.
pub const POLL_INTERVAL_S: u32 = 5;
/// What a device's secret starts with, so it is recognisable in a leak report.
const DEVICE_CODE_PREFIX: &str = "mqd_";
/// The window every device-flow counter below counts in.
pub const RATE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// Codes one client address may ask for per window.
pub const CODES_PER_CLIENT: u32 = 30;
/// Wrong user codes one viewer may enter per window. With 20^8 possible codes alive for ten
/// minutes each, this makes guessing someone else's code hopeless.
pub const WRONG_CODES_PER_USER: u32 = 10;
/// Wrong user codes one client address may enter per window, whatever accounts it uses.
pub const WRONG_CODES_PER_CLIENT: u32 = 30;

/// Consonants only, without look-alikes: no vowels (no words), no 0/O or 1/I confusion.
/// RFC 8628 section 6.1 suggests exactly this alphabet.
const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
const CODE_LEN: usize = 8;

/// A user code: eight letters of [`ALPHABET`], shown and accepted as `BCDF-GHJK`. Parsing
/// ignores case, dashes and spaces, so `bcdfghjk` and `BCDF GHJK` name the same code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCode(String);

impl UserCode {
    pub fn parse(raw: &str) -> Result<Self, ActivationError> {
        let code: String = raw
            .chars()
            .filter(|c| !matches!(c, '-' | ' ' | '\t'))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let valid = code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b));
        if valid {
            Ok(Self(code))
        } else {
            Err(ActivationError::Malformed)
        }
    }

    /// A fresh code from the operating system's random generator.
    pub fn generate() -> Self {
        let mut rng = rand::rngs::OsRng;
        Self(
            (0..CODE_LEN)
                .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                .collect(),
        )
    }

    /// The stored form: eight capitals, no dash.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", &self.0[..4], &self.0[4..])
    }
}

/// A device's answer, as the RFC 8628 / RFC 6749 error codes a client library understands.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("The device code is not valid: it is unknown or was already exchanged.")]
    InvalidGrant,
    #[error("Only grant_type={GRANT_TYPE} is supported here.")]
    UnsupportedGrantType,
    #[error("The viewer has not entered the code yet.")]
    AuthorizationPending,
    #[error("Polling too often: wait {interval_s} seconds between requests.")]
    SlowDown { interval_s: u32 },
    #[error("The viewer denied this device.")]
    AccessDenied,
    #[error("The code has expired. Ask for a new one.")]
    ExpiredToken,
    #[error("{message}")]
    TooManyRequests { message: String, retry_after_s: u64 },
    #[error(transparent)]
    Internal(AppError),
}

impl OAuthError {
    /// The `error` member of the response body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidGrant => "invalid_grant",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown { .. } | Self::TooManyRequests { .. } => "slow_down",
            Self::AccessDenied => "access_denied",
            Self::ExpiredToken => "expired_token",
            Self::Internal(_) => "server_error",
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.into())
    }
}

/// A code handed to a device.
#[derive(Debug)]
pub struct IssuedCode {
    /// The device's secret; only its hash is stored.
    pub device_code: String,
    pub user_code: UserCode,
    pub expires_in_s: i64,
    pub interval_s: u32,
}

fn too_many(what: &str) -> (String, u64) {
    (
        format!(
            "Too many {what}. Wait {} minutes and try again.",
            RATE_WINDOW_MS / 60_000
        ),
        (RATE_WINDOW_MS / 1000) as u64,
    )
}

/// Starts a device sign-in: records a pending code for the device called `client_name`.
pub async fn issue_code(
    state: &AppState,
    client_name: &str,
    client_addr: &str,
) -> Result<IssuedCode, OAuthError> {
    let name = crate::web::pages::accounts::token_name(client_name).map_err(|_| {
        OAuthError::InvalidRequest("client_name must be 1 to 60 characters.".into())
    })?;
    let now = now_ms();
    // Every code counts, not only failures: a code costs a row, and nobody needs thirty.
    let issued = state
        .store
        .record_login_failure(&format!("device-code:{client_addr}"), now, RATE_WINDOW_MS)
        .await?;
    if issued > CODES_PER_CLIENT {
        let (message, retry_after_s) = too_many("device codes from this address");
        return Err(OAuthError::TooManyRequests {
            message,
            retry_after_s,
        });
    }
    // A user code already taken (by a live or not yet purged code) is drawn again; with 20^8
    // codes a second clash in a row means something else is wrong.
    for _ in 0..4 {
        let user_code = UserCode::generate();
        let device_code = format!("{DEVICE_CODE_PREFIX}{}", auth::random_token());
        let created = state
            .store
            .create_device_code(&marquee_store::NewDeviceCode {
                device_code_hash: &auth::hash_secret(&device_code),
                user_code: user_code.as_str(),
                client_name: &name,
                interval_s: POLL_INTERVAL_S,
                now_ms: now,
                expires_ms: now + CODE_LIFETIME_S * 1000,
            })
            .await;
        match created {
            Ok(code) => {
                tracing::info!(device_code.id = code.id, client = %client_addr, "device code issued");
                return Ok(IssuedCode {
                    device_code,
                    user_code,
                    expires_in_s: CODE_LIFETIME_S,
                    interval_s: POLL_INTERVAL_S,
                });
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(OAuthError::Internal(AppError::Internal(anyhow::anyhow!(
        "could not draw an unused user code"
    ))))
}

/// A device's poll: the access token once the code is approved, else the RFC 8628 answer.
pub async fn exchange(
    state: &AppState,
    grant_type: Option<&str>,
    device_code: Option<&str>,
) -> Result<String, OAuthError> {
    match grant_type {
        None | Some("") => {
            return Err(OAuthError::InvalidRequest("grant_type is required.".into()));
        }
        Some(GRANT_TYPE) => {}
        Some(_) => return Err(OAuthError::UnsupportedGrantType),
    }
    let device_code = device_code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| OAuthError::InvalidRequest("device_code is required.".into()))?;
    // The token is drawn before we know it is needed, so the store can create it in the same
    // transaction that marks the code used.
    let token = format!("{TOKEN_PREFIX}{}", auth::random_token());
    let poll = state
        .store
        .poll_device_code(
            &auth::hash_secret(device_code),
            &auth::hash_secret(&token),
            now_ms(),
        )
        .await?;
    match poll {
        DevicePoll::Granted { user, token: t } => {
            tracing::info!(user.id = %user, token.id = t.id, "device signed in");
            Ok(token)
        }
        DevicePoll::Pending => Err(OAuthError::AuthorizationPending),
        DevicePoll::SlowDown { interval_s } => Err(OAuthError::SlowDown { interval_s }),
        DevicePoll::Denied => Err(OAuthError::AccessDenied),
        DevicePoll::Expired => Err(OAuthError::ExpiredToken),
        DevicePoll::Unknown | DevicePoll::Used => Err(OAuthError::InvalidGrant),
    }
}

/// Why a code entered at `/activate` was not accepted; the messages are for the viewer.
#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    #[error("A code has eight letters, like BCDF-GHJK. Check the code on your TV and try again.")]
    Malformed,
    #[error("That code is not valid. Check the code on your TV and try again.")]
    Unknown,
    #[error("That code has expired. Start signing in on your TV again to get a new code.")]
    Expired,
    #[error("That code has already been used. If your TV is not signed in, start again there.")]
    AlreadyUsed,
    #[error("{message}")]
    TooManyAttempts { message: String, retry_after_s: u64 },
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<StoreError> for ActivationError {
    fn from(e: StoreError) -> Self {
        Self::App(e.into())
    }
}

struct Throttle {
    user_key: String,
    client_key: String,
}

impl Throttle {
    fn new(user: &User, client_addr: &str) -> Self {
        Self {
            user_key: format!("device-entry:user:{}", user.id),
            client_key: format!("device-entry:client:{client_addr}"),
        }
    }

    fn refuse() -> ActivationError {
        let (message, retry_after_s) = too_many("wrong codes");
        ActivationError::TooManyAttempts {
            message,
            retry_after_s,
        }
    }

    /// Refuses at once when the viewer or their address has used up its wrong codes.
    async fn check(&self, state: &AppState, now: i64) -> Result<(), ActivationError> {
        let store = &state.store;
        if store
            .login_failures(&self.user_key, now, RATE_WINDOW_MS)
            .await?
            >= WRONG_CODES_PER_USER
            || store
                .login_failures(&self.client_key, now, RATE_WINDOW_MS)
                .await?
                >= WRONG_CODES_PER_CLIENT
        {
            return Err(Self::refuse());
        }
        Ok(())
    }

    /// Counts a wrong code; the one that reaches a limit is already refused.
    async fn wrong_code(&self, state: &AppState, now: i64) -> ActivationError {
        let counted = async {
            let by_user = state
                .store
                .record_login_failure(&self.user_key, now, RATE_WINDOW_MS)
                .await?;
            let by_client = state
                .store
                .record_login_failure(&self.client_key, now, RATE_WINDOW_MS)
                .await?;
            Ok::<_, StoreError>((by_user, by_client))
        };
        match counted.await {
            Ok((u, c)) if u >= WRONG_CODES_PER_USER || c >= WRONG_CODES_PER_CLIENT => {
                tracing::warn!(failures = u, "too many wrong device codes");
                Self::refuse()
            }
            Ok(_) => ActivationError::Unknown,
            Err(e) => e.into(),
        }
    }
}

/// The pending code a viewer typed, for the confirmation step. Only a code that does not exist
/// counts as a wrong guess; an expired or used one is a real code and says so.
pub async fn find_code(
    state: &AppState,
    user: &User,
    client_addr: &str,
    raw: &str,
) -> Result<DeviceCode, ActivationError> {
    let throttle = Throttle::new(user, client_addr);
    let now = now_ms();
    throttle.check(state, now).await?;
    let code = UserCode::parse(raw)?;
    let Some(found) = state.store.device_code_by_user_code(code.as_str()).await? else {
        return Err(throttle.wrong_code(state, now).await);
    };
    if found.is_expired(now) {
        Err(ActivationError::Expired)
    } else if found.state != DeviceCodeState::Pending {
        Err(ActivationError::AlreadyUsed)
    } else {
        Ok(found)
    }
}

/// Approves or denies the device behind a code, on behalf of `user`.
pub async fn decide(
    state: &AppState,
    user: &User,
    client_addr: &str,
    raw: &str,
    approve: bool,
) -> Result<DeviceCode, ActivationError> {
    let throttle = Throttle::new(user, client_addr);
    let now = now_ms();
    throttle.check(state, now).await?;
    let code = UserCode::parse(raw)?;
    match state
        .store
        .decide_device_code(code.as_str(), user.id, approve, now)
        .await?
    {
        DeviceDecision::Decided(c) => {
            tracing::info!(user.id = %user.id, device_code.id = c.id, approved = approve, "device code decided");
            Ok(c)
        }
        DeviceDecision::Unknown => Err(throttle.wrong_code(state, now).await),
        DeviceDecision::Expired(_) => Err(ActivationError::Expired),
        DeviceDecision::AlreadyDecided(_) => Err(ActivationError::AlreadyUsed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_ignore_case_and_dashes_and_use_only_the_unambiguous_letters() {
        let c = UserCode::parse("bcdf-ghjk").unwrap();
        assert_eq!(c.as_str(), "BCDFGHJK");
        assert_eq!(c.to_string(), "BCDF-GHJK");
        assert_eq!(UserCode::parse(" BCDF GHJK ").unwrap(), c);
        assert_eq!(UserCode::parse("BCDFGHJK").unwrap(), c);
        for bad in [
            "BCDF-GHJ",
            "BCDF-GHJKL",
            "ABCD-FGHJ",
            "BCDF-GHJ0",
            "",
            "ÄCDF-GHJK",
        ] {
            assert!(
                matches!(UserCode::parse(bad), Err(ActivationError::Malformed)),
                "{bad}"
            );
        }
    }

    #[test]
    fn generated_codes_parse_back_and_differ() {
        let codes: std::collections::HashSet<String> = (0..200)
            .map(|_| {
                let c = UserCode::generate();
                assert_eq!(UserCode::parse(&c.to_string()).unwrap(), c);
                c.as_str().to_owned()
            })
            .collect();
        assert!(codes.len() > 195, "codes repeat far too often");
        // Every letter of the alphabet turns up, and nothing else.
        let seen: std::collections::HashSet<u8> = codes.iter().flat_map(|c| c.bytes()).collect();
        assert_eq!(seen.len(), ALPHABET.len());
    }

    #[test]
    fn every_oauth_error_has_its_rfc_code() {
        assert_eq!(
            OAuthError::AuthorizationPending.code(),
            "authorization_pending"
        );
        assert_eq!(OAuthError::SlowDown { interval_s: 10 }.code(), "slow_down");
        assert_eq!(OAuthError::AccessDenied.code(), "access_denied");
        assert_eq!(OAuthError::ExpiredToken.code(), "expired_token");
        assert_eq!(OAuthError::InvalidGrant.code(), "invalid_grant");
        assert_eq!(
            OAuthError::UnsupportedGrantType.code(),
            "unsupported_grant_type"
        );
    }
}
