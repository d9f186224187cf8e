-- The local scheduler backend's on/off switch: exactly one row.
CREATE TABLE scheduler_state (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    state       text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'stopped')),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO scheduler_state (id, state) VALUES (true, 'running');
