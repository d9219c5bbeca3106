-- provenance PostgreSQL store, version 5: watching pictures over time. A
-- watch is a scan run again on a schedule; the postings it has seen, each
-- re-checked at every run (when, how many checks failed in a row, when it
-- was found gone); and the changes each run found (a new posting, one
-- gone, one whose picture was replaced), with when an alert was sent.
-- Never edit once released: add a new migration instead.

CREATE TABLE watches (
    id           BIGSERIAL   PRIMARY KEY,
    scan         JSONB       NOT NULL,
    image        BYTEA,
    every_secs   BIGINT      NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    next_run_at  TIMESTAMPTZ NOT NULL,
    last_run_at  TIMESTAMPTZ,
    last_scan_id BIGINT REFERENCES scans (id) ON DELETE SET NULL
);

CREATE TABLE watch_postings (
    watch_id    BIGINT NOT NULL REFERENCES watches (id) ON DELETE CASCADE,
    sighting_id BIGINT NOT NULL REFERENCES sightings (id) ON DELETE CASCADE,
    PRIMARY KEY (watch_id, sighting_id)
);

ALTER TABLE sightings ADD COLUMN checked_at TIMESTAMPTZ;
ALTER TABLE sightings ADD COLUMN failed_checks BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sightings ADD COLUMN gone_at TIMESTAMPTZ;

CREATE TABLE changes (
    id           BIGSERIAL   PRIMARY KEY,
    watch_id     BIGINT REFERENCES watches (id) ON DELETE SET NULL,
    sighting_id  BIGINT      NOT NULL REFERENCES sightings (id) ON DELETE CASCADE,
    kind         TEXT        NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    detail       TEXT,
    delivered_at TIMESTAMPTZ
);
CREATE INDEX changes_by_time ON changes (at);
