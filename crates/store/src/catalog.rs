//! Finding films among tens of thousands: browsing with filters and sorts (the `/movies` page
//! and the home page's shelves), a person's films, and full-text search with typo tolerance.
//!
//! The query vocabulary (sorts, filters, cursors, search terms) is defined here once, so both
//! backends answer the same question and the conformance suite can hold them to one answer.

use async_trait::async_trait;
use marquee_domain::{MovieId, ValidationError, bayesian_average};
use serde::Serialize;

use crate::StoreResult;

/// What a film looks like in a list: enough for a card or a row, without credits or synopsis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MovieCard {
    pub id: MovieId,
    pub slug: String,
    pub title: String,
    pub year: Option<u16>,
    pub runtime_minutes: Option<u16>,
    pub poster: Option<String>,
    pub rating_count: u64,
    pub rating_sum: u64,
    pub review_count: u64,
    pub created_ms: i64,
}

impl MovieCard {
    /// The plain mean in stars, or `None` before the first rating.
    pub fn average(&self) -> Option<f64> {
        (self.rating_count > 0).then(|| self.rating_sum as f64 / self.rating_count as f64)
    }

    /// The "Top rated" key: see [`marquee_domain::ranking`].
    pub fn bayesian(&self) -> f64 {
        bayesian_average(self.rating_sum, self.rating_count)
    }
}

/// The orders the catalog can be listed in. Each has one direction, chosen for what a viewer
/// wants first: A–Z, newest, best, most discussed, latest added. Ties are broken by the film's
/// id in the same direction as the key (ascending for [`Title`](Self::Title), descending for
/// the others, so the latest added of two equal films comes first), which makes every order
/// total and lets each be read from one index in one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BrowseSort {
    /// Title A–Z (case-insensitive), then id.
    #[default]
    Title,
    /// Release year, newest first; films without a year last. Then id.
    Year,
    /// Bayesian average, best first. Then id.
    Rating,
    /// Number of reviews, most first. Then id.
    Reviews,
    /// When the film was added, latest first. Then id.
    Added,
}

impl BrowseSort {
    pub const ALL: [BrowseSort; 5] = [
        Self::Title,
        Self::Year,
        Self::Rating,
        Self::Reviews,
        Self::Added,
    ];

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                ValidationError::new("sort", "must be one of title, year, rating, reviews, added")
            })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Title => "title",
            Self::Year => "year",
            Self::Rating => "rating",
            Self::Reviews => "reviews",
            Self::Added => "added",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Title => "Title",
            Self::Year => "Newest",
            Self::Rating => "Top rated",
            Self::Reviews => "Most reviewed",
            Self::Added => "Recently added",
        }
    }
}

/// Which films to list. Every bound is inclusive; `None` means no bound.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BrowseFilter {
    /// A genre name, compared case-insensitively.
    pub genre: Option<String>,
    pub year_min: Option<u16>,
    pub year_max: Option<u16>,
    pub runtime_min: Option<u16>,
    pub runtime_max: Option<u16>,
    /// The least mean rating in stars (1–5); unrated films are left out when set.
    pub min_rating: Option<f64>,
}

impl BrowseFilter {
    /// The least year as a store compares it against `COALESCE(year, 0)` (the year index's
    /// expression, where a film without a year is 0): an upper bound alone gets a lower one of
    /// 1, so films without a year stay out as the plain bounds leave them out.
    pub fn indexed_year_min(&self) -> Option<u16> {
        self.year_min.or(self.year_max.map(|_| 1))
    }
}

/// The sort key of the last film on a page, and its id: the next page starts after it.
#[derive(Debug, Clone, PartialEq)]
pub struct BrowseCursor {
    pub key: CursorKey,
    pub id: MovieId,
}

/// A sort key's value: the title for [`BrowseSort::Title`], the Bayesian average for
/// [`BrowseSort::Rating`], a whole number for the others (the year is 0 when unknown).
#[derive(Debug, Clone, PartialEq)]
pub enum CursorKey {
    Text(String),
    Int(i64),
    Real(f64),
}

