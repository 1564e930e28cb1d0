-- Helpful-vote counts and the Wilson score move out of `reviews` into a narrow table. `score` was
-- a key of reviews_helpful, so PostgreSQL could not update a review's counts in place (HOT):
-- every vote wrote a new version of the whole review, text included, and an entry in each of its
-- 7 indexes. Now a vote writes a new version of a row of a few dozen bytes and its 2 indexes.
-- One row per review with text (body IS NOT NULL); a star-only rating has none. movie_id and
-- created_ms are copies of the review's, kept in step by the store, so "most helpful" is one
-- range scan of review_tallies_helpful. The same table as the SQLite backend's 4th migration.
CREATE TABLE review_tallies (
    review_id   BIGINT PRIMARY KEY REFERENCES reviews (id) ON DELETE CASCADE,
    movie_id    BIGINT NOT NULL,
    created_ms  BIGINT NOT NULL,
    helpful_yes BIGINT NOT NULL DEFAULT 0,
    helpful_no  BIGINT NOT NULL DEFAULT 0,
    score       DOUBLE PRECISION NOT NULL DEFAULT 0
);

-- The stored values, as they are: the audit recounts them, this only moves them.
INSERT INTO review_tallies (review_id, movie_id, created_ms, helpful_yes, helpful_no, score)
SELECT id, movie_id, created_ms, helpful_yes, helpful_no, score FROM reviews WHERE body IS NOT NULL;

CREATE INDEX review_tallies_helpful ON review_tallies (movie_id, score DESC, created_ms DESC, review_id DESC);

DROP INDEX reviews_helpful;
-- Only the catalog changes; the old values' space is reused as rows are next written.
ALTER TABLE reviews DROP COLUMN helpful_yes, DROP COLUMN helpful_no, DROP COLUMN score;
