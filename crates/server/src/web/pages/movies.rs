//! The film pages: the catalog list, a film's title page, all of its reviews, and the forms
//! that rate, review and vote.

use crate::cache::{CachedPage, Ticket, TitleData};
use crate::error::{AppError, PageResult};
use crate::ratings;
use crate::render::{
    self, Chrome, MovieView, RatingFormView, ReviewView, ReviewsPage, SortOption, StatsView,
    TitlePage,
};
use crate::state::AppState;
use crate::web::extract::{PageUser, Viewer, local_path, urlencode};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use marquee_domain::{ReviewCursor, ReviewFilter, ReviewId, ReviewSort, Stars};
use marquee_store::{Movie, User};
use serde::Deserialize;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

const PAGE_SIZE: u32 = 20;

fn html_response(status: StatusCode, html: String, private: bool) -> Response {
    let mut res = (status, axum::response::Html(html)).into_response();
    let cache = if private {
        "private, no-store"
    } else {
        "no-cache"
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

fn query_or_400<T>(q: Result<Query<T>, QueryRejection>) -> PageResult<T> {
    q.map(|q| q.0)
        .map_err(|e| AppError::BadRequest(e.body_text()))
}

pub(crate) async fn find_movie(state: &AppState, slug: &str) -> PageResult<Movie> {
    state
        .store
        .movie_by_slug(slug)
        .await?
        .ok_or(AppError::NotFound("film"))
}

/// What the title page shows everyone, from the cache or read afresh (and then cached).
pub(crate) async fn title_data(
    state: &AppState,
    slug: &str,
) -> PageResult<(Ticket, Arc<TitleData>)> {
    if let Some(hit) = state.cache.get_data(slug) {
        return Ok(hit);
    }
    let found = find_movie(state, slug).await?;
    // Take the ticket before reading what the page shows, then read it all afresh.
    let ticket = state.cache.ticket(found.id);
    let movie = state
        .store
        .movie_by_id(found.id)
        .await?
        .ok_or(AppError::NotFound("film"))?;
    let stats = state.store.movie_stats(movie.id).await?;
    let filter = ReviewFilter {
        sort: ReviewSort::Helpful,
        stars: None,
        after: None,
        limit: 3,
    };
    let top = state.store.list_reviews(movie.id, &filter).await?;
    let media = state.store.media_for(movie.id).await?;
    let data = Arc::new(TitleData {
        movie,
        stats,
        top,
        media,
    });
    if data.movie.slug == slug {
        state.cache.put_data(ticket, slug, data.clone());
    }
    Ok((ticket, data))
}

/// Renders the title page for a viewer (or for everyone signed out, when `viewer` is `None`).
/// `form` and `diary` are the rating and "Log a viewing" forms as sent, when they had errors.
pub(crate) async fn render_title_page(
    state: &AppState,
    data: &TitleData,
    viewer: Option<(&User, &str)>,
    form: Option<RatingFormView>,
    diary: Option<crate::render::lists::DiaryFormView>,
) -> PageResult<String> {
    let movie = &data.movie;
    let user = viewer.map(|(u, _)| u);
    let form = match (form, user) {
        (Some(f), _) => f,
        (None, Some(u)) => state
            .store
            .rating_by_user(movie.id, u.id)
            .await?
            .map(|r| RatingFormView::from_review(&r))
            .unwrap_or_default(),
        (None, None) => RatingFormView::default(),
    };
    // The viewer's own lists: only ever in a signed-in rendering, never in the shared cache.
    let lists = match user {
        Some(u) => Some(super::lists::title_lists(state, u, movie, diary).await?),
        None => None,
    };
    let return_to = format!("/movies/{}", movie.slug);
    let page = TitlePage {
        lists,
        chrome: Chrome::for_user(user, viewer.map(|(_, c)| c.to_owned())),
        m: MovieView::new(movie),
        stats: StatsView::new(&data.stats),
        reviews: review_views(state, &data.top, user).await?,
        signed_in: user.is_some(),
        csrf: viewer.map(|(_, c)| c.to_owned()).unwrap_or_default(),
        form,
        watch: data
            .media
            .as_ref()
            .map(|m| render::WatchView::new(movie, m)),
        return_to_encoded: urlencode(&return_to),
        return_to,
    };
    Ok(render::page(&page)?.0)
}

/// The reviews as a viewer sees them: with their own votes pressed and their own reviews marked.
async fn review_views(
    state: &AppState,
    reviews: &[marquee_store::Review],
    user: Option<&User>,
) -> PageResult<Vec<ReviewView>> {
    let votes = match user {
        Some(u) => {
            state
                .store
                .votes_by_user(u.id, &reviews.iter().map(|r| r.id).collect::<Vec<_>>())
                .await?
        }
        None => Vec::new(),
    };
    Ok(reviews
        .iter()
        .map(|r| {
            ReviewView::new(
                r,
                user,
                votes.iter().find(|(id, _)| *id == r.id).map(|(_, v)| *v),
            )
        })
        .collect())
}

fn etag_of(html: &str) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    html.hash(&mut h);
    format!("\"{:016x}\"", h.finish())
}

fn cached_response(page: CachedPage, headers: &HeaderMap) -> Response {
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == page.etag));
    let mut res = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = page.html.into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        r
    };
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&page.etag) {
        h.insert(header::ETAG, v);
    }
    res
}

