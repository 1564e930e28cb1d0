//! Taking in catalogs and ratings from elsewhere (`marquee import ...`) in batches: each call is
//! one transaction, so an interruption leaves whole batches behind and a re-run, matching films by
//! their keys in the source, finishes the job without duplicating anything.

use async_trait::async_trait;
use marquee_domain::{
    ContentRating, DisplayName, MovieDraft, MovieId, ReviewText, Stars, UserId, Username,
};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

use crate::{Movie, StoreResult};

/// A film as a source describes it, with the keys that identify it there.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportFilm {
    /// The film's key in this source ("imdb:tt0111161", "movielens:1", "library:Brazil (1985)").
    pub key: String,
    /// Keys in other catalogs the source knows (an NFO's IMDb id): a film imported earlier under
    /// one of them is the same film.
    pub other_keys: Vec<String>,
    pub draft: MovieDraft,
    /// Changes whenever what the source says about the film changes; an equal fingerprint on a
    /// re-run means nothing to do.
    pub fingerprint: String,
    pub external_rating: Option<ExternalRating>,
}

/// A rating from another site on its own 10-point scale, shown beside the community's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExternalRating {
    /// "imdb", or a catalog's name.
    pub source: String,
    /// Tenths of the 10-point scale: 72 is 7.2/10.
    pub tenths: u16,
    pub votes: u32,
}

/// What an import did with one film.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilmOutcome {
    Added(MovieId),
    Updated(MovieId),
    /// Already there with the same fingerprint.
    Unchanged(MovieId),
}

impl FilmOutcome {
    pub fn id(self) -> MovieId {
        match self {
            Self::Added(id) | Self::Updated(id) | Self::Unchanged(id) => id,
        }
    }
}

/// A user's rating (and review) of a film from another service.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRating {
    pub movie: MovieId,
    pub user: UserId,
    pub stars: Stars,
    /// Replaces the stored text when set; a rating without text leaves an existing review's text.
    pub body: Option<ReviewText>,
    /// When it was rated in the source.
    pub at_ms: i64,
}

/// How many rows an import batch added, changed or found already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ImportCounts {
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl std::ops::AddAssign for ImportCounts {
    fn add_assign(&mut self, other: Self) {
        self.added += other.added;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }
}

/// An account for ratings that came with an import (a MovieLens user): it can not sign in.
#[derive(Debug, Clone)]
pub struct ImportUser {
    pub username: Username,
    pub display_name: DisplayName,
}

/// The stored password hash of an account that can not sign in: no password verifies against it.
pub const LOCKED_PASSWORD: &str = "!";

/// Merges what a source says into what is stored: a source's empty field (no synopsis, no
/// credits, no genres, no year, "NR") keeps the stored value, so importing IMDb's basics over a
/// film that came from a library folder does not wipe its cast. The slug never changes, so links
/// keep working.
pub fn merge_draft(stored: &Movie, incoming: &MovieDraft) -> MovieDraft {
    use marquee_domain::{
        CastMember, Genre, Language, PersonName, Runtime, Slug, Synopsis, Title, Year,
    };
    let mut out = incoming.clone();
    if let Ok(slug) = Slug::parse(&stored.slug) {
        out.slug = slug;
    }
    if out.original_title.is_none() {
        out.original_title = stored
            .original_title
            .as_deref()
            .and_then(|t| Title::parse(t).ok());
    }
    if out.year.is_none() {
        out.year = stored.year.and_then(|y| Year::new(i64::from(y)).ok());
    }
    if out.runtime.is_none() {
        out.runtime = stored
            .runtime_minutes
            .and_then(|m| Runtime::from_minutes(i64::from(m)).ok());
    }
    if out.synopsis.as_str().is_empty()
        && let Ok(s) = Synopsis::parse(&stored.synopsis)
    {
        out.synopsis = s;
    }
    if out.genres.is_empty() {
        out.genres = stored
            .genres
            .iter()
            .filter_map(|g| Genre::parse(g).ok())
            .collect();
    }
    if out.directors.is_empty() && out.cast.is_empty() {
        out.directors = stored
            .directors
            .iter()
            .filter_map(|d| PersonName::parse(d).ok())
            .collect();
        out.cast = stored
            .cast
            .iter()
            .filter_map(|c| CastMember::new(&c.name, &c.character).ok())
            .collect();
    }
    if out.content_rating == ContentRating::NotRated {
        out.content_rating =
            ContentRating::parse(&stored.content_rating).unwrap_or(ContentRating::NotRated);
    }
    if out.language.as_str().is_empty()
        && let Ok(l) = Language::parse(&stored.language)
    {
        out.language = l;
    }
    out
}

