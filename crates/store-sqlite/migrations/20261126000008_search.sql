-- Browsing and searching the catalog (CatalogStore, the store's catalog.rs).

-- One index per sort of browse_movies, each ending in id, so the first page and every later
-- page (keyset: strictly after the cursor's key and id) are range scans of one index, read
-- backwards for the descending sorts. Title A–Z already has movies_by_title
-- (title COLLATE NOCASE, id).
CREATE INDEX movies_by_year ON movies (COALESCE(year, 0), id);
-- "Top rated": the Bayesian average of marquee_domain::ranking (crates/domain/src/ranking.rs),
-- (rating_sum + PRIOR_WEIGHT * PRIOR_MEAN) / (rating_count + PRIOR_WEIGHT) with PRIOR_WEIGHT = 10
-- and PRIOR_MEAN = 3. The store formats the same expression from those constants, and SQLite
-- uses an expression index only for a query that spells the expression the same way: changing
-- the constants needs a migration that recreates this index.
CREATE INDEX movies_by_rating ON movies ((rating_sum + 30.0) / (rating_count + 10.0), id);
CREATE INDEX movies_by_reviews ON movies (review_count, id);
CREATE INDEX movies_by_added ON movies (created_ms, id);

-- What search reads of each film, folded in Rust (marquee_store::catalog::SearchDocument, the
-- same folding as PostgreSQL's): one row per film, rewritten in the same transaction as every
-- change to the film's titles, credits or synopsis, and deleted with the film. `people` keeps
-- the names as stored, one per line, to report which person matched.
--
-- Films that exist before this migration get their rows when the store opens (the folding is
-- Rust's, which SQL cannot repeat): SqliteStore rebuilds the index when this table is empty
-- and `movies` is not.
CREATE TABLE movie_search (
    movie_id        INTEGER PRIMARY KEY REFERENCES movies (id) ON DELETE CASCADE,
    title_folded    TEXT NOT NULL,
    original_folded TEXT NOT NULL,
    people          TEXT NOT NULL,
    people_folded   TEXT NOT NULL,
    synopsis_folded TEXT NOT NULL
);
-- The exact-title class.
CREATE INDEX movie_search_by_title ON movie_search (title_folded);
-- Most films have no original title (''): those are left out of its index, and the query says
-- so (`original_folded <> ''`), which also keeps a planner from taking '' for a common value.
CREATE INDEX movie_search_by_original ON movie_search (original_folded) WHERE original_folded <> '';

-- Full-text indexes over movie_search (external content: the text is stored once, above), one
-- per match class so a class reads only its own words: titles, people, and everything. Prefix
-- indexes for 1 to 4 characters make a short prefix ("go*") one index entry instead of a merge
-- of every word that starts with it.
CREATE VIRTUAL TABLE movie_search_titles USING fts5 (
    title_folded, original_folded,
    content = 'movie_search', content_rowid = 'movie_id', prefix = '1 2 3 4'
);
CREATE VIRTUAL TABLE movie_search_people USING fts5 (
    people_folded,
    content = 'movie_search', content_rowid = 'movie_id', prefix = '1 2 3 4'
);
CREATE VIRTUAL TABLE movie_search_text USING fts5 (
    title_folded, original_folded, people_folded, synopsis_folded,
    content = 'movie_search', content_rowid = 'movie_id', prefix = '1 2 3 4'
);
-- Typo candidates: every three-character piece of the folded titles (rowids only).
CREATE VIRTUAL TABLE movie_search_trigrams USING fts5 (
    title_folded, original_folded,
    content = 'movie_search', content_rowid = 'movie_id', tokenize = 'trigram', detail = 'none'
);

-- The full-text indexes follow movie_search, including the rows that the cascade from a deleted
-- film removes.
CREATE TRIGGER movie_search_insert AFTER INSERT ON movie_search BEGIN
    INSERT INTO movie_search_titles (rowid, title_folded, original_folded)
    VALUES (new.movie_id, new.title_folded, new.original_folded);
    INSERT INTO movie_search_people (rowid, people_folded)
    VALUES (new.movie_id, new.people_folded);
    INSERT INTO movie_search_text (rowid, title_folded, original_folded, people_folded, synopsis_folded)
    VALUES (new.movie_id, new.title_folded, new.original_folded, new.people_folded, new.synopsis_folded);
    INSERT INTO movie_search_trigrams (rowid, title_folded, original_folded)
    VALUES (new.movie_id, new.title_folded, new.original_folded);
END;

CREATE TRIGGER movie_search_delete AFTER DELETE ON movie_search BEGIN
    INSERT INTO movie_search_titles (movie_search_titles, rowid, title_folded, original_folded)
    VALUES ('delete', old.movie_id, old.title_folded, old.original_folded);
    INSERT INTO movie_search_people (movie_search_people, rowid, people_folded)
    VALUES ('delete', old.movie_id, old.people_folded);
    INSERT INTO movie_search_text (movie_search_text, rowid, title_folded, original_folded, people_folded, synopsis_folded)
    VALUES ('delete', old.movie_id, old.title_folded, old.original_folded, old.people_folded, old.synopsis_folded);
    INSERT INTO movie_search_trigrams (movie_search_trigrams, rowid, title_folded, original_folded)
    VALUES ('delete', old.movie_id, old.title_folded, old.original_folded);
END;

CREATE TRIGGER movie_search_update AFTER UPDATE ON movie_search BEGIN
    INSERT INTO movie_search_titles (movie_search_titles, rowid, title_folded, original_folded)
    VALUES ('delete', old.movie_id, old.title_folded, old.original_folded);
    INSERT INTO movie_search_people (movie_search_people, rowid, people_folded)
    VALUES ('delete', old.movie_id, old.people_folded);
    INSERT INTO movie_search_text (movie_search_text, rowid, title_folded, original_folded, people_folded, synopsis_folded)
    VALUES ('delete', old.movie_id, old.title_folded, old.original_folded, old.people_folded, old.synopsis_folded);
    INSERT INTO movie_search_trigrams (movie_search_trigrams, rowid, title_folded, original_folded)
    VALUES ('delete', old.movie_id, old.title_folded, old.original_folded);
    INSERT INTO movie_search_titles (rowid, title_folded, original_folded)
    VALUES (new.movie_id, new.title_folded, new.original_folded);
    INSERT INTO movie_search_people (rowid, people_folded)
    VALUES (new.movie_id, new.people_folded);
    INSERT INTO movie_search_text (rowid, title_folded, original_folded, people_folded, synopsis_folded)
    VALUES (new.movie_id, new.title_folded, new.original_folded, new.people_folded, new.synopsis_folded);
    INSERT INTO movie_search_trigrams (rowid, title_folded, original_folded)
    VALUES (new.movie_id, new.title_folded, new.original_folded);
END;
