//! `/api/v1/movies`: the catalog and each film's reviews.

use super::types::*;
use crate::error::{ApiError, ApiResult, AppError, Problem};
use crate::state::AppState;
use crate::web::extract::{ApiPath, ApiQuery};
use crate::web::pages::movies::{cursor_after, review_filter};
use axum::Json;
use axum::extract::State;
use marquee_domain::MovieId;

pub(super) fn page_limit(raw: Option<u32>, default: u32) -> Result<u32, ApiError> {
    match raw {
        None => Ok(default),
        Some(n @ 1..=100) => Ok(n),
        Some(_) => Err(AppError::from(marquee_domain::ValidationError::new(
            "limit",
            "must be from 1 to 100",
        ))
        .into()),
    }
}

pub(super) async fn load_movie(
    state: &AppState,
    id: i64,
) -> Result<marquee_store::Movie, ApiError> {
    Ok(state
        .store
        .movie_by_id(MovieId(id))
        .await?
        .ok_or(AppError::NotFound("film"))?)
}

/// List films by title.
#[utoipa::path(get, path = "/api/v1/movies", tag = "movies", params(MovieListQuery),
    responses((status = 200, body = MovieListResponse), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list_movies(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<MovieListQuery>,
) -> ApiResult<Json<MovieListResponse>> {
    let limit = page_limit(q.limit, 50)?;
    let after = match q.after.as_deref() {
        None | Some("") => None,
        Some(a) => {
            let id = a.parse::<i64>().map_err(|_| {
                AppError::BadRequest("`after` is not a cursor from this list".into())
            })?;
            let m = state
                .store
                .movie_by_id(MovieId(id))
                .await?
                .ok_or_else(|| AppError::BadRequest("`after` names no film".into()))?;
            Some((m.title, m.id))
        }
    };
    let mut movies = state
        .store
        .list_movies(after.as_ref().map(|(t, i)| (t.as_str(), *i)), limit + 1)
        .await?;
    let next = (movies.len() > limit as usize).then(|| {
        movies.truncate(limit as usize);
        movies.last().map_or(String::new(), |m| m.id.0.to_string())
    });
    Ok(Json(MovieListResponse {
        items: movies.iter().map(MovieSummary::from).collect(),
        next,
    }))
}

/// One film with its rating aggregates.
#[utoipa::path(get, path = "/api/v1/movies/{id}", tag = "movies", params(("id" = i64, Path, description = "Film id")),
    responses((status = 200, body = MovieResponse), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_movie(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<MovieResponse>> {
    let movie = load_movie(&state, id).await?;
    let stats = state.store.movie_stats(movie.id).await?;
    Ok(Json(MovieResponse::new(&movie, &stats)))
}

/// A film's reviews (ratings with text), sorted, filtered and paged with a cursor.
#[utoipa::path(get, path = "/api/v1/movies/{id}/reviews", tag = "reviews",
    params(("id" = i64, Path, description = "Film id"), ReviewListQuery),
    responses((status = 200, body = ReviewListResponse), (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_reviews(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ReviewListQuery>,
) -> ApiResult<Json<ReviewListResponse>> {
    let limit = page_limit(q.limit, 20)?;
    let movie = load_movie(&state, id).await?;
    let filter = review_filter(
        q.sort.as_deref(),
        q.stars.as_deref(),
        q.after.as_deref(),
        limit + 1,
    )
    .map_err(AppError::from)?;
    let mut reviews = state.store.list_reviews(movie.id, &filter).await?;
    let next = (reviews.len() > limit as usize).then(|| {
        reviews.truncate(limit as usize);
        reviews
            .last()
            .map(|r| cursor_after(filter.sort, r).encode())
            .unwrap_or_default()
    });
    Ok(Json(ReviewListResponse {
        items: reviews.iter().map(ReviewResponse::from).collect(),
        next,
    }))
}
