-- A vote batch locks the tally rows of the reviews it votes on (crates/store-postgres/src/votes.rs)
-- and needs each review's author, since no one votes on their own words. Two costs of a vote
-- were on `reviews`, the widest table (the words live there), one random page per vote:
--  * reading the author joined each tally to its review: a primary-key lookup and a row read;
--  * the foreign key from `votes` to `reviews` made every new vote lock that review row
--    FOR KEY SHARE, which writes to its page: a WAL record, and a whole-page image of it when
--    it is the page's first change since a checkpoint. The foreign-key check took about three
--    times as long as the one on `users` (EXPLAIN ANALYZE of a batch on the benchmark data).
-- Now the tally row holds a copy of the author (who never changes), and a vote references the
-- tally row, which the batch holds FOR UPDATE already, so the check writes nothing new. A review
-- without text has no tally row and takes no votes, so nothing a vote may reference is lost;
-- removing a tally row (the text removed, the review or film deleted) removes its votes, as
-- removing the review did.

-- Room on each page for a tally's next version. Every counted vote rewrites its review's tally
-- row, and the score is a key of review_tallies_helpful, so that update is never HOT; with room
-- left, the new version is written beside the old one (pruned on a later visit) rather than on
-- another page found through the free-space map or added to the table. Pages written from now on
-- keep it, which includes the rows rewritten below.
ALTER TABLE review_tallies SET (fillfactor = 70);

ALTER TABLE review_tallies ADD COLUMN author_id BIGINT;
UPDATE review_tallies t SET author_id = r.user_id FROM reviews r WHERE r.id = t.review_id;
ALTER TABLE review_tallies ALTER COLUMN author_id SET NOT NULL;

-- The store's own writers name the author. `marquee migrate-data` copies tally rows as the other
-- backend stores them, without it: this fills it in from the review, which is copied first.
CREATE FUNCTION review_tallies_author() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT user_id INTO NEW.author_id FROM reviews WHERE id = NEW.review_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER review_tallies_author BEFORE INSERT ON review_tallies
    FOR EACH ROW WHEN (NEW.author_id IS NULL) EXECUTE FUNCTION review_tallies_author();

-- Votes on a review without text are not counted anywhere (no tally row holds them) and the
-- store never leaves any; should an old database hold some, the new key could not be made.
DELETE FROM votes v WHERE NOT EXISTS (SELECT 1 FROM review_tallies t WHERE t.review_id = v.review_id);
ALTER TABLE votes DROP CONSTRAINT votes_review_id_fkey,
    ADD CONSTRAINT votes_review_id_fkey FOREIGN KEY (review_id)
        REFERENCES review_tallies (review_id) ON DELETE CASCADE;
