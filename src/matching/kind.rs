//! What kind of match a stored image is for a query: an exact copy, a
//! near-duplicate or a similar picture, decided from the evidence at hand
//! (same bytes, perceptual-hash distance, embedding similarity).

use serde::{Deserialize, Serialize};

use super::MatchError;
use crate::hash::colour_layout::COLOUR_MATCH_DISTANCE;

/// The scale of [`Evidence::hash_distance`]: Hamming distances rescaled to
/// a 64-bit hash whatever the hash size (as `hash::hash_distance` returns
/// them), from 0 (identical) to this value; unrelated pictures average 32.
pub const HASH_BITS: u32 = 64;

/// How a stored image relates to the query.
///
/// Ordered from strongest to weakest: sorting puts exact copies first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The very same bytes (equal SHA-256).
    ExactCopy,
    /// The same picture re-encoded, resized, lightly cropped, marked or
    /// recoloured.
    NearDuplicate,
    /// A related picture.
    Similar,
}

impl MatchKind {
    /// Words for people: `exact copy`, `near-duplicate`, `similar`.
    pub fn label(self) -> &'static str {
        match self {
            Self::ExactCopy => "exact copy",
            Self::NearDuplicate => "near-duplicate",
            Self::Similar => "similar",
        }
    }

    /// Stable machine name, as in the JSON report: `exact_copy`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ExactCopy => "exact_copy",
            Self::NearDuplicate => "near_duplicate",
            Self::Similar => "similar",
        }
    }

    /// True for exact copies and near-duplicates: the same picture, whose
    /// sightings together say where it came from.
    pub fn is_same_picture(self) -> bool {
        matches!(self, Self::ExactCopy | Self::NearDuplicate)
    }
}

impl std::fmt::Display for MatchKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Where the line falls between the kinds.
///
/// The hash distances are those measured for the stored hashes (the `hash`
/// module's `STRICT_MATCH_DISTANCE` = 8 and `LOOSE_MATCH_DISTANCE` = 12 on
/// the 64-bit scale). The similarities are provisional, from published
/// practice with CLIP ViT-B/32 image–image cosine similarity; the
/// copy-detection evaluation (issue 5, item 6) replaces them with measured
/// values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Largest Hamming distance, in bits of a 64-bit hash
    /// ([`HASH_BITS`]), at which two images are near-duplicates on hash
    /// evidence alone (re-encoded, resized, recoloured, flipped, marked).
    /// Default: 8.
    pub near_duplicate_max_hash_distance: u32,
    /// Largest distance at which two images are probably the same picture
    /// (also cropped a little or framed): a near-duplicate when the
    /// embedding confirms it (similarity ≥ `similar_min_similarity`), only
    /// similar without an embedding. Default: 12.
    pub probable_duplicate_max_hash_distance: u32,
    /// Smallest cosine similarity at which two images are near-duplicates
    /// on embedding evidence alone. Default: 0.95.
    pub near_duplicate_min_similarity: f32,
    /// Smallest cosine similarity at which an image is reported at all as
    /// similar (`--min-similarity`). Default: 0.80.
    pub similar_min_similarity: f32,
    /// Keypoint matches agreeing on one transform that make a
    /// near-duplicate (crops, rotations, frames a hash cannot see).
    /// Default: 12 (measured: BENCHMARKS.md, "Copy detection").
    #[serde(default = "default_min_verified_inliers")]
    pub min_verified_inliers: u32,
}

fn default_min_verified_inliers() -> u32 {
    12
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            near_duplicate_max_hash_distance: 8,
            probable_duplicate_max_hash_distance: 12,
            near_duplicate_min_similarity: 0.95,
            similar_min_similarity: 0.80,
            min_verified_inliers: 12,
        }
    }
}

impl Thresholds {
    /// The defaults with another `--min-similarity`.
    pub fn with_min_similarity(self, similar_min_similarity: f32) -> Self {
        Self {
            similar_min_similarity,
            ..self
        }
    }

