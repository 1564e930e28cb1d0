-- Playback: the media file of a film, its subtitles, each viewer's position, and background jobs.

-- One playable file per film. `storage_key` names the object in the media storage (a local
-- folder or S3); the probe's findings are kept so pages and the packager need not run ffprobe.
CREATE TABLE media (
    movie_id      INTEGER PRIMARY KEY REFERENCES movies (id) ON DELETE CASCADE,
    storage_key   TEXT    NOT NULL,
    file_name     TEXT    NOT NULL,
    content_type  TEXT    NOT NULL,
    size_bytes    INTEGER NOT NULL,
    duration_ms   INTEGER NOT NULL,
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    video_codec   TEXT    NOT NULL,
    audio_codec   TEXT,
    probe_json    TEXT    NOT NULL,
    -- Where the HLS packaging of this file lives once it is done (a storage key prefix).
    hls_prefix    TEXT,
    created_ms    INTEGER NOT NULL
);

CREATE TABLE subtitles (
    movie_id    INTEGER NOT NULL REFERENCES media (movie_id) ON DELETE CASCADE,
    lang        TEXT    NOT NULL,
    label       TEXT    NOT NULL,
    storage_key TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (movie_id, lang)
);

-- Where each viewer is in each film. `watched_ms` is set the first time they pass 90 %.
CREATE TABLE playback_positions (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    movie_id    INTEGER NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    position_ms INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    watched_ms  INTEGER,
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (user_id, movie_id)
);
CREATE INDEX playback_positions_recent ON playback_positions (user_id, updated_ms DESC);

-- Background work queued in the database, claimed by one worker of one instance at a time
-- through a lease that the worker renews while it runs; a lease nobody renews expires and the
-- job is claimed again (after a crash or a restart).
CREATE TABLE jobs (
    id             INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL,
    movie_id       INTEGER NOT NULL REFERENCES movies (id) ON DELETE CASCADE,
    state          TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    progress       REAL    NOT NULL DEFAULT 0,
    worker         TEXT,
    lease_until_ms INTEGER NOT NULL DEFAULT 0,
    attempts       INTEGER NOT NULL DEFAULT 0,
    error          TEXT,
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL
);
-- At most one unfinished job of a kind per film.
CREATE UNIQUE INDEX jobs_one_active ON jobs (kind, movie_id) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_claimable ON jobs (state, created_ms);
