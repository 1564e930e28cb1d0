//! A viewer's lists and data as pages: the title page's watchlist button and "Log a viewing"
//! form, `/watchlist`, `/diary`, public profiles at `/users/{username}`, "Download your data"
//! and deleting the account. Forms post and redirect; bad input re-renders with the message.

use super::movies::{find_movie, render_title_page, title_data};
use crate::error::{AppError, PageResult};
use crate::lists::{self as rules, parse_after};
use crate::render::lists::{
    AccountDeletedPage, DeleteAccountView, DiaryFormView, DiaryPage, DiaryRowView, ProfilePage,
    ProfileRatingView, TitleListsView, WatchlistPage, WatchlistRowView, counts_line, long_day,
};
use crate::render::{self, Chrome};
use crate::state::AppState;
use crate::web::extract::{ClientAddr, PageUser, Viewer, local_path, urlencode};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use marquee_domain::time_fmt::{long_date, now_ms};
use marquee_store::{LeavingReviews, Movie, User};
use serde::Deserialize;

const PAGE_SIZE: u32 = 30;
const PROFILE_PAGE_SIZE: u32 = 20;

/// A page about one viewer: never stored by a shared cache.
fn private_page(status: StatusCode, html: String) -> Response {
    let mut res = (status, axum::response::Html(html)).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

fn query_or_400<T>(q: Result<Query<T>, QueryRejection>) -> PageResult<T> {
    q.map(|q| q.0)
        .map_err(|e| AppError::BadRequest(e.body_text()))
}

fn bad_link(e: marquee_domain::ValidationError) -> AppError {
    AppError::BadRequest(format!("That page link is not valid ({e})."))
}

/// The title page's "Your lists" part for a signed-in viewer: read for them on every request,
/// never cached. `diary` is the form as sent (with errors) or after a viewing was logged.
pub async fn title_lists(
    state: &AppState,
    user: &User,
    movie: &Movie,
    diary: Option<DiaryFormView>,
) -> PageResult<TitleListsView> {
    Ok(TitleListsView {
        on_watchlist: state.store.on_watchlist(user.id, movie.id).await?,
        diary: diary.unwrap_or_else(|| DiaryFormView::fresh(rules::today())),
    })
}

/// The fresh "Log a viewing" form with a notice, after `?logged=YYYY-MM-DD`.
pub fn diary_form_after(query: Option<&str>) -> Option<DiaryFormView> {
    let day = serde_urlencoded::from_str::<Vec<(String, String)>>(query?)
        .ok()?
        .into_iter()
        .find_map(|(k, v)| (k == "logged").then(|| marquee_store::Day::parse(&v).ok()))??;
    let mut form = DiaryFormView::fresh(rules::today());
    form.notice = Some(format!("Logged in your diary: watched {}.", long_day(day)));
    Some(form)
}

#[derive(Deserialize)]
pub struct WatchlistForm {
    return_to: Option<String>,
}

fn back_to(movie: &Movie, return_to: Option<&str>) -> String {
    return_to
        .and_then(local_path)
        .unwrap_or_else(|| format!("/movies/{}#lists", movie.slug))
}

/// `POST /movies/{slug}/watchlist`: add the film ("already there" is fine too).
pub async fn add_to_watchlist(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    PageUser { user, .. }: PageUser,
    Form(form): Form<WatchlistForm>,
) -> PageResult<Response> {
    let movie = find_movie(&state, &slug).await?;
    state
        .store
        .add_to_watchlist(user.id, movie.id, now_ms())
        .await?;
    Ok(Redirect::to(&back_to(&movie, form.return_to.as_deref())).into_response())
}

/// `POST /movies/{slug}/watchlist/remove`: take the film off ("not there" is fine too).
pub async fn remove_from_watchlist(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    PageUser { user, .. }: PageUser,
    Form(form): Form<WatchlistForm>,
) -> PageResult<Response> {
    let movie = find_movie(&state, &slug).await?;
    state.store.remove_from_watchlist(user.id, movie.id).await?;
    Ok(Redirect::to(&back_to(&movie, form.return_to.as_deref())).into_response())
}

#[derive(Deserialize)]
pub struct ViewingForm {
    watched_on: Option<String>,
    rewatch: Option<String>,
    stars: Option<String>,
}

/// `POST /movies/{slug}/diary`: log a viewing. Bad input re-renders the title page with the
/// messages and the form as sent (422).
pub async fn log_viewing(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    PageUser { user, viewer }: PageUser,
    Form(form): Form<ViewingForm>,
) -> PageResult<Response> {
    let movie = find_movie(&state, &slug).await?;
    let rewatch = form.rewatch.is_some();
    let parsed = rules::parse_viewing(
        movie.id,
        form.watched_on.as_deref(),
        rewatch,
        rules::form_stars(form.stars.as_deref()),
    );
    match parsed {
        Ok(entry) => {
            let (saved, _) = rules::log_viewing(&state, &user, &entry).await?;
            Ok(Redirect::to(&format!(
                "/movies/{}?logged={}#lists",
                movie.slug, saved.watched_on
            ))
            .into_response())
        }
        Err(errors) => {
            let mut diary = DiaryFormView::fresh(rules::today());
            diary.watched_on = form.watched_on.unwrap_or_default();
            diary.rewatch = rewatch;
            diary.stars = form
                .stars
                .as_deref()
                .and_then(|s| s.trim().parse().ok())
                .filter(|s| (1..=5).contains(s))
                .unwrap_or(0);
            diary.errors = errors
                .iter()
                .map(|e| match e.field {
                    "watched_on" => format!("Date watched: {}", e.message),
                    "stars" => format!("Stars: {}", e.message),
                    _ => e.to_string(),
                })
                .collect();
            let csrf = viewer.csrf_token.unwrap_or_default();
            let (_, data) = title_data(&state, &slug).await?;
            let html =
                render_title_page(&state, &data, Some((&user, &csrf)), None, Some(diary)).await?;
            Ok(private_page(StatusCode::UNPROCESSABLE_ENTITY, html))
        }
    }
}

#[derive(Deserialize)]
pub struct AfterQuery {
    after: Option<String>,
}

/// `GET /watchlist`: the signed-in viewer's watchlist, latest first.
pub async fn show_watchlist(
    State(state): State<AppState>,
    pu: PageUser,
    q: Result<Query<AfterQuery>, QueryRejection>,
) -> PageResult<Response> {
    let q = query_or_400(q)?;
    let after = parse_after(q.after.as_deref(), rules::parse_watchlist_cursor).map_err(bad_link)?;
    let mut rows = state
        .store
        .watchlist(pu.user.id, after, PAGE_SIZE + 1)
        .await?;
    let next_url = (rows.len() > PAGE_SIZE as usize).then(|| {
        rows.truncate(PAGE_SIZE as usize);
        let last = rows.last().map(rules::watchlist_cursor).unwrap_or_default();
        format!("/watchlist?after={}", urlencode(&last))
    });
    let csrf = pu.viewer.csrf_token.clone().unwrap_or_default();
    let page = WatchlistPage {
        chrome: Chrome::for_user(Some(&pu.user), pu.viewer.csrf_token.clone()),
        csrf,
        rows: rows.iter().map(WatchlistRowView::new).collect(),
        next_url,
        first_page_url: after.map(|_| "/watchlist".to_owned()),
    };
    Ok(private_page(StatusCode::OK, render::page(&page)?.0))
}

/// `GET /diary`: the signed-in viewer's diary, latest day first.
pub async fn show_diary(
    State(state): State<AppState>,
    pu: PageUser,
    q: Result<Query<AfterQuery>, QueryRejection>,
) -> PageResult<Response> {
    let q = query_or_400(q)?;
    let after = parse_after(q.after.as_deref(), rules::parse_diary_cursor).map_err(bad_link)?;
    let mut rows = state.store.diary(pu.user.id, after, PAGE_SIZE + 1).await?;
    let next_url = (rows.len() > PAGE_SIZE as usize).then(|| {
        rows.truncate(PAGE_SIZE as usize);
        let last = rows.last().map(rules::diary_cursor).unwrap_or_default();
        format!("/diary?after={}", urlencode(&last))
    });
    let page = DiaryPage {
        chrome: Chrome::for_user(Some(&pu.user), pu.viewer.csrf_token.clone()),
        csrf: pu.viewer.csrf_token.clone().unwrap_or_default(),
        rows: rows.iter().map(DiaryRowView::new).collect(),
        next_url,
        first_page_url: after.map(|_| "/diary".to_owned()),
    };
    Ok(private_page(StatusCode::OK, render::page(&page)?.0))
}

/// `POST /diary/{id}/delete`: remove one of the viewer's own entries (anyone else's is a 404).
pub async fn delete_diary_entry(
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageUser { user, .. }: PageUser,
) -> PageResult<Response> {
    let id = id
        .parse::<i64>()
        .map_err(|_| AppError::NotFound("diary entry"))?;
    state.store.delete_diary_entry(user.id, id).await?;
    Ok(Redirect::to("/diary").into_response())
}

/// `GET /users/{username}`: a member's public ratings and reviews, latest first. Ratings posted
/// as "A Marquee user" are not shown or counted.
pub async fn show_profile(
    State(state): State<AppState>,
    Path(username): Path<String>,
    viewer: Viewer,
    q: Result<Query<AfterQuery>, QueryRejection>,
) -> PageResult<Response> {
    let q = query_or_400(q)?;
    let member = rules::find_member(&state, &username)
        .await?
        .ok_or(AppError::NotFound("profile"))?;
    let after = parse_after(q.after.as_deref(), rules::parse_rating_cursor).map_err(bad_link)?;
    let (ratings, next) =
        rules::public_ratings(&state, member.id, after, PROFILE_PAGE_SIZE).await?;
    let counts = rules::public_counts(state.store.as_ref(), member.id).await?;
    let base = format!("/users/{}", member.username);
    let page = ProfilePage {
        chrome: Chrome::for_user(viewer.user.as_ref(), viewer.csrf_token.clone()),
        display_name: member.display_name.clone(),
        username: member.username.clone(),
        joined: long_date(member.created_ms),
        counts_line: counts_line(counts.ratings, counts.reviews),
        ratings: ratings.iter().map(ProfileRatingView::new).collect(),
        next_url: next.map(|n| format!("{base}?after={}", urlencode(&n))),
        first_page_url: after.map(|_| base.clone()),
        is_self: viewer.user.as_ref().is_some_and(|u| u.id == member.id),
    };
    // The page changes with every rating, and differs for its owner: never cached by others.
    Ok(private_page(StatusCode::OK, render::page(&page)?.0))
}

/// `GET /account/export`: "Download your data", a Letterboxd-format zip. It only reads, so as
/// a GET it needs no CSRF token.
pub async fn export_data(State(state): State<AppState>, pu: PageUser) -> PageResult<Response> {
    crate::export::download(&state, &pu.user).await
}

#[derive(Deserialize)]
pub struct DeleteAccountForm {
    #[serde(default)]
    password: String,
    reviews: Option<String>,
}

/// `POST /account/delete`: with the password and the choice made, delete the account, end the
/// session and say so. Otherwise the account page again, with the message; nothing is deleted.
pub async fn delete_account(
    State(state): State<AppState>,
    pu: PageUser,
    ClientAddr(client): ClientAddr,
    Form(form): Form<DeleteAccountForm>,
) -> PageResult<Response> {
    let choice = rules::parse_leaving(form.reviews.as_deref());
    let result = match choice {
        Ok(reviews) => rules::delete_account(&state, &pu.user, &form.password, &client, reviews)
            .await
            .map(|()| reviews),
        Err(e) => Err(AppError::Invalid(vec![e])),
    };
    match result {
        Ok(reviews) => {
            let kept = reviews == LeavingReviews::KeepAnonymous;
            let mut res = Redirect::to(if kept {
                "/account/deleted?reviews=kept"
            } else {
                "/account/deleted?reviews=removed"
            })
            .into_response();
            // The store ended every session; the browser forgets its cookie too.
            let clear = crate::auth::set_cookie(
                crate::auth::SESSION_COOKIE,
                "",
                0,
                state.settings.secure_cookies(),
            );
            if let Ok(v) = HeaderValue::from_str(&clear) {
                res.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(res)
        }
        Err(
            e @ (AppError::Invalid(_)
            | AppError::Forbidden(_)
            | AppError::Conflict(_)
            | AppError::TooManyRequests { .. }),
        ) => {
            let status = e.status();
            let error = match &e {
                AppError::Invalid(_) => "Choose whether your ratings and reviews are removed or \
                    kept as \u{201c}A Marquee user\u{201d}. Nothing was deleted."
                    .to_owned(),
                other => other.to_string(),
            };
            let delete = DeleteAccountView {
                error: Some(error),
                choice: form.reviews.clone().unwrap_or_default(),
            };
            let mut res =
                super::accounts::account_page(&state, &pu, None, None, delete, status).await?;
            if let AppError::TooManyRequests { retry_after_s, .. } = e {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
            }
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct DeletedQuery {
    reviews: Option<String>,
}

/// `GET /account/deleted`: where a deleted account lands, signed out.
pub async fn account_deleted(
    q: Result<Query<DeletedQuery>, QueryRejection>,
) -> PageResult<Response> {
    let q = query_or_400(q)?;
    let page = AccountDeletedPage {
        chrome: Chrome::default(),
        kept: q.reviews.as_deref() == Some("kept"),
    };
    Ok(private_page(StatusCode::OK, render::page(&page)?.0))
}
