-- provenance PostgreSQL store, version 3: evidence of where a picture came
-- from. What the source that reported a posting says about it (creator,
-- licence, a dated event); each picture's SHA-1, the digest the web archive
-- names its captures by, and the credits its file carries (XMP); and the archive's answers, kept so that it is
-- asked once. Never edit once released: add a new migration instead.

ALTER TABLE sightings ADD COLUMN source_facts jsonb;
ALTER TABLE images ADD COLUMN sha1 bytea;
ALTER TABLE images ADD COLUMN embedded_credits jsonb;

CREATE TABLE archive_lookups (
    url        text        PRIMARY KEY,
    checked_at timestamptz NOT NULL,
    captures   jsonb       NOT NULL
);
