-- provenance embedded store, version 4: evidence of where a picture came
-- from. What the source that reported a posting says about it (creator,
-- licence, a dated event) as JSON; each picture's SHA-1, the digest the web
-- archive names its captures by, and the credits its file carries (XMP); and the archive's answers, kept so that it
-- is asked once. Never edit once released: add a new migration instead.

ALTER TABLE sightings ADD COLUMN source_facts TEXT;
ALTER TABLE images ADD COLUMN sha1 BLOB;
ALTER TABLE images ADD COLUMN embedded_credits TEXT;

CREATE TABLE archive_lookups (
    url        TEXT    PRIMARY KEY,
    checked_at INTEGER NOT NULL,
    captures   TEXT    NOT NULL
);
