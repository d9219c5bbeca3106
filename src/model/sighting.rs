//! Sightings: every place a picture was seen on the web (or on disk).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{ImageId, PostingWords, ScanId, SourceFacts};

/// One place an image was seen. Keyed by (image, image URL, page URL).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewSighting {
    /// The image seen.
    pub image_id: ImageId,
    /// URL the bytes were fetched from (or `file://` path for local files).
    pub image_url: String,
    /// Page the image was found on.
    pub page_url: Option<String>,
    /// Title of that page.
    pub page_title: Option<String>,
    /// Site or domain name.
    pub site: Option<String>,
    /// Search provider that reported it (`serpapi`, `searxng`, `page`, `local`, …).
    pub provider: Option<String>,
    /// Scan that found it.
    pub scan_id: Option<ScanId>,
    /// Rank in the provider's results (1 = first).
    pub rank: Option<u32>,
    /// When it was seen.
    pub seen_at: DateTime<Utc>,
    /// HTTP `Last-Modified` of the image response.
    pub last_modified: Option<DateTime<Utc>>,
    /// HTTP `ETag` of the image response.
    pub etag: Option<String>,
    /// What the source that reported it says (creator, licence, a date).
    pub source_facts: Option<SourceFacts>,
    /// The words it was posted with (alt, caption, the text around it).
    pub words: Option<PostingWords>,
}

/// A stored sighting, with the keyphrase of the scan that last saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SightingRecord {
    /// Row id.
    pub id: i64,
    /// The image seen.
    pub image_id: ImageId,
    /// URL of the image.
    pub image_url: String,
    /// Page it was found on.
    pub page_url: Option<String>,
    /// Title of that page.
    pub page_title: Option<String>,
    /// Site or domain.
    pub site: Option<String>,
    /// Provider that reported it.
    pub provider: Option<String>,
    /// Scan that last saw it.
    pub scan_id: Option<ScanId>,
    /// Keyphrase of that scan.
    pub keyphrase: Option<String>,
    /// Best rank seen.
    pub rank: Option<u32>,
    /// First time seen here.
    pub first_seen_at: DateTime<Utc>,
    /// Last time seen here.
    pub last_seen_at: DateTime<Utc>,
    /// HTTP `Last-Modified`.
    pub last_modified: Option<DateTime<Utc>>,
    /// HTTP `ETag`.
    pub etag: Option<String>,
    /// What the source that reported it says.
    pub source_facts: Option<SourceFacts>,
    /// The words it was posted with.
    pub words: Option<PostingWords>,
    /// When a watch last re-checked it.
    pub checked_at: Option<DateTime<Utc>>,
    /// When a watch found it gone (or its picture replaced); `None` while
    /// it is there, or never checked.
    pub gone_at: Option<DateTime<Utc>>,
}
