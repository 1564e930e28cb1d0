-- Where a film came from: its keys in other catalogs ("imdb:tt0111161", "movielens:1",
-- "library:Brazil (1985)"), so a re-run of an import finds it again instead of adding it twice.
-- The fingerprint is what the source said last time; an equal one means nothing changed.
CREATE TABLE movie_keys (
    key         TEXT    PRIMARY KEY,
    movie_id    BIGINT  NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    fingerprint TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX movie_keys_by_movie ON movie_keys (movie_id);

-- Ratings from other sites (IMDb's average and votes), shown beside the community's own.
CREATE TABLE movie_external_ratings (
    movie_id BIGINT  NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    source   TEXT    NOT NULL,
    tenths   BIGINT  NOT NULL CHECK (tenths BETWEEN 0 AND 100),
    votes    BIGINT  NOT NULL CHECK (votes >= 0),
    PRIMARY KEY (movie_id, source)
);

CREATE TABLE watchlist (
    user_id  BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    movie_id BIGINT  NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    added_ms BIGINT  NOT NULL,
    PRIMARY KEY (user_id, movie_id)
);
CREATE INDEX watchlist_recent ON watchlist (user_id, added_ms DESC, movie_id DESC);
-- Removing a film finds its rows without a scan.
CREATE INDEX watchlist_by_movie ON watchlist (movie_id);

-- The days a viewer watched a film. One entry per film and day, so a re-imported diary does not
-- double; watched_on is the viewer's own date, YYYY-MM-DD.
CREATE TABLE diary (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    movie_id   BIGINT  NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    watched_on TEXT    NOT NULL,
    rewatch    BOOLEAN NOT NULL DEFAULT FALSE,
    stars      BIGINT  CHECK (stars BETWEEN 1 AND 5),
    created_ms BIGINT  NOT NULL,
    UNIQUE (user_id, movie_id, watched_on)
);
CREATE INDEX diary_recent ON diary (user_id, watched_on DESC, id DESC);
CREATE INDEX diary_by_movie ON diary (movie_id);

-- The profile page lists a user's ratings, latest first.
CREATE INDEX reviews_by_user_recent ON reviews (user_id, created_ms DESC, id DESC);
DROP INDEX reviews_by_user;
