//! Taking in catalogs and ratings from elsewhere (`marquee import ...`) in batches: each call is
//! one transaction, so an interruption leaves whole batches behind and a re-run, matching films by
//! their keys in the source, finishes the job without duplicating anything.

use async_trait::async_trait;
use marquee_domain::{
    ContentRating, DisplayName, MovieDraft, MovieId, ReviewText, Stars, UserId, Username,
};
use serde::Serialize;

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
pub fn free_slug(
    slug: &str,
    n: usize,
    taken: &std::collections::HashSet<String>,
) -> Option<String> {
    slug_candidates(slug, n)
        .into_iter()
        .find(|s| !taken.contains(s))
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
}
