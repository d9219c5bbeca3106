-- provenance PostgreSQL store, version 2: a person's decision about a
-- match, kept per (query file, stored picture). Never edit once released:
-- add a new migration instead.

CREATE TABLE reviews (
    query_sha256 BYTEA       NOT NULL,
    image_id     BIGINT      NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    decision     TEXT        NOT NULL CHECK (decision IN ('confirmed', 'not_a_copy', 'ignored')),
    note         TEXT,
    decided_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (query_sha256, image_id)
);
CREATE INDEX reviews_by_image ON reviews (image_id);
