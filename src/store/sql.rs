//! The statements both backends run as they are, written once. Placeholders
//! are `$N`, which PostgreSQL and sqlx's SQLite driver both bind by number.
//! Statements that differ between the dialects (time encodings,
//! `min`/`least`, upserts) stay in each backend's file.

/// `db status`'s counts and schema version.
pub(super) const STATUS: &str = "SELECT (SELECT count(*) FROM images) AS images,
            (SELECT count(*) FROM images WHERE embedding IS NOT NULL) AS embedded,
            (SELECT count(*) FROM sightings) AS sightings,
            (SELECT count(*) FROM scans) AS scans,
            (SELECT count(*) FROM failures) AS failures,
            (SELECT coalesce(max(version), 0) FROM _sqlx_migrations WHERE success) AS version";

/// The highest image id (NULL when there is none).
pub(super) const LAST_IMAGE_ID: &str = "SELECT max(id) FROM images";

/// The bound model's row.
pub(super) const MODEL: &str = "SELECT value FROM store_meta WHERE key = 'model'";

/// Binds a model unless one is bound: `$1` the model as JSON.
pub(super) const INSERT_MODEL: &str =
    "INSERT INTO store_meta (key, value) VALUES ('model', $1) ON CONFLICT (key) DO NOTHING";

/// The perceptual hashes of the first `$2` images after image `$1`, in
/// image id order.
pub(super) const HASHES_AFTER: &str = "SELECT image_id, kind, bits FROM image_hashes
     WHERE image_id IN (SELECT id FROM images WHERE id > $1 ORDER BY id LIMIT $2)
     ORDER BY image_id, kind";

/// One image's perceptual hashes: `$1` image id.
pub(super) const HASHES_OF: &str =
    "SELECT kind, bits FROM image_hashes WHERE image_id = $1 ORDER BY kind";

/// Adds a hash to an image: `$1` id, `$2` kind, `$3` bits.
pub(super) const INSERT_HASH: &str =
    "INSERT INTO image_hashes (image_id, kind, bits) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

/// Adds keypoint features to an image: `$1` id, `$2` kind, `$3` bytes.
pub(super) const INSERT_FEATURES: &str =
    "INSERT INTO image_features (image_id, kind, bytes) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

/// Stores or replaces features of one kind: `$1` id, `$2` kind, `$3` bytes.
pub(super) const PUT_FEATURES: &str =
    "INSERT INTO image_features (image_id, kind, bytes) VALUES ($1, $2, $3) \
     ON CONFLICT (image_id, kind) DO UPDATE SET bytes = excluded.bytes";

/// The image with these bytes: `$1` SHA-256.
pub(super) const IMAGE_BY_SHA256: &str = "SELECT id FROM images WHERE sha256 = $1";

/// The image last fetched from a URL: `$1` image URL.
pub(super) const IMAGE_BY_URL: &str =
    "SELECT image_id FROM sightings WHERE image_url = $1 ORDER BY last_seen_at DESC LIMIT 1";

/// One image row, without its vector: `$1` id.
pub(super) const IMAGE: &str =
    "SELECT id, sha256, sha1, width, height, format, byte_size, exif_date_time_original, exif_artist,
            exif_copyright, embedded_credits, embedding IS NOT NULL AS has_embedding, first_seen_at,
            last_seen_at
     FROM images WHERE id = $1";

/// Keypoint features: `$1` image id, `$2` kind.
pub(super) const FEATURES: &str =
    "SELECT bytes FROM image_features WHERE image_id = $1 AND kind = $2";

/// The stored preview: `$1` image id.
pub(super) const THUMBNAIL: &str = "SELECT thumbnail FROM images WHERE id = $1";

/// Stores a vector: `$1` vector, `$2` model id, `$3` image id.
pub(super) const SET_EMBEDDING: &str =
    "UPDATE images SET embedding = $1, embedding_model = $2 WHERE id = $3";

/// An image's sightings with their scan's keyphrase, earliest first:
/// `$1` image id.
pub(super) const SIGHTINGS_OF: &str =
    "SELECT s.*, sc.keyphrase FROM sightings s LEFT JOIN scans sc ON sc.id = s.scan_id
     WHERE s.image_id = $1 ORDER BY s.first_seen_at, s.id";

/// Starts a scan: `$1` keyphrase, `$2` provider, `$3` options, `$4`
/// counts, `$5` start time.
pub(super) const START_SCAN: &str =
    "INSERT INTO scans (keyphrase, provider, options, status, counts, started_at)
     VALUES ($1, $2, $3, 'running', $4, $5) RETURNING id";

