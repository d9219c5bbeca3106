//! 8-bit codes of unit vectors with a proven error bound, for the first pass
//! of [`super::flat::FlatIndex`]'s exact search: a scan of 1 byte per value
//! instead of 4 finds every row that *could* be in the top `k`; only those
//! are then scored exactly in f32.
//!
//! A row `v` (unit length) is stored as `scale · codes` with
//! `scale = max|vᵢ| / 127`; its error `e = v − scale · codes` has a known
//! length `|e|`. For a query `q = q̂ + f` coded the same way,
//! `q·v = q̂·v̂ + q̂·e + f·v`, so `|q·v − q̂·v̂| ≤ |q̂|·|e| + |f|` (Cauchy–Schwarz,
//! `|v| = 1`), plus [`SLACK`] for f32 rounding.

use std::ops::Range;

/// Covers f32 rounding in the exact dot product (n·u ≈ 3e-5 at 512-d) and
/// in the bound itself.
const SLACK: f32 = 1e-4;

/// Largest code magnitude.
const MAX_CODE: f32 = 127.0;

/// A vector's codes: `vector ≈ scale · codes`, off by at most `error` in length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Coded {
    pub scale: f32,
    pub error: f32,
}

/// Writes the codes of `v` into `out` (same length).
pub(super) fn encode(v: &[f32], out: &mut [i8]) -> Coded {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 || !max.is_finite() {
        out.fill(0);
        return Coded {
            scale: 0.0,
            error: if max == 0.0 { 0.0 } else { f32::INFINITY },
        };
    }
    let scale = max / MAX_CODE;
    let mut error = 0f64;
    for (code, &x) in out.iter_mut().zip(v) {
        let c = (x / scale).round().clamp(-MAX_CODE, MAX_CODE);
        *code = c as i8;
        error += f64::from(x - c * scale).powi(2);
    }
    Coded {
        scale,
        error: (error.sqrt() * (1.0 + 1e-6)) as f32,
    }
}

/// The query, coded, with what a row's bound needs from it.
pub(super) struct CodedQuery {
    codes: Vec<i8>,
    coded: Coded,
}

impl CodedQuery {
    /// Codes a unit-length query.
    pub(super) fn new(query: &[f32]) -> Self {
        let mut codes = vec![0; query.len()];
        let coded = encode(query, &mut codes);
        Self { codes, coded }
    }
}

/// What one pass over some rows found.
#[derive(Debug, Default)]
pub(super) struct Pass {
    /// The `k` best lower bounds seen, unordered.
    pub lower: Vec<f32>,
    /// Rows whose upper bound reached the running k-th lower bound, with
    /// that upper bound.
    pub candidates: Vec<(usize, f32)>,
}

/// Scans rows `rows` of `codes` (row-major, `dim` wide) against `query`.
pub(super) fn pass(
    query: &CodedQuery,
    codes: &[i8],
    rows_coded: &[Coded],
    rows: Range<usize>,
    k: usize,
) -> Pass {
    #[cfg(target_arch = "x86_64")]
    if let Some(avx2) = avx2::Avx2::detect() {
        return avx2.pass(query, codes, rows_coded, rows, k);
    }
    pass_with(Portable, query, codes, rows_coded, rows, k)
}

/// An integer dot product of two rows of codes.
trait DotI8: Copy {
    fn dot(self, a: &[i8], b: &[i8]) -> i32;
}

/// Plain Rust, any CPU.
#[derive(Clone, Copy)]
struct Portable;

impl DotI8 for Portable {
    #[inline(always)]
    fn dot(self, a: &[i8], b: &[i8]) -> i32 {
        dot_i8(a, b)
    }
}

#[inline(always)]
fn pass_with(
    dot: impl DotI8,
    query: &CodedQuery,
    codes: &[i8],
    rows_coded: &[Coded],
    rows: Range<usize>,
    k: usize,
) -> Pass {
    let dim = query.codes.len();
    let q = query.coded;
    // |q̂| ≤ |q| + |f| = 1 + |f|.
    let query_norm_bound = 1.0 + q.error;
    let mut result = Pass::default();
    let mut kth_lower = f32::NEG_INFINITY;
    let row_codes = codes[rows.start * dim..rows.end * dim].chunks_exact(dim);
    for (row, c) in rows.zip(row_codes) {
        let coded = rows_coded[row];
        let approx = dot.dot(&query.codes, c) as f32 * (q.scale * coded.scale);
        let bound = coded.error * query_norm_bound + q.error + SLACK;
        if approx + bound < kth_lower {
            continue;
        }
        result.candidates.push((row, approx + bound));
        if result.lower.len() < k {
            result.lower.push(approx - bound);
            if result.lower.len() == k {
                kth_lower = min(&result.lower);
            }
        } else if approx - bound > kth_lower {
            let slot = result
                .lower
                .iter()
                .position(|&l| l == kth_lower)
                .unwrap_or(0);
            result.lower[slot] = approx - bound;
            kth_lower = min(&result.lower);
        }
    }
    result
}

