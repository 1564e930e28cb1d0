//! The pages that find films: the home page's shelves, the catalog with filters and sorts
//! (`/movies`), search (`/search`, the no-JavaScript twin of the suggestions), a person's
//! films (`/people/{name}`) and how "Top rated" is computed (`/about/ratings`).

use crate::browse::{BrowseParams, browse_page};
use crate::error::{AppError, PageResult};
use crate::render::browse::{
    AboutRatingsPage, BrowseFormView, BrowsePage, CardView, CreditView, HitView, HomePage,
    OptionView, PersonPage, SearchPage, ShelfView,
};
use crate::render::{self, Chrome, ContinueView};
use crate::state::AppState;
use crate::web::extract::Viewer;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use marquee_domain::ranking::{PRIOR_MEAN, PRIOR_WEIGHT, bayesian_average};
use marquee_store::{BrowseSort, CreditRole, SearchTerms, User};
use serde::Deserialize;

/// Films per page of the catalog.
const PAGE_SIZE: u32 = 48;
/// Results on the search page.
const SEARCH_RESULTS: u32 = 30;

fn html(status: StatusCode, body: String, private: bool) -> Response {
    let mut res = (status, axum::response::Html(body)).into_response();
    let cache = if private {
        "private, no-store"
    } else {
        "no-cache"
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

fn chrome(viewer: &Viewer) -> Chrome {
    Chrome::for_user(viewer.user.as_ref(), viewer.csrf_token.clone())
}

/// `GET /`: Continue watching, then the shelves.
pub async fn home(State(state): State<AppState>, viewer: Viewer) -> PageResult<Response> {
    let continue_watching = match &viewer.user {
        Some(u) => continue_watching(&state, u).await?,
        None => Vec::new(),
    };
    let shelves = state.shelves.shelves(state.store.as_ref()).await?;
    let page = HomePage {
        chrome: chrome(&viewer),
        continue_watching,
        catalog_empty: shelves.iter().all(|s| s.cards.is_empty()),
        shelves: shelves
            .iter()
            .enumerate()
            .map(|(i, s)| ShelfView {
                id: i.to_string(),
                title: s.title.clone(),
                link: s.link.clone(),
                cards: s.cards.iter().map(CardView::new).collect(),
            })
            .collect(),
    };
    Ok(html(
        StatusCode::OK,
        render::page(&page)?.0,
        viewer.user.is_some(),
    ))
}

/// The "Continue watching" shelf.
async fn continue_watching(state: &AppState, user: &User) -> PageResult<Vec<ContinueView>> {
    let mut shelf = Vec::new();
    for p in state.store.continue_watching(user.id, 12).await? {
        let Some(m) = state.store.movie_by_id(p.movie_id).await? else {
            continue;
        };
        let left = p.duration_ms.saturating_sub(p.position_ms);
        shelf.push(ContinueView {
            slug: m.slug,
            title: m.title,
            percent: (p.position_ms * 100 / p.duration_ms.max(1)) as u32,
            left: format!("{} left", marquee_domain::time_fmt::clock(left)),
        });
    }
    Ok(shelf)
}

fn options<T: PartialEq>(
    items: impl IntoIterator<Item = (T, String, String)>,
    chosen: &T,
) -> Vec<OptionView> {
    items
        .into_iter()
        .map(|(v, value, label)| OptionView {
            selected: v == *chosen,
            value,
            label,
        })
        .collect()
}

/// `GET /movies`: the catalog, filtered and sorted, a page at a time. Bad filters re-render
/// the form with what was wrong (status 400) and no films.
pub async fn browse(
    State(state): State<AppState>,
    viewer: Viewer,
    q: Result<Query<BrowseParams>, QueryRejection>,
) -> PageResult<Response> {
    let params = q
        .map(|q| q.0)
        .map_err(|e| AppError::BadRequest(e.body_text()))?;
    let sort = params
        .sort
        .as_deref()
        .and_then(|s| BrowseSort::parse(s).ok())
        .unwrap_or_default();
    let genre = params.genre.clone().unwrap_or_default();
    let min_rating = params.min_rating.clone().unwrap_or_default();
    let (cards, next, errors) = match params.query(PAGE_SIZE) {
        Ok(query) => {
            let page = browse_page(&state, query).await?;
            (page.0.clone(), page.1.clone(), Vec::new())
        }
        Err(errors) => (
            Vec::new(),
            None,
            errors.iter().map(|e| e.to_string()).collect(),
        ),
    };
    let mut genres: Vec<(String, String, String)> = crate::browse::genre_counts(&state)
        .await?
        .iter()
        .map(|(g, n)| {
            (
                g.to_lowercase(),
                g.clone(),
                format!("{g} ({})", render::thousands(*n)),
            )
        })
        .collect();
    genres.sort_by(|a, b| a.1.cmp(&b.1));
    let base = params.to_query_string(sort);
    let heading = match params.genre.as_deref().filter(|g| !g.trim().is_empty()) {
        Some(g) => format!("{g} films"),
        None => "All films".to_owned(),
    };
    let page = BrowsePage {
        chrome: chrome(&viewer),
        heading,
        genres: options(genres, &genre.trim().to_lowercase()),
        sorts: options(
            BrowseSort::ALL.map(|s| (s, s.as_str().to_owned(), s.label().to_owned())),
            &sort,
        ),
        ratings: options(
            [
                ("", "Any"),
                ("2", "2★ and up"),
                ("3", "3★ and up"),
                ("3.5", "3.5★ and up"),
                ("4", "4★ and up"),
                ("4.5", "4.5★ and up"),
            ]
            .map(|(v, l)| (v.to_owned(), v.to_owned(), l.to_owned())),
            &min_rating.trim().to_owned(),
        ),
        form: BrowseFormView {
            year_min: params.year_min.clone().unwrap_or_default(),
            year_max: params.year_max.clone().unwrap_or_default(),
            runtime_min: params.runtime_min.clone().unwrap_or_default(),
            runtime_max: params.runtime_max.clone().unwrap_or_default(),
        },
        cards: cards.iter().map(CardView::new).collect(),
        next_url: next.map(|n| format!("/movies?{base}&after={}", n)),
        first_page_url: params
            .after
            .as_deref()
            .filter(|a| !a.is_empty())
            .map(|_| format!("/movies?{base}")),
        errors,
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(html(status, render::page(&page)?.0, viewer.user.is_some()))
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// `GET /search?q=`: the same results as the suggestions, as a page.
pub async fn search(
    State(state): State<AppState>,
    viewer: Viewer,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> PageResult<Response> {
    let q = q
        .map(|q| q.0)
        .map_err(|e| AppError::BadRequest(e.body_text()))?;
    let text: String = q.q.trim().chars().take(200).collect();
    let terms = SearchTerms::parse(&text);
    let hits = crate::browse::search(&state, &terms, SEARCH_RESULTS).await?;
    let page = SearchPage {
        chrome: chrome(&viewer),
        searched: !text.is_empty(),
        q: text,
        hits: hits.iter().map(HitView::new).collect(),
    };
    Ok(html(
        StatusCode::OK,
        render::page(&page)?.0,
        viewer.user.is_some(),
    ))
}

/// `GET /people/{name}`: the films a director or cast member is credited on.
pub async fn person(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
) -> PageResult<Response> {
    if name.is_empty() || name.chars().count() > 120 {
        return Err(AppError::NotFound("person"));
    }
    let credits = state.store.person_credits(&name).await?;
    if credits.is_empty() {
        return Err(AppError::NotFound("person"));
    }
    let page = PersonPage {
        chrome: chrome(&viewer),
        credits: credits
            .iter()
            .map(|c| CreditView {
                card: CardView::new(&c.card),
                part: match c.role {
                    CreditRole::Director => "Director".to_owned(),
                    CreditRole::Cast if c.character.is_empty() => "Cast".to_owned(),
                    CreditRole::Cast => format!("as {}", c.character),
                },
            })
            .collect(),
        name,
    };
    Ok(html(
        StatusCode::OK,
        render::page(&page)?.0,
        viewer.user.is_some(),
    ))
}

/// `GET /about/ratings`: the Bayesian average's prior, with worked examples.
pub async fn about_ratings(viewer: Viewer) -> PageResult<Response> {
    let examples = [(2u64, 10u64), (20, 90), (500, 2300), (0, 0)]
        .into_iter()
        .map(|(n, sum)| {
            let avg = if n == 0 {
                "—".to_owned()
            } else {
                format!("{:.2}", sum as f64 / n as f64)
            };
            (
                render::thousands(n),
                avg,
                format!("{:.2}", bayesian_average(sum, n)),
            )
        })
        .collect();
    let page = AboutRatingsPage {
        chrome: chrome(&viewer),
        weight: format!("{PRIOR_WEIGHT}"),
        mean: format!("{PRIOR_MEAN:.1}"),
        examples,
    };
    Ok(html(
        StatusCode::OK,
        render::page(&page)?.0,
        viewer.user.is_some(),
    ))
}