/// Bulk writes for importers. Every method is one transaction.
#[async_trait]
pub trait ImportStore: Send + Sync {
    /// Adds or updates films, matching each by its key, then its other keys. A new film gets its
    /// draft's slug, or the first free `slug-2`, `slug-3`...; a matched one keeps its slug and has
    /// the draft merged in ([`merge_draft`]) unless its fingerprint is unchanged. Keys not yet
    /// recorded for the film are added. Answers in the order given.
    async fn import_films(
        &self,
        films: &[ImportFilm],
        now_ms: i64,
    ) -> StoreResult<Vec<FilmOutcome>>;
    /// The films known under these keys, in the order given.
    async fn films_by_keys(&self, keys: &[String]) -> StoreResult<Vec<Option<MovieId>>>;
    /// Every key starting with `prefix` and its film ("library:" for a rescan).
    async fn keys_with_prefix(&self, prefix: &str) -> StoreResult<Vec<(String, MovieId)>>;
    /// Forgets a key (a library folder that is gone); the film stays.
    async fn forget_key(&self, key: &str) -> StoreResult<()>;
    /// Films whose title (or original title) equals `title` ignoring case, of that year when
    /// given, oldest first.
    async fn films_by_title(&self, title: &str, year: Option<u16>) -> StoreResult<Vec<MovieId>>;
    /// Records ratings from other sites, replacing the same source's earlier figure.
    async fn set_external_ratings(&self, ratings: &[(MovieId, ExternalRating)]) -> StoreResult<()>;
    async fn external_ratings(&self, movie: MovieId) -> StoreResult<Vec<ExternalRating>>;
    /// The accounts with these names, created locked ([`LOCKED_PASSWORD`]) where missing.
    async fn ensure_users(&self, users: &[ImportUser], now_ms: i64) -> StoreResult<Vec<UserId>>;
    /// Adds or replaces ratings (one per user and film; the last of a batch wins), and brings
    /// every touched film's aggregates back in step from its rows in the same transaction. New
    /// text on a review drops the votes on the old text, as an edit does.
    async fn import_ratings(&self, ratings: &[ImportRating]) -> StoreResult<ImportCounts>;
    /// Tidies what many batches left behind, once at the end of an import: SQLite merges the
    /// full-text indexes' segments into one (each batch adds its own, and a search reads every
    /// segment); PostgreSQL merges the GIN indexes' pending lists and refreshes its statistics.
    async fn tidy_after_import(&self) -> StoreResult<()> {
        Ok(())
    }
}

/// The forms of a slug an import may give a new film, in order of preference: `slug`, then
/// `slug-2` ... `slug-{n}`. A backend asks which of them are taken in one query.
pub fn slug_candidates(slug: &str, n: usize) -> Vec<String> {
    std::iter::once(slug.to_owned())
        .chain((2..=n).map(|i| format!("{slug}-{i}")))
        .collect()
}

/// The first candidate of [`slug_candidates`] not in `taken`, or `None` when all are.
pub fn free_slug(slug: &str, n: usize, taken: &HashSet<String>) -> Option<String> {
    slug_candidates(slug, n)
        .into_iter()
        .find(|s| !taken.contains(s))
}

