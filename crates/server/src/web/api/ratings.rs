//! The caller's own rating of a film, and helpful votes on reviews.

use super::movies::load_movie;
use super::types::*;
use crate::error::{ApiResult, AppError, Problem};
use crate::ratings;
use crate::state::AppState;
use crate::web::extract::{ApiJson, ApiPath, ApiUser};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use marquee_domain::{MovieId, ReviewId, Stars, ValidationError};

fn stars_of(raw: Option<i64>) -> Result<Stars, ValidationError> {
    raw.map_or_else(
        || Err(ValidationError::new("stars", "choose from 1 to 5 stars")),
        Stars::new,
    )
}

async fn put(
    state: &AppState,
    movie: MovieId,
    user: &marquee_store::User,
    req: &RatingRequest,
) -> ApiResult<Json<RatingResponse>> {
    let input = ratings::parse_rating(
        stars_of(req.stars),
        req.headline.as_deref(),
        req.body.as_deref(),
        req.anonymous,
    )
    .map_err(AppError::Invalid)?;
    let review = ratings::save_rating(state, movie, user, &input).await?;
    let stats = state.store.movie_stats(movie).await?;
    Ok(Json(RatingResponse {
        review: (&review).into(),
        stats: (&stats).into(),
    }))
}

/// The caller's rating of a film.
#[utoipa::path(get, path = "/api/v1/movies/{id}/rating", tag = "ratings", params(("id" = i64, Path, description = "Film id")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = ReviewResponse), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_rating(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ReviewResponse>> {
    let movie = load_movie(&state, id).await?;
    let r = state
        .store
        .rating_by_user(movie.id, user.id)
        .await?
        .ok_or(AppError::NotFound("rating"))?;
    Ok(Json((&r).into()))
}

/// Rate a film, optionally with a review; replaces the caller's earlier rating. New text
/// removes the votes the old text received.
#[utoipa::path(put, path = "/api/v1/movies/{id}/rating", tag = "ratings", params(("id" = i64, Path, description = "Film id")),
    request_body = RatingRequest, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = RatingResponse), (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn put_rating(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<RatingRequest>,
) -> ApiResult<Json<RatingResponse>> {
    let movie = load_movie(&state, id).await?;
    put(&state, movie.id, &user, &req).await
}

/// Remove the caller's rating, its review and the votes on it.
#[utoipa::path(delete, path = "/api/v1/movies/{id}/rating", tag = "ratings", params(("id" = i64, Path, description = "Film id")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 204, description = "Removed"), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_rating(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let movie = load_movie(&state, id).await?;
    ratings::delete_rating(&state, movie.id, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn own_review(
    state: &AppState,
    user: &marquee_store::User,
    id: i64,
) -> Result<marquee_store::Review, AppError> {
    let review = state
        .store
        .review_by_id(ReviewId(id))
        .await?
        .ok_or(AppError::NotFound("review"))?;
    if review.user_id != user.id {
        return Err(AppError::Forbidden(
            "You can only change your own review.".into(),
        ));
    }
    Ok(review)
}

/// Edit a rating or review by its id; only its author may.
#[utoipa::path(put, path = "/api/v1/reviews/{id}", tag = "ratings", params(("id" = i64, Path, description = "Review id")),
    request_body = RatingRequest, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = RatingResponse), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn put_review(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<RatingRequest>,
) -> ApiResult<Json<RatingResponse>> {
    let review = own_review(&state, &user, id).await?;
    put(&state, review.movie_id, &user, &req).await
}

/// Delete a rating or review by its id; only its author may.
#[utoipa::path(delete, path = "/api/v1/reviews/{id}", tag = "ratings", params(("id" = i64, Path, description = "Review id")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 204, description = "Removed"), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_review(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let review = own_review(&state, &user, id).await?;
    ratings::delete_rating(&state, review.movie_id, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Say whether a review was helpful, or change that answer. Not allowed on one's own review;
/// repeating the same vote is a conflict.
#[utoipa::path(put, path = "/api/v1/reviews/{id}/vote", tag = "votes", params(("id" = i64, Path, description = "Review id")),
    request_body = VoteRequest, security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = VoteResponse), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn put_vote(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<VoteRequest>,
) -> ApiResult<Json<VoteResponse>> {
    Ok(Json(
        ratings::vote(&state, ReviewId(id), &user, Some(req.helpful))
            .await?
            .into(),
    ))
}

/// Withdraw the caller's vote on a review.
#[utoipa::path(delete, path = "/api/v1/reviews/{id}/vote", tag = "votes", params(("id" = i64, Path, description = "Review id")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = VoteResponse), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_vote(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<VoteResponse>> {
    Ok(Json(
        ratings::vote(&state, ReviewId(id), &user, None)
            .await?
            .into(),
    ))
}
