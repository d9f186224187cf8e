-- Outbound messages and their delivery state (see DESIGN.md "State machine").
CREATE TABLE messages (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    phone_number        varchar(20) NOT NULL,
    content             text NOT NULL,
    status              text NOT NULL DEFAULT 'pending',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    sent_at             timestamptz,
    attempts            integer NOT NULL DEFAULT 0,
    max_attempts        integer NOT NULL DEFAULT 3,
    next_attempt_at     timestamptz DEFAULT now(),
    locked_until        timestamptz,
    last_error          text,
    error_code          text,
    webhook_message_id  text,
    webhook_response    text,
    idempotency_key     text,
    version             bigint NOT NULL DEFAULT 0,

    CONSTRAINT messages_status_check
        CHECK (status IN ('pending', 'processing', 'sent', 'failed')),
    -- Guards for rows written by other tools: the dispatcher can always read what is here.
    -- The configured MESSAGE_CHAR_LIMIT (at most 1600) is enforced by the application.
    CONSTRAINT messages_phone_number_check
        CHECK (phone_number ~ '^\+[0-9]{8,15}$'),
    CONSTRAINT messages_content_length_check
        CHECK (char_length(content) BETWEEN 1 AND 1600),
    CONSTRAINT messages_attempts_check
        CHECK (attempts >= 0 AND max_attempts >= 1),
    CONSTRAINT messages_idempotency_key_length_check
        CHECK (idempotency_key IS NULL OR char_length(idempotency_key) BETWEEN 1 AND 255),
    -- A pending row is always due at some time; a claimed row always has a lease.
    CONSTRAINT messages_pending_has_due_time_check
        CHECK (status <> 'pending' OR next_attempt_at IS NOT NULL),
    CONSTRAINT messages_processing_has_lease_check
        CHECK (status <> 'processing' OR locked_until IS NOT NULL)
);

-- Unique when present: NULLs are distinct.
CREATE UNIQUE INDEX messages_idempotency_key_idx ON messages (idempotency_key);

-- FIFO over pending rows: the claim walks this index in created_at order and stops at its limit.
CREATE INDEX messages_pending_fifo_idx ON messages (created_at, id)
    WHERE status = 'pending';

-- Claims whose lease ran out (a crashed or timed-out run).
CREATE INDEX messages_expired_claims_idx ON messages (locked_until)
    WHERE status = 'processing';

-- The sent list, newest first.
CREATE INDEX messages_sent_at_idx ON messages (sent_at DESC, id DESC)
    WHERE status = 'sent';