/// `GET /movies/{slug}`: the title page. Signed-out visitors get a shared, cached rendering.
pub async fn show_movie(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> PageResult<Response> {
    if Viewer::is_anonymous_request(&headers) {
        if let Some(page) = state.cache.get_page(&slug) {
            return Ok(cached_response(page, &headers));
        }
        let (ticket, data) = title_data(&state, &slug).await?;
        let html = render_title_page(&state, &data, None, None, None).await?;
        let page = CachedPage {
            etag: etag_of(&html),
            html: Bytes::from(html),
        };
        state.cache.put_page(ticket, &slug, page.clone());
        return Ok(cached_response(page, &headers));
    }
    let viewer = Viewer::from_request_headers(&headers, &state).await?;
    let (_, data) = title_data(&state, &slug).await?;
    let diary = super::lists::diary_form_after(uri.query());
    let html = match (&viewer.user, &viewer.csrf_token) {
        (Some(u), Some(csrf)) => {
            render_title_page(&state, &data, Some((u, csrf)), None, diary).await?
        }
        _ => render_title_page(&state, &data, None, None, None).await?,
    };
    Ok(html_response(StatusCode::OK, html, true))
}

#[derive(Deserialize)]
pub struct RatingForm {
    stars: Option<String>,
    headline: Option<String>,
    body: Option<String>,
    anonymous: Option<String>,
}

/// `POST /movies/{slug}/rating`: rate or review; bad input re-renders the page with the
/// messages and the text as typed.
pub async fn save_rating(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    PageUser { user, viewer }: PageUser,
    Form(form): Form<RatingForm>,
) -> PageResult<Response> {
    let movie = find_movie(&state, &slug).await?;
    let anonymous = form.anonymous.is_some();
    let parsed = ratings::parse_rating(
        Stars::parse(form.stars.as_deref().unwrap_or("")),
        form.headline.as_deref(),
        form.body.as_deref(),
        anonymous,
    );
    match parsed {
        Ok(input) => {
            let review = ratings::save_rating(&state, movie.id, &user, &input).await?;
            let anchor = if review.body.is_some() {
                format!("review-{}", review.id)
            } else {
                "rate".to_owned()
            };
            Ok(Redirect::to(&format!("/movies/{}?saved=1#{anchor}", movie.slug)).into_response())
        }
        Err(errors) => {
            let existing = state
                .store
                .rating_by_user(movie.id, user.id)
                .await?
                .is_some();
            let form = RatingFormView {
                existing,
                stars: form
                    .stars
                    .as_deref()
                    .and_then(|s| s.trim().parse().ok())
                    .filter(|s| (1..=5).contains(s))
                    .unwrap_or(0),
                headline: form.headline.unwrap_or_default(),
                body: form.body.unwrap_or_default(),
                anonymous,
                errors: errors.iter().map(|e| e.to_string()).collect(),
            };
            let csrf = viewer.csrf_token.unwrap_or_default();
            let (_, data) = title_data(&state, &slug).await?;
            let html =
                render_title_page(&state, &data, Some((&user, &csrf)), Some(form), None).await?;
            Ok(html_response(StatusCode::UNPROCESSABLE_ENTITY, html, true))
        }
    }
}

/// `POST /movies/{slug}/rating/delete`
pub async fn delete_rating(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    PageUser { user, .. }: PageUser,
) -> PageResult<Response> {
    let movie = find_movie(&state, &slug).await?;
    ratings::delete_rating(&state, movie.id, &user).await?;
    Ok(Redirect::to(&format!("/movies/{}#rate", movie.slug)).into_response())
}

#[derive(Deserialize)]
pub struct VoteForm {
    helpful: String,
    return_to: Option<String>,
}

/// `POST /reviews/{id}/vote` with `helpful` = `yes`, `no` or `withdraw`.
pub async fn vote(
    State(state): State<AppState>,
    Path(id): Path<String>,
    PageUser { user, .. }: PageUser,
    Form(form): Form<VoteForm>,
) -> PageResult<Response> {
    let id = id
        .parse::<i64>()
        .map_err(|_| AppError::NotFound("review"))?;
    let helpful = match form.helpful.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        "withdraw" => None,
        _ => return Err(AppError::BadRequest("Choose Yes or No.".into())),
    };
    let tally = ratings::vote(&state, ReviewId(id), &user, helpful).await?;
    let back = match form.return_to.as_deref().and_then(local_path) {
        Some(p) => p,
        None => state.store.movie_by_id(tally.movie_id).await?.map_or_else(
            || "/".to_owned(),
            |m| format!("/movies/{}#review-{id}", m.slug),
        ),
    };
    Ok(Redirect::to(&back).into_response())
}

