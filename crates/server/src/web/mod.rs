//! The HTTP surface: pages, the JSON API and assets merged into one router, with the layers
//! every response goes through (security headers, body limits, CSRF on page forms, tracing).

pub mod api;
mod assets;
pub mod extract;
pub mod hls;
pub mod pages;
pub mod stream;

use crate::error::AppError;
use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, header};
use axum::routing::{get, post};
use pages::{accounts, admin, admin_media, browse, devices, jobs, lists, movies, watch};
use tower_http::set_header::SetResponseHeaderLayer;

async fn not_found() -> AppError {
    AppError::NotFound("page")
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}

async fn healthz() -> &'static str {
    "ok"
}

fn pages() -> Router<AppState> {
    Router::new()
        .route("/", get(browse::home))
        .route("/movies", get(browse::browse))
        .route("/search", get(browse::search))
        .route("/people/{name}", get(browse::person))
        .route("/about/ratings", get(browse::about_ratings))
        .route("/movies/{slug}", get(movies::show_movie))
        .route("/movies/{slug}/reviews", get(movies::list_reviews))
        .route("/movies/{slug}/rating", post(movies::save_rating))
        .route("/movies/{slug}/rating/delete", post(movies::delete_rating))
        .route("/reviews/{id}/vote", post(movies::vote))
        .route(
            "/signin",
            get(accounts::show_sign_in).post(accounts::sign_in),
        )
        .route(
            "/signup",
            get(accounts::show_sign_up).post(accounts::sign_up),
        )
        .route("/signout", post(accounts::sign_out))
        .route(
            "/activate",
            get(devices::show_activate).post(devices::enter_code),
        )
        .route("/activate/decision", post(devices::decide_code))
        .route("/help/devices", get(devices::help_devices))
        .route(
            "/account/tokens",
            get(accounts::show_tokens).post(accounts::create_token),
        )
        .route("/account/tokens/{id}/delete", post(accounts::delete_token))
        // A viewer's lists, profiles and data (pages/lists.rs).
        .route("/movies/{slug}/watchlist", post(lists::add_to_watchlist))
        .route(
            "/movies/{slug}/watchlist/remove",
            post(lists::remove_from_watchlist),
        )
        .route("/movies/{slug}/diary", post(lists::log_viewing))
        .route("/watchlist", get(lists::show_watchlist))
        .route("/diary", get(lists::show_diary))
        .route("/diary/{id}/delete", post(lists::delete_diary_entry))
        .route("/users/{username}", get(lists::show_profile))
        .route("/account/export", get(lists::export_data))
        .route("/account/delete", post(lists::delete_account))
        .route("/account/deleted", get(lists::account_deleted))
        .route("/admin/movies", get(admin::list_movies))
        .route(
            "/admin/movies/new",
            get(admin::new_movie).post(admin::create_movie),
        )
        .route(
            "/admin/movies/{id}/edit",
            get(admin::edit_movie).post(admin::update_movie),
        )
        .route("/admin/movies/{id}/delete", post(admin::delete_movie))
        .route("/admin/jobs", get(jobs::list_jobs))
        .route("/admin/movies/{id}/package", post(jobs::queue_packaging))
        .route(
            "/admin/movies/{id}/media",
            get(admin_media::show)
                // A film file may be many GB: the handler streams it to disk, so no limit here.
                .post(admin_media::upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/admin/movies/{id}/media/access",
            post(admin_media::set_access),
        )
        .route("/admin/movies/{id}/media/remove", post(admin_media::remove))
        .route(
            "/admin/movies/{id}/poster",
            post(admin::upload_poster)
                .layer(DefaultBodyLimit::max(crate::posters::MAX_BYTES + 64 * 1024)),
        )
        .method_not_allowed_fallback(method_not_allowed)
}

/// The whole application, ready to serve or to drive with `oneshot` in tests.
pub fn router(state: AppState) -> Router {
    let csrf = axum::middleware::from_fn_with_state(state.clone(), extract::csrf_guard);
    Router::new()
        .merge(pages().route_layer(csrf))
        .merge(api::router())
        .route("/assets/app.css", get(assets::app_css))
        .route("/assets/app.js", get(assets::app_js))
        .route("/assets/player.js", get(assets::player_js))
        .route("/posters/{name}", get(assets::poster))
        .route("/watch/{slug}", get(watch::watch))
        .route("/media/{slug}/file", get(stream::direct))
        .route("/media/{slug}/subtitles/{file}", get(stream::subtitles))
        .route("/media/{slug}/hls/{*path}", get(hls::hls_file))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        // Playlists fetched with a device's signed URL carry the signature into their URIs.
        .layer(axum::middleware::from_fn(
            crate::signed_urls::sign_playlists,
        ))
        .layer(DefaultBodyLimit::max(256 * 1024))
        // Spans and response logs at DEBUG: `RUST_LOG=tower_http=debug` shows every request.
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                 object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
        .with_state(state)
}