impl BrowseCursor {
    /// The cursor after `card` in `sort` order.
    pub fn after(card: &MovieCard, sort: BrowseSort) -> Self {
        let key = match sort {
            BrowseSort::Title => CursorKey::Text(card.title.clone()),
            BrowseSort::Year => CursorKey::Int(card.year.map_or(0, i64::from)),
            BrowseSort::Rating => CursorKey::Real(card.bayesian()),
            BrowseSort::Reviews => CursorKey::Int(card.review_count as i64),
            BrowseSort::Added => CursorKey::Int(card.created_ms),
        };
        Self { key, id: card.id }
    }

    /// An opaque, URL-safe form: `<id>.<key>` with the key hex-encoded (text as UTF-8 bytes, a
    /// real number as its IEEE bits, so it comes back exactly).
    pub fn encode(&self) -> String {
        let key = match &self.key {
            CursorKey::Text(t) => format!("t{}", hex(t.as_bytes())),
            CursorKey::Int(i) => format!("i{i}"),
            CursorKey::Real(r) => format!("r{:016x}", r.to_bits()),
        };
        format!("{}.{key}", self.id.0)
    }

    /// Reads a cursor made by [`encode`](Self::encode) for the same sort.
    pub fn decode(raw: &str, sort: BrowseSort) -> Result<Self, ValidationError> {
        let bad = || ValidationError::new("after", "is not a position in this list");
        let (id, key) = raw.split_once('.').ok_or_else(bad)?;
        let id = MovieId(id.parse().map_err(|_| bad())?);
        let key = match (sort, key.split_at_checked(1).ok_or_else(bad)?) {
            (BrowseSort::Title, ("t", h)) => {
                CursorKey::Text(String::from_utf8(unhex(h).ok_or_else(bad)?).map_err(|_| bad())?)
            }
            (BrowseSort::Rating, ("r", h)) if h.len() == 16 => CursorKey::Real(f64::from_bits(
                u64::from_str_radix(h, 16).map_err(|_| bad())?,
            )),
            (BrowseSort::Year | BrowseSort::Reviews | BrowseSort::Added, ("i", n)) => {
                CursorKey::Int(n.parse().map_err(|_| bad())?)
            }
            _ => return Err(bad()),
        };
        Ok(Self { key, id })
    }
}

impl BrowseCursor {
    /// The cursor's key as `sort` compares it: text for [`BrowseSort::Title`], a real number for
    /// [`BrowseSort::Rating`], a whole number for the others. A cursor of another sort (which
    /// [`decode`](Self::decode) refuses) is a caller's bug and an error.
    pub fn key_for(&self, sort: BrowseSort) -> StoreResult<CursorKey> {
        match (sort, &self.key) {
            (BrowseSort::Title, CursorKey::Text(t)) => Ok(CursorKey::Text(t.clone())),
            (BrowseSort::Rating, CursorKey::Real(r)) => Ok(CursorKey::Real(*r)),
            (BrowseSort::Rating, CursorKey::Int(i)) => Ok(CursorKey::Real(*i as f64)),
            (BrowseSort::Year | BrowseSort::Reviews | BrowseSort::Added, CursorKey::Int(i)) => {
                Ok(CursorKey::Int(*i))
            }
            _ => Err(crate::StoreError::backend(std::io::Error::other(format!(
                "a browse cursor made for another order than {}",
                sort.as_str()
            )))),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 1600 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// One page request of the catalog.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BrowseQuery {
    pub filter: BrowseFilter,
    pub sort: BrowseSort,
    pub after: Option<BrowseCursor>,
    /// At most this many films (the store caps it at 200).
    pub limit: u32,
}

/// A director's or cast member's part in a film.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditRole {
    Director,
    Cast,
}

/// A film a person worked on, for their page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonCredit {
    pub card: MovieCard,
    pub role: CreditRole,
    /// The character played; empty for directors.
    pub character: String,
}

/// Why a search result matched, best reason first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum SearchMatch {
    /// The whole query is the title (or original title).
    ExactTitle,
    /// Every word of the query is (a prefix of) a word of the title or original title.
    Title,
    /// Every word matches a director's or cast member's name (the first such person).
    Person(String),
    /// The words match somewhere, the synopsis included.
    Text,
    /// Nothing matched exactly, but the title is close to the query (a typo).
    Similar,
}

