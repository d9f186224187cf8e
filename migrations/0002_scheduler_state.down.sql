DROP TABLE IF EXISTS scheduler_state;
