-- One row per dispatch run, for the status endpoint and history.
CREATE TABLE dispatch_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    claimed      integer NOT NULL DEFAULT 0,
    sent         integer NOT NULL DEFAULT 0,
    retried      integer NOT NULL DEFAULT 0,
    failed       integer NOT NULL DEFAULT 0,
    released     integer NOT NULL DEFAULT 0,
    error        text
);

CREATE INDEX dispatch_runs_started_at_idx ON dispatch_runs (started_at DESC);