/// A search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub card: MovieCard,
    pub matched: SearchMatch,
}

/// A search query cut into words: lower-cased, accents folded, punctuation dropped, at most
/// [`MAX_TERMS`](Self::MAX_TERMS) words of at most 40 characters. Empty when nothing searchable
/// is left, and then the stores answer with nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTerms {
    terms: Vec<String>,
}

impl SearchTerms {
    pub const MAX_TERMS: usize = 8;

    pub fn parse(raw: &str) -> Self {
        let terms = raw
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| {
                w.chars()
                    .flat_map(char::to_lowercase)
                    .map(marquee_domain::movie::fold_accent)
                    .take(40)
                    .collect::<String>()
            })
            .take(Self::MAX_TERMS)
            .collect();
        Self { terms }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// The words joined by single spaces: what an exact title is compared with after the title
    /// goes through the same folding.
    pub fn phrase(&self) -> String {
        self.terms.join(" ")
    }
}

/// Folds a title (or name) the way [`SearchTerms`] folds a query, for exact-title comparison
/// and for building search documents: "Amélie!" becomes "amelie".
pub fn fold_for_search(text: &str) -> String {
    SearchTerms::parse_unbounded(text).join(" ")
}

impl SearchTerms {
    fn parse_unbounded(raw: &str) -> Vec<String> {
        raw.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(|w| {
                w.chars()
                    .flat_map(char::to_lowercase)
                    .map(marquee_domain::movie::fold_accent)
                    .collect::<String>()
            })
            .collect()
    }
}

/// Reading the catalog the ways a viewer looks for a film.
#[async_trait]
pub trait CatalogStore: Send + Sync {
    /// One page of films matching the filter, in the sort's order, strictly after the cursor
    /// (keyset paging: no film repeats or is skipped while films are added), at most
    /// `query.limit` capped at [`MAX_BROWSE_PAGE`].
    async fn browse_movies(&self, query: &BrowseQuery) -> StoreResult<Vec<MovieCard>>;
    /// Every genre in use with its number of films, most films first, then by name.
    async fn genre_counts(&self) -> StoreResult<Vec<(String, u64)>>;
    /// The films a person directed or appeared in (names compared exactly, as stored), newest
    /// first (by year, films without one last, then latest added); a film appears once per
    /// role, director before cast. Empty when nobody by that name is credited.
    async fn person_credits(&self, name: &str) -> StoreResult<Vec<PersonCredit>>;
    /// Full-text search over titles, original titles, people and synopses, with prefix matching
    /// (each word may be the start of a word) and typo tolerance (titles close to the query come
    /// after the exact matches). Ranked by [`SearchMatch`] order, then by number of ratings, then
    /// title, then id. At most `limit` hits (capped at [`MAX_SEARCH_HITS`]); nothing for empty
    /// terms. Each class ranks at most [`SEARCH_CANDIDATES`] index matches, and typo
    /// candidates are the films sharing two of the query's rarest trigrams (see
    /// [`similar_groups`]), kept when [`trigram_similarity`] reaches
    /// [`SIMILARITY_THRESHOLD`].
    async fn search_movies(&self, terms: &SearchTerms, limit: u32) -> StoreResult<Vec<SearchHit>>;
}

/// The most search hits one call returns.
pub const MAX_SEARCH_HITS: u32 = 50;
/// The most films one page of [`CatalogStore::browse_movies`] returns.
pub const MAX_BROWSE_PAGE: u32 = 200;

// ---------------------------------------------------------------------------------------------
// Search building blocks, shared by the backends so that both fold, rank and forgive typos alike.
// The SQL that uses them lives in each backend's `catalog.rs`.
// ---------------------------------------------------------------------------------------------

/// How many candidates one match class reads from a full-text index before ranking them. A
/// prefix of one or two letters ("a*") matches most of the catalog; the class then ranks the
/// first this many matches (in index order, not by popularity) instead of all of them, which
/// bounds every class to a fraction of a millisecond on 60,000 films. Classes with fewer
/// matches (nearly all real queries) are ranked exactly.
pub const SEARCH_CANDIDATES: u32 = 200;