/// The latest unfinished scan of the same seed: `$1` keyphrase, `$2`
/// provider, `$3` options.
pub(super) const RESUMABLE_SCAN: &str =
    "SELECT id FROM scans WHERE keyphrase = $1 AND provider = $2 AND options = $3
       AND status <> 'completed'
     ORDER BY id DESC LIMIT 1";

/// Updates a scan: `$1` status, `$2` counts, `$3` end time, `$4` id.
pub(super) const UPDATE_SCAN: &str =
    "UPDATE scans SET status = $1, counts = $2, finished_at = $3 WHERE id = $4";

/// One scan: `$1` id.
pub(super) const SCAN: &str = "SELECT * FROM scans WHERE id = $1";

/// The latest failures: `$1` how many.
pub(super) const FAILURES: &str = "SELECT * FROM failures ORDER BY last_at DESC, id DESC LIMIT $1";

/// Features of one kind after an image id, in id order: `$1` kind, `$2`
/// after id, `$3` how many.
pub(super) const FEATURES_AFTER: &str = "SELECT image_id, bytes FROM image_features
     WHERE kind = $1 AND image_id > $2 ORDER BY image_id LIMIT $3";

/// Features of one kind of images that lack another kind, in id order:
/// `$1` kind, `$2` lacking kind, `$3` after id, `$4` how many.
pub(super) const FEATURES_LACKING: &str = "SELECT f.image_id, f.bytes FROM image_features f
     WHERE f.kind = $1 AND f.image_id > $3
       AND NOT EXISTS (SELECT 1 FROM image_features g WHERE g.image_id = f.image_id AND g.kind = $2)
     ORDER BY f.image_id LIMIT $4";

/// Records a decision, replacing the pair's earlier one (its first time
/// kept), only when the image is stored: `$1` query SHA-256, `$2` image
/// id, `$3` decision, `$4` note, `$5` time.
pub(super) const PUT_REVIEW: &str =
    "INSERT INTO reviews (query_sha256, image_id, decision, note, decided_at, updated_at)
     SELECT $1, $2, $3, $4, $5, $5 WHERE EXISTS (SELECT 1 FROM images WHERE id = $2)
     ON CONFLICT (query_sha256, image_id) DO UPDATE SET
         decision = excluded.decision, note = excluded.note, updated_at = excluded.updated_at
     RETURNING *";

/// The decisions about one query's matches: `$1` query SHA-256.
pub(super) const REVIEWS: &str = "SELECT * FROM reviews WHERE query_sha256 = $1 ORDER BY image_id";

/// The archive's kept answer about a URL: `$1` URL.
pub(super) const ARCHIVE_LOOKUP: &str = "SELECT * FROM archive_lookups WHERE url = $1";

/// Keeps (or replaces) the archive's answer about a URL: `$1` URL, `$2`
/// when asked, `$3` the captures.
pub(super) const PUT_ARCHIVE_LOOKUP: &str =
    "INSERT INTO archive_lookups (url, checked_at, captures) VALUES ($1, $2, $3)
     ON CONFLICT (url) DO UPDATE SET checked_at = excluded.checked_at, captures = excluded.captures";

/// The latest scans: `$1` how many.
pub(super) const SCANS: &str = "SELECT * FROM scans ORDER BY id DESC LIMIT $1";

/// Stored pictures newest first, before image `$1`, at most `$3`, those
/// seen at a URL, site or page title containing `$2` (a `LIKE` pattern,
/// lower case, `\\` escaping) when it is not NULL.
pub(super) const LIBRARY: &str =
    "SELECT id, sha256, sha1, width, height, format, byte_size, exif_date_time_original, exif_artist,
            exif_copyright, embedded_credits, embedding IS NOT NULL AS has_embedding, first_seen_at,
            last_seen_at
     FROM images i
     WHERE i.id < $1
       AND ($2 IS NULL OR EXISTS (
           SELECT 1 FROM sightings s WHERE s.image_id = i.id
             AND (lower(s.image_url) LIKE $2 ESCAPE '\\'
               OR lower(coalesce(s.page_url, '')) LIKE $2 ESCAPE '\\'
               OR lower(coalesce(s.page_title, '')) LIKE $2 ESCAPE '\\'
               OR lower(coalesce(s.site, '')) LIKE $2 ESCAPE '\\')))
     ORDER BY i.id DESC LIMIT $3";
