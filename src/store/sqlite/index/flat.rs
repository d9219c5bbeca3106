//! An in-memory flat vector index for exact cosine search. The embedded
//! store keeps one of these so that a query does not read every vector out
//! of SQLite again.
//!
//! Only 8-bit codes of the vectors are held, with a proven error bound
//! (`codes`): 1 byte a value, a quarter of `f32`. A search is
//! two steps. [`FlatIndex::shortlist`] scans the codes (memory bandwidth is
//! what limits a full scan), split across threads, and keeps every row whose
//! upper bound reaches the k-th best lower bound — the true top `k` is always
//! among them, and there are few. [`Shortlist::rank`] then scores just those
//! rows' full `f32` vectors, which the caller fetches from wherever they
//! live (the embedded store reads them from SQLite by id); its top `k` is
//! exactly the top `k` of a full `f32` scan.
//!
//! Memory: `rows × dim` bytes (1M × 512-d: 0.5 GiB) plus ~50 bytes a row for
//! the id, its slot and its code scale.

use std::cmp::Ordering;
use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap};
use std::ops::Range;

use super::codes::{self, Coded, CodedQuery, Pass};
use crate::model::ImageId;
use crate::store::Neighbor;

/// Below this many rows one thread scans everything: spawning costs more
/// than it saves.
const MIN_ROWS_PER_THREAD: usize = 32_768;

/// Lanes summed independently, so the loop vectorises without reassociation.
const LANES: usize = 16;

/// A vector whose length differs from the index's dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("vector has {got} dimensions, the index holds {expected}-d vectors")]
pub struct DimensionMismatch {
    /// The index's dimension.
    pub expected: usize,
    /// The vector's length.
    pub got: usize,
}

/// Parts of a [`FlatIndex`] that do not fit together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("inconsistent flat index parts: {0}")]
pub struct InconsistentParts(String);

/// Exact cosine search over vectors held in memory as 8-bit codes.
#[derive(Debug, Default)]
pub struct FlatIndex {
    /// Fixed by the first vector stored (0 while empty).
    dim: usize,
    /// The rows as 8-bit codes, row-major.
    codes: Vec<i8>,
    /// The scale and error bound of each row's codes.
    coded: Vec<Coded>,
    /// The id of each row.
    ids: Vec<ImageId>,
    /// The row of each id.
    rows: HashMap<ImageId, usize>,
    /// How many threads a search may use (at least 1).
    threads: usize,
}

/// Everything a [`FlatIndex`] holds, for saving it and loading it back.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct FlatParts {
    pub dim: usize,
    pub ids: Vec<ImageId>,
    pub coded: Vec<Coded>,
    pub codes: Vec<i8>,
}

impl FlatIndex {
    /// An empty index that searches with up to `threads` threads.
    pub fn with_threads(threads: usize) -> Self {
        Self {
            threads: threads.max(1),
            ..Self::default()
        }
    }

    /// The number of stored vectors.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no vector is stored.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The dimension of the stored vectors (0 while empty).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Whether `id` has a vector here.
    pub fn contains(&self, id: ImageId) -> bool {
        self.rows.contains_key(&id)
    }

    /// Bytes held by the codes and their scales.
    pub fn code_bytes(&self) -> usize {
        self.codes.len() + self.coded.len() * std::mem::size_of::<Coded>()
    }

    /// Stores or replaces the vector of `id` (any length scale: it is
    /// normalised; a zero vector matches nothing). The first vector fixes
    /// the dimension.
    pub fn upsert(&mut self, id: ImageId, vector: &[f32]) -> Result<(), DimensionMismatch> {
        if self.is_empty() {
            self.dim = vector.len();
        }
        self.check(vector)?;
        let scale = inverse_norm(vector);
        let unit: Vec<f32> = vector.iter().map(|x| x * scale).collect();
        let row = match self.rows.entry(id) {
            Entry::Occupied(slot) => *slot.get(),
            Entry::Vacant(slot) => {
                slot.insert(self.ids.len());
                self.ids.push(id);
                self.codes.resize(self.codes.len() + self.dim, 0);
                self.coded.push(Coded {
                    scale: 0.0,
                    error: 0.0,
                });
                self.ids.len() - 1
            }
        };
        let codes = &mut self.codes[row * self.dim..(row + 1) * self.dim];
        self.coded[row] = codes::encode(&unit, codes);
        Ok(())
    }

