-- provenance PostgreSQL store, version 3: what the source that reported a
-- posting says about it (creator, licence, a dated event). Never edit once
-- released: add a new migration instead.

ALTER TABLE sightings ADD COLUMN source_facts jsonb;