    /// Checks that the values make sense: similarities in [-1, 1], the
    /// near-duplicate similarity not below the similar one, a distance
    /// within the hash size.
    pub fn validate(&self) -> Result<(), MatchError> {
        for (name, value) in [
            (
                "near-duplicate minimum similarity",
                self.near_duplicate_min_similarity,
            ),
            ("minimum similarity", self.similar_min_similarity),
        ] {
            if !(-1.0..=1.0).contains(&value) {
                return Err(MatchError::InvalidThreshold(format!(
                    "{name} must be between -1 and 1 (cosine similarity), got {value}"
                )));
            }
        }
        if self.near_duplicate_min_similarity < self.similar_min_similarity {
            return Err(MatchError::InvalidThreshold(format!(
                "near-duplicate minimum similarity ({}) is below the minimum similarity ({}); raise it or lower --min-similarity",
                self.near_duplicate_min_similarity, self.similar_min_similarity
            )));
        }
        if self.probable_duplicate_max_hash_distance > HASH_BITS {
            return Err(MatchError::InvalidThreshold(format!(
                "probable-duplicate hash distance must be at most {HASH_BITS} bits, got {}",
                self.probable_duplicate_max_hash_distance
            )));
        }
        if self.near_duplicate_max_hash_distance > self.probable_duplicate_max_hash_distance {
            return Err(MatchError::InvalidThreshold(format!(
                "near-duplicate hash distance ({}) is above the probable-duplicate one ({})",
                self.near_duplicate_max_hash_distance, self.probable_duplicate_max_hash_distance
            )));
        }
        Ok(())
    }
}

/// What is known about one stored image against the query.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Evidence {
    /// The SHA-256 of the bytes is the query's.
    pub same_bytes: bool,
    /// Hamming distance between perceptual hashes, in bits of a 64-bit hash;
    /// `None` when either side has no comparable hash.
    pub hash_distance: Option<u32>,
    /// Cosine similarity of the embeddings; `None` without embeddings
    /// (`--embedder none`, or an image that could not be embedded).
    pub similarity: Option<f32>,
    /// Keypoint matches agreeing on one geometric transform
    /// ([`crate::verify`]); `None` when the pair was not verified.
    #[serde(default)]
    pub verified_inliers: Option<u32>,
    /// Several stored pictures are within the near-duplicate hash distance
    /// of the query (pictures with little detail — a nebula on black, food
    /// on white — share hashes): the distance alone cannot say which is the
    /// copy, and counts only as the probable band, to be confirmed. The
    /// same for a colour layout several stored smooth pictures share.
    #[serde(default)]
    pub hash_ambiguous: bool,
    /// Distance between colour layouts ([`crate::hash::colour_layout`]),
    /// compared only for smooth pictures, which have no perceptual hash.
    #[serde(default)]
    pub colour_distance: Option<u32>,
}

/// Decides the kind of match, or `None` when the evidence says it is no
/// match at all.
///
/// Rules, first that holds wins (d = hash distance, s = similarity):
/// 1. same bytes → [`MatchKind::ExactCopy`]; at least
///    `min_verified_inliers` keypoint inliers → [`MatchKind::NearDuplicate`];
/// 2. d ≤ `near_duplicate_max_hash_distance` (unless the hash is
///    [ambiguous](Evidence::hash_ambiguous): then rule 3 decides), or s ≥
///    `near_duplicate_min_similarity` → [`MatchKind::NearDuplicate`];
/// 3. d ≤ `probable_duplicate_max_hash_distance`: with s ≥
///    `similar_min_similarity` → [`MatchKind::NearDuplicate`] (confirmed);
///    without a similarity → [`MatchKind::Similar`] (unconfirmed); with a
///    lower s → no match (the embedding contradicts the hash);
/// 4. s ≥ `similar_min_similarity` → [`MatchKind::Similar`].
///
/// Missing evidence never counts for a match: without a similarity
/// (hash-only mode) only hash rules apply; without a hash only similarity
/// rules. A NaN similarity counts as missing.
pub fn classify(e: &Evidence, t: &Thresholds) -> Option<MatchKind> {
    decide(e, t).map(|(kind, _)| kind)
}

/// The evidence that decided a match's kind, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decider {
    /// Equal SHA-256.
    SameBytes,
    /// Enough keypoints agreeing on one geometric transform.
    Keypoints,
    /// The perceptual hash alone.
    PerceptualHash,
    /// A probable-duplicate hash distance confirmed by the embedding.
    HashAndEmbedding,
    /// The embedding similarity alone.
    Embedding,
    /// The colour layout of a smooth picture (no hash, few keypoints).
    ColourLayout,
    /// The words of the pages it was posted on (a text search).
    PageWords,
}