    /// Forgets the vector of `id`; whether it was there.
    pub fn remove(&mut self, id: ImageId) -> bool {
        let Some(row) = self.rows.remove(&id) else {
            return false;
        };
        let last = self.ids.len() - 1;
        if row != last {
            let moved = self.ids[last];
            self.ids[row] = moved;
            self.coded[row] = self.coded[last];
            self.codes
                .copy_within(last * self.dim..(last + 1) * self.dim, row * self.dim);
            self.rows.insert(moved, row);
        }
        self.ids.pop();
        self.coded.pop();
        self.codes.truncate(last * self.dim);
        true
    }

    /// The stored ids that could be among the `k` most similar to `query`;
    /// every one of the true top `k` is among them.
    pub fn shortlist(&self, query: &[f32], k: usize) -> Result<Shortlist, DimensionMismatch> {
        let scale = inverse_norm(query);
        let unit: Vec<f32> = query.iter().map(|x| x * scale).collect();
        if self.is_empty() || k == 0 {
            return Ok(Shortlist::new(unit, k, Vec::new()));
        }
        self.check(query)?;
        let passes = self.coded_passes(&CodedQuery::new(&unit), k);
        let floor = codes::kth_largest(&passes, k);
        let ids = passes
            .iter()
            .flat_map(|p| &p.candidates)
            .filter(|(_, upper)| *upper >= floor)
            .map(|&(row, _)| self.ids[row])
            .collect();
        Ok(Shortlist::new(unit, k, ids))
    }

    /// [`Self::shortlist`] then [`Shortlist::rank`], with the full vectors
    /// from `vector_of` (ids it does not know are left out).
    pub fn search<'a>(
        &self,
        query: &[f32],
        k: usize,
        vector_of: impl Fn(ImageId) -> Option<&'a [f32]>,
    ) -> Result<Vec<Neighbor>, DimensionMismatch> {
        let shortlist = self.shortlist(query, k)?;
        let vectors = shortlist
            .ids()
            .iter()
            .filter_map(|&id| Some((id, vector_of(id)?)));
        shortlist.rank(vectors)
    }

    fn check(&self, vector: &[f32]) -> Result<(), DimensionMismatch> {
        if vector.len() == self.dim {
            Ok(())
        } else {
            Err(DimensionMismatch {
                expected: self.dim,
                got: vector.len(),
            })
        }
    }

    /// The first pass over the codes, split across threads.
    fn coded_passes(&self, query: &CodedQuery, k: usize) -> Vec<Pass> {
        let threads = self
            .threads
            .min(self.len().div_ceil(MIN_ROWS_PER_THREAD))
            .max(1);
        let pass = |rows: Range<usize>| codes::pass(query, &self.codes, &self.coded, rows, k);
        if threads == 1 {
            return vec![pass(0..self.len())];
        }
        let per_thread = self.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|t| {
                    let rows = t * per_thread..((t + 1) * per_thread).min(self.len());
                    scope.spawn(move || pass(rows))
                })
                .collect();
            workers
                .into_iter()
                // A pass only does arithmetic on slices it owns; a panic
                // there is a bug, so pass it on.
                .map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    }

    /// The ids, code scales and codes of every row, in row order.
    pub(super) fn raw_parts(&self) -> (&[ImageId], &[Coded], &[i8]) {
        (&self.ids, &self.coded, &self.codes)
    }

    /// A copy of everything held.
    #[cfg(test)]
    pub(super) fn parts(&self) -> FlatParts {
        FlatParts {
            dim: self.dim,
            ids: self.ids.clone(),
            coded: self.coded.clone(),
            codes: self.codes.clone(),
        }
    }

    /// An index holding `parts`, searching with up to `threads` threads.
    pub(super) fn from_parts(parts: FlatParts, threads: usize) -> Result<Self, InconsistentParts> {
        let FlatParts {
            dim,
            ids,
            coded,
            codes,
        } = parts;
        if coded.len() != ids.len() || Some(codes.len()) != ids.len().checked_mul(dim) {
            return Err(InconsistentParts(format!(
                "{} ids, {} scales, {} codes of {dim}-d rows",
                ids.len(),
                coded.len(),
                codes.len()
            )));
        }
        let mut rows = HashMap::with_capacity(ids.len());
        for (row, &id) in ids.iter().enumerate() {
            if rows.insert(id, row).is_some() {
                return Err(InconsistentParts(format!("id {id} twice")));
            }
        }
        Ok(Self {
            dim: if ids.is_empty() { 0 } else { dim },
            codes,
            coded,
            ids,
            rows,
            threads: threads.max(1),
        })
    }
}