#[derive(Deserialize)]
pub struct ReviewsQuery {
    sort: Option<String>,
    stars: Option<String>,
    after: Option<String>,
}

/// Parses the list controls shared by the reviews page and the API.
pub fn review_filter(
    sort: Option<&str>,
    stars: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> Result<ReviewFilter, marquee_domain::ValidationError> {
    let sort = match sort.filter(|s| !s.is_empty()) {
        None => ReviewSort::default(),
        Some(s) => ReviewSort::parse(s)?,
    };
    let stars = match stars.filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(Stars::parse(s)?),
    };
    let after = match after.filter(|s| !s.is_empty()) {
        None => None,
        Some(c) => Some(ReviewCursor::decode(c, sort)?),
    };
    Ok(ReviewFilter {
        sort,
        stars,
        after,
        limit,
    })
}

pub fn cursor_after(sort: ReviewSort, r: &marquee_store::Review) -> ReviewCursor {
    ReviewCursor {
        sort,
        score: r.score,
        stars: r.stars,
        created_ms: r.created_ms,
        id: r.id.0,
    }
}

/// `GET /movies/{slug}/reviews`: every review, sorted, filtered and paged.
pub async fn list_reviews(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    viewer: Viewer,
    q: Result<Query<ReviewsQuery>, QueryRejection>,
) -> PageResult<Response> {
    let q = query_or_400(q)?;
    let movie = find_movie(&state, &slug).await?;
    let mut filter = review_filter(
        q.sort.as_deref(),
        q.stars.as_deref(),
        q.after.as_deref(),
        PAGE_SIZE + 1,
    )
    .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let mut reviews = state.store.list_reviews(movie.id, &filter).await?;
    filter.limit = PAGE_SIZE;
    let base = format!("/movies/{}/reviews", movie.slug);
    let mut params = vec![format!("sort={}", filter.sort.as_str())];
    if let Some(s) = filter.stars {
        params.push(format!("stars={}", s.get()));
    }
    let list_url = format!("{base}?{}", params.join("&"));
    let next_url = (reviews.len() > PAGE_SIZE as usize).then(|| {
        reviews.truncate(PAGE_SIZE as usize);
        let last = reviews.last().expect("a full page");
        format!(
            "{list_url}&after={}",
            urlencode(&cursor_after(filter.sort, last).encode())
        )
    });
    let stats = state.store.movie_stats(movie.id).await?;
    let user = viewer.user.as_ref();
    let return_to = match &q.after {
        Some(a) => format!("{list_url}&after={}", urlencode(a)),
        None => list_url.clone(),
    };
    let page = ReviewsPage {
        chrome: Chrome::for_user(user, viewer.csrf_token.clone()),
        m: MovieView::new(&movie),
        stats: StatsView::new(&stats),
        reviews: review_views(&state, &reviews, user).await?,
        sorts: ReviewSort::ALL
            .iter()
            .map(|s| SortOption {
                value: s.as_str(),
                label: s.label(),
                selected: *s == filter.sort,
            })
            .collect(),
        stars_filter: filter.stars.map_or(0, Stars::get),
        next_url,
        first_page_url: if filter.after.is_some() {
            list_url
        } else {
            String::new()
        },
        signed_in: user.is_some(),
        csrf: viewer.csrf_token.clone().unwrap_or_default(),
        return_to_encoded: urlencode(&return_to),
        return_to,
    };
    Ok(html_response(
        StatusCode::OK,
        render::page(&page)?.0,
        user.is_some(),
    ))
}
