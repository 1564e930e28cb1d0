-- A film is public (anyone may watch) or for signed-in viewers only.
ALTER TABLE movies ADD COLUMN members_only INTEGER NOT NULL DEFAULT 0;
