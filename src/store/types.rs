//! What the stores answer besides the domain model: write outcomes, search
//! hits, which backend, and the counts `db status` shows.

use serde::Serialize;

use crate::model::{ImageId, ModelInfo};

/// What an idempotent write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upserted<Id> {
    /// Row id.
    pub id: Id,
    /// True when the row is new, false when an existing one was updated.
    pub created: bool,
}

/// A nearest-neighbour result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbor {
    /// The image.
    pub image_id: ImageId,
    /// Cosine similarity to the query, in [-1, 1].
    pub similarity: f32,
}

/// Which backend a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL with pgvector.
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        })
    }
}

/// What `db status` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoreStatus {
    /// Backend.
    pub backend: Backend,
    /// Where it lives (passwords redacted).
    pub location: String,
    /// Latest applied migration version.
    pub schema_version: i64,
    /// Model whose vectors the store holds, if any.
    pub model: Option<ModelInfo>,
    /// Distinct images.
    pub images: u64,
    /// Images with a vector.
    pub embedded: u64,
    /// Sightings.
    pub sightings: u64,
    /// Scans.
    pub scans: u64,
    /// Failures (distinct URL and stage).
    pub failures: u64,
}
