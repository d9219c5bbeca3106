//! Hashing decoded images: SHA-256 of the exact bytes (exact copies) and
//! perceptual hashes (near-duplicates: resized, re-encoded, cropped a little,
//! mirrored, recoloured). Pure functions, no I/O.
//!
//! Distances are Hamming distances rescaled to **64 bits** whatever the hash
//! size (0 = identical, 32 = unrelated on average), so one threshold fits
//! all kinds.
//!
//! ## What is stored, and why (measured)
//!
//! Every image gets `dhash256` (gradient hash, 16×16) and `ddhash64` (double
//! gradient, 8×8), each also on the mirrored picture (`…-mirror`), after
//! trimming uniform frames. [`hash_distance`] is the smallest distance over
//! both kinds, plain or mirrored.
//!
//! Measured on 10 real photographs (tests/fixtures/hash) × 15 near-duplicate
//! variants, against 1,440 pairs of different pictures
//! (`cargo test --test hash_suite measure -- --ignored --nocapture`):
//!
//! | variant | largest distance |
//! |---|---|
//! | resize ×0.25, ×0.5 + JPEG q50, JPEG q20 | 5 |
//! | greyscale, brightness +40, contrast +30 | 8 |
//! | horizontal flip (via the mirror hash) | 0 |
//! | text watermark band | 7 |
//! | 10 % white border (trimmed) | 11 |
//! | crop to 90 % (centred) | 10 |
//! | rotation 2° / 5° | 13 / 23 |
//! | crop to 80 % / 70 %, 90 % off-centre | 21 / 26 / 19 |
//! | **different pictures** | **min 13, 1st percentile 16, median 28** |
//!
//! Candidates rejected by the same measurement: `image_hasher`'s DCT +
//! mean hash (pHash as configured by `preproc_dct` with `Mean`) puts
//! different pictures at distance 0 (the DC term dominates the mean);
//! DCT + median (`phash64`/`phash256`) separates well but misses flips
//! without a mirror hash and tolerates watermarks and crops worse; `ahash`,
//! `mhash` and `blockhash` let different pictures come closer (min 9–13).
//!
//! Thresholds: [`STRICT_MATCH_DISTANCE`] (8) catches re-encodes, resizes,
//! recolouring, flips and watermarks with no false match in the
//! measurement; [`LOOSE_MATCH_DISTANCE`] (12) also catches small crops and
//! frames, still with no false match but a thin margin (the closest
//! different pair is 13): treat it as "probably" and confirm with the
//! embedding. Larger crops and rotations are beyond perceptual hashes; CLIP
//! embeddings find those.

pub mod perceptual;

use sha2::{Digest, Sha256};

use crate::store::PerceptualHash;
pub use perceptual::{perceptual_hashes, trim_uniform_border, HashSpec, MIRROR_SUFFIX, STORED};

/// At or under this [`hash_distance`], two pictures are the same picture
/// (re-encoded, resized, recoloured, flipped or watermarked).
pub const STRICT_MATCH_DISTANCE: u32 = 8;

/// At or under this [`hash_distance`], two pictures are probably the same
/// (also cropped by up to ~10 % or framed); confirm with the embedding.
pub const LOOSE_MATCH_DISTANCE: u32 = 12;

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Number of differing bits; `None` when the lengths differ.
pub fn hamming(a: &[u8], b: &[u8]) -> Option<u32> {
    (a.len() == b.len()).then(|| a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum())
}

/// Hamming distance rescaled to a 64-bit hash, rounded (`None` for
/// different lengths or empty hashes).
pub fn normalised_hamming(a: &[u8], b: &[u8]) -> Option<u32> {
    let bits = u32::try_from(a.len())
        .ok()?
        .checked_mul(8)
        .filter(|b| *b > 0)?;
    let distance = hamming(a, b)?;
    Some((distance * 64 + bits / 2) / bits)
}

/// The best (smallest) distance between two images' hashes, on the 64-bit
/// scale, over the kinds both have; a mirrored hash of one is compared with
/// the plain hash of the other so flipped copies match. `None` when they
/// share no kind.
pub fn hash_distance(a: &[PerceptualHash], b: &[PerceptualHash]) -> Option<u32> {
    a.iter()
        .filter(|h| !h.kind.ends_with(MIRROR_SUFFIX))
        .flat_map(|ha| {
            let mirror_kind = format!("{}{MIRROR_SUFFIX}", ha.kind);
            let plain =
                find_kind(b, &ha.kind).and_then(|hb| normalised_hamming(&ha.bits, &hb.bits));
            let mirrored =
                find_kind(b, &mirror_kind).and_then(|hb| normalised_hamming(&ha.bits, &hb.bits));
            [plain, mirrored]
        })
        .flatten()
        .min()
}

fn find_kind<'a>(set: &'a [PerceptualHash], kind: &str) -> Option<&'a PerceptualHash> {
    set.iter().find(|h| h.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(kind: &str, bits: &[u8]) -> PerceptualHash {
        PerceptualHash {
            kind: kind.to_owned(),
            bits: bits.to_vec(),
        }
    }

    #[test]
    fn sha256_of_known_input() {
        assert_eq!(
            hex::encode(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hamming_counts_bits_and_refuses_mismatched_sizes() {
        assert_eq!(hamming(&[0b1010_1010, 0xff], &[0b0101_0101, 0xff]), Some(8));
        assert_eq!(hamming(&[1], &[1, 2]), None);
        assert_eq!(hamming(&[], &[]), Some(0));
    }

    #[test]
    fn normalised_hamming_rescales_to_64_bits() {
        assert_eq!(normalised_hamming(&[0xff; 8], &[0x00; 8]), Some(64));
        assert_eq!(normalised_hamming(&[0xff; 32], &[0x00; 32]), Some(64));
        // 16 of 256 bits = 4 on the 64-bit scale.
        let mut b = [0u8; 32];
        b[0] = 0xff;
        b[1] = 0xff;
        assert_eq!(normalised_hamming(&[0u8; 32], &b), Some(4));
        assert_eq!(normalised_hamming(&[], &[]), None);
    }

    #[test]
    fn hash_distance_takes_the_best_kind_and_the_mirror() {
        let a = [hash("dhash256", &[0x00; 32]), hash("ddhash64", &[0x00; 8])];
        let b = [
            hash("dhash256", &[0xff; 32]),
            hash("dhash256-mirror", &[0x01; 32]),
            hash("ddhash64", &[0x0f; 8]),
            hash("ddhash64-mirror", &[0xff; 8]),
        ];
        // Best: a's dhash256 against b's mirrored dhash256 (1 bit of 8 → 8 of 64).
        assert_eq!(hash_distance(&a, &b), Some(8));
        assert_eq!(hash_distance(&a, &[hash("phash64", &[0; 8])]), None);
        assert_eq!(hash_distance(&[], &b), None);
    }
}
