-- Loses no message: expired ones become failed with error_code 'expired', which the older schema
-- allows and which says what happened to them. Deliveries and unmatched receipts go.
DROP TRIGGER delivery_counts_truncate ON messages;
DROP TRIGGER delivery_counts_delete ON messages;
DROP TRIGGER delivery_counts_update ON messages;
DROP FUNCTION delivery_counts_after_truncate();
DROP FUNCTION delivery_counts_after_delete();
DROP FUNCTION delivery_counts_after_update();
DROP TABLE delivery_counts;
DROP TABLE unmatched_receipts;
DROP INDEX messages_delivery_created_idx;
DROP INDEX messages_webhook_message_id_idx;
ALTER TABLE messages DROP CONSTRAINT messages_delivery_check;
ALTER TABLE messages DROP COLUMN delivery_error_code, DROP COLUMN delivery_at, DROP COLUMN delivery_status;
DROP INDEX messages_expired_at_idx;
DROP INDEX messages_expired_created_idx;
DROP INDEX messages_expiring_idx;
UPDATE messages
SET status = 'failed', error_code = 'expired', next_attempt_at = NULL, locked_until = NULL,
    last_error = coalesce(last_error, 'expired before it was sent'), updated_at = now()
WHERE status = 'expired';
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
    CHECK (status IN ('pending', 'processing', 'sent', 'failed', 'cancelled'));
ALTER TABLE messages DROP COLUMN expires_at;
ALTER TABLE dispatch_runs DROP COLUMN expired;
