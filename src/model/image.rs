//! Pictures: one per distinct content (SHA-256), with what the scan computes
//! about them (perceptual hashes, keypoint features, EXIF) and the embedding
//! model whose vectors describe them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Read while decoding; kept with each image.
pub use crate::decode::{
    ContentCredentials, CredentialsAction, CredentialsValidation, EmbeddedCredits, ExifSummary,
};

/// Row id of a stored image.
pub type ImageId = i64;

/// The embedding model a store's vectors come from. A store holds vectors of
/// one model only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Model id, e.g. `openai/clip-vit-base-patch32@<revision>`.
    pub id: String,
    /// Vector dimension, e.g. 512.
    pub dim: usize,
}

impl std::fmt::Display for ModelInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}-d)", self.id, self.dim)
    }
}

/// One perceptual hash of an image, named by algorithm (e.g. `phash64`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerceptualHash {
    /// Algorithm and size, e.g. `phash64`, `dhash64`.
    pub kind: String,
    /// The hash bits.
    pub bits: Vec<u8>,
}

/// Keypoint features of an image, as `(kind, bytes)` (see [`crate::verify`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFeatures {
    /// Format and size, e.g. `orb256-v1`.
    pub kind: String,
    /// The encoded features.
    pub bytes: Vec<u8>,
}

/// A distinct image content to record. Keyed by `sha256`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewImage {
    /// SHA-256 of the exact bytes.
    pub sha256: [u8; 32],
    /// SHA-1 of the same bytes: the digest the web archive names captures
    /// by (not used for identity).
    pub sha1: Option<[u8; 20]>,
    /// Perceptual hashes of the decoded picture.
    pub perceptual_hashes: Vec<PerceptualHash>,
    /// Pixel width.
    pub width: u32,
    /// Pixel height.
    pub height: u32,
    /// Format sniffed from the bytes, e.g. `jpeg`.
    pub format: String,
    /// Size of the file in bytes.
    pub byte_size: u64,
    /// EXIF fields (same bytes, same EXIF: kept on the image, not the sighting).
    pub exif: ExifSummary,
    /// The credits the file's XMP carries (creator, rights, credit, date
    /// created, IPTC digital source type).
    pub embedded: Option<EmbeddedCredits>,
    /// A small JPEG preview for reports (a few KB).
    pub thumbnail: Option<Vec<u8>>,
    /// Keypoint features for verification at match time, and their copy
    /// index terms (one entry per kind).
    pub features: Vec<ImageFeatures>,
    /// When this content was seen.
    pub seen_at: DateTime<Utc>,
}

/// A stored image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageRecord {
    /// Row id.
    pub id: ImageId,
    /// SHA-256, hex.
    pub sha256: String,
    /// SHA-1, hex, when the store has it (pictures stored before schema
    /// version 4 lack it).
    pub sha1: Option<String>,
    /// Perceptual hashes.
    pub perceptual_hashes: Vec<PerceptualHash>,
    /// Pixel width.
    pub width: u32,
    /// Pixel height.
    pub height: u32,
    /// Format, e.g. `jpeg`.
    pub format: String,
    /// File size in bytes.
    pub byte_size: u64,
    /// EXIF fields.
    pub exif: ExifSummary,
    /// The credits the file's XMP carries.
    pub embedded: Option<EmbeddedCredits>,
    /// Whether a vector is stored for it.
    pub has_embedding: bool,
    /// First time any copy of these bytes was seen.
    pub first_seen_at: DateTime<Utc>,
    /// Last time any copy of these bytes was seen.
    pub last_seen_at: DateTime<Utc>,
}
