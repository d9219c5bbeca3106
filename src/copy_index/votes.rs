//! Votes of one query: for every stored picture, sixteen bins of the
//! orientation difference between matched keypoints (22.5° each), for the
//! query as it is and for the mirrored query; each vote weighted by how
//! rare its key is. A picture's score is its best pair of neighbouring
//! bins, so a rotation on a bin edge is not split.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Orientation bins per half (plain, mirrored).
const BINS: usize = 16;
/// Bins per picture.
const PER_SLOT: usize = 2 * BINS;

/// The vote bins of every stored picture.
pub(super) struct Votes {
    bins: Vec<u16>,
}

impl Votes {
    /// Empty bins for `slots` pictures.
    pub fn new(slots: usize) -> Self {
        Self {
            bins: vec![0; slots * PER_SLOT],
        }
    }

    /// Room for `slots` pictures.
    pub fn grow(&mut self, slots: usize) {
        self.bins.resize(slots * PER_SLOT, 0);
    }

    /// Empties one picture's bins.
    pub fn clear(&mut self, slot: u32) {
        let start = slot as usize * PER_SLOT;
        self.bins[start..start + PER_SLOT].fill(0);
    }

    /// A vote of `weight` for `slot`, in `half` (0 plain, 1 mirrored), for
    /// an orientation difference of `delta` (1/256 turns).
    #[inline]
    pub fn add(&mut self, slot: u32, half: usize, delta: u8, weight: u16) {
        let bin = slot as usize * PER_SLOT + half * BINS + usize::from(delta >> 4);
        self.bins[bin] = self.bins[bin].saturating_add(weight);
    }

    /// The score of one picture's bins.
    fn score(bins: &[u16]) -> u32 {
        bins.chunks_exact(BINS)
            .flat_map(|half| {
                (0..BINS).map(move |b| u32::from(half[b]) + u32::from(half[(b + 1) % BINS]))
            })
            .max()
            .unwrap_or(0)
    }

    /// The `k` best of `slots` with at least `min` votes: (slot, score),
    /// best first, ties to the lower slot.
    pub fn best(&self, slots: &[u32], k: usize, min: u32) -> Vec<(u32, u32)> {
        if k == 0 {
            return Vec::new();
        }
        let mut heap: BinaryHeap<Reverse<(u32, Reverse<u32>)>> = BinaryHeap::with_capacity(k + 1);
        for &slot in slots {
            let start = slot as usize * PER_SLOT;
            let score = Self::score(&self.bins[start..start + PER_SLOT]);
            if score < min {
                continue;
            }
            heap.push(Reverse((score, Reverse(slot))));
            if heap.len() > k {
                heap.pop();
            }
        }
        let mut best: Vec<(u32, u32)> = heap
            .into_iter()
            .map(|Reverse((score, Reverse(slot)))| (slot, score))
            .collect();
        best.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreeing_votes_beat_scattered_ones() {
        let mut votes = Votes::new(3);
        // Slot 0: ten votes spread over every bin.
        for i in 0..10u8 {
            votes.add(0, 0, i.wrapping_mul(37), 1);
        }
        // Slot 1: six votes at one rotation, on a bin edge.
        for delta in [15, 16, 15, 16, 17, 14] {
            votes.add(1, 0, delta, 1);
        }
        // Slot 2: four votes for the mirrored query.
        for _ in 0..4 {
            votes.add(2, 1, 200, 1);
        }
        let all = [0, 1, 2];
        assert_eq!(votes.best(&all, 3, 1), [(1, 6), (2, 4), (0, 2)]);
        assert_eq!(votes.best(&all, 1, 1), [(1, 6)]);
        assert_eq!(votes.best(&all, 3, 5), [(1, 6)]);
        assert_eq!(votes.best(&[0, 2], 3, 1), [(2, 4), (0, 2)]);
        assert!(votes.best(&all, 0, 0).is_empty());
        votes.clear(1);
        assert_eq!(votes.best(&all, 3, 1), [(2, 4), (0, 2)]);
    }

    #[test]
    fn bins_saturate_instead_of_wrapping() {
        let mut votes = Votes::new(1);
        for _ in 0..300 {
            votes.add(0, 0, 0, 255);
        }
        assert_eq!(votes.best(&[0], 1, 0), [(0, 65535)]);
    }
}
