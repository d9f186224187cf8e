-- Operations: a `cancelled` terminal status (pending -> cancelled; never claimed, since claims
-- take only `pending` rows), and the indexes behind the filtered listing and the throughput chart.
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
    CHECK (status IN ('pending', 'processing', 'sent', 'failed', 'cancelled'));

-- GET /api/v1/messages: newest first, keyset on (created_at, id), optionally by status or
-- phone number. Each is walked backwards from the cursor and stops at the page's limit.
CREATE INDEX messages_created_idx ON messages (created_at, id);
CREATE INDEX messages_status_created_idx ON messages (status, created_at, id);
CREATE INDEX messages_phone_created_idx ON messages (phone_number, created_at, id);

-- GET /api/v1/metrics/throughput: failures by minute (a failed row's updated_at is when it
-- failed); sent rows use messages_sent_at_idx.
CREATE INDEX messages_failed_at_idx ON messages (updated_at) WHERE status = 'failed';
