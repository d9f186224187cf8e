-- Loses nothing: cancelled messages become failed with error_code 'cancelled', which the
-- older schema allows and which says what happened to them.
DROP INDEX messages_idempotency_key_idx;
CREATE UNIQUE INDEX messages_idempotency_key_idx ON messages (idempotency_key);
DROP INDEX IF EXISTS messages_failed_at_idx;
DROP INDEX IF EXISTS messages_phone_created_idx;
DROP INDEX IF EXISTS messages_cancelled_created_idx;
DROP INDEX IF EXISTS messages_failed_created_idx;
DROP INDEX IF EXISTS messages_sent_created_idx;
UPDATE messages
SET status = 'failed', error_code = 'cancelled',
    last_error = coalesce(last_error, 'cancelled before it was sent'), updated_at = now()
WHERE status = 'cancelled';
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
    CHECK (status IN ('pending', 'processing', 'sent', 'failed'));