/// The least trigram similarity (see [`trigram_similarity`]) for a [`SearchMatch::Similar`]
/// hit: pg_trgm's default `similarity_threshold`.
pub const SIMILARITY_THRESHOLD: f64 = 0.3;

/// A trigram found in more than this many titles is "common" (the, ing, ter…): it says little
/// about which film was meant, so typo candidates are drawn from the rarer ones.
pub const COMMON_TRIGRAM: u32 = 300;

/// The most typo candidates whose similarity is computed for one search.
pub const SIMILAR_CANDIDATES: u32 = 100;

/// Typo candidates are looked for only when the words as typed found fewer films than this. A
/// typo rarely leaves many real matches, and similar titles would rank below all of them anyway;
/// the trigram lookups cost several times the word classes together, so skipping them for a
/// query that already matched well is what keeps new (uncached) searches fast.
pub const SIMILAR_BELOW: usize = 5;

/// What search reads of a film, folded with [`fold_for_search`] so that both backends index the
/// same words. Built from the film's own fields whenever they change (see each backend's
/// `refresh_search`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchDocument {
    pub title_folded: String,
    /// Empty when the film has no original title.
    pub original_folded: String,
    /// The credited names as stored, one per line: directors, then cast, in credit order. Used to
    /// report which person matched.
    pub people: String,
    /// The same names folded, one per line.
    pub people_folded: String,
    pub synopsis_folded: String,
}

impl SearchDocument {
    /// `people` in credit order (directors first, then cast).
    pub fn new<'a>(
        title: &str,
        original_title: Option<&str>,
        people: impl IntoIterator<Item = &'a str>,
        synopsis: &str,
    ) -> Self {
        let names: Vec<String> = people
            .into_iter()
            .map(|n| n.replace(['\n', '\r'], " "))
            .collect();
        Self {
            title_folded: fold_for_search(title),
            original_folded: original_title.map(fold_for_search).unwrap_or_default(),
            people_folded: names
                .iter()
                .map(|n| fold_for_search(n))
                .collect::<Vec<_>>()
                .join("\n"),
            people: names.join("\n"),
            synopsis_folded: fold_for_search(synopsis),
        }
    }

    /// The distinct trigrams inside the words of the title and original title ("god", "odf"…):
    /// what the typo index holds. PostgreSQL stores them as a `tsvector`; SQLite's FTS5
    /// `trigram` tokenizer finds the same ones in the folded text by itself.
    pub fn title_trigrams(&self) -> Vec<String> {
        let mut out = Vec::new();
        for text in [&self.title_folded, &self.original_folded] {
            for t in inner_trigrams(text) {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
        out
    }
}

/// How many leading characters of each word the full-text indexes also keep as a prefix entry, so
/// that a short prefix ("go*") is one index entry instead of a merge of every word that starts
/// with it: SQLite's FTS5 `prefix = '1 2 3 4'`, and the `…*` lexemes of [`prefix_lexemes`] in
/// PostgreSQL, whose GIN index has no prefix entries of its own.
pub const INDEXED_PREFIX_CHARS: usize = 4;

/// Words longer than this (in bytes) are left out of [`prefix_lexemes`]; their prefixes stay.
pub const MAX_LEXEME_BYTES: usize = 200;

/// The lexemes PostgreSQL indexes for folded text: every word, and every word's first one to
/// [`INDEXED_PREFIX_CHARS`] characters followed by `*` ("godfather" gives "godfather", "g*",
/// "go*", "god*", "godf*"), without repeats. A query term of up to that many characters is then
/// one exact lexeme ("god*"); a longer one is a prefix search over whole words ("godfa:*"),
/// which few words share.
pub fn prefix_lexemes<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for word in texts.into_iter().flat_map(str::split_whitespace) {
        // PostgreSQL refuses lexemes of 2 KiB and more; no one searches for such a word.
        if word.len() <= MAX_LEXEME_BYTES && seen.insert(word.to_owned()) {
            out.push(word.to_owned());
        }
        let mut prefix = String::new();
        for c in word.chars().take(INDEXED_PREFIX_CHARS) {
            prefix.push(c);
            let lexeme = format!("{prefix}*");
            if seen.insert(lexeme.clone()) {
                out.push(lexeme);
            }
        }
    }
    out
}