/// What an import does with one film of a batch (see [`plan_films`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilmPlan {
    /// Known under its key with the same fingerprint.
    Unchanged(MovieId),
    /// Known under its key (with another fingerprint) or under one of its other keys.
    Update(MovieId),
    Add,
    /// The same film appeared earlier in this batch, at this index.
    SameAs(usize),
}

/// Plans a batch: `known` maps every key of the batch that is already stored to its film and
/// fingerprint. A film sharing any key with an earlier one of the batch is that film.
pub fn plan_films(films: &[ImportFilm], known: &HashMap<String, (i64, String)>) -> Vec<FilmPlan> {
    let mut first_seen: HashMap<&str, usize> = HashMap::new();
    let mut plans = Vec::with_capacity(films.len());
    for (i, film) in films.iter().enumerate() {
        let all = || std::iter::once(&film.key).chain(&film.other_keys);
        let plan = if let Some(j) = all().find_map(|k| first_seen.get(k.as_str())) {
            FilmPlan::SameAs(*j)
        } else if let Some((id, fingerprint)) = known.get(&film.key) {
            if *fingerprint == film.fingerprint {
                FilmPlan::Unchanged(MovieId(*id))
            } else {
                FilmPlan::Update(MovieId(*id))
            }
        } else if let Some((id, _)) = film.other_keys.iter().find_map(|k| known.get(k)) {
            FilmPlan::Update(MovieId(*id))
        } else {
            FilmPlan::Add
        };
        for k in all() {
            first_seen.entry(k.as_str()).or_insert(i);
        }
        plans.push(plan);
    }
    plans
}

/// The numbered forms (`slug-2` …) worth looking up for new films' `wanted` slugs: those of a
/// slug already `taken`, or wanted twice in the batch. Most wanted slugs are free, so a backend
/// looks the plain ones up first and only these after.
pub fn numbered_slugs(wanted: &[String], taken: &HashSet<String>, n: usize) -> Vec<String> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for s in wanted {
        *count.entry(s.as_str()).or_default() += 1;
    }
    let mut numbered: Vec<String> = wanted
        .iter()
        .filter(|s| taken.contains(*s) || count[s.as_str()] > 1)
        .flat_map(|s| slug_candidates(s, n).into_iter().skip(1))
        .collect();
    numbered.sort_unstable();
    numbered.dedup();
    numbered
}

