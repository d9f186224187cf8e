-- The receiver circuit breaker (README "Receiver outages"): one row that every dispatch run
-- reads and writes, so concurrent Lambda invocations and harness runs agree on whether the
-- receiver is down. closed: send; open: send nothing until next_probe_at; half_open: one run
-- sends one probe, whose answer closes or reopens it.
CREATE TABLE receiver_breaker (
    id                    boolean PRIMARY KEY DEFAULT true CHECK (id),
    state                 text NOT NULL DEFAULT 'closed'
                          CHECK (state IN ('closed', 'open', 'half_open')),
    -- When the current state began.
    since                 timestamptz NOT NULL DEFAULT now(),
    -- Endpoint-level failures in a row (reset by any answer that shows the receiver is up).
    consecutive_failures  integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    -- The current opening's cooldown; doubles after each failed probe, up to the maximum.
    cooldown_seconds      double precision NOT NULL DEFAULT 0 CHECK (cooldown_seconds >= 0),
    last_error            text,
    -- open: when a probe may start; half_open: when a probe that never reported is given up.
    next_probe_at         timestamptz,
    CONSTRAINT receiver_breaker_probe_time_check
        CHECK ((state = 'closed') = (next_probe_at IS NULL))
);

INSERT INTO receiver_breaker (id) VALUES (true);

-- A run that held back because the breaker was open says so in its history.
ALTER TABLE dispatch_runs ADD COLUMN breaker_open boolean NOT NULL DEFAULT false;
