//! The versioned JSON API under `/api/v1`, and its OpenAPI 3.1 description generated from the
//! handlers' annotations, so the document can not drift from the code.

mod account;
mod browse;
mod devices;
mod jobs;
mod lists;
mod movies;
mod playback;
mod ratings;
mod sessions;
pub mod types;

use crate::error::{ApiError, AppError, FieldProblem, Problem};
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::routing::{get, post, put};
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(title = "Marquee API", description = "Films, ratings, reviews, helpful votes and playback. Errors are RFC 9457 problem documents. \
        Authenticate with a personal access token (`Authorization: Bearer mq_…`), or with the session cookie from \
        `POST /api/v1/sessions` plus its CSRF token in `X-CSRF-Token` on every write."),
    paths(
        browse::list_movies, browse::search, browse::suggest, browse::list_genres, browse::get_person,
        movies::get_movie, movies::list_reviews,
        ratings::get_rating, ratings::put_rating, ratings::delete_rating, ratings::put_review, ratings::delete_review,
        ratings::put_vote, ratings::delete_vote,
        playback::playback, playback::progress,
        jobs::get_media, jobs::list_jobs,
        sessions::create_session, sessions::delete_session, sessions::me,
        sessions::list_tokens, sessions::create_token, sessions::delete_token,
        devices::request_device_code, devices::exchange_device_code,
        lists::list_watchlist, lists::get_watchlist_entry, lists::put_watchlist_entry, lists::delete_watchlist_entry,
        lists::list_diary, lists::create_diary_entry, lists::delete_diary_entry,
        lists::get_profile, lists::list_user_ratings,
        account::export, account::delete_me,
    ),
    components(schemas(Problem, FieldProblem)),
    modifiers(&SecurityAddon)
)]
pub struct ApiDoc;

struct SecurityAddon;

impl utoipa::Modify for SecurityAddon {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

async fn not_found() -> ApiError {
    AppError::NotFound("API endpoint").into()
}

async fn method_not_allowed() -> ApiError {
    AppError::MethodNotAllowed.into()
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .route("/api/v1/movies", get(browse::list_movies))
        .route("/api/v1/search", get(browse::search))
        .route("/api/v1/search/suggest", get(browse::suggest))
        .route("/api/v1/genres", get(browse::list_genres))
        .route("/api/v1/people/{name}", get(browse::get_person))
        .route("/api/v1/movies/{id}", get(movies::get_movie))
        .route("/api/v1/movies/{id}/reviews", get(movies::list_reviews))
        .route("/api/v1/movies/{id}/playback", get(playback::playback))
        .route("/api/v1/movies/{id}/progress", put(playback::progress))
        .route("/api/v1/movies/{id}/media", get(jobs::get_media))
        .route("/api/v1/jobs", get(jobs::list_jobs))
        .route(
            "/api/v1/movies/{id}/rating",
            get(ratings::get_rating)
                .put(ratings::put_rating)
                .delete(ratings::delete_rating),
        )
        .route(
            "/api/v1/reviews/{id}",
            put(ratings::put_review).delete(ratings::delete_review),
        )
        .route(
            "/api/v1/reviews/{id}/vote",
            put(ratings::put_vote).delete(ratings::delete_vote),
        )
        .route("/api/v1/sessions", post(sessions::create_session))
        .route(
            "/api/v1/sessions/current",
            axum::routing::delete(sessions::delete_session),
        )
        .route("/api/v1/me", get(sessions::me))
        .route("/api/v1/device/code", post(devices::request_device_code))
        .route("/api/v1/device/token", post(devices::exchange_device_code))
        .route(
            "/api/v1/tokens",
            get(sessions::list_tokens).post(sessions::create_token),
        )
        .route(
            "/api/v1/tokens/{id}",
            axum::routing::delete(sessions::delete_token),
        )
        // The caller's lists, data and account; members' profiles (lists.rs, account.rs).
        .route("/api/v1/me", axum::routing::delete(account::delete_me))
        .route("/api/v1/me/export", get(account::export))
        .route("/api/v1/me/watchlist", get(lists::list_watchlist))
        .route(
            "/api/v1/me/watchlist/{movie_id}",
            get(lists::get_watchlist_entry)
                .put(lists::put_watchlist_entry)
                .delete(lists::delete_watchlist_entry),
        )
        .route(
            "/api/v1/me/diary",
            get(lists::list_diary).post(lists::create_diary_entry),
        )
        .route(
            "/api/v1/me/diary/{id}",
            axum::routing::delete(lists::delete_diary_entry),
        )
        .route("/api/v1/users/{username}", get(lists::get_profile))
        .route(
            "/api/v1/users/{username}/ratings",
            get(lists::list_user_ratings),
        )
        .route("/api/v1/{*rest}", axum::routing::any(not_found))
        .method_not_allowed_fallback(method_not_allowed)
}
