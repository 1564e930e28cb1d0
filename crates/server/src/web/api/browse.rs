//! Finding films over the API: the catalog with filters and sorts, search, suggestions as you
//! type, genres and people. The pages answer the same questions from the same store calls.

use super::movies::page_limit;
use crate::browse::{BrowseParams, browse_page};
use crate::error::{ApiError, ApiResult, AppError, Problem};
use crate::results::Results;
use crate::state::AppState;
use crate::web::extract::{ApiPath, ApiQuery};
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use marquee_store::{CreditRole, MovieCard, SearchMatch, SearchTerms};
use serde::{Deserialize, Serialize};
use std::future::Future;
use utoipa::{IntoParams, ToSchema};

/// A film in a list.
#[derive(Serialize, ToSchema)]
pub struct MovieCardResponse {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub year: Option<u16>,
    pub runtime_minutes: Option<u16>,
    /// The title page.
    pub url: String,
    pub poster_url: Option<String>,
    pub rating_count: u64,
    /// The plain mean in stars; `null` before the first rating.
    pub average_rating: Option<f64>,
    /// The "Top rated" key (see `/about/ratings`).
    pub bayesian_rating: f64,
    pub review_count: u64,
}

impl From<&MovieCard> for MovieCardResponse {
    fn from(c: &MovieCard) -> Self {
        Self {
            id: c.id.0,
            slug: c.slug.clone(),
            title: c.title.clone(),
            year: c.year,
            runtime_minutes: c.runtime_minutes,
            url: format!("/movies/{}", c.slug),
            poster_url: c.poster.as_ref().map(|p| format!("/posters/{p}")),
            rating_count: c.rating_count,
            average_rating: c.average(),
            bayesian_rating: c.bayesian(),
            review_count: c.review_count,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MovieCardListResponse {
    pub items: Vec<MovieCardResponse>,
    /// Pass as `after` (with the same filters and sort) for the next page; `null` on the last.
    pub next: Option<String>,
}

/// The catalog: filtered by genre, year, runtime and least average rating; sorted by title,
/// year, rating (Bayesian), reviews or date added; paged with an opaque cursor.
#[utoipa::path(get, path = "/api/v1/movies", tag = "movies", params(BrowseParams),
    responses((status = 200, body = MovieCardListResponse), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list_movies(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<BrowseParams>,
) -> ApiResult<Response> {
    let limit = page_limit(params.limit, 50)?;
    let query = params.query(limit).map_err(AppError::Invalid)?;
    let key = format!("movies\u{1f}{query:?}");
    cached_json(&state, key, async {
        let page = browse_page(&state, query).await?;
        let (cards, next) = page.as_ref();
        Ok(MovieCardListResponse {
            items: cards.iter().map(MovieCardResponse::from).collect(),
            next: next.clone(),
        })
    })
    .await
}

/// The JSON body of `load`'s answer, kept under `key` (with what it was built from) until
/// anything a card shows changes; see [`crate::results`].
async fn cached_json<T: Serialize>(
    state: &AppState,
    key: String,
    load: impl Future<Output = ApiResult<T>>,
) -> ApiResult<Response> {
    let body = state
        .results
        .api
        .get_or_load(key, async {
            let value = load.await?;
            serde_json::to_vec(&value)
                .map(Bytes::from)
                .map_err(|e| ApiError(AppError::Internal(e.into())))
        })
        .await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Bytes::clone(&body),
    )
        .into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to find in titles, original titles, people and synopses; each may be the start
    /// of a word, and a typo is forgiven.
    #[serde(default)]
    pub q: String,
    /// At most this many results, 1–50 (default 20).
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchHitResponse {
    pub film: MovieCardResponse,
    /// exact_title, title, person, text or similar: the best reason it matched.
    pub matched: String,
    /// The person whose name matched, for `person`.
    pub person: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResponse {
    pub items: Vec<SearchHitResponse>,
}

fn matched(m: &SearchMatch) -> (&'static str, Option<String>) {
    match m {
        SearchMatch::ExactTitle => ("exact_title", None),
        SearchMatch::Title => ("title", None),
        SearchMatch::Person(name) => ("person", Some(name.clone())),
        SearchMatch::Text => ("text", None),
        SearchMatch::Similar => ("similar", None),
    }
}

/// The words of a query, or a problem when it is too long to be one.
fn search_terms(q: &str) -> ApiResult<SearchTerms> {
    if q.chars().count() > 200 {
        return Err(AppError::from(marquee_domain::ValidationError::new(
            "q",
            "must be at most 200 characters",
        ))
        .into());
    }
    Ok(SearchTerms::parse(q))
}

/// Full-text search, best matches first: an exact title, then titles, people, any text, and
/// titles close to the query.
#[utoipa::path(get, path = "/api/v1/search", tag = "movies", params(SearchParams),
    responses((status = 200, body = SearchResponse), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn search(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> ApiResult<Response> {
    let limit = match params.limit {
        None => 20,
        Some(n @ 1..=50) => n,
        Some(_) => {
            return Err(AppError::from(marquee_domain::ValidationError::new(
                "limit",
                "must be from 1 to 50",
            ))
            .into());
        }
    };
    let terms = search_terms(&params.q)?;
    let key = format!("search\u{1f}{}", Results::search_key(&terms, limit));
    cached_json(&state, key, async {
        let hits = crate::browse::search(&state, &terms, limit).await?;
        Ok(SearchResponse {
            items: hits
                .iter()
                .map(|h| {
                    let (kind, person) = matched(&h.matched);
                    SearchHitResponse {
                        film: MovieCardResponse::from(&h.card),
                        matched: kind.to_owned(),
                        person,
                    }
                })
                .collect(),
        })
    })
    .await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestParams {
    /// What has been typed so far.
    #[serde(default)]
    pub q: String,
}

#[derive(Serialize, ToSchema)]
pub struct Suggestion {
    pub id: i64,
    pub title: String,
    pub year: Option<u16>,
    pub url: String,
    /// The person whose name matched, when that is why the film is suggested.
    pub person: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SuggestResponse {
    pub items: Vec<Suggestion>,
}

/// Suggestions per request.
const SUGGESTIONS: u32 = 8;

/// Up to 8 suggestions for a search box, as the viewer types.
#[utoipa::path(get, path = "/api/v1/search/suggest", tag = "movies", params(SuggestParams),
    responses((status = 200, body = SuggestResponse), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn suggest(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<SuggestParams>,
) -> ApiResult<Response> {
    let terms = search_terms(&params.q)?;
    let key = format!("suggest\u{1f}{}", Results::search_key(&terms, SUGGESTIONS));
    cached_json(&state, key, async {
        let hits = crate::browse::search(&state, &terms, SUGGESTIONS).await?;
        Ok(SuggestResponse {
            items: hits
                .iter()
                .map(|h| Suggestion {
                    id: h.card.id.0,
                    title: h.card.title.clone(),
                    year: h.card.year,
                    url: format!("/movies/{}", h.card.slug),
                    person: matched(&h.matched).1,
                })
                .collect(),
        })
    })
    .await
}

#[derive(Serialize, ToSchema)]
pub struct GenreResponse {
    pub name: String,
    pub films: u64,
}

/// Every genre in use, with its number of films, most films first.
#[utoipa::path(get, path = "/api/v1/genres", tag = "movies",
    responses((status = 200, body = Vec<GenreResponse>)))]
pub async fn list_genres(State(state): State<AppState>) -> ApiResult<Json<Vec<GenreResponse>>> {
    Ok(Json(
        crate::browse::genre_counts(&state)
            .await?
            .iter()
            .map(|(name, films)| GenreResponse {
                name: name.clone(),
                films: *films,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct CreditResponse {
    pub film: MovieCardResponse,
    /// `director` or `cast`.
    pub role: String,
    pub character: String,
}

#[derive(Serialize, ToSchema)]
pub struct PersonResponse {
    pub name: String,
    /// Newest first.
    pub credits: Vec<CreditResponse>,
}

/// A director's or cast member's films.
#[utoipa::path(get, path = "/api/v1/people/{name}", tag = "movies",
    params(("name" = String, Path, description = "The name as credited")),
    responses((status = 200, body = PersonResponse), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_person(
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<PersonResponse>> {
    let credits = if name.chars().count() > 120 {
        Vec::new()
    } else {
        state.store.person_credits(&name).await?
    };
    if credits.is_empty() {
        return Err(AppError::NotFound("person").into());
    }
    Ok(Json(PersonResponse {
        credits: credits
            .iter()
            .map(|c| CreditResponse {
                film: MovieCardResponse::from(&c.card),
                role: match c.role {
                    CreditRole::Director => "director",
                    CreditRole::Cast => "cast",
                }
                .to_owned(),
                character: c.character.clone(),
            })
            .collect(),
        name,
    }))
}
