//! Local-feature verification of near-duplicates: does the candidate
//! contain the query's picture, even cropped to 70 %, rotated by 10°,
//! mirrored, framed, watermarked or recoloured — cases a 64-bit perceptual
//! hash cannot see (see [`crate::hash`])?
//!
//! Each picture gets up to [`VerifySettings::max_keypoints`] keypoints
//! (FAST corners on a 4-level pyramid of the picture scaled to 512 px,
//! oriented, with 256-bit rotated-BRIEF descriptors: ORB without its
//! learnt pattern). A query is compared with a candidate by nearest
//! descriptor with a ratio test, then the matches must agree on one
//! similarity transform ([`geometry`]: Hough votes, least squares, no
//! random sampling). The number of agreeing matches is the evidence;
//! [`VerifySettings::min_inliers`] of them make a near-duplicate.
//!
//! The query is also tried mirrored, so flipped copies verify; stored
//! features are computed once per picture ([`extract`]) and kept as bytes
//! ([`codec`], kind [`FEATURE_KIND`], ≈ 9.7 KB each). Pure functions, no I/O.

mod brief;
pub mod codec;
mod fast;
pub mod features;
pub mod geometry;
mod nearest;
mod pyramid;

use image::DynamicImage;

pub use brief::Descriptor;
pub use codec::{decode, encode, FEATURE_KIND};
pub use features::{extract, Features, Keypoint};
pub use geometry::{Match, Similarity};
use nearest::QueryBlocks;

/// Why stored features could not be read.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Fewer bytes than the header or the keypoint count needs.
    #[error("stored keypoint features are truncated ({len} bytes)")]
    Truncated {
        /// Bytes given.
        len: usize,
    },
    /// A format version this build does not know.
    #[error("stored keypoint features have unknown format version {0}; recompute them")]
    UnknownVersion(u8),
}

/// How features are extracted and compared (defaults chosen by the
/// copy-detection evaluation, `examples/copy_eval.rs`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VerifySettings {
    /// Keypoints kept per picture. Default 256.
    pub max_keypoints: usize,
    /// Largest descriptor distance (of 256 bits) for a match. Default 64.
    pub max_descriptor_distance: u32,
    /// A match must be this much closer than the second-best candidate
    /// keypoint (Lowe's ratio test). Default 0.8.
    pub ratio: f32,
    /// Largest distance, in pixels of the 512-px picture, between where the
    /// transform puts a keypoint and where it matched. Default 8.
    pub inlier_tolerance: f32,
    /// Agreeing matches that make a near-duplicate. Default 12.
    pub min_inliers: usize,
}

impl Default for VerifySettings {
    fn default() -> Self {
        Self {
            max_keypoints: 256,
            max_descriptor_distance: 64,
            ratio: 0.8,
            inlier_tolerance: 8.0,
            min_inliers: 12,
        }
    }
}

/// The query's features, plain and mirrored (computed once per query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryFeatures {
    /// Features of the query as it is.
    pub plain: Features,
    /// Features of the horizontally mirrored query.
    pub mirrored: Features,
}

impl QueryFeatures {
    /// Extracts both from the query picture (with the query's deeper
    /// pyramid, [`features::extract_query`]), the mirrored half on a
    /// second thread: 14 ms instead of 23 for a photo on two cores.
    pub fn new(image: &DynamicImage, settings: &VerifySettings) -> Self {
        let keypoints = settings.max_keypoints;
        std::thread::scope(|scope| {
            let mirrored = scope.spawn(|| features::extract_query_mirrored(image, keypoints));
            let plain = features::extract_query(image, keypoints);
            Self {
                plain,
                mirrored: mirrored
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            }
        })
    }
}

/// The outcome of comparing a query with one candidate.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Verification {
    /// Descriptor matches that passed the ratio test.
    pub matches: usize,
    /// Matches that agree on one transform (0 when none does).
    pub inliers: usize,
    /// The transform from query to candidate (level-0 pixels).
    pub transform: Option<Similarity>,
    /// The agreement was found with the mirrored query.
    pub mirrored: bool,
}

