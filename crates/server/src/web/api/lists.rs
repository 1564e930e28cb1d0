//! `/api/v1/me/watchlist`, `/api/v1/me/diary` and `/api/v1/users/{username}`: the caller's
//! lists, and members' public profiles with their ratings (never the anonymous ones).

use super::movies::{load_movie, page_limit};
use super::types::{ReviewResponse, rfc3339};
use crate::error::{ApiResult, AppError, Problem};
use crate::lists::{self as rules, parse_after};
use crate::state::AppState;
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, ApiUser};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use marquee_domain::time_fmt::now_ms;
use marquee_domain::{Stars, ValidationError};
use marquee_store::{DiaryEntry, MovieCard, WatchlistEntry};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A film in a list.
#[derive(Serialize, ToSchema)]
pub struct ListedFilm {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub year: Option<u16>,
    pub runtime_minutes: Option<u16>,
    pub poster_url: Option<String>,
    /// The mean rating, `null` before the first.
    pub average: Option<f64>,
    pub rating_count: u64,
    /// The title page.
    pub url: String,
}

impl From<&MovieCard> for ListedFilm {
    fn from(c: &MovieCard) -> Self {
        Self {
            id: c.id.0,
            slug: c.slug.clone(),
            title: c.title.clone(),
            year: c.year,
            runtime_minutes: c.runtime_minutes,
            poster_url: c.poster.as_ref().map(|p| format!("/posters/{p}")),
            average: c.average(),
            rating_count: c.rating_count,
            url: format!("/movies/{}", c.slug),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The `next` cursor of the previous page (opaque).
    pub after: Option<String>,
    /// Page size, 1–100 (default 50).
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct WatchlistItem {
    pub movie: ListedFilm,
    pub added_at: String,
}

impl From<&WatchlistEntry> for WatchlistItem {
    fn from(e: &WatchlistEntry) -> Self {
        Self {
            movie: (&e.card).into(),
            added_at: rfc3339(e.added_ms),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct WatchlistResponse {
    /// Latest added first.
    pub items: Vec<WatchlistItem>,
    /// Pass as `after` for the next page; `null` on the last.
    pub next: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct WatchlistStatusResponse {
    pub movie_id: i64,
    pub on_watchlist: bool,
}

/// The caller's watchlist, latest added first.
#[utoipa::path(get, path = "/api/v1/me/watchlist", tag = "lists", params(ListQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = WatchlistResponse), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_watchlist(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<WatchlistResponse>> {
    let limit = page_limit(q.limit, 50)?;
    let after =
        parse_after(q.after.as_deref(), rules::parse_watchlist_cursor).map_err(AppError::from)?;
    let mut rows = state.store.watchlist(user.id, after, limit + 1).await?;
    let next = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        rows.last().map(rules::watchlist_cursor).unwrap_or_default()
    });
    Ok(Json(WatchlistResponse {
        items: rows.iter().map(WatchlistItem::from).collect(),
        next,
    }))
}

/// Whether a film is on the caller's watchlist: 200 when it is, 404 when it is not.
#[utoipa::path(get, path = "/api/v1/me/watchlist/{movie_id}", tag = "lists", params(("movie_id" = i64, Path, description = "Film id")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = WatchlistStatusResponse), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json", description = "No such film, or not on the watchlist")))]
pub async fn get_watchlist_entry(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(movie_id): ApiPath<i64>,
) -> ApiResult<Json<WatchlistStatusResponse>> {
    let movie = load_movie(&state, movie_id).await?;
    if !state.store.on_watchlist(user.id, movie.id).await? {
        return Err(AppError::NotFound("watchlist entry").into());
    }
    Ok(Json(WatchlistStatusResponse {
        movie_id: movie.id.0,
        on_watchlist: true,
    }))
}

/// Put a film on the caller's watchlist: 201 when added, 200 when it was already there (its
/// date stays).
#[utoipa::path(put, path = "/api/v1/me/watchlist/{movie_id}", tag = "lists", params(("movie_id" = i64, Path, description = "Film id")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = WatchlistStatusResponse, description = "Added"), (status = 200, body = WatchlistStatusResponse, description = "Already there"),
              (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn put_watchlist_entry(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(movie_id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<WatchlistStatusResponse>)> {
    let movie = load_movie(&state, movie_id).await?;
    let added = state
        .store
        .add_to_watchlist(user.id, movie.id, now_ms())
        .await?;
    Ok((
        if added {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(WatchlistStatusResponse {
            movie_id: movie.id.0,
            on_watchlist: true,
        }),
    ))
}

/// Take a film off the caller's watchlist: 204, or 404 when it was not on it.
#[utoipa::path(delete, path = "/api/v1/me/watchlist/{movie_id}", tag = "lists", params(("movie_id" = i64, Path, description = "Film id")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 204, description = "Removed"), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_watchlist_entry(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(movie_id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let movie = load_movie(&state, movie_id).await?;
    if !state.store.remove_from_watchlist(user.id, movie.id).await? {
        return Err(AppError::NotFound("watchlist entry").into());
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct DiaryEntryResponse {
    pub id: i64,
    pub movie: ListedFilm,
    /// `YYYY-MM-DD`.
    pub watched_on: String,
    pub rewatch: bool,
    /// Stars given that day (1–5), if any; the film's rating is separate.
    pub stars: Option<u8>,
    pub created_at: String,
}

impl From<&DiaryEntry> for DiaryEntryResponse {
    fn from(e: &DiaryEntry) -> Self {
        Self {
            id: e.id,
            movie: (&e.card).into(),
            watched_on: e.watched_on.to_string(),
            rewatch: e.rewatch,
            stars: e.stars,
            created_at: rfc3339(e.created_ms),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DiaryResponse {
    /// Latest day first.
    pub items: Vec<DiaryEntryResponse>,
    /// Pass as `after` for the next page; `null` on the last.
    pub next: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct DiaryRequest {
    pub movie_id: i64,
    /// `YYYY-MM-DD`; today (UTC) when left out. Not after tomorrow.
    pub watched_on: Option<String>,
    #[serde(default)]
    pub rewatch: bool,
    /// 1 to 5, optional.
    pub stars: Option<i64>,
}

/// The caller's diary, latest day first.
#[utoipa::path(get, path = "/api/v1/me/diary", tag = "lists", params(ListQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = DiaryResponse), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_diary(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<DiaryResponse>> {
    let limit = page_limit(q.limit, 50)?;
    let after =
        parse_after(q.after.as_deref(), rules::parse_diary_cursor).map_err(AppError::from)?;
    let mut rows = state.store.diary(user.id, after, limit + 1).await?;
    let next = (rows.len() > limit as usize).then(|| {
        rows.truncate(limit as usize);
        rows.last().map(rules::diary_cursor).unwrap_or_default()
    });
    Ok(Json(DiaryResponse {
        items: rows.iter().map(DiaryEntryResponse::from).collect(),
        next,
    }))
}

/// Log a viewing. One entry per film and day: logging the same day again answers 200 with that
/// entry, its rewatch flag and stars updated (stars left out keep the ones given); a new entry
/// is 201.
#[utoipa::path(post, path = "/api/v1/me/diary", tag = "lists", request_body = DiaryRequest,
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, body = DiaryEntryResponse, description = "Logged"), (status = 200, body = DiaryEntryResponse, description = "That day's entry, updated"),
              (status = 400, body = Problem, content_type = "application/problem+json"), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_diary_entry(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(req): ApiJson<DiaryRequest>,
) -> ApiResult<(StatusCode, Json<DiaryEntryResponse>)> {
    let movie = load_movie(&state, req.movie_id).await?;
    let stars = req
        .stars
        .map(Stars::new)
        .transpose()
        .map_err(|e| ValidationError::new("stars", e.message));
    let entry = rules::parse_viewing(movie.id, req.watched_on.as_deref(), req.rewatch, stars)
        .map_err(AppError::Invalid)?;
    let (saved, created) = rules::log_viewing(&state, &user, &entry).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json((&saved).into()),
    ))
}

/// Delete one of the caller's diary entries (anyone else's is a 404).
#[utoipa::path(delete, path = "/api/v1/me/diary/{id}", tag = "lists", params(("id" = i64, Path, description = "Diary entry id")),
    security(("bearer" = []), ("session" = [])),
    responses((status = 204, description = "Deleted"), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_diary_entry(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    state.store.delete_diary_entry(user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct ProfileResponse {
    pub username: String,
    pub display_name: String,
    pub joined_at: String,
    /// Public ratings (those posted as "A Marquee user" are not counted).
    pub rating_count: u64,
    /// Public ratings with text.
    pub review_count: u64,
    /// The profile page.
    pub url: String,
}

/// A member's public profile.
#[utoipa::path(get, path = "/api/v1/users/{username}", tag = "profiles", params(("username" = String, Path, description = "Username")),
    responses((status = 200, body = ProfileResponse), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_profile(
    State(state): State<AppState>,
    ApiPath(username): ApiPath<String>,
) -> ApiResult<Json<ProfileResponse>> {
    let member = rules::find_member(&state, &username)
        .await?
        .ok_or(AppError::NotFound("profile"))?;
    let counts = rules::public_counts(state.store.as_ref(), member.id).await?;
    Ok(Json(ProfileResponse {
        url: format!("/users/{}", member.username),
        username: member.username,
        display_name: member.display_name,
        joined_at: rfc3339(member.created_ms),
        rating_count: counts.ratings,
        review_count: counts.reviews,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ProfileRating {
    pub movie: ListedFilm,
    pub review: ReviewResponse,
}

#[derive(Serialize, ToSchema)]
pub struct ProfileRatingsResponse {
    /// Latest first; never a rating posted as "A Marquee user".
    pub items: Vec<ProfileRating>,
    /// Pass as `after` for the next page; `null` on the last.
    pub next: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProfileRatingsQuery {
    /// The `next` cursor of the previous page (opaque).
    pub after: Option<String>,
    /// Page size, 1–100 (default 20).
    pub limit: Option<u32>,
}

/// A member's public ratings and reviews, latest first. Ratings posted as "A Marquee user" are
/// left out.
#[utoipa::path(get, path = "/api/v1/users/{username}/ratings", tag = "profiles",
    params(("username" = String, Path, description = "Username"), ProfileRatingsQuery),
    responses((status = 200, body = ProfileRatingsResponse), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_user_ratings(
    State(state): State<AppState>,
    ApiPath(username): ApiPath<String>,
    ApiQuery(q): ApiQuery<ProfileRatingsQuery>,
) -> ApiResult<Json<ProfileRatingsResponse>> {
    let limit = page_limit(q.limit, 20)?;
    let member = rules::find_member(&state, &username)
        .await?
        .ok_or(AppError::NotFound("profile"))?;
    let after =
        parse_after(q.after.as_deref(), rules::parse_rating_cursor).map_err(AppError::from)?;
    let (ratings, next) = rules::public_ratings(&state, member.id, after, limit).await?;
    Ok(Json(ProfileRatingsResponse {
        items: ratings
            .iter()
            .map(|r| ProfileRating {
                movie: (&r.card).into(),
                review: (&r.review).into(),
            })
            .collect(),
        next,
    }))
}
