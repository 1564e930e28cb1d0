//! The administrator's view of background jobs (`/admin/jobs`): each film's HLS packaging with
//! its state, progress, attempts, worker and error, and a form to queue packaging again.

use crate::error::{AppError, PageResult};
use crate::media::HLS_JOB;
use crate::render::{self, Chrome};
use crate::state::AppState;
use crate::web::extract::PageUser;
use crate::web::pages::admin::{parse_id, require_admin};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use marquee_domain::MovieId;
use marquee_domain::time_fmt::now_ms;
use marquee_store::{Job, JobState};
use serde::Deserialize;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

/// Most jobs the page lists.
const PAGE_SIZE: u32 = 100;

/// One row of the jobs table, as plain strings.
pub struct JobRow {
    pub id: i64,
    pub movie_id: i64,
    pub title: String,
    pub kind: String,
    pub state: &'static str,
    /// 0–100, for `<progress>`.
    pub percent: u32,
    pub attempts: u32,
    pub worker: String,
    pub updated: String,
    pub error: Option<String>,
    /// The film's latest job is over (done or failed), so packaging can be queued again.
    pub can_queue: bool,
}

#[derive(Template)]
#[template(path = "admin_jobs.html")]
pub struct AdminJobsPage {
    pub chrome: Chrome,
    pub csrf: String,
    pub jobs: Vec<JobRow>,
    /// The film the list is narrowed to, if any.
    pub film: Option<(i64, String)>,
    pub notice: Option<String>,
    /// Some job is queued or running: the page offers to look again.
    pub active: bool,
}

#[derive(Deserialize)]
pub struct JobsQuery {
    movie: Option<String>,
    notice: Option<String>,
}

/// "just now", "42 s ago", "5 min ago", "3 h ago", "2 days ago".
fn ago(then_ms: i64, now: i64) -> String {
    let s = (now - then_ms).max(0) / 1000;
    match s {
        0..=2 => "just now".into(),
        3..=59 => format!("{s} s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}

/// Rows for `jobs` (newest first), with film titles.
pub async fn job_rows(state: &AppState, jobs: &[Job]) -> PageResult<Vec<JobRow>> {
    let mut titles: HashMap<MovieId, String> = HashMap::new();
    for j in jobs {
        if let Entry::Vacant(slot) = titles.entry(j.movie_id) {
            let title = state
                .store
                .movie_by_id(j.movie_id)
                .await?
                .map_or_else(|| format!("film {}", j.movie_id), |m| m.title);
            slot.insert(title);
        }
    }
    let now = now_ms();
    let mut seen = HashSet::new();
    Ok(jobs
        .iter()
        .map(|j| {
            // The list is newest first: the first row of a film is its latest job.
            let latest = seen.insert((j.movie_id, j.kind.clone()));
            JobRow {
                id: j.id,
                movie_id: j.movie_id.0,
                title: titles.get(&j.movie_id).cloned().unwrap_or_default(),
                kind: j.kind.to_uppercase(),
                state: j.state.as_str(),
                percent: (j.progress * 100.0).round().clamp(0.0, 100.0) as u32,
                attempts: j.attempts,
                worker: j.worker.clone().unwrap_or_default(),
                updated: ago(j.updated_ms, now),
                error: j.error.clone(),
                can_queue: latest
                    && j.kind == HLS_JOB
                    && matches!(j.state, JobState::Done | JobState::Failed),
            }
        })
        .collect())
}

/// `GET /admin/jobs[?movie=ID]`
pub async fn list_jobs(
    State(state): State<AppState>,
    pu: PageUser,
    Query(q): Query<JobsQuery>,
) -> PageResult<Response> {
    require_admin(&pu)?;
    let film = match q.movie.as_deref().filter(|m| !m.is_empty()) {
        Some(raw) => Some(
            state
                .store
                .movie_by_id(parse_id(raw)?)
                .await?
                .ok_or(AppError::NotFound("film"))?,
        ),
        None => None,
    };
    let jobs = state
        .store
        .list_jobs(film.as_ref().map(|m| m.id), PAGE_SIZE)
        .await?;
    let notice = match q.notice.as_deref() {
        Some("queued") => Some("Packaging is queued; a worker picks it up within seconds.".into()),
        Some("active") => Some("That film's packaging is already queued or running.".into()),
        _ => None,
    };
    let page = AdminJobsPage {
        chrome: Chrome::for_user(Some(&pu.user), pu.viewer.csrf_token.clone()),
        csrf: pu.viewer.csrf_token.clone().unwrap_or_default(),
        active: jobs
            .iter()
            .any(|j| matches!(j.state, JobState::Queued | JobState::Running)),
        jobs: job_rows(&state, &jobs).await?,
        film: film.map(|m| (m.id.0, m.title)),
        notice,
    };
    Ok(render::page(&page)?.into_response())
}

/// `POST /admin/movies/{id}/package`: queues the film's HLS packaging again (after a failure,
/// or to redo it); the current packaging keeps being served until the new one is done.
pub async fn queue_packaging(
    State(state): State<AppState>,
    pu: PageUser,
    Path(id): Path<String>,
) -> PageResult<Response> {
    require_admin(&pu)?;
    let movie = state
        .store
        .movie_by_id(parse_id(&id)?)
        .await?
        .ok_or(AppError::NotFound("film"))?;
    if state.store.media_for(movie.id).await?.is_none() {
        return Err(AppError::Conflict(
            "This film has no media to package; add a video first.".into(),
        ));
    }
    let active = state
        .store
        .list_jobs(Some(movie.id), 10)
        .await?
        .iter()
        .any(|j| j.kind == HLS_JOB && matches!(j.state, JobState::Queued | JobState::Running));
    // Enqueueing returns the active job when there is one, so a double submit queues once.
    let job = state.store.enqueue_job(HLS_JOB, movie.id, now_ms()).await?;
    let notice = if active { "active" } else { "queued" };
    tracing::info!(movie.id = %movie.id, job.id = job.id, admin = %pu.user.username, notice, "packaging queued by an admin");
    Ok(Redirect::to(&format!("/admin/jobs?movie={}&notice={notice}", movie.id)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_the_largest_whole_unit() {
        let now = 10_000_000_000;
        assert_eq!(ago(now - 1_000, now), "just now");
        assert_eq!(ago(now - 42_000, now), "42 s ago");
        assert_eq!(ago(now - 5 * 60_000, now), "5 min ago");
        assert_eq!(ago(now - 3 * 3_600_000, now), "3 h ago");
        assert_eq!(ago(now - 2 * 86_400_000, now), "2 days ago");
        assert_eq!(ago(now + 5_000, now), "just now");
    }
}
