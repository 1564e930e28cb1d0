//! Device sign-in codes for the OAuth 2.0 Device Authorization Grant (RFC 8628): a TV asks for a
//! code, a signed-in viewer approves or denies it at `/activate`, and the TV, polling, exchanges
//! an approved code for a personal access token exactly once.
//!
//! The store owns the parts that must hold under concurrency: a code is decided by one viewer
//! only, polling faster than the interval is noticed (and the interval raised) atomically, and
//! the exchange marks the code used and creates the token in the same transaction, so two
//! simultaneous polls can never both receive a token.

use crate::{ApiToken, StoreResult};
use async_trait::async_trait;
use marquee_domain::UserId;
use serde::Serialize;

/// Where a device code is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceCodeState {
    /// Waiting for a viewer to enter the user code.
    Pending,
    /// A viewer approved it; the device's next poll receives a token.
    Approved,
    /// A viewer refused it.
    Denied,
    /// Exchanged for a token; it can not be used again.
    Used,
}

impl DeviceCodeState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Used => "used",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "approved" => Self::Approved,
            "denied" => Self::Denied,
            "used" => Self::Used,
            _ => return None,
        })
    }
}

/// A stored device code. The device's secret is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceCode {
    pub id: i64,
    /// The code the viewer types, normalized: eight capitals, no dash.
    pub user_code: String,
    /// What the device calls itself; also the name of the token it receives.
    pub client_name: String,
    pub state: DeviceCodeState,
    /// Who approved or denied it.
    pub user_id: Option<UserId>,
    /// Seconds the device must wait between polls (raised by `slow_down`).
    pub interval_s: u32,
    pub created_ms: i64,
    pub expires_ms: i64,
}

impl DeviceCode {
    pub fn is_expired(&self, now_ms: i64) -> bool {
        now_ms >= self.expires_ms
    }
}

/// A code to record.
#[derive(Debug, Clone)]
pub struct NewDeviceCode<'a> {
    pub device_code_hash: &'a [u8],
    pub user_code: &'a str,
    pub client_name: &'a str,
    pub interval_s: u32,
    pub now_ms: i64,
    pub expires_ms: i64,
}

/// What a device's poll finds (RFC 8628 section 3.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevicePoll {
    /// No such device code (never issued, or purged after it expired).
    Unknown,
    /// Already exchanged for a token.
    Used,
    Expired,
    Denied,
    /// Nobody has decided yet.
    Pending,
    /// Polled sooner than the interval allows; the interval is now `interval_s`.
    SlowDown {
        interval_s: u32,
    },
    /// Approved: the token was created for `user` and the code is now used.
    Granted {
        user: UserId,
        token: ApiToken,
    },
}

/// What a viewer's approval or refusal did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceDecision {
    /// This call decided the code.
    Decided(DeviceCode),
    Unknown,
    Expired(DeviceCode),
    /// Someone (maybe the same viewer, in another tab) decided it first.
    AlreadyDecided(DeviceCode),
}

#[async_trait]
pub trait DeviceStore: Send + Sync {
    /// Records a new pending code. `Conflict` when the user code or device code is already
    /// taken (the caller draws another).
    async fn create_device_code(&self, new: &NewDeviceCode<'_>) -> StoreResult<DeviceCode>;
    /// The code with this (normalized) user code, in whatever state and however old.
    async fn device_code_by_user_code(&self, user_code: &str) -> StoreResult<Option<DeviceCode>>;
    /// Approves or denies a pending, unexpired code on behalf of `user`. Of any number of
    /// simultaneous decisions on one code exactly one is `Decided`.
    async fn decide_device_code(
        &self,
        user_code: &str,
        user: UserId,
        approve: bool,
        now_ms: i64,
    ) -> StoreResult<DeviceDecision>;
    /// A device's poll. A pending code polled less than its interval after the previous poll
    /// answers `SlowDown` and raises the interval by 5 s. An approved code becomes used and a
    /// personal access token named after the device is created with `token_hash`, in one
    /// transaction: of any number of simultaneous polls exactly one is `Granted`.
    async fn poll_device_code(
        &self,
        device_code_hash: &[u8],
        token_hash: &[u8],
        now_ms: i64,
    ) -> StoreResult<DevicePoll>;
    /// Deletes codes that expired at or before `now_ms`; returns how many went.
    async fn purge_device_codes(&self, now_ms: i64) -> StoreResult<u64>;
}

/// How much longer the interval gets after each `slow_down` (RFC 8628 section 3.5).
pub const SLOW_DOWN_STEP_S: u32 = 5;
