-- Instances remember who owns a bearer token (crates/server/src/token_cache.rs), so an API
-- client's requests skip the lookup. The server reads this number a few times a second and
-- forgets every token when it moved. Triggers move it on every change that could make a
-- remembered owner wrong, whoever makes it (the CLI in another process, a cascade): a token
-- deleted or rewritten, an account changed or deleted. Using a token (last_used_ms) does not.
-- The same table as the PostgreSQL backend's 10th migration.
CREATE TABLE credentials_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO credentials_version (id, n) VALUES (1, 0);

CREATE TRIGGER api_tokens_revoked AFTER DELETE ON api_tokens
BEGIN
    UPDATE credentials_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER api_tokens_rewritten AFTER UPDATE OF user_id, token_hash ON api_tokens
BEGIN
    UPDATE credentials_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER users_changed AFTER UPDATE ON users
BEGIN
    UPDATE credentials_version SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER users_deleted AFTER DELETE ON users
BEGIN
    UPDATE credentials_version SET n = n + 1 WHERE id = 1;
END;
