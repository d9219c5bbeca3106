-- provenance PostgreSQL store, version 1. Never edit once released: add a
-- new migration instead.

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per distinct content (exact bytes). The vector column has no fixed
-- dimension: a store is bound to one model, and the HNSW index
-- (embedding::vector(dim)) is created when the model is bound.
CREATE TABLE images (
    id                      BIGSERIAL PRIMARY KEY,
    sha256                  BYTEA       NOT NULL UNIQUE,
    width                   INTEGER     NOT NULL,
    height                  INTEGER     NOT NULL,
    format                  TEXT        NOT NULL,
    byte_size               BIGINT      NOT NULL,
    exif_date_time_original TEXT,
    exif_artist             TEXT,
    exif_copyright          TEXT,
    embedding               vector,
    thumbnail               BYTEA,  -- small JPEG for reports
    embedding_model         TEXT,
    first_seen_at           TIMESTAMPTZ NOT NULL,
    last_seen_at            TIMESTAMPTZ NOT NULL
);

CREATE TABLE image_hashes (
    image_id BIGINT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    kind     TEXT   NOT NULL,
    bits     BYTEA  NOT NULL,
    PRIMARY KEY (image_id, kind)
);

-- Keypoint features for geometric verification at match time (crops,
-- rotations, frames), one blob per kind (e.g. orb256-v1, ~10 KB).
CREATE TABLE image_features (
    image_id BIGINT  NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    kind     TEXT    NOT NULL,
    bytes    BYTEA NOT NULL,
    PRIMARY KEY (image_id, kind)
);

CREATE TABLE scans (
    id          BIGSERIAL PRIMARY KEY,
    keyphrase   TEXT        NOT NULL,
    provider    TEXT        NOT NULL,
    options     JSONB       NOT NULL,
    status      TEXT        NOT NULL,
    counts      JSONB       NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);

-- page_url is '' when unknown so the uniqueness key works.
CREATE TABLE sightings (
    id            BIGSERIAL PRIMARY KEY,
    image_id      BIGINT      NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    image_url     TEXT        NOT NULL,
    page_url      TEXT        NOT NULL DEFAULT '',
    page_title    TEXT,
    site          TEXT,
    provider      TEXT,
    scan_id       BIGINT REFERENCES scans (id) ON DELETE SET NULL,
    rank          INTEGER,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    last_modified TIMESTAMPTZ,
    etag          TEXT,
    UNIQUE (image_id, image_url, page_url)
);
CREATE INDEX sightings_by_image_url ON sightings (image_url);

CREATE TABLE failures (
    id       BIGSERIAL PRIMARY KEY,
    url      TEXT        NOT NULL,
    stage    TEXT        NOT NULL,
    reason   TEXT        NOT NULL,
    scan_id  BIGINT REFERENCES scans (id) ON DELETE SET NULL,
    attempts INTEGER     NOT NULL DEFAULT 1,
    first_at TIMESTAMPTZ NOT NULL,
    last_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (url, stage)
);
CREATE INDEX failures_by_last_at ON failures (last_at);
