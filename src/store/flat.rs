//! An in-memory flat vector index with exact cosine search. The embedded
//! store keeps one of these so that a query does not read every vector out
//! of SQLite again.
//!
//! Every vector is kept twice, row-major: as unit-length `f32` and as 8-bit
//! codes with a proven error bound ([`super::flat_codes`]). A search scans
//! the codes (a quarter of the bytes; memory bandwidth is what limits a full
//! scan), split across threads, and keeps every row whose upper bound
//! reaches the k-th best lower bound; only those few are scored in `f32`,
//! and the top `k` of them are exactly the top `k` of a full `f32` scan.
//!
//! Memory: `rows × dim × 5` bytes (1M × 512-d: 2 GiB of `f32` + 0.5 GiB of
//! codes) plus ~50 bytes a row for the id, its slot and its code scale.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::ops::Range;

use super::flat_codes::{self, Coded, CodedQuery, Pass};
use super::{ImageId, Neighbor};

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

/// Exact cosine search over vectors held in memory.
#[derive(Debug, Default)]
pub struct FlatIndex {
    /// Fixed by the first vector stored (0 while empty).
    dim: usize,
    /// Unit-length vectors, one row per id, row-major.
    matrix: Vec<f32>,
    /// The same rows as 8-bit codes.
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

    /// Bytes held by the vectors and their codes.
    pub fn matrix_bytes(&self) -> usize {
        self.matrix.len() * std::mem::size_of::<f32>()
            + self.codes.len()
            + self.coded.len() * std::mem::size_of::<Coded>()
    }

    /// Stores or replaces the vector of `id`, scaled to unit length (a zero
    /// vector stays zero and matches nothing). The first vector fixes the
    /// dimension.
    pub fn upsert(&mut self, id: ImageId, vector: &[f32]) -> Result<(), DimensionMismatch> {
        if self.is_empty() && self.dim == 0 {
            self.dim = vector.len();
        }
        if vector.len() != self.dim {
            return Err(DimensionMismatch {
                expected: self.dim,
                got: vector.len(),
            });
        }
        let scale = inverse_norm(vector);
        let row = match self.rows.get(&id) {
            Some(&row) => row,
            None => {
                self.ids.push(id);
                self.rows.insert(id, self.ids.len() - 1);
                self.matrix.resize(self.matrix.len() + self.dim, 0.0);
                self.codes.resize(self.codes.len() + self.dim, 0);
                self.coded.push(Coded {
                    scale: 0.0,
                    error: 0.0,
                });
                self.ids.len() - 1
            }
        };
        let rows = row * self.dim..(row + 1) * self.dim;
        let slot = &mut self.matrix[rows.clone()];
        for (out, x) in slot.iter_mut().zip(vector) {
            *out = x * scale;
        }
        self.coded[row] = flat_codes::encode(slot, &mut self.codes[rows]);
        Ok(())
    }

