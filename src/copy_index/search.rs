//! One query against the index: which lists to read (the rarest first,
//! within the work budget), the votes they cast, and the scratch space
//! reused from query to query so that a query at a million pictures does
//! not clear a hundred megabytes first.

use std::sync::Mutex;

use super::votes::Votes;
use super::{weight, CopyIndex, IndexCandidate, QueryTerms, SearchSettings, Terms};
use super::{KEY_BITS, TABLES};

/// The per-picture state of one half of a query; only the pictures it
/// touched are cleared afterwards.
pub(super) struct Scratch {
    votes: Votes,
    /// The last query keypoint that voted for each picture (`u32::MAX`:
    /// none yet).
    voted_by: Vec<u32>,
    /// Pictures voted for, in the order first voted for.
    touched: Vec<u32>,
}

impl Scratch {
    fn new() -> Self {
        Self {
            votes: Votes::new(0),
            voted_by: Vec::new(),
            touched: Vec::new(),
        }
    }

    /// Room for `slots` pictures (the index grows between queries).
    fn grow(&mut self, slots: usize) {
        if self.voted_by.len() < slots {
            self.votes.grow(slots);
            self.voted_by.resize(slots, u32::MAX);
        }
    }

    /// Clears what the last query touched.
    fn clear(&mut self) {
        for &slot in &self.touched {
            self.votes.clear(slot);
            self.voted_by[slot as usize] = u32::MAX;
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

/// For each half and each of its terms, the tables to look up (a bit per
/// table): the shortest lists of the whole query first, until the next
/// would pass the budget; and the postings that makes. Lists longer than
/// `stop` (a pattern half the pictures have) and empty ones are never
/// read.
fn plan(
    index: &CopyIndex,
    query: &QueryTerms,
    stop: usize,
    budget: usize,
) -> ([Vec<u8>; 2], usize) {
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
        if read + length as usize > budget {
            break;
        }
        read += length as usize;
        let (half, number, t) = ((code >> 31) as usize, (code >> 2) & 0x1FFF_FFFF, code & 3);
        chosen[half][number as usize] |= 1 << t;
    }
    (chosen, read)
}

/// Postings ahead whose pictures' state is prefetched.
const PREFETCH_AHEAD: usize = 16;

/// Below this many planned postings a query is voted on one thread (a
/// thread costs more than it saves on a small store).
const PARALLEL_FROM: usize = 100_000;

/// Votes the planned lookups cast and the best candidates. The two halves
/// (the query as it is and mirrored) vote into separate bins, so they are
/// voted on two threads with a scratch each when there is much to read,
/// and their best merged: a picture's score is the better half's, so the
/// best `k` overall are among the best `k` of each half.
pub(super) fn run(
    index: &CopyIndex,
    query: &QueryTerms,
    settings: &SearchSettings,
) -> Vec<IndexCandidate> {
    const { assert!(TABLES <= 4, "a table's number takes two bits of a lookup") };
    let mean = index.postings >> KEY_BITS;
    let stop = (mean.max(1) * settings.stop_factor as usize).max(64);
    let (chosen, planned) = plan(index, query, stop, settings.max_postings);
    let halves = [&query.plain, &query.mirrored];
    let vote = |half: usize| {
        let mut scratch = index.scratch.take(index.ids.len());
        let found = vote_half(index, halves[half], &chosen[half], settings, &mut scratch);
        index.scratch.give_back(scratch);
        found
    };
    let (plain, mirrored) = if planned >= PARALLEL_FROM {
        std::thread::scope(|scope| {
            let mirrored = scope.spawn(|| vote(1));
            let plain = vote(0);
            let mirrored = mirrored
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (plain, mirrored)
        })
    } else {
        (vote(0), vote(1))
    };
    merge(plain, mirrored, settings.candidates)
        .into_iter()
        .map(|(slot, votes)| IndexCandidate {
            image_id: index.ids[slot as usize],
            votes,
        })
        .collect()
}

/// The best `k` of the two halves' bests (slot, score): each slot at its
/// better score, best first, ties to the lower slot.
fn merge(plain: Vec<(u32, u32)>, mirrored: Vec<(u32, u32)>, k: usize) -> Vec<(u32, u32)> {
    let mut all: Vec<(u32, u32)> = plain.into_iter().chain(mirrored).collect();
    all.sort_unstable_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
    let mut seen = std::collections::HashSet::with_capacity(all.len());
    all.retain(|(slot, _)| seen.insert(*slot));
    all.truncate(k);
    all
}

/// The votes one half of the query casts through its planned lookups, and
/// its best `candidates` pictures: (slot, score).
fn vote_half(
    index: &CopyIndex,
    terms: &Terms,
    chosen: &[u8],
    settings: &SearchSettings,
    scratch: &mut Scratch,
) -> Vec<(u32, u32)> {
    let pictures = index.ids.len();
    // Each query keypoint votes once per picture, and each stored keypoint
    // is voted through once: repeated texture (text, a fence, foliage) on
    // either side must not outvote a real copy (burstiness, Jégou et al.
    // 2009).
    for (term_number, (term, &tables)) in (0u32..).zip(terms.0.iter().zip(chosen)) {
        for (t, table) in index.tables.iter().enumerate() {
            if tables & (1 << t) == 0 {
                continue;
            }
            let key = usize::from(term.keys[t]);
            let slots = &table.slots[key];
            let weight = weight(pictures, slots.len());
            for (i, (&slot, &[number, angle])) in
                slots.iter().zip(&table.keypoints[key]).enumerate()
            {
                if let Some(&ahead) = slots.get(i + PREFETCH_AHEAD) {
                    scratch.votes.prefetch(ahead);
                }
                let seen = &mut scratch.voted_by[slot as usize];
                let delta = term.angle.wrapping_sub(angle);
                if *seen == term_number || !scratch.votes.add(slot, number, delta, weight) {
                    continue;
                }
                if *seen == u32::MAX {
                    scratch.touched.push(slot);
                }
                *seen = term_number;
            }
        }
    }
    scratch
        .votes
        .best(&scratch.touched, settings.candidates, settings.min_votes)
}

#[cfg(test)]
mod tests {
    use super::merge;

    #[test]
    fn merged_halves_keep_each_picture_once_at_its_better_score() {
        let plain = vec![(3, 90), (1, 50), (2, 40)];
        let mirrored = vec![(2, 95), (4, 50), (3, 10)];
        assert_eq!(
            merge(plain, mirrored, 3),
            [(2, 95), (3, 90), (1, 50)],
            "ties go to the lower slot"
        );
        assert!(merge(Vec::new(), Vec::new(), 5).is_empty());
    }
}
