//! Finding films: the catalog's filters and sorts as a viewer sends them (form fields or API
//! query parameters, checked into a [`BrowseQuery`]), and the home page's shelves, which every
//! visitor shares and which are kept for a few seconds rather than read on every request.

use crate::results::{CatalogPage, Results};
use crate::state::AppState;
use marquee_domain::ValidationError;
use marquee_store::{
    BrowseCursor, BrowseFilter, BrowseQuery, BrowseSort, MovieCard, SearchHit, SearchTerms, Store,
    StoreResult,
};
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The catalog's filters and sort as sent: every field a string, so an empty form field means
/// "no bound" and a bad one gets a message instead of a rejected request.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BrowseParams {
    /// A genre name (case-insensitive).
    pub genre: Option<String>,
    /// Earliest release year.
    pub year_min: Option<String>,
    /// Latest release year.
    pub year_max: Option<String>,
    /// Shortest runtime in minutes.
    pub runtime_min: Option<String>,
    /// Longest runtime in minutes.
    pub runtime_max: Option<String>,
    /// Least average rating in stars (1–5).
    pub min_rating: Option<String>,
    /// title (default), year, rating, reviews or added.
    pub sort: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Films per page (1–100).
    pub limit: Option<u32>,
}

fn given(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn number(
    raw: &Option<String>,
    field: &'static str,
    lo: u16,
    hi: u16,
) -> Result<Option<u16>, ValidationError> {
    let Some(s) = given(raw) else { return Ok(None) };
    match s.parse::<u16>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(Some(n)),
        _ => Err(ValidationError::new(
            field,
            format!("must be a whole number from {lo} to {hi}"),
        )),
    }
}

