-- provenance PostgreSQL store, version 4: the words each picture was
-- posted with (alt text, title, caption, heading, the text around it, the
-- page's description, a provider's snippet) as JSON per sighting, and a
-- weighted tsvector over them and the page title with a GIN index. English
-- stemming and stop words. Weights: A caption and alt text; B page and
-- picture titles; C heading and snippet; D surrounding text and page
-- description. Never edit once released: add a new migration instead.

ALTER TABLE sightings ADD COLUMN words jsonb;

ALTER TABLE sightings ADD COLUMN words_document tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', coalesce(words ->> 'caption', '') || ' ' || coalesce(words ->> 'alt', '')), 'A')
    || setweight(to_tsvector('english', coalesce(page_title, '') || ' ' || coalesce(words ->> 'title', '')), 'B')
    || setweight(to_tsvector('english', coalesce(words ->> 'heading', '') || ' ' || coalesce(words ->> 'snippet', '')), 'C')
    || setweight(to_tsvector('english', coalesce(words ->> 'nearby', '') || ' ' || coalesce(words ->> 'description', '')), 'D')
) STORED;

CREATE INDEX sightings_words_document ON sightings USING gin (words_document);
