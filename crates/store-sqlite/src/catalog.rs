//! Finding films in SQLite: browsing with filters and keyset pages (one index per sort), a
//! person's films, genre counts, and search over `movie_search` and its FTS5 tables, plus
//! keeping those search rows in step with the films (`refresh_search`, `rebuild_search_index`).
//!
//! PostgreSQL's `catalog.rs` has the same structure with its own SQL; the ranking rules, folding
//! and typo scoring they share live in `marquee_store::catalog`.

use crate::rows::{CARD_COLUMNS, card};
use crate::{SqliteStore, db_err};
use async_trait::async_trait;
use marquee_domain::ranking::{PRIOR_MEAN, PRIOR_WEIGHT};
use marquee_store::catalog::{
    COMMON_TRIGRAM, CatalogStore, CursorKey, MAX_BROWSE_PAGE, SEARCH_CANDIDATES,
    SIMILAR_CANDIDATES, SearchDocument, SearchHits, SimilarCandidate, fold_for_search,
    matching_person, merge_genre_counts, query_trigrams, rank_similar, similar_groups,
};
use marquee_store::{
    BrowseFilter, BrowseQuery, BrowseSort, CreditRole, MovieCard, PersonCredit, SearchHit,
    SearchMatch, SearchTerms, StoreResult,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};
use std::collections::HashMap;

/// The Bayesian average of `marquee_domain::ranking::bayesian_average` as SQL, formatted from
/// its constants. It must read exactly like the expression of the `movies_by_rating` index
/// (migration 8) for SQLite to use that index, and it is computed in floating point like the
/// Rust function, so a cursor's key compares equal to the film it came from.
fn bayesian_sql() -> String {
    format!(
        "(m.rating_sum + {:?}) / (m.rating_count + {:?})",
        PRIOR_WEIGHT * PRIOR_MEAN,
        PRIOR_WEIGHT
    )
}

/// The sort key of each order as SQL, and whether it is read descending. The id follows the
/// key's direction, so `(key, id)` is one index read one way.
fn sort_key(sort: BrowseSort) -> (String, bool) {
    match sort {
        BrowseSort::Title => ("m.title COLLATE NOCASE".to_owned(), false),
        BrowseSort::Year => ("COALESCE(m.year, 0)".to_owned(), true),
        BrowseSort::Rating => (bayesian_sql(), true),
        BrowseSort::Reviews => ("m.review_count".to_owned(), true),
        BrowseSort::Added => ("m.created_ms".to_owned(), true),
    }
}

/// A genre with at most this many films is read through `movie_genres_by_folded_name` and its
/// films sorted; a bigger one is checked film by film along the sort's index. Reading the
/// genre costs about its size; walking the sort order costs about the page size divided by the
/// genre's share of the catalog, which for a rare genre means most of the catalog (a
/// thousand-film genre among 58,000 made "Thriller by year" take 140 ms instead of 7).
const SMALL_GENRE: i64 = 2000;

/// How the genre filter is applied: see [`SMALL_GENRE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GenreScan {
    /// Read the genre's films, then sort them.
    ReadGenre,
    /// Walk the sort order and keep the genre's films.
    WalkOrder,
}

fn push_filter(
    q: &mut QueryBuilder<'_, Sqlite>,
    filter: &BrowseFilter,
    sort: BrowseSort,
    genre_scan: GenreScan,
) {
    if let Some(genre) = &filter.genre {
        match genre_scan {
            GenreScan::ReadGenre => q.push(
                " AND m.id IN (SELECT g.movie_id FROM movie_genres g \
                 WHERE g.name = ",
            ),
            GenreScan::WalkOrder => q.push(
                " AND EXISTS (SELECT 1 FROM movie_genres g WHERE g.movie_id = m.id \
                 AND g.name = ",
            ),
        }
        .push_bind(genre.clone())
        .push(" COLLATE NOCASE)");
    }
    // Sorted by year, the bounds are written as the index's expression so the page is one range
    // of `movies_by_year`. Sorted otherwise,
    // they stay plain filters: an indexable range would tempt SQLite to read the range and sort
    // it, which costs more than walking the sort's own index for a range of many years.
    let (year, year_min) = if sort == BrowseSort::Year {
        ("COALESCE(m.year, 0)", filter.indexed_year_min())
    } else {
        ("m.year", filter.year_min)
    };
    let bounds = [
        (year, " >= ", year_min),
        (year, " <= ", filter.year_max),
        ("m.runtime_minutes", " >= ", filter.runtime_min),
        ("m.runtime_minutes", " <= ", filter.runtime_max),
    ];
    for (column, op, bound) in bounds {
        if let Some(v) = bound {
            q.push(" AND ")
                .push(column)
                .push(op)
                .push_bind(i64::from(v));
        }
    }
    if let Some(min) = filter.min_rating {
        // The plain mean as MovieCard::average computes it; NULL (left out) when unrated.
        q.push(" AND CAST(m.rating_sum AS REAL) / NULLIF(m.rating_count, 0) >= ")
            .push_bind(min);
    }
}

