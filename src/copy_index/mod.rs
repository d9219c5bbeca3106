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

mod search;
pub mod terms;
mod votes;

use std::collections::HashMap;

pub use terms::{Term, Terms, TermsError, KEY_BITS, TABLES, TERMS_KIND};

use crate::model::ImageId;

/// A stored picture worth verifying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexCandidate {
    /// The picture.
    pub image_id: ImageId,
    /// Weighted votes in its best rotation bin (and its neighbour), in
    /// eighths of a vote for a key found once in every picture's worth:
    /// the better of the query's and the mirrored query's.
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
    /// Postings read at most per query: the work budget. Lookups are made
    /// rarest list first (the rarest keys say the most and cost the
    /// least), so a small store is searched whole and a large one reads
    /// its most telling lists within a bounded time.
    pub max_postings: usize,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self {
            candidates: 50,
            min_votes: 24,
            stop_factor: 200,
            max_postings: DEFAULT_MAX_POSTINGS,
        }
    }
}

/// The default work budget (see [`SearchSettings::max_postings`]).
pub const DEFAULT_MAX_POSTINGS: usize = 2_000_000;

/// The query's terms, as it is and mirrored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueryTerms {
    /// Terms of the query as it is.
    pub plain: Terms,
    /// Terms of the mirrored query.
    pub mirrored: Terms,
}

/// One table: a posting list per key, each a list of (picture slot,
/// keypoint: its number in the picture and its orientation).
struct Table {
    slots: Vec<Vec<u32>>,
    keypoints: Vec<Vec<[u8; 2]>>,
}

impl Table {
    fn new() -> Self {
        let lists = 1usize << KEY_BITS;
        Self {
            slots: vec![Vec::new(); lists],
            keypoints: vec![Vec::new(); lists],
        }
    }
}

/// Keypoints of a picture that are filed (its strongest; the number fits
/// a byte).
pub const FILED_KEYPOINTS: usize = 256;

/// Every stored picture's terms, filed by key.
pub struct CopyIndex {
    ids: Vec<ImageId>,
    slot_of: HashMap<ImageId, u32>,
    tables: Vec<Table>,
    postings: usize,
    scratch: search::ScratchPool,
}

impl Default for CopyIndex {
    fn default() -> Self {
        Self {
            ids: Vec::new(),
            slot_of: HashMap::new(),
            tables: (0..TABLES).map(|_| Table::new()).collect(),
            postings: 0,
            scratch: search::ScratchPool::default(),
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

    /// Posting-list lengths of every table, sorted (for statistics).
    pub fn list_lengths(&self) -> Vec<usize> {
        let mut lengths: Vec<usize> = self
            .tables
            .iter()
            .flat_map(|t| t.slots.iter().map(Vec::len))
            .collect();
        lengths.sort_unstable();
        lengths
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
        let filed = &terms.0[..terms.0.len().min(FILED_KEYPOINTS)];
        for (number, term) in filed.iter().enumerate() {
            for (table, &key) in self.tables.iter_mut().zip(&term.keys) {
                table.slots[usize::from(key)].push(slot);
                table.keypoints[usize::from(key)].push([number as u8, term.angle]);
            }
        }
        self.postings += filed.len();
    }

    /// The stored pictures with the most rotation-consistent votes, most
    /// first (ties: the earlier filed).
    pub fn candidates(&self, query: &QueryTerms, settings: &SearchSettings) -> Vec<IndexCandidate> {
        if self.ids.is_empty() {
            return Vec::new();
        }
        search::run(self, query, settings)
    }
}

/// The weight of a vote through a posting list of `length` among
/// `pictures`: its inverse document frequency, ln(1 + pictures / length),
/// in eighths (a key every picture has says little; a rare one says much).
fn weight(pictures: usize, length: usize) -> u16 {
    let idf = (1.0 + pictures as f32 / length.max(1) as f32).ln();
    (idf * 8.0).round().clamp(1.0, 255.0) as u16
}

#[cfg(test)]
mod tests;
