ALTER TABLE dispatch_runs DROP COLUMN breaker_open;
DROP TABLE receiver_breaker;
