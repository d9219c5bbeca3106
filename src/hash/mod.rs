//! Hashing decoded images: SHA-256 of the exact bytes (exact copies) and
//! perceptual hashes (near-duplicates: resized, re-encoded, cropped a little,
//! mirrored, recoloured). Pure functions, no I/O.
//!
//! Distances are Hamming distances rescaled to **64 bits** whatever the hash
//! size, so one threshold fits all kinds.
//! THRESHOLDS-PLACEHOLDER

pub mod perceptual;

use sha2::{Digest, Sha256};

use crate::store::PerceptualHash;
pub use perceptual::{perceptual_hashes, HashSpec, MIRROR_SUFFIX, STORED};

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
