//! `/activate`, where a signed-in viewer enters a device's code and approves or denies it, and
//! `/help/devices`, which explains both ways of watching away from the browser. The rules behind
//! the codes are in [`crate::devices`].

use crate::devices::{self, ActivationError, UserCode};
use crate::error::{AppError, PageResult};
use crate::render::{self, Chrome};
use crate::state::AppState;
use crate::web::extract::{ClientAddr, PageUser, Viewer};
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

pub struct ConfirmView {
    pub client_name: String,
    /// As shown on the device: `BCDF-GHJK`.
    pub user_code: String,
}

pub struct DoneView {
    pub client_name: String,
    pub approved: bool,
}

/// One page for the three steps: enter a code, confirm the device, done.
#[derive(Template)]
#[template(path = "activate.html")]
pub struct ActivatePage {
    pub chrome: Chrome,
    pub csrf: String,
    /// What the code field holds.
    pub code: String,
    pub error: Option<String>,
    pub confirm: Option<ConfirmView>,
    pub done: Option<DoneView>,
}

impl ActivatePage {
    fn new(pu: &PageUser) -> Self {
        Self {
            chrome: Chrome::for_user(Some(&pu.user), pu.viewer.csrf_token.clone()),
            csrf: pu.viewer.csrf_token.clone().unwrap_or_default(),
            code: String::new(),
            error: None,
            confirm: None,
            done: None,
        }
    }

    fn respond(&self, status: StatusCode) -> PageResult<Response> {
        let mut res = (status, render::page(self)?).into_response();
        // A page about credentials: never kept by a cache, never shown from history.
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
        Ok(res)
    }
}

/// The entry form again, with the reason the code was not accepted.
fn refused(pu: &PageUser, code: &str, e: ActivationError) -> PageResult<Response> {
    let e = match e {
        ActivationError::App(inner) => return Err(inner),
        other => other,
    };
    let status = match &e {
        ActivationError::Malformed => StatusCode::UNPROCESSABLE_ENTITY,
        ActivationError::Unknown => StatusCode::NOT_FOUND,
        ActivationError::Expired => StatusCode::GONE,
        ActivationError::AlreadyUsed => StatusCode::CONFLICT,
        ActivationError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
        ActivationError::App(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let page = ActivatePage {
        code: code.trim().to_owned(),
        error: Some(e.to_string()),
        ..ActivatePage::new(pu)
    };
    let mut res = page.respond(status)?;
    if let ActivationError::TooManyAttempts { retry_after_s, .. } = e {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
    }
    Ok(res)
}

/// Looks the code up and shows the device to approve, or says why not.
async fn confirm(
    state: &AppState,
    pu: &PageUser,
    client: &str,
    raw_code: &str,
) -> PageResult<Response> {
    match devices::find_code(state, &pu.user, client, raw_code).await {
        Ok(found) => {
            let user_code = UserCode::parse(&found.user_code)
                .map_or_else(|_| found.user_code.clone(), |c| c.to_string());
            let page = ActivatePage {
                confirm: Some(ConfirmView {
                    client_name: found.client_name,
                    user_code,
                }),
                ..ActivatePage::new(pu)
            };
            page.respond(StatusCode::OK)
        }
        Err(e) => refused(pu, raw_code, e),
    }
}

#[derive(Deserialize, Default)]
pub struct ActivateQuery {
    /// Filled in by `verification_uri_complete` (a link or QR code from the device).
    #[serde(default)]
    code: Option<String>,
}

/// `GET /activate`: the code form, or straight to the confirmation when the link carries it.
/// Signed-out viewers are sent to sign in and brought back here, code and all.
pub async fn show_activate(
    State(state): State<AppState>,
    pu: PageUser,
    ClientAddr(client): ClientAddr,
    Query(q): Query<ActivateQuery>,
) -> PageResult<Response> {
    match q.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => confirm(&state, &pu, &client, code).await,
        None => ActivatePage::new(&pu).respond(StatusCode::OK),
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
}

/// `POST /activate`: the code typed in.
pub async fn enter_code(
    State(state): State<AppState>,
    pu: PageUser,
    ClientAddr(client): ClientAddr,
    Form(form): Form<CodeForm>,
) -> PageResult<Response> {
    confirm(&state, &pu, &client, &form.code).await
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    code: String,
    /// `approve` or `deny`.
    #[serde(default)]
    decision: String,
}

/// `POST /activate/decision`: Approve or Deny.
pub async fn decide_code(
    State(state): State<AppState>,
    pu: PageUser,
    ClientAddr(client): ClientAddr,
    Form(form): Form<DecisionForm>,
) -> PageResult<Response> {
    let approve = match form.decision.as_str() {
        "approve" => true,
        "deny" => false,
        _ => {
            return Err(AppError::BadRequest("Choose Approve or Deny.".to_owned()));
        }
    };
    match devices::decide(&state, &pu.user, &client, &form.code, approve).await {
        Ok(decided) => {
            let page = ActivatePage {
                done: Some(DoneView {
                    client_name: decided.client_name,
                    approved: approve,
                }),
                ..ActivatePage::new(&pu)
            };
            page.respond(StatusCode::OK)
        }
        Err(e) => refused(&pu, &form.code, e),
    }
}

#[derive(Template)]
#[template(path = "help_devices.html")]
pub struct HelpDevicesPage {
    pub chrome: Chrome,
    /// The address the examples use.
    pub public_url: String,
}

/// `GET /help/devices`
pub async fn help_devices(State(state): State<AppState>, viewer: Viewer) -> PageResult<Response> {
    let page = HelpDevicesPage {
        chrome: Chrome::for_user(viewer.user.as_ref(), viewer.csrf_token.clone()),
        public_url: state.settings.public_url.clone(),
    };
    Ok(render::page(&page)?.into_response())
}
