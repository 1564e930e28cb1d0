-- Helpful-vote counts and the Wilson score move out of `reviews` into a narrow table, so a vote
-- rewrites a few dozen bytes instead of the whole review (text included) and its indexes. One
-- row per review with text (body IS NOT NULL); a star-only rating has none. movie_id and
-- created_ms are copies of the review's, kept in step by the store, so "most helpful" is one
-- range scan of review_tallies_helpful.
--
-- A rowid table, not WITHOUT ROWID: an INTEGER PRIMARY KEY is the rowid, so the table is already
-- one B-tree keyed by review_id, and lookups by it (every vote, every review read) take SQLite's
-- integer-key path; WITHOUT ROWID pays off for composite or non-integer keys, not this one.
CREATE TABLE review_tallies (
    review_id   INTEGER PRIMARY KEY REFERENCES reviews (id) ON DELETE CASCADE,
    movie_id    INTEGER NOT NULL,
    created_ms  INTEGER NOT NULL,
    helpful_yes INTEGER NOT NULL DEFAULT 0,
    helpful_no  INTEGER NOT NULL DEFAULT 0,
    score       REAL    NOT NULL DEFAULT 0
);

-- The stored values, as they are: the audit recounts them, this only moves them.
INSERT INTO review_tallies (review_id, movie_id, created_ms, helpful_yes, helpful_no, score)
SELECT id, movie_id, created_ms, helpful_yes, helpful_no, score FROM reviews WHERE body IS NOT NULL;

CREATE INDEX review_tallies_helpful ON review_tallies (movie_id, score DESC, created_ms DESC, review_id DESC);

DROP INDEX reviews_helpful;
ALTER TABLE reviews DROP COLUMN helpful_yes;
ALTER TABLE reviews DROP COLUMN helpful_no;
ALTER TABLE reviews DROP COLUMN score;