impl BrowseParams {
    /// The checked query, or every problem with the fields.
    pub fn query(&self, limit: u32) -> Result<BrowseQuery, Vec<ValidationError>> {
        let mut errors = Vec::new();
        let mut check = |r: Result<Option<u16>, ValidationError>| {
            r.unwrap_or_else(|e| {
                errors.push(e);
                None
            })
        };
        let year_min = check(number(&self.year_min, "year_min", 1888, 2100));
        let year_max = check(number(&self.year_max, "year_max", 1888, 2100));
        let runtime_min = check(number(&self.runtime_min, "runtime_min", 1, 1000));
        let runtime_max = check(number(&self.runtime_max, "runtime_max", 1, 1000));
        let min_rating = match given(&self.min_rating).map(str::parse::<f64>) {
            None => None,
            Some(Ok(r)) if (1.0..=5.0).contains(&r) => Some(r),
            Some(_) => {
                errors.push(ValidationError::new(
                    "min_rating",
                    "must be a number of stars from 1 to 5",
                ));
                None
            }
        };
        let sort = match given(&self.sort) {
            None => BrowseSort::default(),
            Some(s) => BrowseSort::parse(s).unwrap_or_else(|e| {
                errors.push(e);
                BrowseSort::default()
            }),
        };
        let after = match given(&self.after) {
            None => None,
            Some(a) => BrowseCursor::decode(a, sort)
                .map_err(|e| errors.push(e))
                .ok(),
        };
        if let (Some(a), Some(b)) = (year_min, year_max)
            && a > b
        {
            errors.push(ValidationError::new(
                "year_max",
                "must not be before the earliest year",
            ));
        }
        if let (Some(a), Some(b)) = (runtime_min, runtime_max)
            && a > b
        {
            errors.push(ValidationError::new(
                "runtime_max",
                "must not be shorter than the shortest runtime",
            ));
        }
        let genre = given(&self.genre).map(str::to_owned);
        if genre.as_ref().is_some_and(|g| g.chars().count() > 40) {
            errors.push(ValidationError::new("genre", "is not a genre"));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(BrowseQuery {
            filter: BrowseFilter {
                genre,
                year_min,
                year_max,
                runtime_min,
                runtime_max,
                min_rating,
            },
            sort,
            after,
            limit,
        })
    }

    /// These parameters as a query string without `after` (for the next page and sort links).
    pub fn to_query_string(&self, sort: BrowseSort) -> String {
        let pairs = [
            ("genre", given(&self.genre)),
            ("year_min", given(&self.year_min)),
            ("year_max", given(&self.year_max)),
            ("runtime_min", given(&self.runtime_min)),
            ("runtime_max", given(&self.runtime_max)),
            ("min_rating", given(&self.min_rating)),
            ("sort", Some(sort.as_str())),
        ];
        serde_urlencoded::to_string(
            pairs
                .iter()
                .filter_map(|(k, v)| v.map(|v| (*k, v)))
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default()
    }
}

/// One page of the catalog and the cursor of the next, kept for the next viewer who asks
/// the same (see [`crate::results`]).
pub async fn browse_page(state: &AppState, query: BrowseQuery) -> StoreResult<Arc<CatalogPage>> {
    // The query's debug form names every filter, the sort, the cursor and the limit, and is
    // stable for equal queries: it is the key.
    let key = format!("{query:?}");
    state
        .results
        .catalog
        .get_or_load(key, read_page(state.store.as_ref(), query))
        .await
}

/// One page read from the store: one film more than asked tells whether there is a next page.
async fn read_page(store: &dyn Store, mut query: BrowseQuery) -> StoreResult<CatalogPage> {
    let limit = query.limit;
    query.limit = limit + 1;
    let mut cards = store.browse_movies(&query).await?;
    let next = (cards.len() > limit as usize).then(|| {
        cards.truncate(limit as usize);
        cards
            .last()
            .map(|c| BrowseCursor::after(c, query.sort).encode())
            .unwrap_or_default()
    });
    Ok((cards, next))
}

/// The best `limit` matches for `terms` (nothing for no terms), kept like catalog pages.
pub async fn search(
    state: &AppState,
    terms: &SearchTerms,
    limit: u32,
) -> StoreResult<Arc<Vec<SearchHit>>> {
    if terms.is_empty() {
        return Ok(Arc::default());
    }
    state
        .results
        .search
        .get_or_load(
            Results::search_key(terms, limit),
            state.store.search_movies(terms, limit),
        )
        .await
}

/// Every genre in use with its number of films, most first, kept like catalog pages.
pub async fn genre_counts(state: &AppState) -> StoreResult<Arc<Vec<(String, u64)>>> {
    state
        .results
        .genres
        .get_or_load(String::new(), state.store.genre_counts())
        .await
}

/// A row of films on the home page and where "See all" leads.
#[derive(Debug, Clone)]
pub struct Shelf {
    pub title: String,
    /// `/movies?…` listing the whole shelf.
    pub link: String,
    pub cards: Vec<MovieCard>,
}

/// Films per shelf.
const SHELF_SIZE: u32 = 12;
/// Genre shelves after the fixed ones: the genres with the most films.
const GENRE_SHELVES: usize = 6;
/// How long shelves are reused. Every visitor sees the same shelves, so reading them once per
/// interval instead of per request keeps the home page as cheap as a static one; a new rating
/// shows on the shelves within this time.
pub const SHELF_TTL: Duration = Duration::from_secs(30);

/// The shelves, read at most once per [`SHELF_TTL`] by this instance.
#[derive(Default)]
pub struct ShelfCache {
    kept: Mutex<Option<(Instant, Arc<Vec<Shelf>>)>>,
}

impl ShelfCache {
    pub async fn shelves(&self, store: &dyn Store) -> StoreResult<Arc<Vec<Shelf>>> {
        if let Some((at, shelves)) = self.kept.lock().map(|k| k.clone()).unwrap_or(None)
            && at.elapsed() < SHELF_TTL
        {
            return Ok(shelves);
        }
        let shelves = Arc::new(read_shelves(store).await?);
        if let Ok(mut kept) = self.kept.lock() {
            *kept = Some((Instant::now(), shelves.clone()));
        }
        Ok(shelves)
    }

    /// Forgets the shelves (the catalog changed in this instance).
    pub fn clear(&self) {
        if let Ok(mut kept) = self.kept.lock() {
            *kept = None;
        }
    }
}

async fn read_shelves(store: &dyn Store) -> StoreResult<Vec<Shelf>> {
    let mut shelves = Vec::new();
    let fixed = [
        (BrowseSort::Rating, "Top rated"),
        (BrowseSort::Reviews, "Most reviewed"),
        (BrowseSort::Added, "Recently added"),
    ];
    for (sort, title) in fixed {
        let query = BrowseQuery {
            sort,
            limit: SHELF_SIZE,
            ..BrowseQuery::default()
        };
        let cards = store.browse_movies(&query).await?;
        // "Most reviewed" with nothing reviewed says nothing.
        if cards.is_empty() || (sort == BrowseSort::Reviews && cards[0].review_count == 0) {
            continue;
        }
        shelves.push(Shelf {
            title: title.to_owned(),
            link: format!("/movies?sort={}", sort.as_str()),
            cards,
        });
    }
    for (genre, _) in store.genre_counts().await?.into_iter().take(GENRE_SHELVES) {
        let query = BrowseQuery {
            filter: BrowseFilter {
                genre: Some(genre.clone()),
                ..BrowseFilter::default()
            },
            sort: BrowseSort::Rating,
            limit: SHELF_SIZE,
            after: None,
        };
        let cards = store.browse_movies(&query).await?;
        shelves.push(Shelf {
            link: format!(
                "/movies?{}",
                serde_urlencoded::to_string([("genre", genre.as_str()), ("sort", "rating")])
                    .unwrap_or_default()
            ),
            title: genre,
            cards,
        });
    }
    Ok(shelves)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BrowseParams {
        serde_urlencoded::from_str(&serde_urlencoded::to_string(pairs).unwrap()).unwrap()
    }

    #[test]
    fn empty_fields_mean_no_bound_and_good_ones_become_the_query() {
        let q = params(&[
            ("genre", ""),
            ("year_min", "1990"),
            ("year_max", " "),
            ("min_rating", "3.5"),
            ("sort", "rating"),
        ])
        .query(20)
        .unwrap();
        assert_eq!(q.filter.genre, None);
        assert_eq!(q.filter.year_min, Some(1990));
        assert_eq!(q.filter.year_max, None);
        assert_eq!(q.filter.min_rating, Some(3.5));
        assert_eq!(q.sort, BrowseSort::Rating);
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let errors = params(&[
            ("year_min", "2000"),
            ("year_max", "1990"),
            ("runtime_min", "0"),
            ("min_rating", "9"),
            ("sort", "best"),
        ])
        .query(20)
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["runtime_min", "min_rating", "sort", "year_max"]);
    }

    #[test]
    fn the_query_string_keeps_filters_and_drops_the_cursor() {
        let p = params(&[("genre", "Film-Noir"), ("after", "12.i3"), ("sort", "year")]);
        assert_eq!(
            p.to_query_string(BrowseSort::Title),
            "genre=Film-Noir&sort=title"
        );
    }
}
