DROP TABLE IF EXISTS dispatch_runs;