/// The trigrams of three letters inside each word of already folded text, in order, without
/// repeats.
pub fn inner_trigrams(folded: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in folded.split_whitespace() {
        let chars: Vec<char> = word.chars().collect();
        for w in chars.windows(3) {
            let t: String = w.iter().collect();
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    out
}

/// pg_trgm's trigram set of a text: every word (a run of letters and digits, lower-cased) padded
/// with two spaces in front and one behind, cut into overlapping three-character pieces.
fn trigram_set(text: &str) -> std::collections::BTreeSet<[char; 3]> {
    let mut set = std::collections::BTreeSet::new();
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let padded: Vec<char> = "  "
            .chars()
            .chain(word.chars().flat_map(char::to_lowercase))
            .chain(" ".chars())
            .collect();
        for w in padded.windows(3) {
            set.insert([w[0], w[1], w[2]]);
        }
    }
    set
}

/// pg_trgm's `similarity(a, b)`: the share of trigrams the two texts have in common (shared
/// trigrams over all distinct trigrams of both), from 0 to 1. "godfater" and "the godfather"
/// score about 0.47. Both backends rank typo candidates with this one function.
pub fn trigram_similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (trigram_set(a), trigram_set(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let shared = a.intersection(&b).count();
    shared as f64 / (a.len() + b.len() - shared) as f64
}

/// True when every term is the start of some word of `folded` (space-separated, folded text).
pub fn terms_prefix_words(terms: &SearchTerms, folded: &str) -> bool {
    terms
        .terms()
        .iter()
        .all(|t| folded.split_whitespace().any(|w| w.starts_with(t.as_str())))
}

/// The first credited person (from [`SearchDocument::people`], as stored) whose name alone
/// matches every term as the start of one of its words: "tom ha" matches "Tom Hanks", but not a
/// film with a Tom and, elsewhere, a Hanks.
pub fn matching_person<'a>(terms: &SearchTerms, people: &'a str) -> Option<&'a str> {
    people
        .lines()
        .find(|name| terms_prefix_words(terms, &fold_for_search(name)))
}

/// The trigrams of a query to look up in the typo index (inner trigrams of its words, at most
/// 24); empty when no word has three letters.
pub fn query_trigrams(terms: &SearchTerms) -> Vec<String> {
    let mut out = inner_trigrams(&terms.phrase());
    out.truncate(24);
    out
}

/// Which typo candidates to read, given each query trigram with the number of titles holding it
/// (or any number above [`COMMON_TRIGRAM`] for a common one): films that hold at least two of the query's
/// rarest trigrams. Returns groups of trigrams; a film is a candidate when it holds every
/// trigram of some group. Empty when the query has no trigram.
pub fn similar_groups(counted: &[(String, u64)]) -> Vec<Vec<String>> {
    let mut by_rarity: Vec<&(String, u64)> = counted.iter().collect();
    by_rarity.sort_by_key(|(_, n)| *n);
    let mut picked: Vec<&str> = by_rarity
        .iter()
        .filter(|(_, n)| *n <= u64::from(COMMON_TRIGRAM))
        .take(6)
        .map(|(t, _)| t.as_str())
        .collect();
    if picked.len() < 2 {
        // Every trigram is common (or there is only one): the two rarest still narrow it down.
        picked = by_rarity.iter().take(2).map(|(t, _)| t.as_str()).collect();
    }
    match picked.as_slice() {
        [] => Vec::new(),
        [one] => vec![vec![(*one).to_owned()]],
        many => {
            let mut groups = Vec::new();
            for (i, a) in many.iter().enumerate() {
                for b in &many[i + 1..] {
                    groups.push(vec![(*a).to_owned(), (*b).to_owned()]);
                }
            }
            groups
        }
    }
}

