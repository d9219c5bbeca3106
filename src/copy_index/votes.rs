//! Votes of one half of a query (the query as it is, or mirrored): for
//! every stored picture, sixteen bins of the orientation difference
//! between matched keypoints (22.5° each), each vote weighted by how rare
//! its key is, each stored keypoint voting once. A picture's score is its
//! best pair of neighbouring bins, so a rotation on a bin edge is not
//! split.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Orientation bins of one half.
const BINS: usize = 16;

/// Stored keypoints a picture files (a bit each).
const KEYPOINT_WORDS: usize = super::FILED_KEYPOINTS / 64;

/// One picture's state during one half of a query, in one cache line: a
/// vote reads and writes one line instead of two (2026-12-02: the search
/// is memory-bound at 100k pictures).
#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct Slot {
    bins: [u16; BINS],
    /// Which of its keypoints have voted.
    used: [u64; KEYPOINT_WORDS],
}

/// The vote bins of every stored picture, for one half of a query.
pub(super) struct Votes {
    slots: Vec<Slot>,
}

impl Votes {
    /// Empty bins for `slots` pictures.
    pub fn new(slots: usize) -> Self {
        Self {
            slots: vec![Slot::default(); slots],
        }
    }

    /// Room for `slots` pictures.
    pub fn grow(&mut self, slots: usize) {
        self.slots.resize(slots, Slot::default());
    }

    /// Empties one picture's bins and keypoint marks.
    pub fn clear(&mut self, slot: u32) {
        self.slots[slot as usize] = Slot::default();
    }

    /// A vote of `weight` for `slot` through its keypoint `number`, for an
    /// orientation difference of `delta` (1/256 turns); none (false) if
    /// that keypoint has voted already.
    #[inline]
    pub fn add(&mut self, slot: u32, number: u8, delta: u8, weight: u16) -> bool {
        let state = &mut self.slots[slot as usize];
        let (word, bit) = (usize::from(number / 64), 1u64 << (number % 64));
        if state.used[word] & bit != 0 {
            return false;
        }
        state.used[word] |= bit;
        let bin = &mut state.bins[usize::from(delta >> 4)];
        *bin = bin.saturating_add(weight);
        true
    }

    /// Asks the CPU to bring `slot`'s state closer: a posting list's
    /// pictures are scattered over megabytes, so the state of the pictures
    /// a few postings ahead is fetched while this one votes.
    #[inline]
    pub fn prefetch(&self, slot: u32) {
        #[cfg(target_arch = "x86_64")]
        if let Some(state) = self.slots.get(slot as usize) {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let at: *const i8 = (state as *const Slot).cast();
            // SAFETY: a prefetch is a hint that never faults; SSE is part
            // of every x86-64 CPU; `at` points into `self.slots`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(at) };
        }
    }

    /// The score of one picture's bins: its best pair of neighbours.
    fn score(bins: &[u16; BINS]) -> u32 {
        (0..BINS)
            .map(|b| u32::from(bins[b]) + u32::from(bins[(b + 1) % BINS]))
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
            let score = Self::score(&self.slots[slot as usize].bins);
            if score < min {
                continue;
            }
            let entry = Reverse((score, Reverse(slot)));
            if heap.len() == k && heap.peek().is_some_and(|weakest| entry >= *weakest) {
                continue;
            }
            heap.push(entry);
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
            votes.add(0, i, i.wrapping_mul(37), 1);
        }
        // Slot 1: six votes at one rotation, on a bin edge.
        for (number, delta) in [15, 16, 15, 16, 17, 14].into_iter().enumerate() {
            votes.add(1, number as u8, delta, 1);
        }
        // Slot 2: four votes.
        for number in 0..4 {
            votes.add(2, number, 200, 1);
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
    fn a_stored_keypoint_votes_once() {
        let mut votes = Votes::new(1);
        for _ in 0..5 {
            votes.add(0, 7, 0, 3);
        }
        votes.add(0, 200, 0, 3);
        assert_eq!(votes.best(&[0], 1, 0), [(0, 6)]);
        votes.clear(0);
        votes.add(0, 7, 0, 3);
        assert_eq!(votes.best(&[0], 1, 0), [(0, 3)], "cleared marks vote again");
    }

    #[test]
    fn equal_scores_keep_the_lower_slots_when_the_heap_is_full() {
        let mut votes = Votes::new(4);
        for slot in [3, 1, 2, 0] {
            votes.add(slot, 0, 0, 5);
        }
        assert_eq!(votes.best(&[3, 1, 2, 0], 2, 0), [(0, 5), (1, 5)]);
    }

    #[test]
    fn bins_saturate_instead_of_wrapping() {
        let mut votes = Votes::new(1);
        for number in 0..=255 {
            votes.add(0, number, 0, 1_000);
        }
        assert_eq!(votes.best(&[0], 1, 0), [(0, 65535)]);
    }
}
