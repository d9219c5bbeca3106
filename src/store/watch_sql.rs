//! The statements of watching: the same text for both dialects (`$N`
//! placeholders) but for the few in [`Dialect`](super::watches::Dialect);
//! times are bound in each backend's encoding.

/// Every watch with how many postings it follows.
pub(super) const WATCHES: &str = "SELECT w.id, w.scan, w.every_secs, w.created_at, w.next_run_at,
            w.last_run_at, w.last_scan_id,
            (SELECT count(*) FROM watch_postings p WHERE p.watch_id = w.id) AS postings
     FROM watches w ORDER BY w.id";

/// The picture kept with a watch: `$1` id.
pub(super) const WATCH_IMAGE: &str = "SELECT image FROM watches WHERE id = $1";

/// Removes a watch: `$1` id.
pub(super) const REMOVE_WATCH: &str = "DELETE FROM watches WHERE id = $1";

/// After a watch's scan, a change `new` for each posting the scan (`$2`)
/// saw that the watch (`$1`) did not follow; `$3` now.
pub(super) const NEW_POSTINGS: &str = "INSERT INTO changes (watch_id, sighting_id, kind, at)
     SELECT $1, s.id, 'new', $3
     FROM sightings s
     WHERE s.scan_id = $2
       AND NOT EXISTS (SELECT 1 FROM watch_postings p
                       WHERE p.watch_id = $1 AND p.sighting_id = s.id)";

/// The scan's (`$2`) postings become the watch's (`$1`).
pub(super) const FOLLOW_POSTINGS: &str = "INSERT INTO watch_postings (watch_id, sighting_id)
     SELECT $1, s.id FROM sightings s WHERE s.scan_id = $2
     ON CONFLICT DO NOTHING";

/// Every posting the watch (`$1`) follows, gone ones too (one may come
/// back), with what a re-check needs.
pub(super) const POSTINGS_TO_CHECK: &str =
    "SELECT s.id, i.sha256, s.image_url, s.page_url, s.etag, s.last_modified, s.failed_checks
     FROM watch_postings p
     JOIN sightings s ON s.id = p.sighting_id
     JOIN images i ON i.id = s.image_id
     WHERE p.watch_id = $1
     ORDER BY s.id";

/// 1 when a posting was gone, else 0: `$1` sighting.
pub(super) const WAS_GONE: &str =
    "SELECT count(*) FROM sightings WHERE id = $1 AND gone_at IS NOT NULL";

/// A posting is there: `$1` sighting, `$2` now, `$3` ETag, `$4`
/// Last-Modified.
pub(super) const POSTING_THERE: &str = "UPDATE sightings
     SET checked_at = $2, failed_checks = 0, gone_at = NULL, etag = coalesce($3, etag),
         last_modified = coalesce($4, last_modified)
     WHERE id = $1";

/// A posting is gone (or replaced), once: `$1` sighting, `$2` now.
pub(super) const POSTING_GONE: &str =
    "UPDATE sightings SET checked_at = $2, gone_at = $2 WHERE id = $1 AND gone_at IS NULL";

/// A check failed: `$1` sighting, `$2` now; the count in a row after it.
pub(super) const POSTING_FAILED: &str = "UPDATE sightings
     SET checked_at = $2, failed_checks = failed_checks + 1
     WHERE id = $1 AND gone_at IS NULL RETURNING failed_checks";

/// A change: `$1` watch, `$2` sighting, `$3` kind, `$4` now, `$5` detail.
pub(super) const ADD_CHANGE: &str =
    "INSERT INTO changes (watch_id, sighting_id, kind, at, detail) VALUES ($1, $2, $3, $4, $5)";

/// A run ended: `$1` watch, `$2` now, `$3` its scan, `$4` next due.
pub(super) const FINISH_RUN: &str =
    "UPDATE watches SET last_run_at = $2, last_scan_id = $3, next_run_at = $4 WHERE id = $1";

/// The changes no webhook was told of yet: `$1` the limit.
pub(super) const UNDELIVERED: &str =
    "SELECT c.id, c.watch_id, c.kind, c.at, c.detail, c.delivered_at,
            s.id AS sighting_id, s.image_id, s.image_url, s.page_url, s.page_title, s.site
     FROM changes c JOIN sightings s ON s.id = c.sighting_id
     WHERE c.delivered_at IS NULL ORDER BY c.id LIMIT $1";
