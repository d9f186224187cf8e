-- Expiry: a message not sent by expires_at ends 'expired' (terminal), never sent after it.
ALTER TABLE messages ADD COLUMN expires_at timestamptz;
ALTER TABLE dispatch_runs ADD COLUMN expired integer NOT NULL DEFAULT 0;
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
    CHECK (status IN ('pending', 'processing', 'sent', 'failed', 'cancelled', 'expired'));
-- The sweep that expires pending messages walks this, oldest expiry first.
CREATE INDEX messages_expiring_idx ON messages (expires_at) WHERE status = 'pending' AND expires_at IS NOT NULL;
-- The listing's status filter and retention, as for the other terminal statuses.
CREATE INDEX messages_expired_created_idx ON messages (created_at, id) WHERE status = 'expired';
CREATE INDEX messages_expired_at_idx ON messages (updated_at) WHERE status = 'expired';

-- Delivery receipts: the provider's word on a sent message, kept on the message. Only receipts
-- write these columns; the dispatcher's statements never do.
ALTER TABLE messages
    ADD COLUMN delivery_status text CHECK (delivery_status IN ('delivered', 'undelivered')),
    ADD COLUMN delivery_at timestamptz,
    ADD COLUMN delivery_error_code text,
    ADD CONSTRAINT messages_delivery_check CHECK ((delivery_status IS NULL) = (delivery_at IS NULL));
-- A receipt names the provider's id: one entry per sent message.
CREATE INDEX messages_webhook_message_id_idx ON messages (webhook_message_id) WHERE webhook_message_id IS NOT NULL;
-- The listing's delivery filter, newest first.
CREATE INDEX messages_delivery_created_idx ON messages (delivery_status, created_at, id)
    WHERE delivery_status IS NOT NULL;

-- Receipts that named no message yet (the provider called back before our record committed,
-- or never will match): applied by the dispatch path once their message is sent, purged after
-- the retention (7 days without one).
CREATE TABLE unmatched_receipts (
    provider_message_id  text PRIMARY KEY,
    status               text NOT NULL CHECK (status IN ('delivered', 'undelivered')),
    at                   timestamptz NOT NULL,
    error_code           text,
    received_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX unmatched_receipts_received_at_idx ON unmatched_receipts (received_at);

-- Messages by delivery status, kept like message_counts (sharded by backend), for /metrics.
CREATE TABLE delivery_counts (
    status  text NOT NULL,
    shard   smallint NOT NULL,
    n       bigint NOT NULL,
    PRIMARY KEY (status, shard)
);

CREATE FUNCTION delivery_counts_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE FUNCTION delivery_counts_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO delivery_counts AS c (status, shard, n)
    SELECT delivery_status, pg_backend_pid() % 16, -count(*) FROM old_rows
    WHERE delivery_status IS NOT NULL GROUP BY delivery_status ORDER BY delivery_status
    ON CONFLICT (status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE FUNCTION delivery_counts_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM delivery_counts;
    RETURN NULL;
END
$$;

CREATE TRIGGER delivery_counts_update AFTER UPDATE ON messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION delivery_counts_after_update();
CREATE TRIGGER delivery_counts_delete AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION delivery_counts_after_delete();
CREATE TRIGGER delivery_counts_truncate AFTER TRUNCATE ON messages
    FOR EACH STATEMENT EXECUTE FUNCTION delivery_counts_after_truncate();