/// Genre counts as the stores read them (one row per spelling, counted by films), merged across
/// spellings that differ only in case ("Drama", "drama") under the first spelling in byte order,
/// most films first, then by name. Counting per spelling lets the stores read their genre index
/// in order instead of sorting every row by its lower-cased name; a film filed under two
/// spellings of one genre would count twice.
pub fn merge_genre_counts(rows: Vec<(String, u64)>) -> Vec<(String, u64)> {
    let mut merged: std::collections::BTreeMap<String, (String, u64)> =
        std::collections::BTreeMap::new();
    for (name, n) in rows {
        let entry = merged
            .entry(name.to_lowercase())
            .or_insert_with(|| (name.clone(), 0));
        if name < entry.0 {
            entry.0 = name;
        }
        entry.1 += n;
    }
    let mut out: Vec<(String, u64)> = merged.into_values().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// A typo candidate as a backend reads it: the card and the folded titles to compare.
#[derive(Debug, Clone)]
pub struct SimilarCandidate {
    pub card: MovieCard,
    pub title_folded: String,
    pub original_folded: String,
}

/// The candidates whose title or original title is at least [`SIMILARITY_THRESHOLD`] similar to
/// the query, in the order of every match class: most ratings first, then title, then id.
pub fn rank_similar(terms: &SearchTerms, candidates: Vec<SimilarCandidate>) -> Vec<MovieCard> {
    let phrase = terms.phrase();
    let mut kept: Vec<MovieCard> = candidates
        .into_iter()
        .filter(|c| {
            let best =
                trigram_similarity(&phrase, &c.title_folded).max(if c.original_folded.is_empty() {
                    0.0
                } else {
                    trigram_similarity(&phrase, &c.original_folded)
                });
            best >= SIMILARITY_THRESHOLD
        })
        .map(|c| c.card)
        .collect();
    kept.sort_by(|a, b| {
        b.rating_count
            .cmp(&a.rating_count)
            .then_with(|| a.title.to_lowercase().cmp(&b.title.to_lowercase()))
            .then_with(|| a.id.cmp(&b.id))
    });
    kept
}

/// Collects the hits of a search class by class, best class first: a film keeps the first
/// (best) class it is found in, and collecting stops at the limit.
#[derive(Debug)]
pub struct SearchHits {
    hits: Vec<SearchHit>,
    seen: std::collections::HashSet<MovieId>,
    limit: usize,
}

impl SearchHits {
    /// `limit` is capped at [`MAX_SEARCH_HITS`].
    pub fn new(limit: u32) -> Self {
        Self {
            hits: Vec::new(),
            seen: std::collections::HashSet::new(),
            limit: limit.min(MAX_SEARCH_HITS) as usize,
        }
    }

    /// The capped limit: how many rows a class query needs to read (films already collected
    /// may come again, but never more than that many new ones are needed).
    pub fn limit(&self) -> u32 {
        self.limit as u32
    }

    pub fn is_full(&self) -> bool {
        self.hits.len() >= self.limit
    }

    /// Whether to look for typo candidates: the list has room and the words as typed found
    /// fewer than [`SIMILAR_BELOW`] films.
    pub fn wants_similar(&self) -> bool {
        !self.is_full() && self.hits.len() < SIMILAR_BELOW
    }

    /// Adds a hit unless the film is already in or the list is full.
    pub fn push(&mut self, card: MovieCard, matched: SearchMatch) {
        if !self.is_full() && self.seen.insert(card.id) {
            self.hits.push(SearchHit { card, matched });
        }
    }

    pub fn into_hits(self) -> Vec<SearchHit> {
        self.hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_exactly_for_every_sort() {
        let card = MovieCard {
            id: MovieId(42),
            slug: "a".into(),
            title: "Amélie. (Le fabuleux)".into(),
            year: Some(2001),
            runtime_minutes: Some(122),
            poster: None,
            rating_count: 7,
            rating_sum: 29,
            review_count: 3,
            created_ms: 1_700_000_000_123,
        };
        for sort in BrowseSort::ALL {
            let c = BrowseCursor::after(&card, sort);
            assert_eq!(
                BrowseCursor::decode(&c.encode(), sort).unwrap(),
                c,
                "{sort:?}"
            );
        }
    }

    #[test]
    fn a_cursor_from_another_sort_or_garbage_is_refused() {
        let c = BrowseCursor {
            key: CursorKey::Int(3),
            id: MovieId(1),
        };
        assert!(BrowseCursor::decode(&c.encode(), BrowseSort::Title).is_err());
        for bad in ["", "x", "1.", "1.tzz", "a.i3", "1.r12"] {
            assert!(
                BrowseCursor::decode(bad, BrowseSort::Rating).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn search_terms_are_folded_and_bounded() {
        let t = SearchTerms::parse("  Amélie!  the Fabuleux-destin ");
        assert_eq!(t.terms(), ["amelie", "the", "fabuleux", "destin"]);
        assert!(SearchTerms::parse("?!  ").is_empty());
        assert_eq!(SearchTerms::parse(&"a ".repeat(20)).terms().len(), 8);
        assert_eq!(fold_for_search("Amélie"), "amelie");
    }

    #[test]
    fn prefix_lexemes_hold_each_word_and_its_first_letters() {
        assert_eq!(
            prefix_lexemes(["up up", "upper"]),
            ["up", "u*", "up*", "upper", "upp*", "uppe*"]
        );
        assert!(prefix_lexemes([""]).is_empty());
    }

    #[test]
    fn trigram_similarity_is_pg_trgms() {
        // Values pg_trgm's similarity() gives for the same pairs.
        assert!((trigram_similarity("godfater", "godfather the") - 7.0 / 15.0).abs() < 1e-9);
        assert!((trigram_similarity("word", "two words") - 4.0 / 11.0).abs() < 1e-9);
        assert_eq!(trigram_similarity("amelie", "amelie"), 1.0);
        assert_eq!(trigram_similarity("", "amelie"), 0.0);
        assert!(trigram_similarity("zzz", "amelie") < SIMILARITY_THRESHOLD);
    }

    #[test]
    fn a_person_matches_when_one_name_holds_every_term() {
        let people = "Francis Ford Coppola\nMarlon Brando\nTom Cruise\nColin Hanks";
        let t = |q| SearchTerms::parse(q);
        assert_eq!(matching_person(&t("brando"), people), Some("Marlon Brando"));
        assert_eq!(
            matching_person(&t("copp fran"), people),
            Some("Francis Ford Coppola")
        );
        assert_eq!(matching_person(&t("tom hanks"), people), None);
        let doc = SearchDocument::new("Amélie", Some("Le Fabuleux Destin"), ["Zoë Ré"], "");
        assert_eq!(doc.people_folded, "zoe re");
        assert_eq!(doc.original_folded, "le fabuleux destin");
        assert_eq!(matching_person(&t("zoe"), &doc.people), Some("Zoë Ré"));
    }

    #[test]
    fn typo_candidates_come_from_the_rarest_trigrams() {
        let counted: Vec<(String, u64)> = [("god", 167), ("odf", 20), ("ter", 301), ("dfa", 23)]
            .iter()
            .map(|(t, n)| (t.to_string(), *n))
            .collect();
        let groups = similar_groups(&counted);
        assert_eq!(groups.len(), 3, "{groups:?}");
        assert!(groups.iter().all(|g| !g.contains(&"ter".to_string())));
        let common = [("the".to_string(), 301), ("her".to_string(), 301)];
        assert_eq!(similar_groups(&common), vec![vec!["the", "her"]]);
        assert!(similar_groups(&[]).is_empty());
        assert_eq!(
            query_trigrams(&SearchTerms::parse("godfater ab")),
            ["god", "odf", "dfa", "fat", "ate", "ter"]
        );
    }

    #[test]
    fn search_hits_keep_a_film_once_in_its_best_class_up_to_the_limit() {
        let card = |id| MovieCard {
            id: MovieId(id),
            slug: String::new(),
            title: String::new(),
            year: None,
            runtime_minutes: None,
            poster: None,
            rating_count: 0,
            rating_sum: 0,
            review_count: 0,
            created_ms: 0,
        };
        let mut hits = SearchHits::new(2);
        hits.push(card(1), SearchMatch::ExactTitle);
        hits.push(card(1), SearchMatch::Text);
        assert!(!hits.is_full());
        hits.push(card(2), SearchMatch::Title);
        hits.push(card(3), SearchMatch::Title);
        let hits = hits.into_hits();
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].matched, SearchMatch::ExactTitle);
        assert_eq!(SearchHits::new(500).limit(), MAX_SEARCH_HITS);
    }
}
