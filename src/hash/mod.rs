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
//! Every image gets `phash64` — the classic pHash: grey, 16×16, DCT, the
//! 8×8 lowest frequencies compared with their median — and `phash64-mirror`,
//! the same on the mirrored picture, both after trimming uniform frames
//! ([`trim_uniform_border`]). Pictures too smooth to hash (flat colours,
//! soft gradients: [`perceptual::MIN_HASH_DETAIL`]) get no perceptual hash
//! and are left to the embedding. [`hash_distance`] takes the smaller of the
//! plain and the mirrored comparison, so flipped copies match.
//!
//! Measured with `cargo test --test hash_suite measure -- --ignored
//! --nocapture` on 10 real photographs (tests/fixtures/hash) × 15
//! near-duplicate variants, against 1,440 pairs of different pictures; and
//! again with 15 Debian wallpapers and boot splashes added
//! (`PROVENANCE_HASH_EXTRA_DIR`; smooth vignettes and textures, the hard
//! case), 9,600 pairs. Largest distance to the original over the photographs:
//!
//! | variant | largest (median) |
//! |---|---|
//! | resize ×0.25, JPEG q20, brightness +40 | 6 (0–2) |
//! | resize ×0.5 + JPEG q50, contrast +30 | 8 (2–4) |
//! | horizontal flip (via the mirror hash) | 2 (0) |
//! | greyscale | 14 (0) |
//! | 10 % white border (trimmed) | 16 (0) |
//! | text watermark band | 24 (12) |
//! | crop to 90 % centred / off-centre | 20 (12) / 26 (20) |
//! | rotation 2° / 5° | 20 (6) / 22 (14) |
//! | crop to 80 % / 70 % | 30 (22) / 34 (30) |
//! | **different photographs** | **min 18, 1st percentile 20, median 30** |
//! | **different pictures, wallpapers included** | **min 16, 1st percentile 20** |
//!
//! Rejected by the same measurement: gradient hashes (`dhash`, `ddhash`,
//! 64 and 256 bits) catch crops and watermarks better on photographs, but
//! put smooth wallpapers at distance 3 from each other (a bright centre
//! and dark corners is all they see); `ahash`, `mhash` and `blockhash` let
//! different pictures come within 9–13; `image_hasher`'s DCT with the
//! *mean* puts different pictures at distance 0 (the DC term dominates the
//! mean); combining kinds (either agrees / both agree) did not beat
//! `phash64` alone; `phash256` separates more but tolerates less.
//!
//! Thresholds: [`STRICT_MATCH_DISTANCE`] (8) catches re-encodes, resizes,
//! brightness and contrast changes and flips; [`LOOSE_MATCH_DISTANCE`] (14)
//! also catches most greyscale copies, frames, watermarks and ~10 % crops.
//! Neither matched any pair of different pictures in the measurement (the
//! closest pair is at 16). Larger crops and rotations are beyond a
//! perceptual hash: the CLIP embedding finds those.

pub mod colour_layout;
pub mod perceptual;

use sha2::{Digest, Sha256};

use crate::model::PerceptualHash;
pub use perceptual::{
    hash_detail, perceptual_hashes, trim_uniform_border, HashSpec, MIN_HASH_DETAIL, MIRROR_SUFFIX,
    STORED,
};

/// At or under this [`hash_distance`], two pictures are the same picture
/// (re-encoded, resized, brightened, flipped).
pub const STRICT_MATCH_DISTANCE: u32 = 8;

/// At or under this [`hash_distance`], two pictures are probably the same
/// (also greyscaled, framed, watermarked or cropped by ~10 %, in most
/// cases); confirm with the embedding when one is available.
pub const LOOSE_MATCH_DISTANCE: u32 = 14;

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// SHA-1 of `bytes`: not for identity (SHA-256 is), only to compare with
/// the digests the web archive gives its captures.
pub fn sha1(bytes: &[u8]) -> [u8; 20] {
    use sha1::Digest as _;
    sha1::Sha1::digest(bytes).into()
}

/// A SHA-1 as the Wayback CDX API writes digests: RFC 4648 base32.
pub fn archive_digest(sha1: &[u8; 20]) -> String {
    data_encoding::BASE32.encode(sha1)
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
    fn sha1_as_the_archive_writes_it() {
        // SHA-1("abc") = a9993e36…9cd0d89d; its base32 as CDX prints it.
        let digest = sha1(b"abc");
        assert_eq!(
            hex::encode(digest),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(archive_digest(&digest), "VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5");
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
        let a = [hash("phash256", &[0x00; 32]), hash("phash64", &[0x00; 8])];
        let b = [
            hash("phash256", &[0xff; 32]),
            hash("phash256-mirror", &[0x01; 32]),
            hash("phash64", &[0x0f; 8]),
            hash("phash64-mirror", &[0xff; 8]),
        ];
        // Best: a's phash256 against b's mirrored phash256 (32 of 256 bits → 8 of 64).
        assert_eq!(hash_distance(&a, &b), Some(8));
        assert_eq!(hash_distance(&a, &[hash("dhash64", &[0; 8])]), None);
        assert_eq!(hash_distance(&[], &b), None);
    }
}
