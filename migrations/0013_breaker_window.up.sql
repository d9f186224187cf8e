-- The receiver breaker decides on a failure rate over its last endpoint results, not on a count
-- of failures in a row (README "Receiver outages"): with dozens of requests in flight, a few
-- failures in a row are common from a receiver that is only flaky. One bit per result, the
-- newest lowest, 1 for an endpoint failure; window_results counts them up to the window size.
ALTER TABLE receiver_breaker
    ADD COLUMN window_bits bigint NOT NULL DEFAULT 0,
    ADD COLUMN window_results integer NOT NULL DEFAULT 0 CHECK (window_results BETWEEN 0 AND 62),
    -- The failures among them, derived here once for every statement that reads the breaker.
    ADD COLUMN window_failures integer NOT NULL GENERATED ALWAYS AS (bit_count(window_bits::bit(64))::int4) STORED;

-- A retry that spent no attempt (the receiver looked down, not the message bad) waits for the
-- receiver, not for its own schedule: when the breaker closes, every such message is due at once.
ALTER TABLE messages ADD COLUMN awaits_receiver boolean NOT NULL DEFAULT false;
CREATE INDEX messages_awaiting_receiver_idx ON messages (id) WHERE awaits_receiver;

-- Retries already deferred that way (a failed probe's message is pushed far back) say so in
-- their last_error.
UPDATE messages SET awaits_receiver = true
WHERE status = 'pending' AND last_error LIKE '%attempt not counted)';