/// The FTS5 query for "every term, each as the start of a word": `"god"* AND "father"*`.
/// Terms hold only letters and digits, so quoting them is enough.
fn fts_prefix_query(terms: &SearchTerms) -> String {
    terms
        .terms()
        .iter()
        .map(|t| format!("\"{t}\"*"))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// Films in one of the first two classes: the exact (folded) title or original title, then every
/// term a prefix of a title word. Each class ranks at most SEARCH_CANDIDATES index matches.
const EXACT_AND_TITLE: &str = "SELECT * FROM (\
    SELECT * FROM (SELECT 0 AS class, {CARD} \
        FROM (SELECT movie_id AS id FROM movie_search \
              WHERE title_folded = ?1 OR (original_folded = ?1 AND original_folded <> '') LIMIT {CAP}) c \
        JOIN movies m ON m.id = c.id \
        ORDER BY m.rating_count DESC, m.title COLLATE NOCASE, m.id LIMIT ?3) \
    UNION ALL \
    SELECT * FROM (SELECT 1, {CARD} \
        FROM (SELECT rowid AS id FROM movie_search_titles WHERE movie_search_titles MATCH ?2 LIMIT {CAP}) c \
        JOIN movies m ON m.id = c.id \
        ORDER BY m.rating_count DESC, m.title COLLATE NOCASE, m.id LIMIT ?3)\
    ) ORDER BY class, rating_count DESC, lower(title), id";

/// The next two: every term in the people (checked per person in Rust, so only the best-rated
/// candidates' names are read), then anywhere.
const PERSON_AND_TEXT: &str = "SELECT * FROM (\
    SELECT 2 AS class, r.*, s.people FROM (SELECT {CARD} \
        FROM (SELECT rowid AS id FROM movie_search_people WHERE movie_search_people MATCH ?1 LIMIT {CAP}) c \
        JOIN movies m ON m.id = c.id \
        ORDER BY m.rating_count DESC, m.title COLLATE NOCASE, m.id LIMIT ?2) r \
        JOIN movie_search s ON s.movie_id = r.id \
    UNION ALL \
    SELECT * FROM (SELECT 3, {CARD}, '' \
        FROM (SELECT rowid AS id FROM movie_search_text WHERE movie_search_text MATCH ?1 LIMIT {CAP}) c \
        JOIN movies m ON m.id = c.id \
        ORDER BY m.rating_count DESC, m.title COLLATE NOCASE, m.id LIMIT ?3)\
    ) ORDER BY class, rating_count DESC, lower(title), id";

fn search_sql(template: &str) -> String {
    template
        .replace("{CARD}", CARD_COLUMNS)
        .replace("{CAP}", &SEARCH_CANDIDATES.to_string())
}

impl SqliteStore {
    /// The typo class: titles sharing two of the query's rarest trigrams, kept when similar
    /// enough (see `marquee_store::catalog::similar_groups` and `rank_similar`).
    async fn similar_titles(
        conn: &mut SqliteConnection,
        terms: &SearchTerms,
    ) -> Result<Vec<MovieCard>, sqlx::Error> {
        let trigrams = query_trigrams(terms);
        if trigrams.is_empty() {
            return Ok(Vec::new());
        }
        // How common each trigram is, counted no further than just past "common".
        let counts_sql = (1..=trigrams.len())
            .map(|i| {
                format!(
                    "SELECT {i}, count(*) FROM (SELECT 1 FROM movie_search_trigrams \
                     WHERE movie_search_trigrams MATCH ?{i} LIMIT {})",
                    COMMON_TRIGRAM + 1
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let mut q = sqlx::query(&counts_sql);
        for t in &trigrams {
            q = q.bind(format!("\"{t}\""));
        }
        let mut counted = Vec::with_capacity(trigrams.len());
        for row in q.fetch_all(&mut *conn).await? {
            let i: i64 = row.try_get(0)?;
            let n: i64 = row.try_get(1)?;
            counted.push((trigrams[i as usize - 1].clone(), n as u64));
        }
        let groups = similar_groups(&counted);
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let matcher = groups
            .iter()
            .map(|g| {
                let all = g
                    .iter()
                    .map(|t| format!("\"{t}\""))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                format!("({all})")
            })
            .collect::<Vec<_>>()
            .join(" OR ");
        let rows = sqlx::query(&format!(
            "SELECT {CARD_COLUMNS}, m.original_title \
             FROM (SELECT rowid AS id FROM movie_search_trigrams WHERE movie_search_trigrams MATCH ?1 \
                   LIMIT {SIMILAR_CANDIDATES}) c \
             JOIN movies m ON m.id = c.id"
        ))
        .bind(matcher)
        .fetch_all(&mut *conn)
        .await?;
        let candidates = rows
            .iter()
            .map(|row| {
                // Folding the few candidates' titles here saves reading their search rows.
                let card = card(row, 0)?;
                let original: Option<String> = row.try_get(10)?;
                Ok(SimilarCandidate {
                    title_folded: fold_for_search(&card.title),
                    original_folded: original.as_deref().map(fold_for_search).unwrap_or_default(),
                    card,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(rank_similar(terms, candidates))
    }

    /// SQLite's plan for one page of `browse_movies` (the `detail` of each EXPLAIN QUERY PLAN
    /// row): the same SQL, so tests and a person with a real catalog can check that every order
    /// is read from its index.
    pub async fn browse_plan(&self, query: &BrowseQuery) -> StoreResult<Vec<String>> {
        let scan = self.genre_scan(&query.filter).await?;
        let Some(mut q) = browse_sql("EXPLAIN QUERY PLAN ", query, scan)? else {
            return Ok(Vec::new());
        };
        let rows = q.build().fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(3))
            .collect::<Result<_, _>>()
            .map_err(db_err)
    }

    /// How to apply the filter's genre: one bounded count on the genre's index decides.
    async fn genre_scan(&self, filter: &BrowseFilter) -> StoreResult<GenreScan> {
        let Some(genre) = &filter.genre else {
            return Ok(GenreScan::WalkOrder);
        };
        let films: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM movie_genres \
             WHERE name = ? COLLATE NOCASE LIMIT ?)",
        )
        .bind(genre)
        .bind(SMALL_GENRE + 1)
        .fetch_one(&self.read)
        .await
        .map_err(db_err)?;
        Ok(if films <= SMALL_GENRE {
            GenreScan::ReadGenre
        } else {
            GenreScan::WalkOrder
        })
    }

    async fn browse_with(
        &self,
        query: &BrowseQuery,
        scan: GenreScan,
    ) -> StoreResult<Vec<MovieCard>> {
        let Some(mut q) = browse_sql("", query, scan)? else {
            return Ok(Vec::new());
        };
        let rows = q.build().fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter()
            .map(|r| card(r, 0))
            .collect::<Result<_, _>>()
            .map_err(db_err)
    }

    /// Rebuilds every film's search rows from the films, in batches of a thousand films, each
    /// batch its own short write transaction (writers queue behind one batch, not the whole
    /// catalog), then compacts the full-text indexes. Returns how many films were indexed.
    pub async fn rebuild_search_index(&self) -> StoreResult<u64> {
        rebuild_search(&self.write).await.map_err(db_err)
    }
}

/// Rewrites the search rows of the given films from their current titles, credits and synopsis,
/// inside the caller's transaction (ids of films that no longer exist are skipped: their rows
/// went with them). Three statements per 500 films, whatever the number of films, so a bulk
/// import can pass all the films it touched at once.
pub(crate) async fn refresh_search(
    conn: &mut SqliteConnection,
    ids: &[i64],
) -> Result<(), sqlx::Error> {
    for chunk in ids.chunks(500) {
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT id, title, original_title, synopsis FROM movies WHERE id IN (",
        );
        let mut sep = q.separated(", ");
        for id in chunk {
            sep.push_bind(*id);
        }
        q.push(")");
        let films = q.build().fetch_all(&mut *conn).await?;

        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT movie_id, name FROM movie_credits WHERE movie_id IN (");
        let mut sep = q.separated(", ");
        for id in chunk {
            sep.push_bind(*id);
        }
        q.push(") ORDER BY movie_id, CASE role WHEN 'director' THEN 0 ELSE 1 END, position");
        let mut people: HashMap<i64, Vec<String>> = HashMap::new();
        for row in q.build().fetch_all(&mut *conn).await? {
            people
                .entry(row.try_get(0)?)
                .or_default()
                .push(row.try_get(1)?);
        }

        let mut docs = Vec::with_capacity(films.len());
        for row in &films {
            let id: i64 = row.try_get(0)?;
            let title: String = row.try_get(1)?;
            let original: Option<String> = row.try_get(2)?;
            let synopsis: String = row.try_get(3)?;
            let names = people.get(&id).map(Vec::as_slice).unwrap_or_default();
            let doc = SearchDocument::new(
                &title,
                original.as_deref(),
                names.iter().map(String::as_str),
                &synopsis,
            );
            docs.push((id, doc));
        }
        if docs.is_empty() {
            continue;
        }
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "INSERT INTO movie_search (movie_id, title_folded, original_folded, people, \
             people_folded, synopsis_folded) ",
        );
        q.push_values(docs, |mut b, (id, doc)| {
            b.push_bind(id)
                .push_bind(doc.title_folded)
                .push_bind(doc.original_folded)
                .push_bind(doc.people)
                .push_bind(doc.people_folded)
                .push_bind(doc.synopsis_folded);
        });
        // An upsert rather than delete-and-insert: the FTS tables follow through the update
        // trigger, and two rebuilds at once (PostgreSQL's instances) cannot collide.
        q.push(
            " ON CONFLICT (movie_id) DO UPDATE SET title_folded = excluded.title_folded, \
             original_folded = excluded.original_folded, people = excluded.people, \
             people_folded = excluded.people_folded, synopsis_folded = excluded.synopsis_folded",
        );
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

const FTS_TABLES: [&str; 4] = [
    "movie_search_titles",
    "movie_search_people",
    "movie_search_text",
    "movie_search_trigrams",
];

/// See [`SqliteStore::rebuild_search_index`].
async fn rebuild_search(write: &SqlitePool) -> Result<u64, sqlx::Error> {
    let mut after = 0_i64;
    let mut total = 0;
    loop {
        let mut tx = write.begin_with("BEGIN IMMEDIATE").await?;
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM movies WHERE id > ? ORDER BY id LIMIT 1000")
                .bind(after)
                .fetch_all(&mut *tx)
                .await?;
        let Some(&last) = ids.last() else {
            tx.commit().await?;
            break;
        };
        refresh_search(&mut tx, &ids).await?;
        tx.commit().await?;
        total += ids.len() as u64;
        after = last;
    }
    optimize_search(write).await?;
    Ok(total)
}

/// Merges each full-text index into one segment. Many small batches leave many segments, and
/// every term of every search is looked up in each of them: after a bulk import, a search reads
/// about a third less once they are merged. Takes the write lock for a moment (about 0.3 s for
/// 60,000 films).
pub(crate) async fn optimize_search(write: &SqlitePool) -> Result<(), sqlx::Error> {
    for table in FTS_TABLES {
        sqlx::query(&format!(
            "INSERT INTO {table} ({table}) VALUES ('optimize')"
        ))
        .execute(write)
        .await?;
    }
    Ok(())
}

/// Builds the search rows of films that have none because they predate the search migration
/// (the folding is Rust's, so the migration cannot). Called when the store opens; cheap when
/// there is nothing to do.
pub(crate) async fn index_films_without_search_rows(write: &SqlitePool) -> Result<(), sqlx::Error> {
    let missing: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM movies) AND NOT EXISTS (SELECT 1 FROM movie_search)",
    )
    .fetch_one(write)
    .await?;
    if missing {
        let n = rebuild_search(write).await?;
        tracing::info!(films = n, "built the search index");
    }
    Ok(())
}

fn push_key(q: &mut QueryBuilder<'_, Sqlite>, key: CursorKey) {
    match key {
        CursorKey::Text(t) => q.push_bind(t),
        CursorKey::Int(i) => q.push_bind(i),
        CursorKey::Real(r) => q.push_bind(r),
    };
}

/// The SQL of one page of [`CatalogStore::browse_movies`] after `prefix` (empty, or EXPLAIN
/// for [`SqliteStore::browse_plan`]); `None` for an empty page.
fn browse_sql<'q>(
    prefix: &str,
    query: &BrowseQuery,
    genre_scan: GenreScan,
) -> StoreResult<Option<QueryBuilder<'q, Sqlite>>> {
    let limit = query.limit.min(MAX_BROWSE_PAGE);
    if limit == 0 {
        return Ok(None);
    }
    let (key, desc) = sort_key(query.sort);
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
        "{prefix}SELECT {CARD_COLUMNS} FROM movies m WHERE 1 = 1"
    ));
    push_filter(&mut q, &query.filter, query.sort, genre_scan);
    if let Some(after) = &query.after {
        // The row value alone does not start SQLite's index range at the cursor (for
        // `title COLLATE NOCASE` it scans from the first film): the plain bound on the key does,
        // and the row value then skips the equal keys up to the cursor's id.
        let key_value = after.key_for(query.sort)?;
        let (bound, strict) = if desc { ("<=", "<") } else { (">=", ">") };
        q.push(format!(" AND {key} {bound} "));
        push_key(&mut q, key_value.clone());
        q.push(format!(" AND ({key}, m.id) {strict} ("));
        push_key(&mut q, key_value);
        q.push(", ").push_bind(after.id.0).push(")");
    }
    let dir = if desc { "DESC" } else { "ASC" };
    q.push(format!(" ORDER BY {key} {dir}, m.id {dir} LIMIT "))
        .push_bind(i64::from(limit));
    Ok(Some(q))
}

#[async_trait]
impl CatalogStore for SqliteStore {
    async fn browse_movies(&self, query: &BrowseQuery) -> StoreResult<Vec<MovieCard>> {
        let scan = self.genre_scan(&query.filter).await?;
        self.browse_with(query, scan).await
    }

    async fn genre_counts(&self) -> StoreResult<Vec<(String, u64)>> {
        // One pass over movie_genres_by_name in order; spellings are merged in Rust.
        let rows =
            sqlx::query("SELECT name, COUNT(DISTINCT movie_id) FROM movie_genres GROUP BY name")
                .fetch_all(&self.read)
                .await
                .map_err(db_err)?;
        let counts = rows
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get::<i64, _>(1)? as u64)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db_err)?;
        Ok(merge_genre_counts(counts))
    }

    async fn person_credits(&self, name: &str) -> StoreResult<Vec<PersonCredit>> {
        // movie_credits_by_name finds the rows; a person's films are few, so sorting them is cheap.
        let rows = sqlx::query(&format!(
            "SELECT {CARD_COLUMNS}, c.role, c.character FROM movie_credits c \
             JOIN movies m ON m.id = c.movie_id WHERE c.name = ? \
             ORDER BY COALESCE(m.year, 0) DESC, m.id DESC, \
             CASE c.role WHEN 'director' THEN 0 ELSE 1 END, c.position"
        ))
        .bind(name)
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get(10)?;
                Ok(PersonCredit {
                    card: card(r, 0)?,
                    role: if role == "director" {
                        CreditRole::Director
                    } else {
                        CreditRole::Cast
                    },
                    character: r.try_get(11)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db_err)
    }

    async fn search_movies(&self, terms: &SearchTerms, limit: u32) -> StoreResult<Vec<SearchHit>> {
        let mut hits = SearchHits::new(limit);
        if terms.is_empty() || hits.limit() == 0 {
            return Ok(Vec::new());
        }
        let n = i64::from(hits.limit());
        let fts = fts_prefix_query(terms);
        let mut conn = self.read.acquire().await.map_err(db_err)?;

        let rows = sqlx::query(&search_sql(EXACT_AND_TITLE))
            .bind(terms.phrase())
            .bind(&fts)
            .bind(n)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
        for row in &rows {
            let class: i64 = row.try_get(0).map_err(db_err)?;
            let matched = if class == 0 {
                SearchMatch::ExactTitle
            } else {
                SearchMatch::Title
            };
            hits.push(card(row, 1).map_err(db_err)?, matched);
        }

        if !hits.is_full() {
            // A person's match is checked name by name, so read more than one page of them.
            let rows = sqlx::query(&search_sql(PERSON_AND_TEXT))
                .bind(&fts)
                .bind(n * 4)
                .bind(n)
                .fetch_all(&mut *conn)
                .await
                .map_err(db_err)?;
            for row in &rows {
                let class: i64 = row.try_get(0).map_err(db_err)?;
                let matched = if class == 2 {
                    let people: String = row.try_get(11).map_err(db_err)?;
                    match matching_person(terms, &people) {
                        Some(name) => SearchMatch::Person(name.to_owned()),
                        // The terms are spread over several people: a Text match, if any.
                        None => continue,
                    }
                } else {
                    SearchMatch::Text
                };
                hits.push(card(row, 1).map_err(db_err)?, matched);
            }
        }

        if hits.wants_similar() {
            for card in Self::similar_titles(&mut conn, terms)
                .await
                .map_err(db_err)?
            {
                hits.push(card, SearchMatch::Similar);
            }
        }
        Ok(hits.into_hits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use marquee_domain::*;
    use marquee_store::{BrowseCursor, MovieStore};

    /// Both ways of applying a genre must list the same films in the same order, page by page:
    /// which one runs depends only on the genre's size.
    #[tokio::test]
    async fn reading_a_genre_and_walking_the_order_list_the_same_pages() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
        for i in 0..40_i64 {
            let genres: &[&str] = match i % 3 {
                0 => &["Drama"],
                1 => &["Comedy", "Drama"],
                _ => &["Comedy"],
            };
            store
                .create_movie(&MovieDraft {
                    slug: Slug::parse(&format!("film-{i}")).unwrap(),
                    // Repeated titles and years make ties that only the id breaks.
                    title: Title::parse(&format!("Film {}", i % 7)).unwrap(),
                    original_title: None,
                    year: (i % 5 != 0).then(|| Year::new(1950 + i % 9).unwrap()),
                    runtime: Some(Runtime::from_minutes(80 + (i % 4) * 10).unwrap()),
                    synopsis: Synopsis::parse("").unwrap(),
                    genres: genres.iter().map(|g| Genre::parse(g).unwrap()).collect(),
                    directors: vec![],
                    cast: vec![],
                    content_rating: ContentRating::NotRated,
                    language: Language::parse("").unwrap(),
                })
                .await
                .unwrap();
        }
        let filters = [
            BrowseFilter {
                genre: Some("drama".into()),
                ..BrowseFilter::default()
            },
            BrowseFilter {
                genre: Some("COMEDY".into()),
                year_min: Some(1952),
                year_max: Some(1956),
                runtime_min: Some(90),
                ..BrowseFilter::default()
            },
        ];
        for filter in filters {
            for sort in BrowseSort::ALL {
                let mut pages = Vec::new();
                for scan in [GenreScan::ReadGenre, GenreScan::WalkOrder] {
                    let mut ids = Vec::new();
                    let mut after = None;
                    loop {
                        let query = BrowseQuery {
                            filter: filter.clone(),
                            sort,
                            after: after.clone(),
                            limit: 4,
                        };
                        let cards = store.browse_with(&query, scan).await.unwrap();
                        let Some(last) = cards.last() else { break };
                        after = Some(BrowseCursor::after(last, sort));
                        ids.extend(cards.iter().map(|c| c.id.0));
                    }
                    pages.push(ids);
                }
                assert!(!pages[0].is_empty(), "{sort:?} {filter:?}");
                assert_eq!(pages[0], pages[1], "{sort:?} {filter:?}");
            }
        }
    }

    /// Each import batch adds a segment to every full-text index; finishing the import merges
    /// them into one, and search still finds every film.
    #[tokio::test]
    async fn tidying_after_an_import_leaves_one_segment_per_search_index() {
        use marquee_store::import::{ImportFilm, ImportStore};
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
        for batch in 0..4 {
            let films: Vec<ImportFilm> = (0..25)
                .map(|i| {
                    let n = batch * 25 + i;
                    ImportFilm {
                        key: format!("test:{n}"),
                        other_keys: vec![],
                        draft: MovieDraft {
                            directors: vec![PersonName::parse(&format!("Ada Lumen {n}")).unwrap()],
                            ..MovieDraft::titled(
                                Slug::parse(&format!("film-{n}")).unwrap(),
                                Title::parse(&format!("Lantern {n}")).unwrap(),
                            )
                        },
                        fingerprint: n.to_string(),
                        external_rating: None,
                    }
                })
                .collect();
            store.import_films(&films, 1).await.unwrap();
        }
        let segments = |table: &'static str| {
            let read = store.read.clone();
            async move {
                sqlx::query_scalar::<_, i64>(&format!(
                    "SELECT count(DISTINCT segid) FROM {table}_idx"
                ))
                .fetch_one(&read)
                .await
                .unwrap()
            }
        };
        for table in FTS_TABLES {
            assert!(segments(table).await > 1, "{table}");
        }
        store.tidy_after_import().await.unwrap();
        for table in FTS_TABLES {
            assert_eq!(segments(table).await, 1, "{table}");
        }
        let hits = store
            .search_movies(&SearchTerms::parse("lantern"), 50)
            .await
            .unwrap();
        assert_eq!(hits.len(), 50);
    }
}
