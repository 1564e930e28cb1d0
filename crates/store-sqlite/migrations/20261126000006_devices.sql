-- Device sign-in (OAuth 2.0 Device Authorization Grant, RFC 8628): a TV asks for a code, a
-- signed-in viewer approves it at /activate, the TV polls and exchanges it for a token once.
-- Only a SHA-256 of the device's secret is stored; the user code is short-lived and shown on
-- the TV's screen anyway. Expired rows are deleted by the housekeeping job.
CREATE TABLE device_codes (
    id               INTEGER PRIMARY KEY,
    device_code_hash BLOB    NOT NULL UNIQUE,
    user_code        TEXT    NOT NULL UNIQUE,
    client_name      TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'used')),
    -- Who approved or denied it.
    user_id          INTEGER REFERENCES users (id) ON DELETE CASCADE,
    -- Seconds between polls; raised by 5 each time the device polls too soon.
    interval_s       INTEGER NOT NULL,
    last_poll_ms     INTEGER,
    created_ms       INTEGER NOT NULL,
    expires_ms       INTEGER NOT NULL,
    decided_ms       INTEGER
);
CREATE INDEX device_codes_by_expiry ON device_codes (expires_ms);
CREATE INDEX device_codes_by_user ON device_codes (user_id);
