ALTER TABLE dispatch_runs DROP COLUMN purged;
DROP INDEX messages_cancelled_at_idx;
DROP TABLE retention_state;