    /// The `k` stored vectors most similar to `query` (cosine), most similar
    /// first; ties go to the lower id.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<Neighbor>, DimensionMismatch> {
        if self.is_empty() || k == 0 {
            return Ok(Vec::new());
        }
        if query.len() != self.dim {
            return Err(DimensionMismatch {
                expected: self.dim,
                got: query.len(),
            });
        }
        let scale = inverse_norm(query);
        let query: Vec<f32> = query.iter().map(|x| x * scale).collect();
        let passes = self.coded_passes(&CodedQuery::new(&query), k);
        // Every row of the true top k is a candidate (see `flat_codes`);
        // scoring them all in f32 gives exactly the full scan's answer.
        let floor = flat_codes::kth_largest(&passes, k);
        let mut best = Best::new(k);
        let candidates = passes.iter().flat_map(|p| &p.candidates);
        for &(row, _) in candidates.filter(|(_, upper)| *upper >= floor) {
            let vector = &self.matrix[row * self.dim..(row + 1) * self.dim];
            best.offer(Candidate {
                similarity: dot(&query, vector),
                id: self.ids[row],
            });
        }
        Ok(best.into_sorted())
    }

    /// The first pass over the codes, split across threads.
    fn coded_passes(&self, query: &CodedQuery, k: usize) -> Vec<Pass> {
        let threads = self
            .threads
            .min(self.len().div_ceil(MIN_ROWS_PER_THREAD))
            .max(1);
        let pass = |rows: Range<usize>| flat_codes::pass(query, &self.codes, &self.coded, rows, k);
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
mod tests {
    use super::*;
    use crate::store::vector::cosine;

    /// A small deterministic generator (SplitMix64), values in [-1, 1).
    fn random_vectors(count: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        };
        (0..count)
            .map(|_| (0..dim).map(|_| next()).collect())
            .collect()
    }

    /// The reference: score everything with `cosine`, sort, cut.
    fn brute_force(vectors: &[(ImageId, Vec<f32>)], query: &[f32], k: usize) -> Vec<ImageId> {
        let mut scored: Vec<_> = vectors
            .iter()
            .map(|(id, v)| (cosine(query, v), *id))
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.into_iter().take(k).map(|(_, id)| id).collect()
    }

    fn index_of(vectors: &[(ImageId, Vec<f32>)], threads: usize) -> FlatIndex {
        let mut index = FlatIndex::with_threads(threads);
        for (id, v) in vectors {
            index.upsert(*id, v).unwrap();
        }
        index
    }

    #[test]
    fn dot_matches_the_naive_sum_for_any_length() {
        for dim in [1, 15, 16, 17, 33, 512] {
            let v = random_vectors(2, dim, dim as u64);
            let naive: f32 = v[0].iter().zip(&v[1]).map(|(x, y)| x * y).sum();
            assert!((dot(&v[0], &v[1]) - naive).abs() < 1e-4, "dim {dim}");
        }
    }

    #[test]
    fn search_equals_brute_force_single_and_multi_threaded() {
        // Enough rows that three threads really split the scan.
        let rows = 3 * MIN_ROWS_PER_THREAD + 5;
        let vectors: Vec<(ImageId, Vec<f32>)> = random_vectors(rows, 12, 7)
            .into_iter()
            .enumerate()
            .map(|(i, v)| (1000 + 3 * i as ImageId, v))
            .collect();
        let queries = random_vectors(5, 12, 99);
        for threads in [1, 3] {
            let index = index_of(&vectors, threads);
            for (q, k) in queries.iter().zip([1, 5, 10, 37, 100]) {
                let got: Vec<_> = index
                    .search(q, k)
                    .unwrap()
                    .iter()
                    .map(|n| n.image_id)
                    .collect();
                assert_eq!(got, brute_force(&vectors, q, k), "threads {threads}, k {k}");
            }
        }
    }

    #[test]
    fn similarities_are_cosines_of_unnormalised_input() {
        let vectors = vec![
            (1, vec![3.0, 4.0]),
            (2, vec![0.0, -2.0]),
            (3, vec![0.0, 0.0]),
        ];
        let index = index_of(&vectors, 1);
        let got = index.search(&[10.0, 0.0], 3).unwrap();
        let ids: Vec<_> = got.iter().map(|n| n.image_id).collect();
        assert_eq!(
            ids,
            vec![1, 2, 3],
            "the orthogonal and the zero vector tie at 0"
        );
        assert!((got[0].similarity - 0.6).abs() < 1e-6);
        assert_eq!((got[1].similarity, got[2].similarity), (0.0, 0.0));
    }

    #[test]
    fn ties_go_to_the_lower_id_and_k_caps_the_answer() {
        let vectors: Vec<_> = [5, 2, 9, 4]
            .iter()
            .map(|&id| (id, vec![1.0, 1.0]))
            .collect();
        let index = index_of(&vectors, 1);
        let ids: Vec<_> = index
            .search(&[1.0, 1.0], 3)
            .unwrap()
            .iter()
            .map(|n| n.image_id)
            .collect();
        assert_eq!(ids, vec![2, 4, 5]);
        assert_eq!(index.search(&[1.0, 1.0], 10).unwrap().len(), 4);
        assert!(index.search(&[1.0, 1.0], 0).unwrap().is_empty());
    }

    #[test]
    fn upsert_replaces_the_vector_of_a_known_id() {
        let mut index = index_of(&[(1, vec![1.0, 0.0]), (2, vec![0.0, 1.0])], 1);
        index.upsert(1, &[0.0, -1.0]).unwrap();
        assert_eq!(index.len(), 2);
        assert_eq!(index.matrix_bytes(), 2 * 2 * (4 + 1) + 2 * 8);
        let got = index.search(&[0.0, 1.0], 2).unwrap();
        assert_eq!((got[0].image_id, got[1].image_id), (2, 1));
        assert!((got[1].similarity + 1.0).abs() < 1e-6);
    }

    #[test]
    fn the_first_vector_fixes_the_dimension() {
        let mut index = FlatIndex::with_threads(2);
        assert!(index.search(&[1.0], 3).unwrap().is_empty(), "empty index");
        index.upsert(1, &[1.0, 0.0, 0.0]).unwrap();
        assert_eq!(index.dim(), 3);
        let wrong = DimensionMismatch {
            expected: 3,
            got: 2,
        };
        assert_eq!(index.upsert(2, &[1.0, 0.0]), Err(wrong));
        assert_eq!(index.search(&[1.0, 0.0], 1), Err(wrong));
        assert_eq!(index.len(), 1);
    }
}
