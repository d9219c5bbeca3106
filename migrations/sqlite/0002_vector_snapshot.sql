-- provenance embedded store, version 2: what the vector snapshot file next to
-- the database needs to know whether it is still right. Never edit once
-- released: add a new migration instead.

-- A random id, so a snapshot is never applied to another store recreated at
-- the same path.
INSERT OR IGNORE INTO store_meta (key, value)
VALUES ('store_id', lower(hex(randomblob(16))));

-- Every replaced or deleted vector, in order. Vectors set for the first
-- time are found by id and are not logged.
CREATE TABLE vector_changes (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    image_id INTEGER NOT NULL
);

CREATE TRIGGER images_vector_replaced
AFTER UPDATE OF embedding ON images
WHEN OLD.embedding IS NOT NULL AND NEW.embedding IS NOT OLD.embedding
BEGIN
    INSERT INTO vector_changes (image_id) VALUES (NEW.id);
END;

CREATE TRIGGER images_vector_deleted
AFTER DELETE ON images
WHEN OLD.embedding IS NOT NULL
BEGIN
    INSERT INTO vector_changes (image_id) VALUES (OLD.id);
END;
