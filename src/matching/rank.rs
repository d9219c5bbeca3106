//! Re-ranking: turns candidates (from k-NN search, a hash scan and the
//! exact-hash lookup, possibly overlapping) into one ordered list of matches.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::kind::{decide, Decider, Evidence, MatchKind, Thresholds};
use crate::model::ImageId;

/// A stored image that may match the query, with what is known about it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchCandidate {
    /// The stored image.
    pub image_id: ImageId,
    /// Evidence against the query.
    pub evidence: Evidence,
}

/// A candidate that is a match, with its kind.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RankedMatch {
    /// The stored image.
    pub image_id: ImageId,
    /// How it relates to the query.
    pub kind: MatchKind,
    /// The evidence the kind was decided on.
    pub evidence: Evidence,
    /// Which of it decided.
    pub decided_by: Decider,
}

/// Merges, classifies and orders candidates; keeps the best `top`.
///
/// Candidates naming the same image are merged first (equal bytes if either
/// says so, the smallest hash distance, the highest similarity). Order:
/// exact copies, then near-duplicates by hash distance (smallest first) then
/// similarity, then similar pictures by similarity (highest first) then hash
/// distance. Missing values sort after present ones; remaining ties go to
/// the smaller image id, so the order is reproducible.
pub fn rank(candidates: Vec<MatchCandidate>, t: &Thresholds, top: usize) -> Vec<RankedMatch> {
    let mut matches: Vec<RankedMatch> = merge_by_image(candidates)
        .into_iter()
        .filter_map(|(image_id, evidence)| {
            decide(&evidence, t).map(|(kind, decided_by)| RankedMatch {
                image_id,
                kind,
                evidence,
                decided_by,
            })
        })
        .collect();
    matches.sort_by(compare_matches);
    matches.truncate(top);
    matches
}

fn merge_by_image(candidates: Vec<MatchCandidate>) -> BTreeMap<ImageId, Evidence> {
    let mut merged: BTreeMap<ImageId, Evidence> = BTreeMap::new();
    for c in candidates {
        merged
            .entry(c.image_id)
            .and_modify(|e| *e = merge_evidence(e, &c.evidence))
            .or_insert(c.evidence);
    }
    merged
}

fn merge_evidence(a: &Evidence, b: &Evidence) -> Evidence {
    let valid = |s: Option<f32>| s.filter(|x| !x.is_nan());
    Evidence {
        same_bytes: a.same_bytes || b.same_bytes,
        hash_distance: min_present(a.hash_distance, b.hash_distance),
        similarity: match (valid(a.similarity), valid(b.similarity)) {
            (Some(x), Some(y)) => Some(x.max(y)),
            (x, y) => x.or(y),
        },
        verified_inliers: a.verified_inliers.max(b.verified_inliers),
        hash_ambiguous: a.hash_ambiguous || b.hash_ambiguous,
        colour_distance: min_present(a.colour_distance, b.colour_distance),
    }
}

