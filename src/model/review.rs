//! A person's decision about one match: is the stored picture a copy of the
//! query? Keyed by the query's SHA-256 and the stored picture, so the
//! decision is shown on every later match of the same query file and never
//! asked again after rescans.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ImageId;

/// Longest note kept with a decision, in characters.
pub const MAX_NOTE_CHARS: usize = 2_000;

/// What the reviewer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The stored picture is a copy of the query.
    Confirmed,
    /// It is not a copy (a false match).
    NotACopy,
    /// Not worth deciding (a thumbnail of the reviewer's own site, …).
    Ignored,
}

impl Decision {
    /// Every decision, in the order the UI offers them.
    pub const ALL: [Self; 3] = [Self::Confirmed, Self::NotACopy, Self::Ignored];

    /// The name stored and sent over the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::NotACopy => "not_a_copy",
            Self::Ignored => "ignored",
        }
    }

    /// Reads a stored or sent name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == name)
    }

    /// In words, for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed copy",
            Self::NotACopy => "not a copy",
            Self::Ignored => "ignored",
        }
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A decision to record (replacing an earlier one of the same pair).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReview {
    /// SHA-256 of the query file.
    pub query_sha256: [u8; 32],
    /// The stored picture.
    pub image_id: ImageId,
    /// What was decided.
    pub decision: Decision,
    /// Why, in the reviewer's words (at most [`MAX_NOTE_CHARS`]).
    pub note: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A recorded decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewRecord {
    /// SHA-256 of the query file, hex.
    pub query_sha256: String,
    /// The stored picture.
    pub image_id: ImageId,
    /// What was decided.
    pub decision: Decision,
    /// The reviewer's note.
    pub note: Option<String>,
    /// When it was first decided.
    pub decided_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
}
