-- provenance embedded store, version 1. Never edit once released: add a new
-- migration instead. Times are microseconds since the Unix epoch (UTC).

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per distinct content (exact bytes).
CREATE TABLE images (
    id                      INTEGER PRIMARY KEY,
    sha256                  BLOB    NOT NULL UNIQUE,
    width                   INTEGER NOT NULL,
    height                  INTEGER NOT NULL,
    format                  TEXT    NOT NULL,
    byte_size               INTEGER NOT NULL,
    exif_date_time_original TEXT,
    exif_artist             TEXT,
    exif_copyright          TEXT,
    embedding               BLOB,   -- little-endian f32, L2-normalised
    thumbnail               BLOB,  -- small JPEG for reports
    embedding_model         TEXT,   -- model id the vector came from
    first_seen_at           INTEGER NOT NULL,
    last_seen_at            INTEGER NOT NULL
);

CREATE TABLE image_hashes (
    image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    kind     TEXT    NOT NULL,
    bits     BLOB    NOT NULL,
    PRIMARY KEY (image_id, kind)
);

-- Keypoint features for geometric verification at match time (crops,
-- rotations, frames), one blob per kind (e.g. orb256-v1, ~10 KB).
CREATE TABLE image_features (
    image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    kind     TEXT    NOT NULL,
    bytes    BLOB NOT NULL,
    PRIMARY KEY (image_id, kind)
);

CREATE TABLE scans (
    id          INTEGER PRIMARY KEY,
    keyphrase   TEXT    NOT NULL,
    provider    TEXT    NOT NULL,
    options     TEXT    NOT NULL,  -- JSON
    status      TEXT    NOT NULL,
    counts      TEXT    NOT NULL,  -- JSON
    started_at  INTEGER NOT NULL,
    finished_at INTEGER
);

-- Every place an image was seen. page_url is '' when unknown so the
-- uniqueness key works (NULLs never conflict).
CREATE TABLE sightings (
    id            INTEGER PRIMARY KEY,
    image_id      INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    image_url     TEXT    NOT NULL,
    page_url      TEXT    NOT NULL DEFAULT '',
    page_title    TEXT,
    site          TEXT,
    provider      TEXT,
    scan_id       INTEGER REFERENCES scans (id) ON DELETE SET NULL,
    rank          INTEGER,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    last_modified INTEGER,
    etag          TEXT,
    UNIQUE (image_id, image_url, page_url)
);
CREATE INDEX sightings_by_image_url ON sightings (image_url);

CREATE TABLE failures (
    id       INTEGER PRIMARY KEY,
    url      TEXT    NOT NULL,
    stage    TEXT    NOT NULL,
    reason   TEXT    NOT NULL,
    scan_id  INTEGER REFERENCES scans (id) ON DELETE SET NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    first_at INTEGER NOT NULL,
    last_at  INTEGER NOT NULL,
    UNIQUE (url, stage)
);
CREATE INDEX failures_by_last_at ON failures (last_at);
