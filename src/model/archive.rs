//! What the web archive holds: captures of a URL (from the Wayback CDX
//! API), kept per URL so that the archive is asked once, and the evidence a
//! posting draws from them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One archived copy of a URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capture {
    /// When the archive took it.
    pub at: DateTime<Utc>,
    /// The URL as the archive recorded it.
    pub original: String,
    /// Base32 SHA-1 of the archived payload, as the archive gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

impl Capture {
    /// The archive's copy, to open in a browser
    /// (`https://web.archive.org/web/TIMESTAMP/ORIGINAL`).
    pub fn playback_url(&self) -> String {
        format!(
            "https://web.archive.org/web/{}/{}",
            self.at.format("%Y%m%d%H%M%S"),
            self.original
        )
    }
}

/// The archive's answer about one URL, and when it was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveLookup {
    /// The URL asked about.
    pub url: String,
    /// When.
    pub checked_at: DateTime<Utc>,
    /// Its earliest captures, oldest first (empty: never archived).
    pub captures: Vec<Capture>,
}

/// One archived copy as a report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedCopy {
    /// When the archive took it.
    pub at: DateTime<Utc>,
    /// The archive's copy, to open.
    pub url: String,
}

impl From<&Capture> for ArchivedCopy {
    fn from(c: &Capture) -> Self {
        Self {
            at: c.at,
            url: c.playback_url(),
        }
    }
}

/// What the web archive says about one posting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveEvidence {
    /// The earliest capture of the image URL holding exactly the bytes we
    /// hold (its digest is their SHA-1): the strongest date there is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identical_bytes: Option<ArchivedCopy>,
    /// The earliest capture of the image URL, whatever its bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ArchivedCopy>,
    /// The earliest capture of the page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<ArchivedCopy>,
}

impl ArchiveEvidence {
    /// True when the archive holds nothing of this posting.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}
