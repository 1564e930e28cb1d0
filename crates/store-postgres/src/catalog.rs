//! Finding films in PostgreSQL: browsing with filters and keyset pages (one index per sort), a
//! person's films, genre counts, and search over `movie_search` (tsvectors with GIN indexes),
//! plus keeping those search rows in step with the films (`refresh_search`,
//! `rebuild_search_index`).
//!
//! SQLite's `catalog.rs` has the same structure with its own SQL; the ranking rules, folding and
//! typo scoring they share live in `marquee_store::catalog`. Both cap each match class at
//! `SEARCH_CANDIDATES` index matches, which a GIN bitmap scan gathers in one pass; the prefix
//! lexemes of `prefix_lexemes` keep short prefixes to one index entry.

use crate::rows::{CARD_COLUMNS, card};
use crate::{PgStore, db_err};
use async_trait::async_trait;
use marquee_domain::ranking::{PRIOR_MEAN, PRIOR_WEIGHT};
use marquee_store::catalog::{
    CatalogStore, CursorKey, INDEXED_PREFIX_CHARS, MAX_BROWSE_PAGE, SEARCH_CANDIDATES,
    SIMILAR_CANDIDATES, SearchDocument, SearchHits, SimilarCandidate, matching_person,
    merge_genre_counts, prefix_lexemes, query_trigrams, rank_similar, similar_groups,
};
use marquee_store::{
    BrowseFilter, BrowseQuery, BrowseSort, CreditRole, MovieCard, PersonCredit, SearchHit,
    SearchMatch, SearchTerms, StoreResult,
};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};
use std::collections::HashMap;

/// The Bayesian average of `marquee_domain::ranking::bayesian_average` as SQL, formatted from
/// its constants, in double precision like the Rust function (so a cursor's key compares equal
/// to the film it came from). It must be the expression of the `movies_by_rating` index
/// (migration 8) for PostgreSQL to use that index.
fn bayesian_sql() -> String {
    format!(
        "((m.rating_sum::float8 + {:?}::float8) / (m.rating_count::float8 + {:?}::float8))",
        PRIOR_WEIGHT * PRIOR_MEAN,
        PRIOR_WEIGHT
    )
}

/// The sort key of each order as SQL, and whether it is read descending. The id follows the
/// key's direction, so `(key, id)` is one index read one way.
fn sort_key(sort: BrowseSort) -> (String, bool) {
    match sort {
        BrowseSort::Title => ("lower(m.title)".to_owned(), false),
        BrowseSort::Year => ("COALESCE(m.year, 0)".to_owned(), true),
        BrowseSort::Rating => (bayesian_sql(), true),
        BrowseSort::Reviews => ("m.review_count".to_owned(), true),
        BrowseSort::Added => ("m.created_ms".to_owned(), true),
    }
}

fn push_filter(q: &mut QueryBuilder<'_, Postgres>, filter: &BrowseFilter) {
    if let Some(genre) = &filter.genre {
        q.push(
            " AND EXISTS (SELECT 1 FROM movie_genres g WHERE g.movie_id = m.id \
             AND lower(g.name) = lower(",
        )
        .push_bind(genre.clone())
        .push("))");
    }
    // Written as `movies_by_year`'s expression, the bounds make a year-sorted page one range of
    // that index; the planner is free to use that range for other orders too, as its
    // statistics advise.
    let bounds = [
        ("COALESCE(m.year, 0) >= ", filter.indexed_year_min()),
        ("COALESCE(m.year, 0) <= ", filter.year_max),
        ("m.runtime_minutes >= ", filter.runtime_min),
        ("m.runtime_minutes <= ", filter.runtime_max),
    ];
    for (sql, bound) in bounds {
        if let Some(v) = bound {
            q.push(" AND ").push(sql).push_bind(i64::from(v));
        }
    }
    if let Some(min) = filter.min_rating {
        // The plain mean as MovieCard::average computes it; NULL (left out) when unrated.
        q.push(" AND m.rating_sum::float8 / NULLIF(m.rating_count, 0) >= ")
            .push_bind(min);
    }
}

