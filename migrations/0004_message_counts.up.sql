-- Message counts by status, kept by statement-level triggers, so stats and the sent list's
-- total stay O(1) at millions of rows. Each connection adds to its own shard (its backend pid
-- modulo 16), so concurrent writers do not queue on one counter row; readers sum the shards.
CREATE TABLE message_counts (
    status  text NOT NULL,
    shard   smallint NOT NULL,
    n       bigint NOT NULL,
    PRIMARY KEY (status, shard)
);

INSERT INTO message_counts (status, shard, n)
SELECT status, 0, count(*) FROM messages GROUP BY status;

CREATE FUNCTION message_counts_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- ORDER BY status: counter rows are always locked in the same order (no deadlocks).
    INSERT INTO message_counts AS c (status, shard, n)
    SELECT status, pg_backend_pid() % 16, count(*) FROM new_rows GROUP BY status ORDER BY status
    ON CONFLICT (status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE FUNCTION message_counts_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO message_counts AS c (status, shard, n)
    SELECT status, pg_backend_pid() % 16, sum(delta)
    FROM (SELECT status, -1 AS delta FROM old_rows UNION ALL SELECT status, 1 FROM new_rows) AS changes
    GROUP BY status
    HAVING sum(delta) <> 0
    ORDER BY status
    ON CONFLICT (status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE FUNCTION message_counts_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO message_counts AS c (status, shard, n)
    SELECT status, pg_backend_pid() % 16, -count(*) FROM old_rows GROUP BY status ORDER BY status
    ON CONFLICT (status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE FUNCTION message_counts_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM message_counts;
    RETURN NULL;
END
$$;

CREATE TRIGGER message_counts_insert AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION message_counts_after_insert();
CREATE TRIGGER message_counts_update AFTER UPDATE ON messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION message_counts_after_update();
CREATE TRIGGER message_counts_delete AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION message_counts_after_delete();
CREATE TRIGGER message_counts_truncate AFTER TRUNCATE ON messages
    FOR EACH STATEMENT EXECUTE FUNCTION message_counts_after_truncate();
