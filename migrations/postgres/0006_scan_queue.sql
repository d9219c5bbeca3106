-- provenance PostgreSQL store, version 6: scans run by workers on many
-- machines. A queued scan's candidates are split into batches; each batch
-- is one job of the work queue (apalis, in its own `apalis` schema) and one
-- row here with its state, attempts, last error and counters, so progress
-- and failures read from any machine. Host slots keep the per-host limit
-- for every worker together: a fetch holds one of a host's slots until it
-- ends (or its lease runs out, when its worker died).
-- Never edit once released: add a new migration instead.

CREATE TABLE scan_batches (
    scan_id    BIGINT      NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
    batch_no   INTEGER     NOT NULL,
    work       JSONB       NOT NULL,
    size       INTEGER     NOT NULL,
    status     TEXT        NOT NULL,
    attempts   INTEGER     NOT NULL DEFAULT 0,
    worker     TEXT,
    last_error TEXT,
    counts     JSONB,
    -- What earlier attempts did (a worker that died had stored part of it).
    prior      JSONB,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scan_id, batch_no)
);
CREATE INDEX scan_batches_failed ON scan_batches (updated_at) WHERE status = 'failed';

CREATE TABLE host_slots (
    host       TEXT        NOT NULL,
    slot       INTEGER     NOT NULL,
    holder     TEXT        NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (host, slot)
);
