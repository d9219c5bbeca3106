//! The flat scan again with vectors stored as f16: half the memory (1 GiB at
//! 1M × 512) and half the bytes read per query, converted back to f32 row by
//! row (F16C where the CPU has it). Measured here to decide whether the
//! embedded store should keep f16; its answers are compared with exact f32.

use half::f16;
use half::slice::HalfFloatSliceExt;
use provenance::store::sqlite::index::flat::dot;

use crate::data::{id_of, Vectors};

/// Vectors as f16, row-major.
pub struct HalfMatrix {
    dim: usize,
    data: Vec<f16>,
}

impl HalfMatrix {
    /// Converts (the vectors are already unit length).
    pub fn new(vectors: &Vectors) -> Self {
        let source = vectors.as_slice();
        let mut data = vec![f16::ZERO; source.len()];
        data.convert_from_f32_slice(source);
        Self {
            dim: vectors.dim(),
            data,
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.data.len() * 2
    }

    /// The ids of the best `k` rows for `query`, split over `threads`.
    pub fn search(&self, query: &[f32], k: usize, threads: usize) -> Vec<i64> {
        let rows = self.data.len() / self.dim;
        let per_thread = rows.div_ceil(threads);
        let mut all: Vec<(f32, i64)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|t| {
                    let range = t * per_thread..((t + 1) * per_thread).min(rows);
                    scope.spawn(move || self.scan(query, range, k))
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("scan thread"))
                .collect()
        });
        all.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        all.into_iter().take(k).map(|(_, id)| id).collect()
    }

    fn scan(&self, query: &[f32], range: std::ops::Range<usize>, k: usize) -> Vec<(f32, i64)> {
        let mut buffer = vec![0f32; self.dim];
        let mut best: Vec<(f32, i64)> = Vec::with_capacity(k + 1);
        let mut worst = f32::NEG_INFINITY;
        for row in range {
            self.data[row * self.dim..(row + 1) * self.dim].convert_to_f32_slice(&mut buffer);
            let similarity = dot(query, &buffer);
            if best.len() < k || similarity > worst {
                best.push((similarity, id_of(row)));
                if best.len() > k {
                    best.sort_by(|a, b| b.0.total_cmp(&a.0));
                    best.truncate(k);
                }
                worst = best.iter().map(|b| b.0).fold(f32::INFINITY, f32::min);
            }
        }
        best
    }
}
