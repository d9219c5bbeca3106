//! One query against the index: which lists to read (the rarest first,
//! within the work budget), the votes they cast, and the scratch space
//! reused from query to query so that a query at a million pictures does
//! not clear a hundred megabytes first.

use std::sync::Mutex;

use super::votes::Votes;
use super::{weight, CopyIndex, IndexCandidate, QueryTerms, SearchSettings, FILED_KEYPOINTS};
use super::{KEY_BITS, TABLES};

/// The per-picture state of one query; only the pictures it touched are
/// cleared afterwards.
pub(super) struct Scratch {
    votes: Votes,
    /// The last query keypoint that voted for each picture (`u32::MAX`:
    /// none yet).
    voted_by: Vec<u32>,
    used: Used,
    /// Pictures voted for, in the order first voted for.
    touched: Vec<u32>,
}

impl Scratch {
    fn new() -> Self {
        Self {
            votes: Votes::new(0),
            voted_by: Vec::new(),
            used: Used(Vec::new()),
            touched: Vec::new(),
        }
    }

    /// Room for `slots` pictures (the index grows between queries).
    fn grow(&mut self, slots: usize) {
        if self.voted_by.len() < slots {
            self.votes.grow(slots);
            self.voted_by.resize(slots, u32::MAX);
            self.used.0.resize(slots * WORDS_PER_SLOT, 0);
        }
    }

    /// Clears what the last query touched.
    fn clear(&mut self) {
        for &slot in &self.touched {
            self.votes.clear(slot);
            self.voted_by[slot as usize] = u32::MAX;
            self.used.clear(slot);
        }
        self.touched.clear();
    }
}

/// Scratch spaces for queries running at the same time.
#[derive(Default)]
pub(super) struct ScratchPool(Mutex<Vec<Scratch>>);

impl ScratchPool {
    pub fn take(&self, slots: usize) -> Scratch {
        let mut scratch = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_else(Scratch::new);
        scratch.grow(slots);
        scratch
    }

    pub fn give_back(&self, mut scratch: Scratch) {
        scratch.clear();
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(scratch);
    }
}

const WORDS_PER_SLOT: usize = FILED_KEYPOINTS / 64;

/// Which stored keypoints have voted: 256 bits a picture.
struct Used(Vec<u64>);

impl Used {
    /// Marks keypoint `number` of `slot`; false if it was marked already.
    #[inline]
    fn take(&mut self, slot: u32, number: u8) -> bool {
        let word = slot as usize * WORDS_PER_SLOT + usize::from(number / 64);
        let bit = 1u64 << (number % 64);
        let fresh = self.0[word] & bit == 0;
        self.0[word] |= bit;
        fresh
    }

    fn clear(&mut self, slot: u32) {
        let start = slot as usize * WORDS_PER_SLOT;
        self.0[start..start + WORDS_PER_SLOT].fill(0);
    }
}

/// For each half and each of its terms, the tables to look up (a bit per
/// table): the shortest lists of the whole query first, until the next
/// would pass the budget. Lists longer than `stop` (a pattern half the
/// pictures have) and empty ones are never read.
fn plan(index: &CopyIndex, query: &QueryTerms, stop: usize, budget: usize) -> [Vec<u8>; 2] {
    let halves = [&query.plain, &query.mirrored];
    let mut lookups: Vec<(u32, u32)> = Vec::new();
    for (half, terms) in halves.iter().enumerate() {
        for (number, term) in terms.0.iter().enumerate() {
            for (t, table) in index.tables.iter().enumerate() {
                let length = table.slots[usize::from(term.keys[t])].len();
                if length == 0 || length > stop {
                    continue;
                }
                let code = (half as u32) << 31 | (number as u32) << 2 | t as u32;
                lookups.push((u32::try_from(length).unwrap_or(u32::MAX), code));
            }
        }
    }
    lookups.sort_unstable();
    let mut chosen = [vec![0u8; halves[0].0.len()], vec![0u8; halves[1].0.len()]];
    let mut read = 0usize;
    for (length, code) in lookups {
        read += length as usize;
        if read > budget {
            break;
        }
        let (half, number, t) = ((code >> 31) as usize, (code >> 2) & 0x1FFF_FFFF, code & 3);
        chosen[half][number as usize] |= 1 << t;
    }
    chosen
}

/// Votes the planned lookups cast and the best candidates.
pub(super) fn run(
    index: &CopyIndex,
    query: &QueryTerms,
    settings: &SearchSettings,
    scratch: &mut Scratch,
) -> Vec<IndexCandidate> {
    const { assert!(TABLES <= 4, "a table's number takes two bits of a lookup") };
    let mean = index.postings >> KEY_BITS;
    let stop = (mean.max(1) * settings.stop_factor as usize).max(64);
    let chosen = plan(index, query, stop, settings.max_postings);
    let pictures = index.ids.len();
    // Each query keypoint votes once per picture, and each stored keypoint
    // is voted through once per half: repeated texture (text, a fence,
    // foliage) on either side must not outvote a real copy (burstiness,
    // Jégou et al. 2009).
    let mut term_number = 0u32;
    for (half, (terms, chosen)) in [&query.plain, &query.mirrored]
        .into_iter()
        .zip(&chosen)
        .enumerate()
    {
        if half == 1 {
            for &slot in &scratch.touched {
                scratch.used.clear(slot);
            }
        }
        for (term, &tables) in terms.0.iter().zip(chosen) {
            for (t, table) in index.tables.iter().enumerate() {
                if tables & (1 << t) == 0 {
                    continue;
                }
                let key = usize::from(term.keys[t]);
                let slots = &table.slots[key];
                let weight = weight(pictures, slots.len());
                for (&slot, &[number, angle]) in slots.iter().zip(&table.keypoints[key]) {
                    let seen = &mut scratch.voted_by[slot as usize];
                    if *seen == term_number || !scratch.used.take(slot, number) {
                        continue;
                    }
                    if *seen == u32::MAX {
                        scratch.touched.push(slot);
                    }
                    *seen = term_number;
                    scratch
                        .votes
                        .add(slot, half, term.angle.wrapping_sub(angle), weight);
                }
            }
            term_number += 1;
        }
    }
    scratch
        .votes
        .best(&scratch.touched, settings.candidates, settings.min_votes)
        .into_iter()
        .map(|(slot, votes)| IndexCandidate {
            image_id: index.ids[slot as usize],
            votes,
        })
        .collect()
}
