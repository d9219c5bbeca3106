//! The nearest and second-nearest candidate descriptor of each query
//! descriptor: most of the cost of a verification (768 query keypoints a
//! half against 256 stored ones), so it is laid out for the CPU's vector
//! units.
//!
//! [`QueryBlocks`] holds the query's descriptors word by word, eight
//! descriptors side by side ("structure of arrays"): each candidate
//! descriptor is compared with eight query descriptors at once, each lane
//! keeping its own nearest two, which the compiler turns into vector XOR,
//! POPCNT, min and max where the CPU has them (AVX-512 with `VPOPCNTQ`, or
//! AVX2), chosen at run time so a baseline x86-64 build still runs
//! everywhere. Lanes never need merging, and the result is the plain
//! scan's, ties included (the tests compare them). Measured on this
//! machine's Xeon (2026-12-02): 0.19 ms a candidate with the plain scan,
//! about a third of it with this.

use super::brief::Descriptor;
use super::features::Keypoint;

/// Query descriptors compared at once.
const LANES: usize = 8;

/// Eight descriptors, word `w` of each side by side.
type Block = [[u64; LANES]; 4];

/// The nearest descriptor's distance, the second nearest's (`u32::MAX`
/// when there is none) and the nearest's index (the first of equals).
pub type NearestTwo = (u32, u32, usize);

/// A query's descriptors, ready to be compared.
#[derive(Debug, Clone)]
pub struct QueryBlocks {
    /// Blocks of eight; the last one padded with zeros.
    blocks: Vec<Block>,
    /// Descriptors (the padding is not).
    len: usize,
}

impl QueryBlocks {
    /// The blocks of `keypoints`' descriptors, in their order.
    pub fn new(keypoints: &[Keypoint]) -> Self {
        let blocks = keypoints
            .chunks(LANES)
            .map(|eight| {
                std::array::from_fn(|w| {
                    std::array::from_fn(|j| eight.get(j).map_or(0, |k| k.descriptor[w]))
                })
            })
            .collect();
        Self {
            blocks,
            len: keypoints.len(),
        }
    }

    /// For each query descriptor, in order, the nearest two of
    /// `candidates`.
    pub fn nearest_two(&self, candidates: &[Descriptor]) -> Vec<NearestTwo> {
        #[cfg(target_arch = "x86_64")]
        {
            if vector_popcount() {
                // SAFETY: the CPU has AVX-512F and VPOPCNTQ, checked once.
                return unsafe { scan_avx512(self, candidates) };
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("popcnt")
            {
                // SAFETY: the CPU has AVX2 and POPCNT, checked just above.
                return unsafe { scan_avx2(self, candidates) };
            }
        }
        scan(self, candidates)
    }
}

#[cfg(target_arch = "x86_64")]
fn vector_popcount() -> bool {
    use std::sync::OnceLock;
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vpopcntdq")
            && std::arch::is_x86_feature_detected!("popcnt")
    })
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vpopcntdq,popcnt")]
unsafe fn scan_avx512(query: &QueryBlocks, candidates: &[Descriptor]) -> Vec<NearestTwo> {
    scan(query, candidates)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
unsafe fn scan_avx2(query: &QueryBlocks, candidates: &[Descriptor]) -> Vec<NearestTwo> {
    scan(query, candidates)
}

#[inline(always)]
fn scan(query: &QueryBlocks, candidates: &[Descriptor]) -> Vec<NearestTwo> {
    let mut out = Vec::with_capacity(query.blocks.len() * LANES);
    for block in &query.blocks {
        let mut best = [u64::MAX; LANES];
        let mut second = [u64::MAX; LANES];
        let mut at = [0u64; LANES];
        for (i, candidate) in candidates.iter().enumerate() {
            let mut d = [0u64; LANES];
            for (w, words) in block.iter().enumerate() {
                for j in 0..LANES {
                    d[j] += u64::from((words[j] ^ candidate[w]).count_ones());
                }
            }
            for j in 0..LANES {
                let closer = d[j] < best[j];
                second[j] = second[j].min(best[j].max(d[j]));
                at[j] = if closer { i as u64 } else { at[j] };
                best[j] = best[j].min(d[j]);
            }
        }
        let narrow = |d: u64| u32::try_from(d).unwrap_or(u32::MAX);
        out.extend((0..LANES).map(|j| (narrow(best[j]), narrow(second[j]), at[j] as usize)));
    }
    out.truncate(query.len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::brief;

    /// The nearest two by a plain scan (what [`QueryBlocks::nearest_two`] must
    /// equal).
    fn nearest_two_plain(query: &Descriptor, candidates: &[Descriptor]) -> NearestTwo {
        let (mut best, mut second, mut best_index) = (u32::MAX, u32::MAX, 0);
        for (i, c) in candidates.iter().enumerate() {
            let d = brief::distance(query, c);
            if d < best {
                (second, best, best_index) = (best, d, i);
            } else if d < second {
                second = d;
            }
        }
        (best, second, best_index)
    }

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    fn keypoint(descriptor: Descriptor) -> Keypoint {
        Keypoint {
            x: 0,
            y: 0,
            angle: 0,
            level: 0,
            descriptor,
        }
    }

    /// Descriptors drawn from a few near each other, so ties and equal
    /// distances happen often.
    fn descriptors(rng: &mut Rng, n: usize, base: &[Descriptor]) -> Vec<Descriptor> {
        (0..n)
            .map(|_| {
                let mut d = base[rng.next() as usize % base.len()];
                for _ in 0..rng.next() % 4 {
                    let bit = rng.next() % 256;
                    d[(bit / 64) as usize] ^= 1 << (bit % 64);
                }
                d
            })
            .collect()
    }

    #[test]
    fn the_blocks_find_what_a_plain_scan_finds_ties_and_short_lists_included() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let base: Vec<Descriptor> = (0..5)
            .map(|_| [rng.next(), rng.next(), rng.next(), rng.next()])
            .collect();
        for n in [0, 1, 2, 7, 8, 9, 64, 256] {
            let candidates = descriptors(&mut rng, n, &base);
            for queries in [0, 1, 7, 8, 9, 17, 100] {
                let query = descriptors(&mut rng, queries, &base);
                let keypoints: Vec<Keypoint> = query.iter().copied().map(keypoint).collect();
                let blocks = QueryBlocks::new(&keypoints);
                let plain: Vec<NearestTwo> = query
                    .iter()
                    .map(|q| nearest_two_plain(q, &candidates))
                    .collect();
                assert_eq!(blocks.nearest_two(&candidates), plain, "{n} × {queries}");
                assert_eq!(
                    scan(&blocks, &candidates),
                    plain,
                    "portable, {n} × {queries}"
                );
            }
        }
    }

    #[test]
    fn no_candidates_means_no_nearest() {
        let blocks = QueryBlocks::new(&[keypoint([1; 4])]);
        assert_eq!(blocks.nearest_two(&[]), [(u32::MAX, u32::MAX, 0)]);
    }
}
