-- Retention (MESSAGE_RETENTION_DAYS): terminal messages whose last change is older than the
-- retention are deleted in bounded chunks by the dispatch path. This row says when that last
-- happened, so that of every run (each Lambda invocation, the harness) one purges a minute.
CREATE TABLE retention_state (
    id             boolean PRIMARY KEY DEFAULT true CHECK (id),
    last_purge_at  timestamptz NOT NULL DEFAULT '-infinity'
);

INSERT INTO retention_state (id) VALUES (true);

-- Sent rows are found by messages_sent_at_idx and failed ones by messages_failed_at_idx; this
-- finds cancelled ones by their last change.
CREATE INDEX messages_cancelled_at_idx ON messages (updated_at) WHERE status = 'cancelled';

-- What each run purged, beside its other counts.
ALTER TABLE dispatch_runs ADD COLUMN purged integer NOT NULL DEFAULT 0;