fn min(values: &[f32]) -> f32 {
    values.iter().copied().fold(f32::INFINITY, f32::min)
}

/// The k-th largest of the lower bounds of several passes (−∞ if fewer).
pub(super) fn kth_largest(passes: &[Pass], k: usize) -> f32 {
    let mut all: Vec<f32> = passes
        .iter()
        .flat_map(|p| p.lower.iter().copied())
        .collect();
    all.sort_by(|a, b| b.total_cmp(a));
    all.get(k.saturating_sub(1))
        .copied()
        .unwrap_or(f32::NEG_INFINITY)
}

/// Integer dot product, in independent lanes so it vectorises.
#[inline(always)]
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    const LANES: usize = 16;
    let mut lanes = [0i32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: i32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum();
    // |x·y| ≤ 128² fits an i16 and a row of them an i32, so wrapping
    // arithmetic never wraps; it only keeps overflow checks (debug and
    // test builds) out of the loop, which would stop it vectorising.
    for (x, y) in a_chunks.zip(b_chunks) {
        for i in 0..LANES {
            let product = i16::from(x[i]).wrapping_mul(i16::from(y[i]));
            lanes[i] = lanes[i].wrapping_add(i32::from(product));
        }
    }
    lanes.iter().sum::<i32>() + tail
}

