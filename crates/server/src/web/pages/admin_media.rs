//! The admin's media page for a film: upload (streamed to disk, any size), subtitles, who may
//! watch, packaging state, removal.

use crate::error::{AppError, PageResult};
use crate::media::{self, MediaError, SubtitleInput};
use crate::render::{self, AdminMediaPage, Chrome};
use crate::state::AppState;
use crate::web::extract::PageUser;
use crate::web::pages::admin::{parse_id, require_admin};
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use marquee_domain::time_fmt::clock;
use marquee_media::SubtitleLang;
use marquee_store::Movie;
use serde::Deserialize;
use std::path::{Path as FsPath, PathBuf};
use tokio::io::AsyncWriteExt;

#[derive(Deserialize)]
pub struct NoticeQuery {
    notice: Option<String>,
}

async fn film(state: &AppState, id: &str) -> PageResult<Movie> {
    state
        .store
        .movie_by_id(parse_id(id)?)
        .await?
        .ok_or(AppError::NotFound("film"))
}

async fn render_page(
    state: &AppState,
    pu: &PageUser,
    movie: &Movie,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult<Html<String>> {
    let media = state.store.media_for(movie.id).await?;
    let subtitles = state.store.subtitles_for(movie.id).await?;
    let jobs = state.store.list_jobs(Some(movie.id), 5).await?;
    let page = AdminMediaPage {
        chrome: Chrome::for_user(Some(&pu.user), pu.viewer.csrf_token.clone()),
        csrf: pu.viewer.csrf_token.clone().unwrap_or_default(),
        movie_id: movie.id.0,
        title: movie.title.clone(),
        slug: movie.slug.clone(),
        members_only: movie.members_only,
        media: media.map(|m| {
            format!(
                "{} · {} · {}×{} {} / {} · {:.1} MB",
                m.file_name,
                clock(m.duration_ms),
                m.width,
                m.height,
                m.video_codec,
                m.audio_codec.as_deref().unwrap_or("no audio"),
                m.size_bytes as f64 / 1e6
            )
        }),
        subtitles: subtitles
            .iter()
            .map(|s| format!("{} ({})", s.label, s.lang))
            .collect(),
        jobs: jobs
            .iter()
            .map(|j| {
                format!(
                    "{} packaging: {} {:.0} %{}",
                    j.kind.to_uppercase(),
                    j.state.as_str(),
                    j.progress * 100.0,
                    j.error
                        .as_deref()
                        .map(|e| format!(" — {e}"))
                        .unwrap_or_default()
                )
            })
            .collect(),
        notice,
        error,
    };
    render::page(&page)
}

/// `GET /admin/movies/{id}/media`
pub async fn show(
    State(state): State<AppState>,
    pu: PageUser,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> PageResult<Response> {
    require_admin(&pu)?;
    let movie = film(&state, &id).await?;
    let notice = match q.notice.as_deref() {
        Some("added") => Some("The media was added; HLS packaging is queued.".to_owned()),
        Some("subtitles") => Some("The subtitles were saved.".to_owned()),
        Some("access") => Some("Saved who may watch.".to_owned()),
        Some("removed") => Some("The media was removed.".to_owned()),
        _ => None,
    };
    Ok(render_page(&state, &pu, &movie, notice, None)
        .await?
        .into_response())
}

/// Files received in one upload, removed when dropped (whatever happens to the request).
struct Received {
    dir: PathBuf,
    media: Option<(PathBuf, String)>,
    subtitles: Option<(PathBuf, String)>,
    lang: Option<String>,
}

impl Drop for Received {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A browser-sent file name reduced to letters, digits, `.`, `-` and `_` (never a path).
fn safe_file_name(name: &str, fallback: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let clean = clean.trim_start_matches('.');
    if clean.is_empty() {
        fallback.to_owned()
    } else {
        clean.to_owned()
    }
}

/// Writes one multipart field to a file chunk by chunk: memory stays flat whatever the size.
async fn save_field(
    field: &mut axum::extract::multipart::Field<'_>,
    path: &FsPath,
    limit: u64,
) -> PageResult<u64> {
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let mut written = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(|e| {
        AppError::BadRequest(format!("The upload was interrupted: {}", e.body_text()))
    })? {
        written += chunk.len() as u64;
        if written > limit {
            return Err(AppError::PayloadTooLarge);
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    file.flush()
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(written)
}

/// `POST /admin/movies/{id}/media` (multipart: `media`, optional `subtitles` and `lang`).
pub async fn upload(
    State(state): State<AppState>,
    pu: PageUser,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> PageResult<Response> {
    require_admin(&pu)?;
    let movie = film(&state, &id).await?;
    let dir = state
        .settings
        .data_dir
        .join("uploads")
        .join(crate::auth::random_token());
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let mut got = Received {
        dir: dir.clone(),
        media: None,
        subtitles: None,
        lang: None,
    };
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(e.body_text()))?
    {
        let name = field.file_name().unwrap_or("upload").to_owned();
        match field.name() {
            Some("media") if !name.is_empty() => {
                // Saved under (a safe form of) its own name, so messages name the upload.
                let path = dir.join(safe_file_name(&name, "video"));
                if save_field(&mut field, &path, u64::MAX).await? > 0 {
                    got.media = Some((path, name));
                }
            }
            Some("subtitles") => {
                let path = dir.join(format!("sub-{}", safe_file_name(&name, "subtitles")));
                if save_field(&mut field, &path, media::MAX_SUBTITLE_BYTES).await? > 0 {
                    got.subtitles = Some((path, name));
                }
            }
            Some("lang") => {
                let text = field
                    .text()
                    .await
                    .map_err(|e| AppError::BadRequest(e.body_text()))?;
                got.lang = Some(text.trim().to_owned()).filter(|t| !t.is_empty());
            }
            _ => {}
        }
    }
    let result = ingest(&state, &movie, &got).await;
    match result {
        Ok(done) => {
            state.changed(movie.id).await;
            Ok(
                Redirect::to(&format!("/admin/movies/{}/media?notice={done}", movie.id))
                    .into_response(),
            )
        }
        Err(message) => {
            let html = render_page(&state, &pu, &movie, None, Some(message)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
    }
}

/// Adds what was received; the error is a sentence for the form.
async fn ingest(state: &AppState, movie: &Movie, got: &Received) -> Result<&'static str, String> {
    let subtitles = match (&got.subtitles, &got.lang) {
        (Some((path, name)), Some(code)) => {
            let lang = SubtitleLang::parse(code).map_err(|e| format!("Language: {e}"))?;
            vec![SubtitleInput {
                path: path.clone(),
                name: Some(name.clone()),
                lang,
            }]
        }
        (Some(_), None) => return Err("Say which language the subtitles are in.".into()),
        (None, _) => Vec::new(),
    };
    let outcome = match &got.media {
        Some((path, name)) => media::add_media(
            state.store.as_ref(),
            state.media.as_ref(),
            &state.tools,
            movie,
            path,
            name,
            &subtitles,
        )
        .await
        .map(|_| "added"),
        None => match subtitles.first() {
            Some(s) => media::add_subtitle(state.store.as_ref(), state.media.as_ref(), movie.id, s)
                .await
                .map(|_| "subtitles"),
            None => return Err("Choose a video file (or subtitles) to upload.".into()),
        },
    };
    outcome.map_err(|e| match e {
        MediaError::Store(marquee_store::StoreError::NotFound("media")) => {
            "Add the film's video before its subtitles.".to_owned()
        }
        MediaError::Storage(_) | MediaError::Store(_) => {
            tracing::error!(error = %e, "storing uploaded media failed");
            "The file could not be stored; nothing was changed. Try again later.".to_owned()
        }
        other => other.to_string(),
    })
}

#[derive(Deserialize)]
pub struct AccessForm {
    who: String,
}

/// `POST /admin/movies/{id}/media/access`
pub async fn set_access(
    State(state): State<AppState>,
    pu: PageUser,
    Path(id): Path<String>,
    Form(f): Form<AccessForm>,
) -> PageResult<Response> {
    require_admin(&pu)?;
    let movie = film(&state, &id).await?;
    let members_only = match f.who.as_str() {
        "members" => true,
        "public" => false,
        _ => return Err(AppError::BadRequest("Choose public or members.".into())),
    };
    state.store.set_members_only(movie.id, members_only).await?;
    state.changed(movie.id).await;
    Ok(Redirect::to(&format!("/admin/movies/{}/media?notice=access", movie.id)).into_response())
}

/// `POST /admin/movies/{id}/media/remove`
pub async fn remove(
    State(state): State<AppState>,
    pu: PageUser,
    Path(id): Path<String>,
) -> PageResult<Response> {
    require_admin(&pu)?;
    let movie = film(&state, &id).await?;
    media::remove_media(state.store.as_ref(), state.media.as_ref(), movie.id)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    state.changed(movie.id).await;
    Ok(Redirect::to(&format!("/admin/movies/{}/media?notice=removed", movie.id)).into_response())
}