/// The tsquery for "every term, each as the start of a word", over the lexemes of
/// `prefix_lexemes`: a short term is its prefix lexeme (`'god*'`), a longer one a prefix search
/// over whole words (`'godfa':*`). Terms hold only letters and digits, so quoting is enough.
fn ts_prefix_query(terms: &SearchTerms) -> String {
    terms
        .terms()
        .iter()
        .map(|t| {
            if t.chars().count() <= INDEXED_PREFIX_CHARS {
                format!("'{t}*'")
            } else {
                format!("'{t}':*")
            }
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

/// Films in one of the first two classes: the exact (folded) title or original title, then every
/// term a prefix of a title word. Each class ranks at most SEARCH_CANDIDATES index matches.
const EXACT_AND_TITLE: &str = "SELECT * FROM (\
    (SELECT 0::int8 AS class, {CARD} \
        FROM (SELECT movie_id FROM movie_search \
              WHERE title_folded = $1 OR (original_folded = $1 AND original_folded <> '') LIMIT {CAP}) c \
        JOIN movies m ON m.id = c.movie_id \
        ORDER BY m.rating_count DESC, lower(m.title), m.id LIMIT $3) \
    UNION ALL \
    (SELECT 1::int8, {CARD} \
        FROM (SELECT movie_id FROM movie_search WHERE title_doc @@ $2::tsquery LIMIT {CAP}) c \
        JOIN movies m ON m.id = c.movie_id \
        ORDER BY m.rating_count DESC, lower(m.title), m.id LIMIT $3)\
    ) hits ORDER BY class, rating_count DESC, lower(title), id";

/// The next two: every term in the people (checked per person in Rust, so only the best-rated
/// candidates' names are read), then anywhere.
const PERSON_AND_TEXT: &str = "SELECT * FROM (\
    (SELECT 2::int8 AS class, r.*, s.people FROM (SELECT {CARD} \
        FROM (SELECT movie_id FROM movie_search WHERE people_doc @@ $1::tsquery LIMIT {CAP}) c \
        JOIN movies m ON m.id = c.movie_id \
        ORDER BY m.rating_count DESC, lower(m.title), m.id LIMIT $2) r \
        JOIN movie_search s ON s.movie_id = r.id) \
    UNION ALL \
    (SELECT 3::int8, {CARD}, '' \
        FROM (SELECT movie_id FROM movie_search WHERE text_doc @@ $1::tsquery LIMIT {CAP}) c \
        JOIN movies m ON m.id = c.movie_id \
        ORDER BY m.rating_count DESC, lower(m.title), m.id LIMIT $3)\
    ) hits ORDER BY class, rating_count DESC, lower(title), id";

fn search_sql(template: &str) -> String {
    template
        .replace("{CARD}", CARD_COLUMNS)
        .replace("{CAP}", &SEARCH_CANDIDATES.to_string())
}

/// A tsquery term for a trigram lexeme, quoted (trigrams hold only letters and digits).
fn trigram_lexeme(t: &str) -> String {
    format!("'{t}'")
}

impl PgStore {
    /// The typo class: titles sharing two of the query's rarest trigrams, kept when similar
    /// enough (see `marquee_store::catalog::similar_groups` and `rank_similar`).
    async fn similar_titles(
        conn: &mut PgConnection,
        terms: &SearchTerms,
    ) -> Result<Vec<MovieCard>, sqlx::Error> {
        let trigrams = query_trigrams(terms);
        if trigrams.is_empty() {
            return Ok(Vec::new());
        }
        // How common each trigram is (see movie_search_trigram_counts); unknown ones are rare.
        let known: HashMap<String, i64> = sqlx::query_as(
            "SELECT trigram, films FROM movie_search_trigram_counts WHERE trigram = ANY($1)",
        )
        .bind(&trigrams)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
        let counted: Vec<(String, u64)> = trigrams
            .iter()
            .map(|t| (t.clone(), known.get(t).map_or(0, |n| *n as u64)))
            .collect();
        let groups = similar_groups(&counted);
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let matcher = groups
            .iter()
            .map(|g| {
                let all = g
                    .iter()
                    .map(|t| trigram_lexeme(t))
                    .collect::<Vec<_>>()
                    .join(" & ");
                format!("({all})")
            })
            .collect::<Vec<_>>()
            .join(" | ");
        let rows = sqlx::query(&format!(
            "SELECT {CARD_COLUMNS}, s.title_folded, s.original_folded \
             FROM movie_search s JOIN movies m ON m.id = s.movie_id \
             WHERE s.title_trigrams @@ $1::tsquery LIMIT {SIMILAR_CANDIDATES}"
        ))
        .bind(matcher)
        .fetch_all(&mut *conn)
        .await?;
        let candidates = rows
            .iter()
            .map(|row| {
                Ok(SimilarCandidate {
                    card: card(row, 0)?,
                    title_folded: row.try_get(10)?,
                    original_folded: row.try_get(11)?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(rank_similar(terms, candidates))
    }

    /// PostgreSQL's plan for one page of `browse_movies` (EXPLAIN, one line per row): the same
    /// SQL, so a person with a real catalog can check that every order is read from its index.
    pub async fn browse_plan(&self, query: &BrowseQuery) -> StoreResult<Vec<String>> {
        let Some(mut q) = browse_sql("EXPLAIN ", query)? else {
            return Ok(Vec::new());
        };
        let rows = q.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<_, _>>()
            .map_err(db_err)
    }

    /// Rebuilds every film's search rows from the films, in batches of a thousand films, each
    /// batch its own transaction. Returns how many films were indexed.
    pub async fn rebuild_search_index(&self) -> StoreResult<u64> {
        rebuild_search(&self.pool).await.map_err(db_err)
    }
}

/// After a bulk write: merges the GIN indexes' pending lists, which every search would otherwise
/// read through until autovacuum merges them (one merge at the end costs a fraction of one per
/// batch), and refreshes the planner's statistics, whose estimates a bulk load makes stale.
pub(crate) async fn tidy_search(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT gin_clean_pending_list(i::regclass) FROM unnest(ARRAY['movie_search_titles', \
         'movie_search_people', 'movie_search_text', 'movie_search_trigrams']) AS i",
    )
    .execute(pool)
    .await?;
    sqlx::query("ANALYZE movies, movie_genres, movie_search")
        .execute(pool)
        .await?;
    Ok(())
}

/// Rewrites the search rows of the given films from their current titles, credits and synopsis,
/// inside the caller's transaction (ids of films that no longer exist are skipped: their rows
/// went with them). Five statements per 1,000 films, whatever the number of films, so a bulk
/// import can pass all the films it touched at once. A bulk writer calls [`tidy_search`] when
/// it is done.
pub(crate) async fn refresh_search(
    conn: &mut PgConnection,
    ids: &[i64],
) -> Result<(), sqlx::Error> {
    for chunk in ids.chunks(1000) {
        let films = sqlx::query(
            "SELECT id, title, original_title, synopsis FROM movies WHERE id = ANY($1)",
        )
        .bind(chunk)
        .fetch_all(&mut *conn)
        .await?;
        let mut people: HashMap<i64, Vec<String>> = HashMap::new();
        for row in sqlx::query(
            "SELECT movie_id, name FROM movie_credits WHERE movie_id = ANY($1) \
             ORDER BY movie_id, CASE role WHEN 'director' THEN 0 ELSE 1 END, position",
        )
        .bind(chunk)
        .fetch_all(&mut *conn)
        .await?
        {
            people
                .entry(row.try_get(0)?)
                .or_default()
                .push(row.try_get(1)?);
        }
        // One array per column, for UNNEST.
        let n = films.len();
        let mut film_ids = Vec::with_capacity(n);
        let (mut t, mut o, mut p) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut pf, mut s, mut tri) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut title_doc, mut people_doc, mut text_doc) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
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
            film_ids.push(id);
            tri.push(doc.title_trigrams().join(" "));
            let title_words = [doc.title_folded.as_str(), &doc.original_folded];
            title_doc.push(prefix_lexemes(title_words).join(" "));
            people_doc.push(prefix_lexemes([doc.people_folded.as_str()]).join(" "));
            text_doc.push(
                prefix_lexemes(
                    title_words
                        .into_iter()
                        .chain([doc.people_folded.as_str(), &doc.synopsis_folded]),
                )
                .join(" "),
            );
            t.push(doc.title_folded);
            o.push(doc.original_folded);
            p.push(doc.people);
            pf.push(doc.people_folded);
            s.push(doc.synopsis_folded);
        }
        if film_ids.is_empty() {
            continue;
        }
        // Films new to the index add their trigrams to the counts (edits and removals are left
        // to the next recount: the counts only ever run high, which reads as "common").
        let indexed: Vec<i64> =
            sqlx::query_scalar("SELECT movie_id FROM movie_search WHERE movie_id = ANY($1)")
                .bind(&film_ids)
                .fetch_all(&mut *conn)
                .await?;
        let mut added: std::collections::BTreeMap<&str, i64> = Default::default();
        for (id, trigrams) in film_ids.iter().zip(&tri) {
            if !indexed.contains(id) {
                for t in trigrams.split_whitespace() {
                    *added.entry(t).or_default() += 1;
                }
            }
        }
        if !added.is_empty() {
            // In trigram order, so two writers lock the count rows in the same order.
            let (names, counts): (Vec<&str>, Vec<i64>) = added.into_iter().unzip();
            sqlx::query(
                "INSERT INTO movie_search_trigram_counts (trigram, films) \
                 SELECT * FROM UNNEST($1::text[], $2::int8[]) ORDER BY 1 \
                 ON CONFLICT (trigram) DO UPDATE \
                 SET films = movie_search_trigram_counts.films + excluded.films",
            )
            .bind(&names)
            .bind(&counts)
            .execute(&mut *conn)
            .await?;
        }
        // An upsert: two rebuilds at once (instances starting together) cannot collide.
        sqlx::query(
            "INSERT INTO movie_search (movie_id, title_folded, original_folded, people, \
             people_folded, synopsis_folded, title_doc, people_doc, text_doc, title_trigrams) \
             SELECT id, t, o, p, pf, s, array_to_tsvector(string_to_array(td, ' ')), \
                    array_to_tsvector(string_to_array(pd, ' ')), \
                    array_to_tsvector(string_to_array(xd, ' ')), \
                    array_to_tsvector(string_to_array(tri, ' ')) \
             FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
                         $7::text[], $8::text[], $9::text[], $10::text[]) \
                  AS u (id, t, o, p, pf, s, td, pd, xd, tri) \
             ON CONFLICT (movie_id) DO UPDATE SET title_folded = excluded.title_folded, \
             original_folded = excluded.original_folded, people = excluded.people, \
             people_folded = excluded.people_folded, synopsis_folded = excluded.synopsis_folded, \
             title_doc = excluded.title_doc, people_doc = excluded.people_doc, \
             text_doc = excluded.text_doc, title_trigrams = excluded.title_trigrams",
        )
        .bind(&film_ids)
        .bind(&t)
        .bind(&o)
        .bind(&p)
        .bind(&pf)
        .bind(&s)
        .bind(&title_doc)
        .bind(&people_doc)
        .bind(&text_doc)
        .bind(&tri)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Recounts how many titles hold each trigram (movie_search_trigram_counts). An upsert, so two
/// recounts at once (instances starting together) do not collide.
async fn recount_trigrams(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM movie_search_trigram_counts")
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO movie_search_trigram_counts (trigram, films) \
         SELECT t.lexeme, count(*) FROM movie_search s, unnest(s.title_trigrams) AS t \
         GROUP BY t.lexeme \
         ON CONFLICT (trigram) DO UPDATE SET films = excluded.films",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// See [`PgStore::rebuild_search_index`].
async fn rebuild_search(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut after = 0_i64;
    let mut total = 0;
    loop {
        let mut tx = pool.begin().await?;
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM movies WHERE id > $1 ORDER BY id LIMIT 1000")
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
    let mut tx = pool.begin().await?;
    recount_trigrams(&mut tx).await?;
    tx.commit().await?;
    tidy_search(pool).await?;
    Ok(total)
}

/// Builds the search rows of films that have none because they predate the search migration
/// (the folding is Rust's, so the migration cannot). Called when the store opens; cheap when
/// there is nothing to do.
pub(crate) async fn index_films_without_search_rows(pool: &PgPool) -> Result<(), sqlx::Error> {
    let missing: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM movies) AND NOT EXISTS (SELECT 1 FROM movie_search)",
    )
    .fetch_one(pool)
    .await?;
    if missing {
        let n = rebuild_search(pool).await?;
        tracing::info!(films = n, "built the search index");
    }
    Ok(())
}

/// The SQL of one page of [`CatalogStore::browse_movies`] after `prefix` (empty, or EXPLAIN
/// for [`PgStore::browse_plan`]); `None` for an empty page.
fn browse_sql<'q>(
    prefix: &str,
    query: &BrowseQuery,
) -> StoreResult<Option<QueryBuilder<'q, Postgres>>> {
    let limit = query.limit.min(MAX_BROWSE_PAGE);
    if limit == 0 {
        return Ok(None);
    }
    let (key, desc) = sort_key(query.sort);
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "{prefix}SELECT {CARD_COLUMNS} FROM movies m WHERE TRUE"
    ));
    push_filter(&mut q, &query.filter);
    if let Some(after) = &query.after {
        q.push(format!(
            " AND ({key}, m.id) {} (",
            if desc { "<" } else { ">" }
        ));
        match after.key_for(query.sort)? {
            CursorKey::Text(t) => q.push("lower(").push_bind(t).push(")"),
            CursorKey::Int(i) => q.push_bind(i),
            CursorKey::Real(r) => q.push_bind(r),
        };
        q.push(", ").push_bind(after.id.0).push(")");
    }
    let dir = if desc { "DESC" } else { "ASC" };
    q.push(format!(" ORDER BY {key} {dir}, m.id {dir} LIMIT "))
        .push_bind(i64::from(limit));
    Ok(Some(q))
}

