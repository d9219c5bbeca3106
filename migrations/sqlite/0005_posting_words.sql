-- provenance embedded store, version 5: the words each picture was posted
-- with (alt text, title, caption, heading, the text around it, the page's
-- description, a provider's snippet) as JSON per sighting, and an FTS5
-- index over them and the page title, kept by triggers. English stemming
-- (porter); accents folded. Never edit once released: add a new migration
-- instead.

ALTER TABLE sightings ADD COLUMN words TEXT;

CREATE VIRTUAL TABLE posting_text USING fts5(
    page_title, caption, alt, title, heading, snippet, nearby, description,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

INSERT INTO posting_text (rowid, page_title)
    SELECT id, page_title FROM sightings WHERE page_title IS NOT NULL;

CREATE TRIGGER sightings_words_insert AFTER INSERT ON sightings
WHEN new.page_title IS NOT NULL OR new.words IS NOT NULL
BEGIN
    INSERT INTO posting_text (rowid, page_title, caption, alt, title, heading, snippet, nearby, description)
    VALUES (new.id, new.page_title,
            json_extract(new.words, '$.caption'), json_extract(new.words, '$.alt'),
            json_extract(new.words, '$.title'), json_extract(new.words, '$.heading'),
            json_extract(new.words, '$.snippet'), json_extract(new.words, '$.nearby'),
            json_extract(new.words, '$.description'));
END;

CREATE TRIGGER sightings_words_update AFTER UPDATE OF page_title, words ON sightings
WHEN old.page_title IS NOT new.page_title OR old.words IS NOT new.words
BEGIN
    DELETE FROM posting_text WHERE rowid = old.id;
    INSERT INTO posting_text (rowid, page_title, caption, alt, title, heading, snippet, nearby, description)
    VALUES (new.id, new.page_title,
            json_extract(new.words, '$.caption'), json_extract(new.words, '$.alt'),
            json_extract(new.words, '$.title'), json_extract(new.words, '$.heading'),
            json_extract(new.words, '$.snippet'), json_extract(new.words, '$.nearby'),
            json_extract(new.words, '$.description'));
END;

CREATE TRIGGER sightings_words_delete AFTER DELETE ON sightings
BEGIN
    DELETE FROM posting_text WHERE rowid = old.id;
END;
