//! The CPU work a scan does on the bytes of each new image, as one pure
//! function: decode, perceptual hashes, thumbnail, keypoint features and,
//! when embedding, the model input. The prepare stage runs it on a worker
//! thread; the scan benchmark (`scan_throughput prepare`) runs the same
//! function alone, so "the slowest stage" is measured on the same work.

use crate::copy_index::{Terms, TERMS_KIND};
use crate::decode::{
    decode, embedded_credits, read_content_credentials, DecodeError, DecodeLimits, Decoded,
    EmbeddedCredits, ExifSummary,
};
use crate::embed::Embedder;
use crate::hash::colour_layout;
use crate::hash::perceptual_hashes;
use crate::model::{ImageFeatures, PerceptualHash};
use crate::thumbnail::thumbnail_jpeg;
use crate::verify::{self, VerifySettings};

/// Longest side of the stored preview, in pixels.
pub const THUMBNAIL_SIDE: u32 = 160;

/// What the scan keeps of one decoded image (the picture itself is not
/// kept: only the model input travels on).
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Format sniffed from the bytes.
    pub format: String,
    /// Width after EXIF orientation.
    pub width: u32,
    /// Height after EXIF orientation.
    pub height: u32,
    /// Origin-related EXIF fields.
    pub exif: ExifSummary,
    /// The credits the file's XMP (or IIM) carries and its Content
    /// Credentials (none when it has none; an XMP packet too large or
    /// broken is left out).
    pub embedded: Option<EmbeddedCredits>,
    /// Perceptual hashes (none for pictures too smooth to hash).
    pub hashes: Vec<PerceptualHash>,
    /// The stored preview (`None` if it could not be encoded).
    pub thumbnail: Option<Vec<u8>>,
    /// Keypoint features for `match`'s verifier, and their copy index terms.
    pub features: Vec<ImageFeatures>,
    /// Model input, when an embedder is given.
    pub pixels: Option<Vec<f32>>,
}

/// Decodes `bytes` and computes everything the store keeps about the
/// picture; the model input too when `embedder` is given.
pub fn analyse(
    bytes: &[u8],
    limits: &DecodeLimits,
    embedder: Option<&dyn Embedder>,
) -> Result<Analysis, DecodeError> {
    let Decoded {
        image,
        format,
        width,
        height,
        exif,
    } = decode(bytes, limits)?;
    let keypoints = verify::extract(&image, VerifySettings::default().max_keypoints);
    let hashes = perceptual_hashes(&image);
    let mut features = vec![
        ImageFeatures {
            kind: verify::FEATURE_KIND.to_string(),
            bytes: verify::encode(&keypoints),
        },
        ImageFeatures {
            kind: TERMS_KIND.to_string(),
            bytes: Terms::of(&keypoints).encode(),
        },
    ];
    // Too smooth for a perceptual hash: its colour layout stands in.
    if hashes.is_empty() {
        features.push(ImageFeatures {
            kind: colour_layout::KIND.to_string(),
            bytes: colour_layout::colour_layout(&image),
        });
    }
    let embedded = with_content_credentials(
        embedded_credits(bytes).unwrap_or_else(|e| {
            tracing::debug!(error = %e, "ignoring the file's XMP");
            None
        }),
        bytes,
    );
    Ok(Analysis {
        format,
        width,
        height,
        exif,
        embedded,
        hashes,
        thumbnail: thumbnail_jpeg(&image, THUMBNAIL_SIDE).ok(),
        features,
        pixels: embedder.map(|e| e.preprocess(&image)),
    })
}

/// `credits`, with the Content Credentials `bytes` carry, if any.
fn with_content_credentials(
    credits: Option<EmbeddedCredits>,
    bytes: &[u8],
) -> Option<EmbeddedCredits> {
    let Some(content_credentials) = read_content_credentials(bytes) else {
        return credits;
    };
    Some(EmbeddedCredits {
        content_credentials: Some(content_credentials),
        ..credits.unwrap_or_default()
    })
}
