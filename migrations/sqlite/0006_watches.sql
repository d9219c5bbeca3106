-- provenance embedded store, version 6: watching pictures over time. A
-- watch is a scan run again on a schedule; the postings it has seen, each
-- re-checked at every run (when, how many checks failed in a row, when it
-- was found gone); and the changes each run found (a new posting, one
-- gone, one whose picture was replaced), with when an alert was sent.
-- Never edit once released: add a new migration instead.

CREATE TABLE watches (
    id           INTEGER PRIMARY KEY,
    scan         TEXT    NOT NULL,
    image        BLOB,
    every_secs   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    next_run_at  INTEGER NOT NULL,
    last_run_at  INTEGER,
    last_scan_id INTEGER REFERENCES scans (id) ON DELETE SET NULL
);

CREATE TABLE watch_postings (
    watch_id    INTEGER NOT NULL REFERENCES watches (id) ON DELETE CASCADE,
    sighting_id INTEGER NOT NULL REFERENCES sightings (id) ON DELETE CASCADE,
    PRIMARY KEY (watch_id, sighting_id)
);

ALTER TABLE sightings ADD COLUMN checked_at INTEGER;
ALTER TABLE sightings ADD COLUMN failed_checks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sightings ADD COLUMN gone_at INTEGER;

CREATE TABLE changes (
    id           INTEGER PRIMARY KEY,
    watch_id     INTEGER REFERENCES watches (id) ON DELETE SET NULL,
    sighting_id  INTEGER NOT NULL REFERENCES sightings (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    detail       TEXT,
    delivered_at INTEGER
);
CREATE INDEX changes_by_time ON changes (at);
