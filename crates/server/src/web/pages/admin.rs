//! The administrator's catalog pages: list, add, edit, remove films and upload posters.

use crate::catalog::{draft_from_fields, fields_from_movie};
use crate::error::{AppError, PageResult};
use crate::posters;
use crate::render::{
    self, AdminMovieFormPage, AdminMovieRow, AdminMoviesPage, Chrome, MovieFormFields,
};
use crate::state::AppState;
use crate::web::extract::PageUser;
use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use marquee_domain::{ContentRating, MovieId};
use serde::Deserialize;

pub(crate) fn require_admin(pu: &PageUser) -> PageResult<()> {
    if pu.user.is_admin {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Only an administrator can change the catalog.".into(),
        ))
    }
}

pub(crate) fn parse_id(raw: &str) -> PageResult<MovieId> {
    raw.parse()
        .map(MovieId)
        .map_err(|_| AppError::NotFound("film"))
}

#[derive(Deserialize)]
pub struct AdminListQuery {
    after: Option<String>,
    notice: Option<String>,
}

/// `GET /admin/movies`
pub async fn list_movies(
    State(state): State<AppState>,
    pu: PageUser,
    Query(q): Query<AdminListQuery>,
) -> PageResult<Response> {
    require_admin(&pu)?;
    let after = match q.after.as_deref().map(str::parse::<i64>) {
        Some(Ok(id)) => state
            .store
            .movie_by_id(MovieId(id))
            .await?
            .map(|m| (m.title, m.id)),
        _ => None,
    };
    let limit = 100;
    let mut movies = state
        .store
        .list_movies(after.as_ref().map(|(t, i)| (t.as_str(), *i)), limit + 1)
        .await?;
    let next_url = (movies.len() > limit as usize).then(|| {
        movies.truncate(limit as usize);
        format!(
            "/admin/movies?after={}",
            movies.last().map_or(0, |m| m.id.0)
        )
    });
    let notice = match q.notice.as_deref() {
        Some("removed") => Some("The film was removed.".to_owned()),
        _ => None,
    };
    let page = AdminMoviesPage {
        chrome: Chrome::for_user(Some(&pu.user), pu.viewer.csrf_token.clone()),
        csrf: pu.viewer.csrf_token.clone().unwrap_or_default(),
        movies: movies
            .iter()
            .map(|m| AdminMovieRow {
                id: m.id.0,
                slug: m.slug.clone(),
                title: m.title.clone(),
                year: m.year.map(|y| y.to_string()).unwrap_or_default(),
            })
            .collect(),
        next_url,
        notice,
    };
    Ok(render::page(&page)?.into_response())
}

fn form_page(
    pu: &PageUser,
    movie_id: Option<i64>,
    f: MovieFormFields,
    errors: Vec<String>,
    status: StatusCode,
) -> PageResult<Response> {
    let page = AdminMovieFormPage {
        chrome: Chrome::for_user(Some(&pu.user), pu.viewer.csrf_token.clone()),
        csrf: pu.viewer.csrf_token.clone().unwrap_or_default(),
        heading: if movie_id.is_some() {
            format!("Edit “{}”", f.title)
        } else {
            "Add a film".to_owned()
        },
        action: movie_id.map_or_else(
            || "/admin/movies/new".to_owned(),
            |id| format!("/admin/movies/{id}/edit"),
        ),
        movie_id,
        f,
        ratings: ContentRating::ALL.iter().map(|r| r.as_str()).collect(),
        errors,
    };
    Ok((status, render::page(&page)?).into_response())
}

/// `GET /admin/movies/new`
pub async fn new_movie(pu: PageUser) -> PageResult<Response> {
    require_admin(&pu)?;
    let f = MovieFormFields {
        content_rating: "NR".into(),
        ..Default::default()
    };
    form_page(&pu, None, f, Vec::new(), StatusCode::OK)
}