/// The answer for each film of a batch, from its plan and the ids the added films got (by
/// index). An added film without an id is an error naming its slug.
pub fn film_outcomes(
    films: &[ImportFilm],
    plans: &[FilmPlan],
    added: &HashMap<usize, i64>,
) -> Result<Vec<FilmOutcome>, String> {
    let mut outcomes: Vec<FilmOutcome> = Vec::with_capacity(films.len());
    for (i, plan) in plans.iter().enumerate() {
        let outcome = match plan {
            FilmPlan::Unchanged(id) => FilmOutcome::Unchanged(*id),
            FilmPlan::Update(id) => FilmOutcome::Updated(*id),
            FilmPlan::Add => match added.get(&i) {
                Some(id) => FilmOutcome::Added(MovieId(*id)),
                None => {
                    return Err(format!(
                        "the new film '{}' came back without an id",
                        films[i].draft.slug.as_str()
                    ));
                }
            },
            FilmPlan::SameAs(j) => FilmOutcome::Unchanged(outcomes[*j].id()),
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// A `movie_keys` row: key, film, and the fingerprint for a source's own key (`None` for another
/// catalog's key, which keeps what it has).
pub type KeyRow<'a> = (&'a str, i64, Option<&'a str>);

/// The key rows and external ratings a batch stores once its films have ids. One row per key:
/// an upsert may not touch the same row twice in one statement.
pub fn keys_and_ratings<'a>(
    films: &'a [ImportFilm],
    outcomes: &[FilmOutcome],
) -> (Vec<KeyRow<'a>>, Vec<(i64, &'a ExternalRating)>) {
    let mut key_rows = Vec::new();
    let mut external = Vec::new();
    let mut seen_keys = HashSet::new();
    for (film, outcome) in films.iter().zip(outcomes) {
        let id = outcome.id().0;
        let own = std::iter::once((film.key.as_str(), Some(film.fingerprint.as_str())));
        let others = film.other_keys.iter().map(|k| (k.as_str(), None));
        for (key, fingerprint) in own.chain(others) {
            if seen_keys.insert(key) {
                key_rows.push((key, id, fingerprint));
            }
        }
        if let Some(r) = &film.external_rating {
            external.push((id, r));
        }
    }
    (key_rows, external)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_slug_gets_the_first_free_number() {
        let taken = ["brazil-1985".to_owned(), "brazil-1985-2".to_owned()].into();
        assert_eq!(
            free_slug("brazil-1985", 5, &taken).as_deref(),
            Some("brazil-1985-3")
        );
        assert_eq!(
            free_slug("alien-1979", 5, &taken).as_deref(),
            Some("alien-1979")
        );
        let all = slug_candidates("x", 3).into_iter().collect();
        assert_eq!(free_slug("x", 3, &all), None);
    }

    fn film(key: &str, others: &[&str], fingerprint: &str) -> ImportFilm {
        use marquee_domain::*;
        ImportFilm {
            key: key.into(),
            other_keys: others.iter().map(|k| (*k).to_owned()).collect(),
            draft: MovieDraft::titled(
                Slug::parse("a-film").unwrap(),
                Title::parse("A Film").unwrap(),
            ),
            fingerprint: fingerprint.into(),
            external_rating: None,
        }
    }

    #[test]
    fn a_batch_is_planned_by_key_fingerprint_other_keys_and_earlier_films() {
        let known: HashMap<String, (i64, String)> = [
            ("ml:1".to_owned(), (10, "f1".to_owned())),
            ("imdb:tt2".to_owned(), (20, "".to_owned())),
        ]
        .into();
        let films = [
            film("ml:1", &[], "f1"),
            film("ml:1b", &["ml:1"], "x"),
            film("ml:3", &["imdb:tt2"], "f3"),
            film("ml:4", &[], "f4"),
            film("ml:5", &["ml:1"], "f5"),
            film("ml:4", &[], "f4"),
            film("ml:1", &[], "changed"),
        ];
        let plans = plan_films(&films[..4], &known);
        assert_eq!(
            plans,
            [
                FilmPlan::Unchanged(MovieId(10)),
                FilmPlan::SameAs(0),
                FilmPlan::Update(MovieId(20)),
                FilmPlan::Add,
            ]
        );
        assert_eq!(
            plan_films(&films[5..], &known)[1],
            FilmPlan::Update(MovieId(10))
        );
        let plans = plan_films(&films[3..6], &known);
        assert_eq!(
            plans,
            [
                FilmPlan::Add,
                FilmPlan::Update(MovieId(10)),
                FilmPlan::SameAs(0)
            ]
        );
        let outcomes = film_outcomes(&films[3..6], &plans, &[(0, 7)].into()).unwrap();
        assert_eq!(
            outcomes,
            [
                FilmOutcome::Added(MovieId(7)),
                FilmOutcome::Updated(MovieId(10)),
                FilmOutcome::Unchanged(MovieId(7)),
            ]
        );
        assert!(film_outcomes(&films[3..4], &[FilmPlan::Add], &HashMap::new()).is_err());
        let (keys, _) = keys_and_ratings(&films[3..6], &outcomes);
        assert_eq!(
            keys,
            [
                ("ml:4", 7, Some("f4")),
                ("ml:5", 10, Some("f5")),
                ("ml:1", 10, None)
            ]
        );
    }

    #[test]
    fn numbered_slugs_are_looked_up_for_taken_and_repeated_ones_only() {
        let wanted = [
            "a".to_owned(),
            "b".to_owned(),
            "c".to_owned(),
            "c".to_owned(),
        ];
        let taken = ["a".to_owned()].into();
        assert_eq!(
            numbered_slugs(&wanted, &taken, 3),
            ["a-2", "a-3", "c-2", "c-3"]
        );
    }
}
