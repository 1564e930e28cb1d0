-- Instances remember who owns a bearer token (crates/server/src/token_cache.rs), so an API
-- client's requests skip the lookup. Each instance reads this number a few times a second and
-- forgets every token when it moved. Triggers move it on every change that could make a
-- remembered owner wrong, whoever makes it (another instance, the CLI, a cascade): a token
-- deleted or rewritten, an account changed or deleted. Using a token (last_used_ms) does not.
-- One row, updated in place: the updates queue on its lock, so the number only grows and no
-- reader can see a later change without the earlier ones. The same table as the SQLite
-- backend's 10th migration.
CREATE TABLE credentials_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  BIGINT  NOT NULL
);
INSERT INTO credentials_version (id, n) VALUES (1, 0);

CREATE FUNCTION credentials_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE credentials_version SET n = n + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

-- Row triggers, not statement triggers: a DELETE that matched nothing (someone else's token id)
-- changes nothing and must not make every instance forget its tokens.
CREATE TRIGGER api_tokens_revoked AFTER DELETE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION credentials_changed();
CREATE TRIGGER api_tokens_rewritten AFTER UPDATE OF user_id, token_hash ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION credentials_changed();
CREATE TRIGGER users_changed AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION credentials_changed();
CREATE TRIGGER credentials_truncated AFTER TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION credentials_changed();
CREATE TRIGGER users_truncated AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION credentials_changed();
