//! Bulk imports in PostgreSQL: a batch of films or ratings in one write transaction, with multi-row
//! statements, so tens of thousands of rows go in within seconds and an interruption leaves
//! whole batches only.

use crate::movies::{MOVIE_COLUMNS, load_details, movie_row};
use crate::{PgStore, db_err};
use async_trait::async_trait;
use marquee_domain::{MovieDraft, MovieId, UserId};
use marquee_store::import::{
    FilmPlan, LOCKED_PASSWORD, film_outcomes, free_slug, keys_and_ratings, merge_draft,
    numbered_slugs, plan_films,
};
use marquee_store::{
    ExternalRating, FilmOutcome, ImportCounts, ImportFilm, ImportRating, ImportStore, ImportUser,
    StoreResult,
};
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use std::collections::{HashMap, HashSet};

/// Rows per multi-row statement: each statement is a round trip, and PostgreSQL takes up to
/// 65,535 bound parameters (the widest rows here have 10 columns).
const CHUNK: usize = 4000;
/// How many numbered forms of a taken slug are tried in the one lookup.
const SLUG_TRIES: usize = 20;

/// `key -> (film, fingerprint)` for the keys that are known. Lists travel as one array
/// parameter: a plan for `= ANY($1)` is made once, where thousands of `IN` parameters are not.
async fn known_keys(
    conn: &mut PgConnection,
    keys: &[&str],
) -> Result<HashMap<String, (i64, String)>, sqlx::Error> {
    let rows = sqlx::query("SELECT key, movie_id, fingerprint FROM movie_keys WHERE key = ANY($1)")
        .bind(keys)
        .fetch_all(&mut *conn)
        .await?;
    let mut known = HashMap::with_capacity(rows.len());
    for row in rows {
        known.insert(row.try_get(0)?, (row.try_get(1)?, row.try_get(2)?));
    }
    Ok(known)
}

/// The slugs among `candidates` that films already have.
async fn taken_slugs(
    conn: &mut PgConnection,
    candidates: &[String],
) -> Result<HashSet<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT slug FROM movies WHERE slug = ANY($1)")
        .bind(candidates)
        .fetch_all(&mut *conn)
        .await
        .map(|v: Vec<String>| v.into_iter().collect())
}

/// A slug for a new film when the first [`SLUG_TRIES`] forms are all taken: keep counting.
async fn slug_beyond(
    conn: &mut PgConnection,
    slug: &str,
    taken: &HashSet<String>,
) -> Result<String, sqlx::Error> {
    for i in SLUG_TRIES + 1.. {
        let candidate = format!("{slug}-{i}");
        if taken.contains(&candidate) {
            continue;
        }
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT 1::BIGINT FROM movies WHERE slug = $1")
                .bind(&candidate)
                .fetch_optional(&mut *conn)
                .await?;
        if exists.is_none() {
            return Ok(candidate);
        }
    }
    unreachable!("the counter is unbounded")
}

