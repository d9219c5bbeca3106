//! Stored form of [`Features`]: a compact byte string, kept beside the
//! perceptual hashes as a `(kind, bytes)` pair of kind [`FEATURE_KIND`].
//!
//! Layout (little-endian): version `u8` = 1, width `u16`, height `u16`,
//! count `u16`, then per keypoint x `u16`, y `u16`, angle `u8`, level `u8`,
//! 32 descriptor bytes (38 bytes each: 256 keypoints ≈ 9.7 KB).

use super::brief::DESCRIPTOR_BYTES;
use super::features::{Features, Keypoint};
use super::VerifyError;

/// Kind name of stored keypoint features (format version 1).
pub const FEATURE_KIND: &str = "orb256-v1";
const VERSION: u8 = 1;
const HEADER: usize = 7;
const PER_KEYPOINT: usize = 6 + DESCRIPTOR_BYTES;

/// The bytes to store for `features`.
pub fn encode(features: &Features) -> Vec<u8> {
    let count = features.keypoints.len().min(usize::from(u16::MAX));
    let mut out = Vec::with_capacity(HEADER + count * PER_KEYPOINT);
    out.push(VERSION);
    out.extend_from_slice(&features.width.to_le_bytes());
    out.extend_from_slice(&features.height.to_le_bytes());
    out.extend_from_slice(&(count as u16).to_le_bytes());
    for k in &features.keypoints[..count] {
        out.extend_from_slice(&k.x.to_le_bytes());
        out.extend_from_slice(&k.y.to_le_bytes());
        out.push(k.angle);
        out.push(k.level);
        for word in k.descriptor {
            out.extend_from_slice(&word.to_le_bytes());
        }
    }
    out
}

/// Features back from stored bytes.
pub fn decode(bytes: &[u8]) -> Result<Features, VerifyError> {
    let Some((&version, rest)) = bytes.split_first() else {
        return Err(VerifyError::Truncated { len: 0 });
    };
    if version != VERSION {
        return Err(VerifyError::UnknownVersion(version));
    }
    if rest.len() < HEADER - 1 {
        return Err(VerifyError::Truncated { len: bytes.len() });
    }
    let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let (width, height, count) = (u16_at(rest, 0), u16_at(rest, 2), u16_at(rest, 4));
    let body = &rest[HEADER - 1..];
    if body.len() != usize::from(count) * PER_KEYPOINT {
        return Err(VerifyError::Truncated { len: bytes.len() });
    }
    let keypoints = body
        .chunks_exact(PER_KEYPOINT)
        .map(|c| {
            let descriptor = std::array::from_fn(|w| {
                let mut word = [0u8; 8];
                word.copy_from_slice(&c[6 + 8 * w..14 + 8 * w]);
                u64::from_le_bytes(word)
            });
            Keypoint {
                x: u16_at(c, 0),
                y: u16_at(c, 2),
                angle: c[4],
                level: c[5],
                descriptor,
            }
        })
        .collect();
    Ok(Features {
        width,
        height,
        keypoints,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Features {
        Features {
            width: 512,
            height: 300,
            keypoints: (0..5u8)
                .map(|i| Keypoint {
                    x: u16::from(i) * 100 + 1,
                    y: 299 - u16::from(i),
                    angle: i * 50,
                    level: i % 4,
                    descriptor: [u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15); 4],
                })
                .collect(),
        }
    }

    #[test]
    fn round_trips() {
        let bytes = encode(&sample());
        assert_eq!(bytes.len(), 7 + 5 * 38);
        assert_eq!(decode(&bytes).unwrap(), sample());
        assert_eq!(
            decode(&encode(&Features::default())).unwrap(),
            Features::default()
        );
    }

    #[test]
    fn refuses_damaged_bytes() {
        let bytes = encode(&sample());
        assert!(matches!(decode(&[]), Err(VerifyError::Truncated { .. })));
        assert!(matches!(
            decode(&bytes[..bytes.len() - 1]),
            Err(VerifyError::Truncated { .. })
        ));
        assert!(matches!(
            decode(&bytes[..4]),
            Err(VerifyError::Truncated { .. })
        ));
        let mut other = bytes.clone();
        other[0] = 2;
        assert!(matches!(
            decode(&other),
            Err(VerifyError::UnknownVersion(2))
        ));
    }
}
