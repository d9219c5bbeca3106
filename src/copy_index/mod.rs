//! The copy index: which stored pictures share enough local features with
//! a query to be worth verifying — whatever was done to the copy (cropped,
//! rotated, mirrored, screenshotted, pasted into a collage), at any store
//! size, without a model.
//!
//! Each stored keypoint is filed under one key per table ([`terms`]: bits
//! sampled from its binary descriptor). A query looks up its keypoints'
//! keys and votes for every stored picture filed under them, into one of
//! sixteen bins by the difference of the two keypoints' orientations (weak
//! geometric consistency, Jégou et al. 2008): a real copy's matches agree
//! on one rotation and pile up in one bin, chance collisions spread over
//! all of them. The pictures with the most votes in their best bin are the
//! candidates; [`crate::verify`] then checks each properly.
//!
//! Pure, in memory; `lookup` keeps one per store, loaded from the stored
//! terms.

pub mod terms;
mod votes;

use std::collections::HashMap;

pub use terms::{Term, Terms, TermsError, KEY_BITS, TABLES, TERMS_KIND};
use votes::Votes;

use crate::model::ImageId;

/// A stored picture worth verifying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexCandidate {
    /// The picture.
    pub image_id: ImageId,
    /// Votes in its best rotation bin (and its neighbour).
    pub votes: u32,
}

/// How a query is run against the index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchSettings {
    /// Candidates returned at most.
    pub candidates: usize,
    /// Fewest votes for a candidate.
    pub min_votes: u32,
    /// A key whose posting list is longer than this many times the mean
    /// list length says too little (a pattern half the pictures have): its
    /// votes are skipped.
    pub stop_factor: u32,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self {
            candidates: 50,
            min_votes: 3,
            stop_factor: 40,
        }
    }
}

/// The query's terms, as it is and mirrored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryTerms {
    /// Terms of the query as it is.
    pub plain: Terms,
    /// Terms of the mirrored query.
    pub mirrored: Terms,
}

/// One table: a posting list per key, each a list of (picture slot,
/// keypoint orientation).
struct Table {
    slots: Vec<Vec<u32>>,
    angles: Vec<Vec<u8>>,
}

impl Table {
    fn new() -> Self {
        let lists = 1usize << KEY_BITS;
        Self {
            slots: vec![Vec::new(); lists],
            angles: vec![Vec::new(); lists],
        }
    }
}

/// Every stored picture's terms, filed by key.
pub struct CopyIndex {
    ids: Vec<ImageId>,
    slot_of: HashMap<ImageId, u32>,
    tables: Vec<Table>,
    postings: usize,
}

impl Default for CopyIndex {
    fn default() -> Self {
        Self {
            ids: Vec::new(),
            slot_of: HashMap::new(),
            tables: (0..TABLES).map(|_| Table::new()).collect(),
            postings: 0,
        }
    }
}

impl std::fmt::Debug for CopyIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyIndex")
            .field("pictures", &self.ids.len())
            .field("postings", &self.postings)
            .finish()
    }
}

impl CopyIndex {
    /// Pictures filed.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether nothing is filed.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Whether `id` is filed.
    pub fn contains(&self, id: ImageId) -> bool {
        self.slot_of.contains_key(&id)
    }

    /// Files a picture's terms (a picture already filed is left as it is:
    /// a picture's terms never change).
    pub fn insert(&mut self, id: ImageId, terms: &Terms) {
        if self.contains(id) {
            return;
        }
        let slot = u32::try_from(self.ids.len()).expect("fewer than 2^32 pictures");
        self.ids.push(id);
        self.slot_of.insert(id, slot);
        for term in &terms.0 {
            for (table, &key) in self.tables.iter_mut().zip(&term.keys) {
                table.slots[usize::from(key)].push(slot);
                table.angles[usize::from(key)].push(term.angle);
            }
        }
        self.postings += terms.0.len();
    }

    /// The stored pictures with the most rotation-consistent votes, most
    /// first (ties: the earlier filed).
    pub fn candidates(&self, query: &QueryTerms, settings: &SearchSettings) -> Vec<IndexCandidate> {
        if self.ids.is_empty() {
            return Vec::new();
        }
        let mean = self.postings >> KEY_BITS;
        let stop = (mean.max(1) * settings.stop_factor as usize).max(64);
        let mut votes = Votes::new(self.ids.len());
        for (half, terms) in [&query.plain, &query.mirrored].into_iter().enumerate() {
            for term in &terms.0 {
                for (table, &key) in self.tables.iter().zip(&term.keys) {
                    let slots = &table.slots[usize::from(key)];
                    if slots.len() > stop {
                        continue;
                    }
                    let angles = &table.angles[usize::from(key)];
                    for (&slot, &angle) in slots.iter().zip(angles) {
                        votes.add(slot, half, term.angle.wrapping_sub(angle));
                    }
                }
            }
        }
        votes
            .best(settings.candidates, settings.min_votes)
            .into_iter()
            .map(|(slot, votes)| IndexCandidate {
                image_id: self.ids[slot as usize],
                votes,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