impl Verification {
    /// Enough agreeing matches to call the candidate the same picture.
    pub fn is_same_picture(&self, settings: &VerifySettings) -> bool {
        self.inliers >= settings.min_inliers
    }
}

/// Which halves of the query a candidate is compared with: both, or only
/// the one its evidence points to — its nearer perceptual hash (plain or
/// mirrored): half the cost, and right for a true copy, whose hash is near
/// in one orientation only (the photo set's recall did not move,
/// 2026-12-02; the copy index's better half was tried and was not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halves {
    /// The query as it is.
    Plain,
    /// The mirrored query.
    Mirrored,
    /// Both, the better kept.
    Both,
}

impl Halves {
    /// The halves two pieces of evidence point to together.
    pub fn and(self, other: Self) -> Self {
        if self == other {
            self
        } else {
            Self::Both
        }
    }
}

/// Compares the query (plain and mirrored) with a candidate's features.
pub fn verify(
    query: &QueryFeatures,
    candidate: &Features,
    settings: &VerifySettings,
) -> Verification {
    verify_halves(query, candidate, settings, Halves::Both)
}

/// Compares the given halves of the query with a candidate's features.
pub fn verify_halves(
    query: &QueryFeatures,
    candidate: &Features,
    settings: &VerifySettings,
    halves: Halves,
) -> Verification {
    let table = descriptors(candidate);
    let plain = || verify_against(&query.plain, candidate, &table, settings);
    let mirrored = || Verification {
        mirrored: true,
        ..verify_against(&query.mirrored, candidate, &table, settings)
    };
    match halves {
        Halves::Plain => plain(),
        Halves::Mirrored => mirrored(),
        Halves::Both => {
            let (plain, mirrored) = (plain(), mirrored());
            if mirrored.inliers > plain.inliers {
                mirrored
            } else {
                plain
            }
        }
    }
}

/// Compares one set of query features with a candidate's.
pub fn verify_one(
    query: &Features,
    candidate: &Features,
    settings: &VerifySettings,
) -> Verification {
    verify_against(query, candidate, &descriptors(candidate), settings)
}

/// A candidate's descriptors, side by side.
fn descriptors(candidate: &Features) -> Vec<Descriptor> {
    candidate.keypoints.iter().map(|k| k.descriptor).collect()
}

fn verify_against(
    query: &Features,
    candidate: &Features,
    table: &[Descriptor],
    settings: &VerifySettings,
) -> Verification {
    let matches = matches_in(query, candidate, table, settings);
    let consistent = geometry::consistent_matches(&matches, settings.inlier_tolerance);
    Verification {
        matches: matches.len(),
        inliers: consistent.as_ref().map_or(0, |(_, i)| i.len()),
        transform: consistent.map(|(t, _)| t),
        mirrored: false,
    }
}

/// Nearest candidate keypoint for every query keypoint, kept when close
/// enough and clearly closer than the second nearest; then at most one
/// query keypoint per candidate keypoint (the closest).
pub fn match_descriptors(
    query: &Features,
    candidate: &Features,
    settings: &VerifySettings,
) -> Vec<Match> {
    matches_in(query, candidate, &descriptors(candidate), settings)
}