/// `POST /admin/movies/new`
pub async fn create_movie(
    State(state): State<AppState>,
    pu: PageUser,
    Form(f): Form<MovieFormFields>,
) -> PageResult<Response> {
    require_admin(&pu)?;
    let draft = match draft_from_fields(&f) {
        Ok(d) => d,
        Err(errors) => {
            let msgs = errors.iter().map(|e| e.to_string()).collect();
            return form_page(&pu, None, f, msgs, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    match state.store.create_movie(&draft).await {
        Ok(m) => {
            // No page of a new film is cached, but search answers and catalog pages without it
            // are.
            state.changed(m.id).await;
            Ok(Redirect::to(&format!("/admin/movies/{}/edit", m.id)).into_response())
        }
        Err(marquee_store::StoreError::Conflict(msg)) => {
            form_page(&pu, None, f, vec![msg], StatusCode::CONFLICT)
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /admin/movies/{id}/edit`
pub async fn edit_movie(
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
    form_page(
        &pu,
        Some(movie.id.0),
        fields_from_movie(&movie),
        Vec::new(),
        StatusCode::OK,
    )
}

/// `POST /admin/movies/{id}/edit`
pub async fn update_movie(
    State(state): State<AppState>,
    pu: PageUser,
    Path(id): Path<String>,
    Form(f): Form<MovieFormFields>,
) -> PageResult<Response> {
    require_admin(&pu)?;
    let id = parse_id(&id)?;
    let draft = match draft_from_fields(&f) {
        Ok(d) => d,
        Err(errors) => {
            let msgs = errors.iter().map(|e| e.to_string()).collect();
            return form_page(&pu, Some(id.0), f, msgs, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    match state.store.update_movie(id, &draft).await {
        Ok(m) => {
            state.cache.invalidate_movie(m.id);
            state.changed(m.id).await;
            Ok(Redirect::to(&format!("/movies/{}", m.slug)).into_response())
        }
        Err(marquee_store::StoreError::Conflict(msg)) => {
            form_page(&pu, Some(id.0), f, vec![msg], StatusCode::CONFLICT)
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/movies/{id}/delete`
pub async fn delete_movie(
    State(state): State<AppState>,
    pu: PageUser,
    Path(id): Path<String>,
) -> PageResult<Response> {
    require_admin(&pu)?;
    let id = parse_id(&id)?;
    let movie = state
        .store
        .movie_by_id(id)
        .await?
        .ok_or(AppError::NotFound("film"))?;
    state.store.delete_movie(id).await?;
    state.cache.invalidate_movie(id);
    state.changed(id).await;
    if let Some(p) = movie.poster {
        posters::remove(&state.settings.poster_dir(), &p).await;
    }
    Ok(Redirect::to("/admin/movies?notice=removed").into_response())
}

/// `POST /admin/movies/{id}/poster` (multipart, field `poster`).
pub async fn upload_poster(
    State(state): State<AppState>,
    pu: PageUser,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> PageResult<Response> {
    require_admin(&pu)?;
    let movie = state
        .store
        .movie_by_id(parse_id(&id)?)
        .await?
        .ok_or(AppError::NotFound("film"))?;
    let mut data = Vec::new();
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::BadRequest(e.body_text()))?
    {
        if field.name() != Some("poster") {
            continue;
        }
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| AppError::BadRequest(e.body_text()))?
        {
            if data.len() + chunk.len() > posters::MAX_BYTES {
                return Err(AppError::BadRequest(
                    posters::PosterError::TooLarge.to_string(),
                ));
            }
            data.extend_from_slice(&chunk);
        }
    }
    let dir = state.settings.poster_dir();
    let name = match posters::save(&dir, movie.id.0, &data).await {
        Ok(n) => n,
        Err(posters::PosterError::Io(e)) => return Err(AppError::Internal(e.into())),
        Err(e) => return Err(AppError::BadRequest(e.to_string())),
    };
    state.store.set_poster(movie.id, Some(&name)).await?;
    state.cache.invalidate_movie(movie.id);
    state.changed(movie.id).await;
    if let Some(old) = movie.poster {
        posters::remove(&dir, &old).await;
    }
    Ok(Redirect::to(&format!("/admin/movies/{}/edit", movie.id)).into_response())
}
