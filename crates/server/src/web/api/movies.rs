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