fn matches_in(
    query: &Features,
    candidate: &Features,
    table: &[Descriptor],
    settings: &VerifySettings,
) -> Vec<Match> {
    let mut best_for_candidate: Vec<Option<(u32, usize)>> = vec![None; candidate.keypoints.len()];
    let nearest = QueryBlocks::new(&query.keypoints).nearest_two(table);
    for (qi, (best, second, best_index)) in nearest.into_iter().enumerate() {
        let passes = best <= settings.max_descriptor_distance
            && (second == u32::MAX || (best as f32) < settings.ratio * second as f32);
        if passes {
            let slot = &mut best_for_candidate[best_index];
            if slot.is_none_or(|(d, _)| best < d) {
                *slot = Some((best, qi));
            }
        }
    }
    best_for_candidate
        .iter()
        .enumerate()
        .filter_map(|(ci, slot)| {
            slot.map(|(_, qi)| Match {
                query: query.keypoints[qi],
                candidate: candidate.keypoints[ci],
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keypoint(x: u16, y: u16, descriptor: brief::Descriptor) -> Keypoint {
        Keypoint {
            x,
            y,
            angle: 0,
            level: 0,
            descriptor,
        }
    }

    /// Descriptors far apart from each other (distinct 64-bit blocks).
    fn distinct(i: u64) -> brief::Descriptor {
        let word = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        [
            word,
            !word,
            word.rotate_left(17),
            word ^ 0x5555_5555_5555_5555,
        ]
    }

    fn features(keypoints: Vec<Keypoint>) -> Features {
        Features {
            width: 512,
            height: 512,
            keypoints,
        }
    }

    /// Twenty keypoints with distinct descriptors, spread over the picture.
    fn twenty_distinct() -> Features {
        features(
            (0..20)
                .map(|i| keypoint(i * 20, i * 13, distinct(u64::from(i) + 1)))
                .collect(),
        )
    }

    #[test]
    fn identical_keypoints_match_one_to_one() {
        let f = twenty_distinct();
        let matches = match_descriptors(&f, &f, &VerifySettings::default());
        assert_eq!(matches.len(), 20);
        assert!(matches.iter().all(|m| m.query == m.candidate));
        let result = verify_one(&f, &f, &VerifySettings::default());
        assert_eq!(result.inliers, 20);
        let t = result.transform.unwrap();
        assert!((t.scale() - 1.0).abs() < 1e-3 && t.tx.abs() < 0.5, "{t:?}");
    }

    #[test]
    fn ambiguous_and_distant_descriptors_do_not_match() {
        let query = features(vec![
            keypoint(10, 10, distinct(1)),
            keypoint(30, 30, distinct(2)),
        ]);
        // distinct(1) twice in the candidate: fails the ratio test;
        // distinct(2) is absent: nothing within 64 bits.
        let candidate = features(vec![
            keypoint(50, 50, distinct(1)),
            keypoint(90, 90, distinct(1)),
            keypoint(70, 20, distinct(3)),
        ]);
        assert!(match_descriptors(&query, &candidate, &VerifySettings::default()).is_empty());
    }

    #[test]
    fn only_the_halves_asked_for_are_compared() {
        let f = twenty_distinct();
        let query = QueryFeatures {
            plain: f.clone(),
            mirrored: features(Vec::new()),
        };
        let settings = VerifySettings::default();
        let plain = verify_halves(&query, &f, &settings, Halves::Plain);
        assert_eq!((plain.inliers, plain.mirrored), (20, false));
        let mirrored = verify_halves(&query, &f, &settings, Halves::Mirrored);
        assert_eq!((mirrored.inliers, mirrored.mirrored), (0, true));
        assert_eq!(verify_halves(&query, &f, &settings, Halves::Both), plain);
        assert_eq!(verify(&query, &f, &settings), plain);
        assert_eq!(Halves::Plain.and(Halves::Plain), Halves::Plain);
        assert_eq!(Halves::Plain.and(Halves::Mirrored), Halves::Both);
        assert_eq!(Halves::Mirrored.and(Halves::Both), Halves::Both);
    }

    #[test]
    fn too_few_agreeing_matches_are_not_the_same_picture() {
        let f = features(
            (0..5)
                .map(|i| keypoint(i * 50, i * 31, distinct(u64::from(i) + 7)))
                .collect(),
        );
        let result = verify_one(&f, &f, &VerifySettings::default());
        assert_eq!(result.inliers, 5);
        assert!(!result.is_same_picture(&VerifySettings::default()));
        assert!(result.is_same_picture(&VerifySettings {
            min_inliers: 5,
            ..VerifySettings::default()
        }));
    }
}
