-- Operations: a `cancelled` terminal status (pending -> cancelled; never claimed, since claims
-- take only `pending` rows), and the indexes behind the filtered listing and the throughput chart.
ALTER TABLE messages DROP CONSTRAINT messages_status_check;
ALTER TABLE messages ADD CONSTRAINT messages_status_check
    CHECK (status IN ('pending', 'processing', 'sent', 'failed', 'cancelled'));

-- GET /api/v1/messages: newest first, keyset on (created_at, id), walked backwards from the
-- cursor and stopped at the page's limit. One partial index per status (pending already has
-- messages_pending_fifo_idx; processing rows are few and use messages_expired_claims_idx), so
-- a status change writes one of them, and no index on `status` itself tempts the claim's
-- expired-lease scan away from messages_expired_claims_idx. Unfiltered pages merge them.
CREATE INDEX messages_sent_created_idx ON messages (created_at, id) WHERE status = 'sent';
CREATE INDEX messages_failed_created_idx ON messages (created_at, id) WHERE status = 'failed';
CREATE INDEX messages_cancelled_created_idx ON messages (created_at, id) WHERE status = 'cancelled';
CREATE INDEX messages_phone_created_idx ON messages (phone_number, created_at, id);

-- GET /api/v1/metrics/throughput: failures by minute (a failed row's updated_at is when it
-- failed); sent rows use messages_sent_at_idx.
CREATE INDEX messages_failed_at_idx ON messages (updated_at) WHERE status = 'failed';

-- Every status change rewrites each index a row is in; most rows carry no idempotency key, so
-- index only those that do (inserts name this predicate in ON CONFLICT).
DROP INDEX messages_idempotency_key_idx;
CREATE UNIQUE INDEX messages_idempotency_key_idx ON messages (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