#[async_trait]
impl CatalogStore for PgStore {
    async fn browse_movies(&self, query: &BrowseQuery) -> StoreResult<Vec<MovieCard>> {
        let Some(mut q) = browse_sql("", query)? else {
            return Ok(Vec::new());
        };
        let rows = q.build().fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter()
            .map(|r| card(r, 0))
            .collect::<Result<_, _>>()
            .map_err(db_err)
    }

    async fn genre_counts(&self) -> StoreResult<Vec<(String, u64)>> {
        // Counted per spelling; spellings that differ in case are merged in Rust.
        let rows =
            sqlx::query("SELECT name, COUNT(DISTINCT movie_id) FROM movie_genres GROUP BY name")
                .fetch_all(&self.pool)
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
             JOIN movies m ON m.id = c.movie_id WHERE c.name = $1 \
             ORDER BY COALESCE(m.year, 0) DESC, m.id DESC, \
             CASE c.role WHEN 'director' THEN 0 ELSE 1 END, c.position"
        ))
        .bind(name)
        .fetch_all(&self.pool)
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
        let ts = ts_prefix_query(terms);
        // A search runs up to four statements whose best plan does not depend on the words (the
        // index finds the candidates, the cap bounds the rest). Left to itself, PostgreSQL keeps
        // planning such a prepared statement anew for every search (about 0.6 ms each, more than
        // running it); SET LOCAL keeps the generic plan, and no parallel workers (they take
        // longer to start than these capped queries take), for this transaction only.
        let mut conn = self
            .pool
            .begin_with(
                "BEGIN READ ONLY; SET LOCAL plan_cache_mode = force_generic_plan; \
                 SET LOCAL max_parallel_workers_per_gather = 0",
            )
            .await
            .map_err(db_err)?;

        let rows = sqlx::query(&search_sql(EXACT_AND_TITLE))
            .bind(terms.phrase())
            .bind(&ts)
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
                .bind(&ts)
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
        conn.commit().await.map_err(db_err)?;
        Ok(hits.into_hits())
    }
}