/// Replaces the genres and credits of `films` with multi-row inserts.
async fn write_details_bulk(
    conn: &mut PgConnection,
    films: &[(i64, &MovieDraft)],
) -> Result<(), sqlx::Error> {
    let ids: Vec<i64> = films.iter().map(|(id, _)| *id).collect();
    for table in ["movie_genres", "movie_credits"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE movie_id = ANY($1)"))
            .bind(&ids)
            .execute(&mut *conn)
            .await?;
    }
    let genres: Vec<(i64, i64, &str)> = films
        .iter()
        .flat_map(|(id, d)| {
            d.genres
                .iter()
                .enumerate()
                .map(move |(i, g)| (*id, i as i64, g.as_str()))
        })
        .collect();
    for chunk in genres.chunks(CHUNK) {
        let mut q: QueryBuilder<Postgres> =
            QueryBuilder::new("INSERT INTO movie_genres (movie_id, position, name) ");
        q.push_values(chunk, |mut b, (id, pos, name)| {
            b.push_bind(*id).push_bind(*pos).push_bind(*name);
        });
        q.build().execute(&mut *conn).await?;
    }
    let credits: Vec<(i64, &str, i64, &str, &str)> = films
        .iter()
        .flat_map(|(id, d)| {
            let directors = d.directors.iter().map(|n| ("director", n.as_str(), ""));
            let cast = d
                .cast
                .iter()
                .map(|c| ("cast", c.name.as_str(), c.character.as_str()));
            directors
                .chain(cast)
                .enumerate()
                .map(move |(i, (role, name, character))| (*id, role, i as i64, name, character))
        })
        .collect();
    for chunk in credits.chunks(CHUNK) {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "INSERT INTO movie_credits (movie_id, role, position, name, character) ",
        );
        q.push_values(chunk, |mut b, (id, role, pos, name, character)| {
            b.push_bind(*id)
                .push_bind(*role)
                .push_bind(*pos)
                .push_bind(*name)
                .push_bind(*character);
        });
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn upsert_external_ratings(
    conn: &mut PgConnection,
    ratings: &[(i64, &ExternalRating)],
) -> Result<(), sqlx::Error> {
    for chunk in ratings.chunks(CHUNK) {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "INSERT INTO movie_external_ratings (movie_id, source, tenths, votes) ",
        );
        q.push_values(chunk, |mut b, (id, r)| {
            b.push_bind(*id)
                .push_bind(r.source.as_str())
                .push_bind(i64::from(r.tenths))
                .push_bind(i64::from(r.votes));
        });
        q.push(
            " ON CONFLICT (movie_id, source) DO UPDATE SET tenths = excluded.tenths, \
             votes = excluded.votes",
        );
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Recomputes the rating aggregates of `movies` from their rows and marks the films changed:
/// one grouped pass over the films' ratings, not a subquery per counter.
pub(crate) async fn recount_movies(
    conn: &mut PgConnection,
    movies: &[i64],
) -> Result<(), sqlx::Error> {
    for chunk in movies.chunks(CHUNK) {
        sqlx::query(
            "UPDATE movies m SET rating_count = a.n, rating_sum = a.total, stars_1 = a.s1, \
             stars_2 = a.s2, stars_3 = a.s3, stars_4 = a.s4, stars_5 = a.s5, review_count = a.texts, \
             updated_ms = $2 \
             FROM (SELECT f.id, COUNT(r.id) AS n, COALESCE(SUM(r.stars), 0)::BIGINT AS total, \
                          COUNT(*) FILTER (WHERE r.stars = 1) AS s1, COUNT(*) FILTER (WHERE r.stars = 2) AS s2, \
                          COUNT(*) FILTER (WHERE r.stars = 3) AS s3, COUNT(*) FILTER (WHERE r.stars = 4) AS s4, \
                          COUNT(*) FILTER (WHERE r.stars = 5) AS s5, \
                          COUNT(*) FILTER (WHERE r.body IS NOT NULL) AS texts \
                   FROM unnest($1::BIGINT[]) AS f(id) LEFT JOIN reviews r ON r.movie_id = f.id \
                   GROUP BY f.id) a \
             WHERE m.id = a.id",
        )
        .bind(chunk)
        // A newer `updated_ms` changes the catalog fingerprint, which tells running servers
        // (another process, when ratings come from the command line) to drop cached pages.
        .bind(marquee_domain::time_fmt::now_ms())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// How a batch of ratings changes one film's counters. Adding a batch's changes to the counters
/// (rather than counting every rating of the touched films again) keeps a batch's cost in
/// proportion to its own size: MovieLens's ratings come user by user, so each batch touches
/// thousands of films and a recount read most of the ratings stored so far, batch after batch.
#[derive(Debug, Default)]
struct AggregateDelta {
    ratings: i64,
    sum: i64,
    stars: [i64; 5],
    texts: i64,
}

impl AggregateDelta {
    /// Counts one rating of `stars` in (`sign` 1) or out (-1).
    fn add(&mut self, stars: i64, has_text: bool, sign: i64) {
        self.ratings += sign;
        self.sum += sign * stars;
        if let Some(n) = usize::try_from(stars - 1)
            .ok()
            .and_then(|i| self.stars.get_mut(i))
        {
            *n += sign;
        }
        if has_text {
            self.texts += sign;
        }
    }
}

/// Adds each film's delta to its counters in one statement per [`CHUNK`] films. `col = col + d`
/// reads the row as it is when locked, so writers elsewhere (a viewer rating the same film) are
/// neither lost nor counted twice.
async fn apply_deltas(
    conn: &mut PgConnection,
    deltas: HashMap<i64, AggregateDelta>,
) -> Result<(), sqlx::Error> {
    let mut deltas: Vec<(i64, AggregateDelta)> = deltas.into_iter().collect();
    // One lock order for every writer of these rows.
    deltas.sort_unstable_by_key(|(id, _)| *id);
    let now = marquee_domain::time_fmt::now_ms();
    for chunk in deltas.chunks(CHUNK) {
        let column = |f: &dyn Fn(&AggregateDelta) -> i64| -> Vec<i64> {
            chunk.iter().map(|(_, d)| f(d)).collect()
        };
        let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
        sqlx::query(
            "UPDATE movies m SET rating_count = m.rating_count + d.n, \
             rating_sum = m.rating_sum + d.total, stars_1 = m.stars_1 + d.s1, \
             stars_2 = m.stars_2 + d.s2, stars_3 = m.stars_3 + d.s3, stars_4 = m.stars_4 + d.s4, \
             stars_5 = m.stars_5 + d.s5, review_count = m.review_count + d.texts, updated_ms = $10 \
             FROM unnest($1::BIGINT[], $2::BIGINT[], $3::BIGINT[], $4::BIGINT[], $5::BIGINT[], \
                         $6::BIGINT[], $7::BIGINT[], $8::BIGINT[], $9::BIGINT[]) \
                  AS d(id, n, total, s1, s2, s3, s4, s5, texts) \
             WHERE m.id = d.id",
        )
        .bind(ids)
        .bind(column(&|d| d.ratings))
        .bind(column(&|d| d.sum))
        .bind(column(&|d| d.stars[0]))
        .bind(column(&|d| d.stars[1]))
        .bind(column(&|d| d.stars[2]))
        .bind(column(&|d| d.stars[3]))
        .bind(column(&|d| d.stars[4]))
        .bind(column(&|d| d.texts))
        // A newer `updated_ms` changes the catalog fingerprint, which tells running servers
        // (another process, when ratings come from the command line) to drop cached pages.
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

#[async_trait]
impl ImportStore for PgStore {
    async fn import_films(
        &self,
        films: &[ImportFilm],
        now_ms: i64,
    ) -> StoreResult<Vec<FilmOutcome>> {
        let mut tx = self.begin_write().await?;
        let keys: Vec<&str> = films
            .iter()
            .flat_map(|f| std::iter::once(&f.key).chain(&f.other_keys))
            .map(String::as_str)
            .collect();
        let known = known_keys(&mut tx, &keys).await.map_err(db_err)?;

        // What to do with each film; a key seen earlier in the batch is the same film.
        let plans = plan_films(films, &known);

        // Slugs for the new films, checked in one lookup.
        let adds: Vec<usize> = (0..films.len())
            .filter(|i| plans[*i] == FilmPlan::Add)
            .collect();
        // Most wanted slugs are free: look those up first, numbered forms only for the taken.
        let wanted: Vec<String> = adds
            .iter()
            .map(|i| films[*i].draft.slug.as_str().to_owned())
            .collect();
        let mut taken = taken_slugs(&mut tx, &wanted).await.map_err(db_err)?;
        let numbered = numbered_slugs(&wanted, &taken, SLUG_TRIES);
        if !numbered.is_empty() {
            taken.extend(taken_slugs(&mut tx, &numbered).await.map_err(db_err)?);
        }
        let mut slugs = Vec::with_capacity(adds.len());
        for i in &adds {
            let wanted = films[*i].draft.slug.as_str();
            let slug = match free_slug(wanted, SLUG_TRIES, &taken) {
                Some(s) => s,
                None => slug_beyond(&mut tx, wanted, &taken).await.map_err(db_err)?,
            };
            taken.insert(slug.clone());
            slugs.push(slug);
        }

        // Insert the new films; ids come back with their (unique) slugs.
        let mut ids: HashMap<usize, i64> = HashMap::new();
        let rows: Vec<(usize, &str)> = adds
            .iter()
            .copied()
            .zip(slugs.iter().map(String::as_str))
            .collect();
        for chunk in rows.chunks(CHUNK / 4) {
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
                "INSERT INTO movies (slug, title, original_title, year, runtime_minutes, synopsis, \
                 content_rating, language, created_ms, updated_ms) ",
            );
            q.push_values(chunk, |mut b, (i, slug)| {
                let d = &films[*i].draft;
                b.push_bind(*slug)
                    .push_bind(d.title.as_str())
                    .push_bind(d.original_title.as_ref().map(|t| t.as_str()))
                    .push_bind(d.year.map(|y| i64::from(y.get())))
                    .push_bind(d.runtime.map(|r| i64::from(r.minutes())))
                    .push_bind(d.synopsis.as_str())
                    .push_bind(d.content_rating.as_str())
                    .push_bind(d.language.as_str())
                    .push_bind(now_ms)
                    .push_bind(now_ms);
            });
            q.push(" RETURNING id, slug");
            let by_slug: HashMap<String, i64> = q
                .build()
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?
                .iter()
                .map(|r| Ok((r.try_get(1)?, r.try_get(0)?)))
                .collect::<Result<_, sqlx::Error>>()
                .map_err(db_err)?;
            for (i, slug) in chunk {
                if let Some(id) = by_slug.get(*slug) {
                    ids.insert(*i, *id);
                }
            }
        }

        // Merge the changed films into what is stored.
        let mut merged: Vec<(usize, MovieDraft)> = Vec::new();
        for (i, plan) in plans.iter().enumerate() {
            let FilmPlan::Update(MovieId(id)) = *plan else {
                continue;
            };
            let Some(row) =
                sqlx::query(&format!("SELECT {MOVIE_COLUMNS} FROM movies WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?
            else {
                continue;
            };
            let mut stored = movie_row(&row).map_err(db_err)?;
            load_details(&mut tx, &mut stored).await.map_err(db_err)?;
            let draft = merge_draft(&stored, &films[i].draft);
            sqlx::query(
                "UPDATE movies SET title = $1, original_title = $2, year = $3, runtime_minutes = $4, \
                 synopsis = $5, content_rating = $6, language = $7, updated_ms = $8 WHERE id = $9",
            )
            .bind(draft.title.as_str())
            .bind(draft.original_title.as_ref().map(|t| t.as_str()))
            .bind(draft.year.map(|y| i64::from(y.get())))
            .bind(draft.runtime.map(|r| i64::from(r.minutes())))
            .bind(draft.synopsis.as_str())
            .bind(draft.content_rating.as_str())
            .bind(draft.language.as_str())
            .bind(now_ms)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
            ids.insert(i, id);
            merged.push((i, draft));
        }

        let mut details: Vec<(i64, &MovieDraft)> = adds
            .iter()
            .filter_map(|i| Some((*ids.get(i)?, &films[*i].draft)))
            .collect();
        details.extend(merged.iter().map(|(i, d)| (ids[i], d)));
        write_details_bulk(&mut tx, &details)
            .await
            .map_err(db_err)?;

        // The answers, then the keys and ratings that go with them.
        let outcomes =
            film_outcomes(films, &plans, &ids).map_err(|e| db_err(sqlx::Error::Protocol(e)))?;
        let (key_rows, external) = keys_and_ratings(films, &outcomes);
        for chunk in key_rows.chunks(CHUNK) {
            let mut q: QueryBuilder<Postgres> =
                QueryBuilder::new("INSERT INTO movie_keys (key, movie_id, fingerprint) ");
            q.push_values(chunk, |mut b, (key, id, fingerprint)| {
                b.push_bind(*key)
                    .push_bind(*id)
                    .push_bind(fingerprint.unwrap_or(""));
            });
            // A source's own key takes the new fingerprint; another catalog's key stays put.
            q.push(
                " ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint \
                 WHERE excluded.fingerprint <> '' AND movie_keys.movie_id = excluded.movie_id",
            );
            q.build().execute(&mut *tx).await.map_err(db_err)?;
        }
        upsert_external_ratings(&mut tx, &external)
            .await
            .map_err(db_err)?;
        let touched: Vec<i64> = details.iter().map(|(id, _)| *id).collect();
        crate::catalog::refresh_search(&mut tx, &touched)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(outcomes)
    }

    async fn films_by_keys(&self, keys: &[String]) -> StoreResult<Vec<Option<MovieId>>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        let known = known_keys(&mut conn, &refs).await.map_err(db_err)?;
        Ok(keys
            .iter()
            .map(|k| known.get(k).map(|(id, _)| MovieId(*id)))
            .collect())
    }

    async fn keys_with_prefix(&self, prefix: &str) -> StoreResult<Vec<(String, MovieId)>> {
        let rows = sqlx::query(
            "SELECT key, movie_id FROM movie_keys WHERE starts_with(key, $1) ORDER BY key",
        )
        .bind(prefix)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, MovieId(r.try_get(1)?))))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db_err)
    }

    async fn forget_key(&self, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM movie_keys WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn films_by_title(&self, title: &str, year: Option<u16>) -> StoreResult<Vec<MovieId>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM movies WHERE (lower(title) = lower($1) OR lower(original_title) = lower($1)) \
             AND ($2::BIGINT IS NULL OR year = $2) ORDER BY id",
        )
        .bind(title)
        .bind(year.map(i64::from))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(ids.into_iter().map(MovieId).collect())
    }

    async fn set_external_ratings(&self, ratings: &[(MovieId, ExternalRating)]) -> StoreResult<()> {
        let rows: Vec<(i64, &ExternalRating)> = ratings.iter().map(|(m, r)| (m.0, r)).collect();
        let mut tx = self.begin_write().await?;
        upsert_external_ratings(&mut tx, &rows)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn external_ratings(&self, movie: MovieId) -> StoreResult<Vec<ExternalRating>> {
        let rows = sqlx::query(
            "SELECT source, tenths, votes FROM movie_external_ratings WHERE movie_id = $1 \
             ORDER BY source",
        )
        .bind(movie.0)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(ExternalRating {
                    source: r.try_get(0)?,
                    tenths: r.try_get::<i64, _>(1)? as u16,
                    votes: r.try_get::<i64, _>(2)? as u32,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db_err)
    }

    async fn ensure_users(&self, users: &[ImportUser], now_ms: i64) -> StoreResult<Vec<UserId>> {
        let mut tx = self.begin_write().await?;
        for chunk in users.chunks(CHUNK / 4) {
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
                "INSERT INTO users (username, display_name, password_hash, is_admin, created_ms) ",
            );
            q.push_values(chunk, |mut b, u| {
                b.push_bind(u.username.as_str())
                    .push_bind(u.display_name.as_str())
                    .push_bind(LOCKED_PASSWORD)
                    .push_bind(false)
                    .push_bind(now_ms);
            });
            q.push(" ON CONFLICT (username) DO NOTHING");
            q.build().execute(&mut *tx).await.map_err(db_err)?;
        }
        let mut ids = HashMap::new();
        for chunk in users.chunks(CHUNK) {
            let mut q: QueryBuilder<Postgres> =
                QueryBuilder::new("SELECT username, id FROM users WHERE username IN (");
            let mut list = q.separated(", ");
            for u in chunk {
                list.push_bind(u.username.as_str());
            }
            q.push(")");
            for row in q.build().fetch_all(&mut *tx).await.map_err(db_err)? {
                let name: String = row.try_get(0).map_err(db_err)?;
                ids.insert(name, UserId(row.try_get(1).map_err(db_err)?));
            }
        }
        tx.commit().await.map_err(db_err)?;
        users
            .iter()
            .map(|u| {
                ids.get(u.username.as_str()).copied().ok_or_else(|| {
                    db_err(sqlx::Error::Protocol(format!(
                        "the account '{}' was not created",
                        u.username.as_str()
                    )))
                })
            })
            .collect()
    }

    async fn tidy_after_import(&self) -> StoreResult<()> {
        crate::catalog::tidy_search(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn import_ratings(&self, ratings: &[ImportRating]) -> StoreResult<ImportCounts> {
        // The last rating of a pair in the batch wins.
        let mut last: HashMap<(i64, i64), &ImportRating> = HashMap::new();
        for r in ratings {
            last.insert((r.movie.0, r.user.0), r);
        }
        let mut pairs: Vec<&ImportRating> = last.into_values().collect();
        pairs.sort_by_key(|r| (r.movie.0, r.user.0));

        let mut tx = self.begin_write().await?;
        let mut stored: HashMap<(i64, i64), (i64, i64, Option<String>)> = HashMap::new();
        for chunk in pairs.chunks(CHUNK / 2) {
            let mut q: QueryBuilder<Postgres> =
                QueryBuilder::new("WITH wanted (movie_id, user_id) AS (");
            q.push_values(chunk, |mut b, r| {
                b.push_bind(r.movie.0).push_bind(r.user.0);
            });
            q.push(
                ") SELECT r.movie_id, r.user_id, r.id, r.stars, r.body FROM wanted w \
                 JOIN reviews r ON r.movie_id = w.movie_id AND r.user_id = w.user_id \
                 FOR UPDATE OF r",
            );
            for row in q.build().fetch_all(&mut *tx).await.map_err(db_err)? {
                stored.insert(
                    (
                        row.try_get(0).map_err(db_err)?,
                        row.try_get(1).map_err(db_err)?,
                    ),
                    (
                        row.try_get(2).map_err(db_err)?,
                        row.try_get(3).map_err(db_err)?,
                        row.try_get(4).map_err(db_err)?,
                    ),
                );
            }
        }

        let mut counts = ImportCounts::default();
        let mut new_rows = Vec::new();
        let mut deltas: HashMap<i64, AggregateDelta> = HashMap::new();
        for r in &pairs {
            let stars = i64::from(r.stars.get());
            let body = r.body.as_ref().map(|b| b.as_str());
            match stored.get(&(r.movie.0, r.user.0)) {
                None => {
                    counts.added += 1;
                    deltas
                        .entry(r.movie.0)
                        .or_default()
                        .add(stars, body.is_some(), 1);
                    new_rows.push(*r);
                }
                Some((_, s, b)) if *s == stars && (body.is_none() || b.as_deref() == body) => {
                    counts.unchanged += 1;
                }
                Some((id, old_stars, b)) => {
                    counts.updated += 1;
                    // The row is locked (FOR UPDATE above): what it held is what this replaces.
                    let delta = deltas.entry(r.movie.0).or_default();
                    delta.add(*old_stars, b.is_some(), -1);
                    delta.add(stars, b.is_some() || body.is_some(), 1);
                    let new_text = body.is_some() && b.as_deref() != body;
                    sqlx::query(
                        "UPDATE reviews SET stars = $1, body = COALESCE($2, body), updated_ms = $3 \
                         WHERE id = $4",
                    )
                    .bind(stars)
                    .bind(body)
                    .bind(r.at_ms)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                    if new_text {
                        // New words start over, as an edit does: no votes on the old text.
                        sqlx::query("DELETE FROM votes WHERE review_id = $1")
                            .bind(id)
                            .execute(&mut *tx)
                            .await
                            .map_err(db_err)?;
                        sqlx::query(
                            "INSERT INTO review_tallies (review_id, movie_id, author_id, created_ms) \
                             VALUES ($1, $2, $3, $4) ON CONFLICT (review_id) DO UPDATE SET \
                             helpful_yes = 0, helpful_no = 0, score = 0, \
                             created_ms = excluded.created_ms",
                        )
                        .bind(id)
                        .bind(r.movie.0)
                        .bind(r.user.0)
                        .bind(r.at_ms)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    }
                }
            }
        }
        for chunk in new_rows.chunks(CHUNK / 8) {
            let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
                "INSERT INTO reviews (movie_id, user_id, stars, body, created_ms, updated_ms) ",
            );
            q.push_values(chunk, |mut b, r| {
                b.push_bind(r.movie.0)
                    .push_bind(r.user.0)
                    .push_bind(i64::from(r.stars.get()))
                    .push_bind(r.body.as_ref().map(|t| t.as_str()))
                    .push_bind(r.at_ms)
                    .push_bind(r.at_ms);
            });
            q.push(" RETURNING id, movie_id, user_id, created_ms, body IS NOT NULL");
            let rows = q.build().fetch_all(&mut *tx).await.map_err(db_err)?;
            let tallies: Vec<(i64, i64, i64, i64)> = rows
                .iter()
                .filter(|r| r.try_get::<bool, _>(4).unwrap_or(false))
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
                .collect::<Result<_, sqlx::Error>>()
                .map_err(db_err)?;
            if !tallies.is_empty() {
                let mut t: QueryBuilder<Postgres> = QueryBuilder::new(
                    "INSERT INTO review_tallies (review_id, movie_id, author_id, created_ms) ",
                );
                t.push_values(&tallies, |mut b, (id, movie, author, at)| {
                    b.push_bind(*id)
                        .push_bind(*movie)
                        .push_bind(*author)
                        .push_bind(*at);
                });
                t.build().execute(&mut *tx).await.map_err(db_err)?;
            }
        }
        apply_deltas(&mut tx, deltas).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(counts)
    }
}
