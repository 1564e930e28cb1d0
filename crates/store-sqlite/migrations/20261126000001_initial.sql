-- Marquee's first schema for SQLite. Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    created_ms    INTEGER NOT NULL
);

-- Only a SHA-256 of the session id is stored, so a copy of the database signs nobody in.
CREATE TABLE sessions (
    id_hash    BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   BLOB    NOT NULL UNIQUE,
    created_ms   INTEGER NOT NULL,
    last_used_ms INTEGER
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

CREATE TABLE login_failures (
    key             TEXT    PRIMARY KEY,
    failures        INTEGER NOT NULL,
    window_start_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

-- The rating aggregates live on the film row and change in the same transaction as the
-- ratings, so the title page reads them without counting.
CREATE TABLE movies (
    id              INTEGER PRIMARY KEY,
    slug            TEXT    NOT NULL UNIQUE,
    title           TEXT    NOT NULL,
    original_title  TEXT,
    year            INTEGER,
    runtime_minutes INTEGER,
    synopsis        TEXT    NOT NULL DEFAULT '',
    content_rating  TEXT    NOT NULL DEFAULT 'NR',
    language        TEXT    NOT NULL DEFAULT '',
    poster          TEXT,
    rating_count    INTEGER NOT NULL DEFAULT 0,
    rating_sum      INTEGER NOT NULL DEFAULT 0,
    stars_1         INTEGER NOT NULL DEFAULT 0,
    stars_2         INTEGER NOT NULL DEFAULT 0,
    stars_3         INTEGER NOT NULL DEFAULT 0,
    stars_4         INTEGER NOT NULL DEFAULT 0,
    stars_5         INTEGER NOT NULL DEFAULT 0,
    review_count    INTEGER NOT NULL DEFAULT 0,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL
);
CREATE INDEX movies_by_title ON movies (title COLLATE NOCASE, id);

CREATE TABLE movie_genres (
    movie_id INTEGER NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name     TEXT    NOT NULL,
    PRIMARY KEY (movie_id, position)
) WITHOUT ROWID;
CREATE INDEX movie_genres_by_name ON movie_genres (name);

CREATE TABLE movie_credits (
    movie_id  INTEGER NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    role      TEXT    NOT NULL CHECK (role IN ('director', 'cast')),
    position  INTEGER NOT NULL,
    name      TEXT    NOT NULL,
    character TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (movie_id, role, position)
) WITHOUT ROWID;
CREATE INDEX movie_credits_by_name ON movie_credits (name);

-- One rating per user and film; it is a review when body is not null.
CREATE TABLE reviews (
    id          INTEGER PRIMARY KEY,
    movie_id    INTEGER NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stars       INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
    headline    TEXT,
    body        TEXT,
    anonymous   INTEGER NOT NULL DEFAULT 0,
    helpful_yes INTEGER NOT NULL DEFAULT 0,
    helpful_no  INTEGER NOT NULL DEFAULT 0,
    score       REAL    NOT NULL DEFAULT 0,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    UNIQUE (movie_id, user_id)
);
CREATE INDEX reviews_by_user ON reviews (user_id);
-- One index per sort so every page of every order is an index range scan.
CREATE INDEX reviews_helpful ON reviews (movie_id, score DESC, created_ms DESC, id DESC) WHERE body IS NOT NULL;
CREATE INDEX reviews_newest ON reviews (movie_id, created_ms DESC, id DESC) WHERE body IS NOT NULL;
CREATE INDEX reviews_highest ON reviews (movie_id, stars DESC, created_ms DESC, id DESC) WHERE body IS NOT NULL;
CREATE INDEX reviews_lowest ON reviews (movie_id, stars ASC, created_ms DESC, id DESC) WHERE body IS NOT NULL;

CREATE TABLE votes (
    review_id  INTEGER NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    helpful    INTEGER NOT NULL CHECK (helpful IN (0, 1)),
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (review_id, user_id)
) WITHOUT ROWID;
CREATE INDEX votes_by_user ON votes (user_id, review_id);
