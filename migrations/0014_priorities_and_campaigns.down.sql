-- The counts' functions as 0004 and 0011 made them, the claim's index as 0012 made it.
CREATE OR REPLACE FUNCTION message_counts_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- ORDER BY status: counter rows are always locked in the same order (no deadlocks).
    INSERT INTO message_counts AS c (status, shard, n)
    SELECT status, pg_backend_pid() % 16, count(*) FROM new_rows GROUP BY status ORDER BY status
    ON CONFLICT (status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION message_counts_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE OR REPLACE FUNCTION message_counts_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO message_counts AS c (status, shard, n)
    SELECT status, pg_backend_pid() % 16, -count(*) FROM old_rows GROUP BY status ORDER BY status
    ON CONFLICT (status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION message_counts_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM message_counts;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION delivery_counts_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO delivery_counts AS c (status, shard, n)
    SELECT delivery_status, pg_backend_pid() % 16, sum(delta)
    FROM (SELECT delivery_status, -1 AS delta FROM old_rows WHERE delivery_status IS NOT NULL
          UNION ALL
          SELECT delivery_status, 1 FROM new_rows WHERE delivery_status IS NOT NULL) AS changes
    GROUP BY delivery_status
    HAVING sum(delta) <> 0
    ORDER BY delivery_status
    ON CONFLICT (status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION delivery_counts_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO delivery_counts AS c (status, shard, n)
    SELECT delivery_status, pg_backend_pid() % 16, -count(*) FROM old_rows
    WHERE delivery_status IS NOT NULL GROUP BY delivery_status ORDER BY delivery_status
    ON CONFLICT (status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION delivery_counts_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM delivery_counts;
    RETURN NULL;
END
$$;

DROP TABLE campaign_delivery_counts;
DROP TABLE campaign_counts;
DROP INDEX messages_campaign_idx;
CREATE INDEX messages_due_idx ON messages (next_attempt_at, created_at, id) WHERE status = 'pending';
DROP INDEX messages_due_lane_idx;
ALTER TABLE messages DROP COLUMN campaign, DROP COLUMN priority;
