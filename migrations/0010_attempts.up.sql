-- The attempt log: one row per webhook request, written by the statement that records the
-- outcome it led to (an outcome never exists without its attempt). Messages sent before this
-- migration have no rows: nothing is invented for them.
CREATE TABLE message_attempts (
    message_id     uuid NOT NULL,
    number         integer NOT NULL CHECK (number >= 1),
    started_at     timestamptz NOT NULL,
    duration_ms    integer NOT NULL CHECK (duration_ms >= 0),
    -- NULL: no HTTP answer came (timeout, refused, TLS).
    status_code    smallint CHECK (status_code BETWEEN 100 AND 999),
    outcome        text NOT NULL CHECK (outcome IN ('sent', 'retry', 'failed')),
    error_code     text,
    -- The answer's first 4 KiB, as stored in messages.webhook_response.
    response_body  text,
    PRIMARY KEY (message_id, number)
);

-- Requests made for each message, the released claims (never sent) not among them: the next
-- attempt's number. Unlike `attempts` it is never given back nor reset by a retry.
ALTER TABLE messages ADD COLUMN request_count integer NOT NULL DEFAULT 0;

-- A message's attempts go with it, for every writer (retention's chunks, a manual DELETE,
-- TRUNCATE), as message_phones does: one statement-level trigger, no per-row cascade.
CREATE FUNCTION message_attempts_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM message_attempts AS a USING old_rows AS o WHERE a.message_id = o.id;
    RETURN NULL;
END
$$;

CREATE FUNCTION message_attempts_after_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE message_attempts;
    RETURN NULL;
END
$$;

CREATE TRIGGER message_attempts_delete AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION message_attempts_after_delete();
CREATE TRIGGER message_attempts_truncate AFTER TRUNCATE ON messages
    FOR EACH STATEMENT EXECUTE FUNCTION message_attempts_after_truncate();