impl Decider {
    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::SameBytes => "the same bytes",
            Self::Keypoints => "agreeing keypoints",
            Self::PerceptualHash => "the perceptual hash",
            Self::HashAndEmbedding => "the perceptual hash, confirmed by the embedding",
            Self::Embedding => "the embedding",
            Self::ColourLayout => "the colour layout (a smooth picture)",
            Self::PageWords => "the words of its pages",
        }
    }
}

/// [`classify`], with the evidence that decided.
pub fn decide(e: &Evidence, t: &Thresholds) -> Option<(MatchKind, Decider)> {
    if e.same_bytes {
        return Some((MatchKind::ExactCopy, Decider::SameBytes));
    }
    if e.verified_inliers
        .is_some_and(|n| n >= t.min_verified_inliers)
    {
        return Some((MatchKind::NearDuplicate, Decider::Keypoints));
    }
    let similarity = e.similarity.filter(|s| !s.is_nan());
    let within = |max: u32| e.hash_distance.is_some_and(|d| d <= max);
    let at_least = |min: f32| similarity.is_some_and(|s| s >= min);
    if !e.hash_ambiguous && within(t.near_duplicate_max_hash_distance) {
        return Some((MatchKind::NearDuplicate, Decider::PerceptualHash));
    }
    if at_least(t.near_duplicate_min_similarity) {
        return Some((MatchKind::NearDuplicate, Decider::Embedding));
    }
    if e.colour_distance
        .is_some_and(|d| d <= COLOUR_MATCH_DISTANCE)
    {
        // Several stored smooth pictures alike: only similar.
        let kind = if e.hash_ambiguous {
            MatchKind::Similar
        } else {
            MatchKind::NearDuplicate
        };
        return Some((kind, Decider::ColourLayout));
    }
    if within(t.probable_duplicate_max_hash_distance) {
        return match similarity {
            None => Some((MatchKind::Similar, Decider::PerceptualHash)),
            Some(s) if s >= t.similar_min_similarity => {
                Some((MatchKind::NearDuplicate, Decider::HashAndEmbedding))
            }
            Some(_) => None,
        };
    }
    at_least(t.similar_min_similarity).then_some((MatchKind::Similar, Decider::Embedding))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(same_bytes: bool, hash_distance: Option<u32>, similarity: Option<f32>) -> Evidence {
        Evidence {
            same_bytes,
            hash_distance,
            similarity,
            verified_inliers: None,
            hash_ambiguous: false,
            colour_distance: None,
        }
    }

    #[test]
    fn an_ambiguous_hash_needs_confirmation() {
        let t = Thresholds::default();
        let ambiguous = Evidence {
            hash_ambiguous: true,
            ..evidence(false, Some(4), None)
        };
        assert_eq!(classify(&ambiguous, &t), Some(MatchKind::Similar));
        let confirmed = Evidence {
            verified_inliers: Some(20),
            ..ambiguous
        };
        assert_eq!(classify(&confirmed, &t), Some(MatchKind::NearDuplicate));
        let by_embedding = Evidence {
            similarity: Some(0.9),
            ..ambiguous
        };
        assert_eq!(classify(&by_embedding, &t), Some(MatchKind::NearDuplicate));
    }

    #[test]
    fn same_bytes_is_an_exact_copy_whatever_else_says() {
        let t = Thresholds::default();
        assert_eq!(
            classify(&evidence(true, None, None), &t),
            Some(MatchKind::ExactCopy)
        );
        // Even a (buggy) far hash and low similarity cannot outvote equal bytes.
        assert_eq!(
            classify(&evidence(true, Some(40), Some(0.1)), &t),
            Some(MatchKind::ExactCopy)
        );
    }

    #[test]
    fn hash_only_mode_finds_near_duplicates_and_nothing_weaker() {
        let t = Thresholds::default();
        assert_eq!(
            classify(&evidence(false, Some(0), None), &t),
            Some(MatchKind::NearDuplicate)
        );
        assert_eq!(
            classify(&evidence(false, Some(8), None), &t),
            Some(MatchKind::NearDuplicate)
        );
        // Probably the same, but nothing can confirm it.
        assert_eq!(
            classify(&evidence(false, Some(9), None), &t),
            Some(MatchKind::Similar)
        );
        assert_eq!(
            classify(&evidence(false, Some(12), None), &t),
            Some(MatchKind::Similar)
        );
        assert_eq!(classify(&evidence(false, Some(13), None), &t), None);
        assert_eq!(classify(&evidence(false, None, None), &t), None);
    }

    #[test]
    fn without_a_hash_similarity_alone_decides() {
        let t = Thresholds::default();
        assert_eq!(
            classify(&evidence(false, None, Some(0.97)), &t),
            Some(MatchKind::NearDuplicate)
        );
        assert_eq!(
            classify(&evidence(false, None, Some(0.95)), &t),
            Some(MatchKind::NearDuplicate)
        );
        assert_eq!(
            classify(&evidence(false, None, Some(0.94)), &t),
            Some(MatchKind::Similar)
        );
        assert_eq!(
            classify(&evidence(false, None, Some(0.80)), &t),
            Some(MatchKind::Similar)
        );
        assert_eq!(classify(&evidence(false, None, Some(0.79)), &t), None);
    }

    #[test]
    fn either_hash_or_similarity_makes_a_near_duplicate() {
        let t = Thresholds::default();
        // A crop moves the hash far but CLIP still sees the same picture.
        assert_eq!(
            classify(&evidence(false, Some(30), Some(0.96)), &t),
            Some(MatchKind::NearDuplicate)
        );
        // A recolour keeps the hash close while the embedding drifts.
        assert_eq!(
            classify(&evidence(false, Some(6), Some(0.85)), &t),
            Some(MatchKind::NearDuplicate)
        );
        assert_eq!(
            classify(&evidence(false, Some(30), Some(0.85)), &t),
            Some(MatchKind::Similar)
        );
    }

    #[test]
    fn a_probable_duplicate_needs_the_embedding_to_confirm_it() {
        let t = Thresholds::default();
        // A light crop: the hash moves into the probable band.
        assert_eq!(
            classify(&evidence(false, Some(11), Some(0.85)), &t),
            Some(MatchKind::NearDuplicate)
        );
        // The embedding says another picture: no match at all.
        assert_eq!(classify(&evidence(false, Some(11), Some(0.5)), &t), None);
        // No usable embedding: shown, but only as similar.
        assert_eq!(
            classify(&evidence(false, Some(11), Some(f32::NAN)), &t),
            Some(MatchKind::Similar)
        );
    }

    #[test]
    fn nan_similarity_is_no_evidence() {
        let t = Thresholds::default();
        assert_eq!(classify(&evidence(false, None, Some(f32::NAN)), &t), None);
        assert_eq!(
            classify(&evidence(false, Some(3), Some(f32::NAN)), &t),
            Some(MatchKind::NearDuplicate)
        );
    }

    #[test]
    fn min_similarity_moves_the_similar_line_only() {
        let t = Thresholds::default().with_min_similarity(0.5);
        assert_eq!(
            classify(&evidence(false, None, Some(0.6)), &t),
            Some(MatchKind::Similar)
        );
        assert_eq!(
            classify(&evidence(false, None, Some(0.94)), &t),
            Some(MatchKind::Similar)
        );
    }

    #[test]
    fn validate_rejects_values_out_of_range_with_a_sentence() {
        assert!(Thresholds::default().validate().is_ok());
        let err = Thresholds::default()
            .with_min_similarity(1.5)
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("between -1 and 1"), "{err}");
        let err = Thresholds::default()
            .with_min_similarity(0.99)
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("lower --min-similarity"), "{err}");
        let t = Thresholds {
            probable_duplicate_max_hash_distance: 65,
            ..Thresholds::default()
        };
        assert!(t.validate().is_err());
        let t = Thresholds {
            near_duplicate_max_hash_distance: 13,
            ..Thresholds::default()
        };
        let err = t.validate().unwrap_err();
        assert!(
            err.to_string().contains("above the probable-duplicate"),
            "{err}"
        );
    }

    #[test]
    fn kinds_sort_strongest_first_and_name_themselves() {
        let mut kinds = vec![
            MatchKind::Similar,
            MatchKind::ExactCopy,
            MatchKind::NearDuplicate,
        ];
        kinds.sort();
        assert_eq!(
            kinds,
            [
                MatchKind::ExactCopy,
                MatchKind::NearDuplicate,
                MatchKind::Similar
            ]
        );
        assert_eq!(MatchKind::NearDuplicate.label(), "near-duplicate");
        assert_eq!(
            serde_json::to_string(&MatchKind::ExactCopy).unwrap(),
            "\"exact_copy\""
        );
        assert!(MatchKind::NearDuplicate.is_same_picture());
        assert!(!MatchKind::Similar.is_same_picture());
    }
}