/// The AVX2 kernel: 32 codes per step with `vpmaddubsw` (the usual
/// sign trick turns i8 × i8 into u8 × i8) and `vpmaddwd`, about twice the
/// speed of what the compiler makes of [`dot_i8`].
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{
        __m256i, _mm256_abs_epi8, _mm256_add_epi32, _mm256_castsi256_si128,
        _mm256_extracti128_si256, _mm256_loadu_si256, _mm256_madd_epi16, _mm256_maddubs_epi16,
        _mm256_set1_epi16, _mm256_setzero_si256, _mm256_sign_epi8, _mm_add_epi32,
        _mm_cvtsi128_si32, _mm_shuffle_epi32, _mm_unpackhi_epi64,
    };
    use std::ops::Range;

    use super::{pass_with, Coded, CodedQuery, DotI8, Pass};

    /// Proof that this CPU has AVX2: only [`Avx2::detect`] makes one.
    #[derive(Clone, Copy)]
    pub(super) struct Avx2(());

    impl Avx2 {
        pub(super) fn detect() -> Option<Self> {
            std::arch::is_x86_feature_detected!("avx2").then_some(Self(()))
        }

        pub(super) fn pass(
            self,
            query: &CodedQuery,
            codes: &[i8],
            rows_coded: &[Coded],
            rows: Range<usize>,
            k: usize,
        ) -> Pass {
            // SAFETY: an `Avx2` exists only where the CPU has AVX2.
            unsafe { pass_avx2(self, query, codes, rows_coded, rows, k) }
        }
    }

    /// The pass compiled for AVX2, so the kernel inlines into its loop.
    #[target_feature(enable = "avx2")]
    fn pass_avx2(
        avx2: Avx2,
        query: &CodedQuery,
        codes: &[i8],
        rows_coded: &[Coded],
        rows: Range<usize>,
        k: usize,
    ) -> Pass {
        pass_with(avx2, query, codes, rows_coded, rows, k)
    }

    impl DotI8 for Avx2 {
        #[inline(always)]
        fn dot(self, a: &[i8], b: &[i8]) -> i32 {
            // SAFETY: an `Avx2` exists only where the CPU has AVX2.
            unsafe { dot_i8(a, b) }
        }
    }

    /// Σ aᵢ·bᵢ over the common length. Exact for codes in [-127, 127] (what
    /// `encode` writes): a pair sum |aᵢbᵢ + aⱼbⱼ| ≤ 2·127² fits the i16 that
    /// `vpmaddubsw` saturates at.
    #[target_feature(enable = "avx2")]
    pub(super) fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
        let n = a.len().min(b.len());
        let ones = _mm256_set1_epi16(1);
        let mut sum = _mm256_setzero_si256();
        let mut i = 0;
        while i + 32 <= n {
            // SAFETY: bytes i..i + 32 are inside both slices; the loads are
            // unaligned ones.
            let (x, y): (__m256i, __m256i) = unsafe {
                (
                    _mm256_loadu_si256(a.as_ptr().add(i).cast()),
                    _mm256_loadu_si256(b.as_ptr().add(i).cast()),
                )
            };
            let pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(x), _mm256_sign_epi8(y, x));
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(pairs, ones));
            i += 32;
        }
        let half = _mm_add_epi32(
            _mm256_castsi256_si128(sum),
            _mm256_extracti128_si256::<1>(sum),
        );
        let quarter = _mm_add_epi32(half, _mm_unpackhi_epi64(half, half));
        let total = _mm_add_epi32(quarter, _mm_shuffle_epi32::<0b01>(quarter));
        let tail: i32 = a[i..n]
            .iter()
            .zip(&b[i..n])
            .map(|(&x, &y)| i32::from(x) * i32::from(y))
            .sum();
        _mm_cvtsi128_si32(total) + tail
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::index::blob::reference::l2_normalize;

    fn unit_vectors(count: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut state = seed;
        (0..count)
            .map(|row| {
                let mut v: Vec<f32> = (0..dim)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407);
                        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
                    })
                    .collect();
                // Some rows with one dominant value: coarse codes, big error.
                if row % 3 == 0 {
                    v[0] *= 40.0;
                }
                l2_normalize(&mut v);
                v
            })
            .collect()
    }

    #[test]
    fn the_bound_holds_for_every_pair() {
        let dim = 77;
        let rows = unit_vectors(60, dim, 1);
        let queries = unit_vectors(20, dim, 2);
        let mut codes = vec![0i8; rows.len() * dim];
        let coded: Vec<Coded> = rows
            .iter()
            .zip(codes.chunks_exact_mut(dim))
            .map(|(v, out)| encode(v, out))
            .collect();
        for q in &queries {
            let query = CodedQuery::new(q);
            // k = all rows: every row is a candidate with its upper bound,
            // and the lower bounds are all kept.
            let found = pass(&query, &codes, &coded, 0..rows.len(), rows.len());
            assert_eq!(found.candidates.len(), rows.len());
            for (&(row, upper), lower) in found.candidates.iter().zip(&found.lower) {
                let exact: f32 = q.iter().zip(&rows[row]).map(|(a, b)| a * b).sum();
                assert!(
                    *lower <= exact && exact <= upper,
                    "{lower} ≤ {exact} ≤ {upper}"
                );
                assert!(
                    upper - lower < 0.1,
                    "the bound is useful: {}",
                    upper - lower
                );
            }
        }
    }

    #[test]
    fn codes_reconstruct_within_their_error() {
        let v = &unit_vectors(1, 33, 5)[0];
        let mut codes = vec![0i8; 33];
        let coded = encode(v, &mut codes);
        let error: f32 = v
            .iter()
            .zip(&codes)
            .map(|(x, &c)| (x - f32::from(c) * coded.scale).powi(2))
            .sum::<f32>()
            .sqrt();
        assert!(
            error <= coded.error && coded.error < 0.05,
            "{error} vs {}",
            coded.error
        );
        assert_eq!(codes.iter().map(|c| c.unsigned_abs()).max(), Some(127));
        let zero = encode(&[0.0; 4], &mut [1i8; 4]);
        assert_eq!((zero.scale, zero.error), (0.0, 0.0));
    }

    #[test]
    fn integer_dot_matches_for_any_length() {
        for len in [1, 15, 16, 17, 40] {
            let a: Vec<i8> = (0..len).map(|i| (i * 37 % 255) as u8 as i8).collect();
            let b: Vec<i8> = (0..len).map(|i| (127 - i * 11 % 254) as i8).collect();
            let naive: i32 = a
                .iter()
                .zip(&b)
                .map(|(&x, &y)| i32::from(x) * i32::from(y))
                .sum();
            assert_eq!(dot_i8(&a, &b), naive, "len {len}");
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_avx2_kernel_agrees_with_the_portable_one() {
        let Some(avx2) = avx2::Avx2::detect() else {
            return;
        };
        let mut state = 3u64;
        let mut code = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            ((state >> 33) % 255) as i32 - 127
        };
        for len in [0, 1, 31, 32, 33, 64, 77, 512, 768] {
            let a: Vec<i8> = (0..len).map(|_| code() as i8).collect();
            let b: Vec<i8> = (0..len).map(|_| code() as i8).collect();
            assert_eq!(avx2.dot(&a, &b), dot_i8(&a, &b), "len {len}");
            let extreme = vec![-127i8; len];
            let max = vec![127i8; len];
            assert_eq!(avx2.dot(&extreme, &extreme), dot_i8(&extreme, &extreme));
            assert_eq!(avx2.dot(&extreme, &max), -(127 * 127 * len as i32));
        }
    }

    #[test]
    fn kth_largest_merges_passes() {
        let pass = |lower: Vec<f32>| Pass {
            lower,
            candidates: Vec::new(),
        };
        let passes = [pass(vec![0.1, 0.5]), pass(vec![0.3, 0.9])];
        assert_eq!(kth_largest(&passes, 3), 0.3);
        assert_eq!(kth_largest(&passes, 5), f32::NEG_INFINITY);
    }
}
