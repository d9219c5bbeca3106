//! Perceptual hashes with `image_hasher`: the algorithms measured for this
//! project ([`CANDIDATES`]) and the ones stored ([`STORED`]). A hash of the
//! mirrored picture is kept too, so a flipped copy still matches.

use image::DynamicImage;
use image_hasher::{HashAlg, HasherConfig};

use crate::store::PerceptualHash;

/// How one perceptual hash is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashSpec {
    /// Stored kind name, e.g. `phash64`.
    pub kind: &'static str,
    /// The `image_hasher` algorithm.
    pub alg: HashAlg,
    /// Hash width and height in cells (bits = width × height for most algorithms).
    pub size: (u32, u32),
    /// DCT preprocessing (turns `Mean` into the classic pHash).
    pub dct: bool,
}

impl HashSpec {
    /// Hashes a picture with this spec.
    pub fn hash(&self, image: &DynamicImage) -> Vec<u8> {
        let mut config = HasherConfig::new()
            .hash_alg(self.alg)
            .hash_size(self.size.0, self.size.1);
        if self.dct {
            config = config.preproc_dct();
        }
        config.to_hasher().hash_image(image).as_bytes().to_vec()
    }
}

const fn spec(kind: &'static str, alg: HashAlg, size: u32, dct: bool) -> HashSpec {
    HashSpec {
        kind,
        alg,
        size: (size, size),
        dct,
    }
}

/// Every algorithm the measurement (`tests/hash_measure.rs`) compares.
pub const CANDIDATES: [HashSpec; 8] = [
    spec("phash64", HashAlg::Mean, 8, true),
    spec("phash256", HashAlg::Mean, 16, true),
    spec("dhash64", HashAlg::Gradient, 8, false),
    spec("dhash256", HashAlg::Gradient, 16, false),
    spec("ddhash64", HashAlg::DoubleGradient, 8, false),
    spec("ahash64", HashAlg::Mean, 8, false),
    spec("mhash64", HashAlg::Median, 8, false),
    spec("blockhash64", HashAlg::Blockhash, 8, false),
];

/// The hashes stored for every image (chosen by measurement, see [`crate::hash`]).
pub const STORED: [HashSpec; 2] = [
    spec("phash64", HashAlg::Mean, 8, true),
    spec("dhash64", HashAlg::Gradient, 8, false),
];

/// Suffix of the kind of a hash computed on the mirrored picture.
pub const MIRROR_SUFFIX: &str = "-mirror";

/// The stored hashes of a picture: each of [`STORED`], and each again on the
/// horizontally mirrored picture (kind + [`MIRROR_SUFFIX`]).
pub fn perceptual_hashes(image: &DynamicImage) -> Vec<PerceptualHash> {
    let mirrored = image.fliph();
    STORED
        .iter()
        .flat_map(|spec| {
            [
                PerceptualHash {
                    kind: spec.kind.to_owned(),
                    bits: spec.hash(image),
                },
                PerceptualHash {
                    kind: format!("{}{MIRROR_SUFFIX}", spec.kind),
                    bits: spec.hash(&mirrored),
                },
            ]
        })
        .collect()
}
