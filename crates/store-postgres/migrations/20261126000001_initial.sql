-- Marquee's first schema for PostgreSQL; the same tables as the SQLite backend's first
-- migration. Times are milliseconds since the Unix epoch (UTC), integers are BIGINT so both
-- backends decode them alike.

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    is_admin      BOOLEAN NOT NULL DEFAULT FALSE,
    created_ms    BIGINT  NOT NULL
);

-- Only a SHA-256 of the session id is stored, so a copy of the database signs nobody in.
CREATE TABLE sessions (
    id_hash    BYTEA  PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_ms);

CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT   NOT NULL,
    token_hash   BYTEA  NOT NULL UNIQUE,
    created_ms   BIGINT NOT NULL,
    last_used_ms BIGINT
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

CREATE TABLE login_failures (
    key             TEXT   PRIMARY KEY,
    failures        BIGINT NOT NULL,
    window_start_ms BIGINT NOT NULL
);

CREATE TABLE settings (
    name  TEXT  PRIMARY KEY,
    value BYTEA NOT NULL
);

-- The rating aggregates live on the film row and change in the same transaction as the
-- ratings, so the title page reads them without counting.
CREATE TABLE movies (
    id              BIGSERIAL PRIMARY KEY,
    slug            TEXT   NOT NULL UNIQUE,
    title           TEXT   NOT NULL,
    original_title  TEXT,
    year            BIGINT,
    runtime_minutes BIGINT,
    synopsis        TEXT   NOT NULL DEFAULT '',
    content_rating  TEXT   NOT NULL DEFAULT 'NR',
    language        TEXT   NOT NULL DEFAULT '',
    poster          TEXT,
    rating_count    BIGINT NOT NULL DEFAULT 0,
    rating_sum      BIGINT NOT NULL DEFAULT 0,
    stars_1         BIGINT NOT NULL DEFAULT 0,
    stars_2         BIGINT NOT NULL DEFAULT 0,
    stars_3         BIGINT NOT NULL DEFAULT 0,
    stars_4         BIGINT NOT NULL DEFAULT 0,
    stars_5         BIGINT NOT NULL DEFAULT 0,
    review_count    BIGINT NOT NULL DEFAULT 0,
    created_ms      BIGINT NOT NULL,
    updated_ms      BIGINT NOT NULL
);
CREATE INDEX movies_by_title ON movies (lower(title), id);

CREATE TABLE movie_genres (
    movie_id BIGINT NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    name     TEXT   NOT NULL,
    PRIMARY KEY (movie_id, position)
);
CREATE INDEX movie_genres_by_name ON movie_genres (name);

CREATE TABLE movie_credits (
    movie_id  BIGINT NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    role      TEXT   NOT NULL CHECK (role IN ('director', 'cast')),
    position  BIGINT NOT NULL,
    name      TEXT   NOT NULL,
    character TEXT   NOT NULL DEFAULT '',
    PRIMARY KEY (movie_id, role, position)
);
CREATE INDEX movie_credits_by_name ON movie_credits (name);

-- One rating per user and film; it is a review when body is not null.
CREATE TABLE reviews (
    id          BIGSERIAL PRIMARY KEY,
    movie_id    BIGINT  NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    user_id     BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    stars       BIGINT  NOT NULL CHECK (stars BETWEEN 1 AND 5),
    headline    TEXT,
    body        TEXT,
    anonymous   BOOLEAN NOT NULL DEFAULT FALSE,
    helpful_yes BIGINT  NOT NULL DEFAULT 0,
    helpful_no  BIGINT  NOT NULL DEFAULT 0,
    score       DOUBLE PRECISION NOT NULL DEFAULT 0,
    created_ms  BIGINT  NOT NULL,
    updated_ms  BIGINT  NOT NULL,
    UNIQUE (movie_id, user_id)
);
CREATE INDEX reviews_by_user ON reviews (user_id);
-- One index per sort so every page of every order is an index range scan.
CREATE INDEX reviews_helpful ON reviews (movie_id, score DESC, created_ms DESC, id DESC) WHERE body IS NOT NULL;
CREATE INDEX reviews_newest ON reviews (movie_id, created_ms DESC, id DESC) WHERE body IS NOT NULL;
CREATE INDEX reviews_highest ON reviews (movie_id, stars DESC, created_ms DESC, id DESC) WHERE body IS NOT NULL;
CREATE INDEX reviews_lowest ON reviews (movie_id, stars ASC, created_ms DESC, id DESC) WHERE body IS NOT NULL;

CREATE TABLE votes (
    review_id  BIGINT  NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    helpful    BOOLEAN NOT NULL,
    created_ms BIGINT  NOT NULL,
    PRIMARY KEY (review_id, user_id)
);
CREATE INDEX votes_by_user ON votes (user_id, review_id);
