-- Browsing and searching the catalog (CatalogStore, the store's catalog.rs). The same tables
-- and indexes as the SQLite backend's 8th migration, in PostgreSQL's terms.

-- One index per sort of browse_movies, each ending in id, so the first page and every later
-- page (keyset: `(key, id) < (cursor key, cursor id)`) are range scans of one index, read
-- backwards for the descending sorts. Title A–Z already has movies_by_title (lower(title), id).
CREATE INDEX movies_by_year ON movies ((COALESCE(year, 0)), id);
-- "Top rated": the Bayesian average of marquee_domain::ranking (crates/domain/src/ranking.rs),
-- (rating_sum + PRIOR_WEIGHT * PRIOR_MEAN) / (rating_count + PRIOR_WEIGHT) with PRIOR_WEIGHT = 10
-- and PRIOR_MEAN = 3, in double precision like the Rust function (so a cursor's key compares
-- equal to its film). The store formats the same expression from those constants; PostgreSQL
-- uses the index only for a query with the same expression, so changing the constants needs a
-- migration that recreates this index.
CREATE INDEX movies_by_rating ON movies (
    ((rating_sum::float8 + 30.0::float8) / (rating_count::float8 + 10.0::float8)), id
);
CREATE INDEX movies_by_reviews ON movies (review_count, id);
CREATE INDEX movies_by_added ON movies (created_ms, id);
-- The genre filter compares lower(name). Besides the lookups, this index gives the planner
-- statistics on lower(name): without them it takes a genre for one film in 200, expects a
-- filtered page to need most of the catalog, and plans it in parallel (10 ms of worker start
-- for a sub-millisecond walk down the sort's index).
CREATE INDEX movie_genres_by_lower_name ON movie_genres (lower(name), movie_id);
-- Its statistics now, not whenever autovacuum next looks at the table.
ANALYZE movie_genres;

-- What search reads of each film, folded in Rust (marquee_store::catalog::SearchDocument, the
-- same folding as SQLite's): one row per film, rewritten in the same transaction as every
-- change to the film's titles, credits or synopsis, and deleted with the film. `people` keeps
-- the names as stored, one per line, to report which person matched.
--
-- The tsvectors are built in Rust too (marquee_store::catalog::prefix_lexemes): every folded
-- word, plus each word's first one to four letters as a lexeme ending in `*` ("god*"). GIN has
-- no prefix entries of its own: a query for `god:*` would merge the posting lists of every word
-- starting with "god", where 'god*' is one entry, as in SQLite's FTS5 `prefix = '1 2 3 4'`.
-- title_doc holds the title and original title, people_doc the credited names, text_doc all
-- of those and the synopsis, so each match class reads only its own words.
--
-- title_trigrams holds the three-letter pieces inside the title words (SearchDocument::
-- title_trigrams), for typo candidates: films that share two of a query's rarest trigrams
-- (how rare: movie_search_trigram_counts, below).
-- pg_trgm's `%` over a trigram GIN index finds similar titles too, but reads the posting list of
-- every trigram of the query: 4 to 15 ms per query on 60,000 titles (47 ms for "the godfater"),
-- where two rare trigrams take well under one. The similarity is pg_trgm's, computed in Rust
-- (marquee_store::catalog::trigram_similarity), so PostgreSQL needs no extension.
--
-- Films that exist before this migration get their rows when the store opens (the folding is
-- Rust's, which SQL cannot repeat): PgStore rebuilds the index when this table is empty and
-- `movies` is not.
CREATE TABLE movie_search (
    movie_id        BIGINT PRIMARY KEY REFERENCES movies (id) ON DELETE CASCADE,
    title_folded    TEXT NOT NULL,
    original_folded TEXT NOT NULL,
    people          TEXT NOT NULL,
    people_folded   TEXT NOT NULL,
    synopsis_folded TEXT NOT NULL,
    title_doc       TSVECTOR NOT NULL,
    people_doc      TSVECTOR NOT NULL,
    text_doc        TSVECTOR NOT NULL,
    title_trigrams  TSVECTOR NOT NULL
);
-- The exact-title class.
CREATE INDEX movie_search_by_title ON movie_search (title_folded);
-- Most films have no original title (''): those are left out of its index, and the query says
-- so (`original_folded <> ''`), which also keeps a planner from taking '' for a common value.
CREATE INDEX movie_search_by_original ON movie_search (original_folded) WHERE original_folded <> '';
-- One full-text index per match class. GIN queues new entries in a pending list that every
-- search reads through until it is merged (after a bulk import, megabytes: 5 ms for a search
-- that finds nothing). Writing each entry into the index itself (fastupdate = off) made a
-- 60,000-film import three times slower, so the list stays on for single edits (a few entries,
-- merged by autovacuum) and refresh_search merges it at once after every batch of films.
CREATE INDEX movie_search_titles ON movie_search USING GIN (title_doc);
CREATE INDEX movie_search_people ON movie_search USING GIN (people_doc);
CREATE INDEX movie_search_text ON movie_search USING GIN (text_doc);
CREATE INDEX movie_search_trigrams ON movie_search USING GIN (title_trigrams);

-- How many titles hold each trigram, to pick a query's rarest ones. A GIN index cannot count
-- without gathering every match (2 ms for a trigram like "the"), so the counts are kept here:
-- a film new to the index adds its trigrams (refresh_search), and rebuild_search_index (after
-- migrate-data, and when the store first builds the index) recounts them all. Edits and
-- removals are left to the next recount, so a count can only run high, which reads as
-- "common"; the candidates are capped, so a stale count costs a little accuracy, never time. (SQLite's FTS5 counts a trigram's first few hundred titles
-- directly, so its backend has no such table.)
CREATE TABLE movie_search_trigram_counts (
    trigram TEXT   PRIMARY KEY,
    films   BIGINT NOT NULL
);