fn min_present(a: Option<u32>, b: Option<u32>) -> Option<u32> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// Smaller distance first; `None` last.
fn by_distance(a: Option<u32>, b: Option<u32>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Higher similarity first; `None` (and NaN) last.
fn by_similarity(a: Option<f32>, b: Option<f32>) -> Ordering {
    let valid = |s: Option<f32>| s.filter(|x| !x.is_nan());
    match (valid(a), valid(b)) {
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn compare_matches(a: &RankedMatch, b: &RankedMatch) -> Ordering {
    let (ea, eb) = (&a.evidence, &b.evidence);
    let within_kind = match a.kind {
        MatchKind::Similar => by_similarity(ea.similarity, eb.similarity)
            .then(by_distance(ea.hash_distance, eb.hash_distance)),
        MatchKind::ExactCopy | MatchKind::NearDuplicate => eb
            .verified_inliers
            .cmp(&ea.verified_inliers)
            .then(by_distance(ea.hash_distance, eb.hash_distance))
            .then(by_similarity(ea.similarity, eb.similarity)),
    };
    a.kind
        .cmp(&b.kind)
        .then(within_kind)
        .then(a.image_id.cmp(&b.image_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(
        image_id: ImageId,
        same_bytes: bool,
        hash_distance: Option<u32>,
        similarity: Option<f32>,
    ) -> MatchCandidate {
        MatchCandidate {
            image_id,
            evidence: Evidence {
                same_bytes,
                hash_distance,
                similarity,
                verified_inliers: None,
                hash_ambiguous: false,
                colour_distance: None,
            },
        }
    }

    fn ids(matches: &[RankedMatch]) -> Vec<ImageId> {
        matches.iter().map(|m| m.image_id).collect()
    }

    #[test]
    fn exact_first_then_near_duplicates_by_distance_then_similar_by_similarity() {
        let candidates = vec![
            candidate(1, false, Some(40), Some(0.81)), // similar
            candidate(2, false, Some(8), Some(0.90)),  // near-dup, distance 8
            candidate(3, false, Some(40), Some(0.93)), // similar, higher
            candidate(4, true, Some(0), Some(1.0)),    // exact
            candidate(5, false, Some(2), Some(0.97)),  // near-dup, distance 2
            candidate(6, false, Some(50), Some(0.30)), // no match
        ];
        let ranked = rank(candidates, &Thresholds::default(), 10);
        assert_eq!(ids(&ranked), [4, 5, 2, 3, 1]);
        let kinds: Vec<MatchKind> = ranked.iter().map(|m| m.kind).collect();
        use MatchKind::*;
        assert_eq!(
            kinds,
            [ExactCopy, NearDuplicate, NearDuplicate, Similar, Similar]
        );
    }

    #[test]
    fn hash_only_candidates_rank_by_distance() {
        let candidates = vec![
            candidate(7, false, Some(9), None),
            candidate(8, false, Some(3), None),
            candidate(9, false, Some(30), None),
        ];
        let ranked = rank(candidates, &Thresholds::default(), 10);
        assert_eq!(ids(&ranked), [8, 7]);
    }

    #[test]
    fn ties_go_to_the_smaller_image_id_whatever_the_input_order() {
        let a = vec![
            candidate(12, false, Some(4), Some(0.9)),
            candidate(11, false, Some(4), Some(0.9)),
        ];
        let mut b = a.clone();
        b.reverse();
        let t = Thresholds::default();
        assert_eq!(ids(&rank(a, &t, 10)), [11, 12]);
        assert_eq!(ids(&rank(b, &t, 10)), [11, 12]);
    }

    #[test]
    fn missing_values_sort_after_present_ones() {
        let candidates = vec![
            candidate(1, false, None, Some(0.99)),
            candidate(2, false, Some(10), Some(0.96)),
            candidate(3, false, None, Some(0.85)),
            candidate(4, false, Some(45), Some(0.85)),
        ];
        let ranked = rank(candidates, &Thresholds::default(), 10);
        // Near-dups: the one with a hash distance first; similar: equal
        // similarity, the one with a distance first.
        assert_eq!(ids(&ranked), [2, 1, 4, 3]);
    }

    #[test]
    fn the_same_image_from_two_searches_is_merged_into_its_strongest_evidence() {
        let candidates = vec![
            candidate(5, false, None, Some(0.83)), // from k-NN
            candidate(5, false, Some(4), None),    // from the hash scan
        ];
        let ranked = rank(candidates, &Thresholds::default(), 10);
        assert_eq!(ranked.len(), 1);
        assert_eq!(ranked[0].kind, MatchKind::NearDuplicate);
        assert_eq!(ranked[0].evidence.hash_distance, Some(4));
        assert_eq!(ranked[0].evidence.similarity, Some(0.83));
    }

    #[test]
    fn top_keeps_the_best_and_zero_keeps_nothing() {
        let candidates: Vec<MatchCandidate> = (1..=5)
            .map(|i| candidate(i, false, Some(i as u32), None))
            .collect();
        let t = Thresholds::default();
        assert_eq!(ids(&rank(candidates.clone(), &t, 2)), [1, 2]);
        assert!(rank(candidates, &t, 0).is_empty());
    }
}