/// The candidates of one search: see [`FlatIndex::shortlist`].
#[derive(Debug, Clone)]
pub struct Shortlist {
    /// The query at unit length.
    query: Vec<f32>,
    k: usize,
    ids: Vec<ImageId>,
}

impl Shortlist {
    fn new(query: Vec<f32>, k: usize, ids: Vec<ImageId>) -> Self {
        Self { query, k, ids }
    }

    /// The ids whose full vectors [`Self::rank`] needs.
    pub fn ids(&self) -> &[ImageId] {
        &self.ids
    }

    /// The `k` most similar of `vectors` (the shortlisted ids' full vectors,
    /// any length scale), most similar first; ties go to the lower id.
    pub fn rank<'a>(
        &self,
        vectors: impl IntoIterator<Item = (ImageId, &'a [f32])>,
    ) -> Result<Vec<Neighbor>, DimensionMismatch> {
        let mut best = Best::new(self.k);
        for (id, vector) in vectors {
            if vector.len() != self.query.len() {
                return Err(DimensionMismatch {
                    expected: self.query.len(),
                    got: vector.len(),
                });
            }
            best.offer(Candidate {
                similarity: dot(&self.query, vector) * inverse_norm(vector),
                id,
            });
        }
        Ok(best.into_sorted())
    }
}

/// `1 / |v|`, or 0 for a zero vector.
fn inverse_norm(v: &[f32]) -> f32 {
    let norm = dot(v, v).sqrt();
    if norm > 0.0 {
        1.0 / norm
    } else {
        0.0
    }
}

/// The dot product, summed in [`LANES`] independent lanes so the compiler
/// turns the loop into SIMD multiply-adds.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for i in 0..LANES {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// One scored row.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    similarity: f32,
    id: ImageId,
}

impl Candidate {
    /// Better: more similar, then the lower id.
    fn rank(&self, other: &Self) -> Ordering {
        self.similarity
            .total_cmp(&other.similarity)
            .then(other.id.cmp(&self.id))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.rank(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Candidate {
    /// Reversed, so the heap's top is the worst kept candidate.
    fn cmp(&self, other: &Self) -> Ordering {
        other.rank(self)
    }
}

/// The best `k` candidates offered so far.
struct Best {
    k: usize,
    heap: BinaryHeap<Candidate>,
}

impl Best {
    fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
        }
    }

    fn offer(&mut self, candidate: Candidate) {
        if self.heap.len() < self.k {
            self.heap.push(candidate);
        } else if self
            .heap
            .peek()
            .is_some_and(|worst| candidate.rank(worst) == Ordering::Greater)
        {
            self.heap.pop();
            self.heap.push(candidate);
        }
    }

    /// Most similar first.
    fn into_sorted(self) -> Vec<Neighbor> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|c| Neighbor {
                image_id: c.id,
                similarity: c.similarity,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
