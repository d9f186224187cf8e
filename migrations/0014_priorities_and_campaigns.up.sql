-- Lanes and campaigns. A message's priority is its lane (0 high: one-time codes, payment
-- confirmations; 1 normal; 2 low: campaigns); a run claims due messages strictly by lane and
-- first due first inside one. Every existing message is normal, so a deployed queue keeps its
-- order. A campaign is an optional label that messages are listed, counted and cancelled by.
ALTER TABLE messages
    ADD COLUMN priority smallint NOT NULL DEFAULT 1 CONSTRAINT messages_priority_check CHECK (priority IN (0, 1, 2)),
    ADD COLUMN campaign text CONSTRAINT messages_campaign_check CHECK (campaign ~ '^[A-Za-z0-9_.-]{1,64}$');

-- The claim's due scan, one lane at a time: each lane's walk starts at a position and stops at
-- its first message not yet due, so neither a lower lane's backlog nor later messages are read.
CREATE INDEX messages_due_lane_idx ON messages (priority, next_attempt_at, created_at, id) WHERE status = 'pending';
DROP INDEX messages_due_idx;

-- A campaign's messages by status and age: its listing (newest first, one status at a time,
-- merged) and the bulk cancel (its pending ones, oldest first). Messages without a campaign
-- never enter it, so their writes cost nothing more.
CREATE INDEX messages_campaign_idx ON messages (campaign, status, created_at, id) WHERE campaign IS NOT NULL;

-- Counts per campaign, kept by the same statement-level triggers as message_counts and
-- delivery_counts (sharded by backend), so a campaign's stats cost one index scan of a few rows.
CREATE TABLE campaign_counts (
    campaign text NOT NULL,
    status   text NOT NULL,
    shard    smallint NOT NULL,
    n        bigint NOT NULL,
    PRIMARY KEY (campaign, status, shard)
);
CREATE TABLE campaign_delivery_counts (
    campaign text NOT NULL,
    status   text NOT NULL,
    shard    smallint NOT NULL,
    n        bigint NOT NULL,
    PRIMARY KEY (campaign, status, shard)
);

CREATE OR REPLACE FUNCTION message_counts_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- ORDER BY: counter rows are always locked in the same order (no deadlocks).
    INSERT INTO message_counts AS c (status, shard, n)
    SELECT status, pg_backend_pid() % 16, count(*) FROM new_rows GROUP BY status ORDER BY status
    ON CONFLICT (status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    INSERT INTO campaign_counts AS c (campaign, status, shard, n)
    SELECT campaign, status, pg_backend_pid() % 16, count(*) FROM new_rows WHERE campaign IS NOT NULL
    GROUP BY campaign, status ORDER BY campaign, status
    ON CONFLICT (campaign, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
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
    INSERT INTO campaign_counts AS c (campaign, status, shard, n)
    SELECT campaign, status, pg_backend_pid() % 16, sum(delta)
    FROM (SELECT campaign, status, -1 AS delta FROM old_rows WHERE campaign IS NOT NULL
          UNION ALL
          SELECT campaign, status, 1 FROM new_rows WHERE campaign IS NOT NULL) AS changes
    GROUP BY campaign, status
    HAVING sum(delta) <> 0
    ORDER BY campaign, status
    ON CONFLICT (campaign, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION message_counts_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO message_counts AS c (status, shard, n)
    SELECT status, pg_backend_pid() % 16, -count(*) FROM old_rows GROUP BY status ORDER BY status
    ON CONFLICT (status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    INSERT INTO campaign_counts AS c (campaign, status, shard, n)
    SELECT campaign, status, pg_backend_pid() % 16, -count(*) FROM old_rows WHERE campaign IS NOT NULL
    GROUP BY campaign, status ORDER BY campaign, status
    ON CONFLICT (campaign, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION message_counts_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM message_counts;
    DELETE FROM campaign_counts;
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
    INSERT INTO campaign_delivery_counts AS c (campaign, status, shard, n)
    SELECT campaign, delivery_status, pg_backend_pid() % 16, sum(delta)
    FROM (SELECT campaign, delivery_status, -1 AS delta FROM old_rows
          WHERE delivery_status IS NOT NULL AND campaign IS NOT NULL
          UNION ALL
          SELECT campaign, delivery_status, 1 FROM new_rows
          WHERE delivery_status IS NOT NULL AND campaign IS NOT NULL) AS changes
    GROUP BY campaign, delivery_status
    HAVING sum(delta) <> 0
    ORDER BY campaign, delivery_status
    ON CONFLICT (campaign, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION delivery_counts_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO delivery_counts AS c (status, shard, n)
    SELECT delivery_status, pg_backend_pid() % 16, -count(*) FROM old_rows
    WHERE delivery_status IS NOT NULL GROUP BY delivery_status ORDER BY delivery_status
    ON CONFLICT (status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    INSERT INTO campaign_delivery_counts AS c (campaign, status, shard, n)
    SELECT campaign, delivery_status, pg_backend_pid() % 16, -count(*) FROM old_rows
    WHERE delivery_status IS NOT NULL AND campaign IS NOT NULL
    GROUP BY campaign, delivery_status ORDER BY campaign, delivery_status
    ON CONFLICT (campaign, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION delivery_counts_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM delivery_counts;
    DELETE FROM campaign_delivery_counts;
    RETURN NULL;
END
$$;
