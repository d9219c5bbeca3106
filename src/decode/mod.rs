//! Bytes → picture: the one decoder shared by hashing and CLIP.
//!
//! Every downloaded or local file goes through [`decode`]: the format is
//! sniffed from magic bytes (never trusted from a URL or header), the
//! dimensions are read from the header and checked against
//! [`DecodeLimits`] *before* any pixel is decoded, the first frame of an
//! animation is taken, EXIF orientation is applied, and the origin-related
//! EXIF fields are read. Bad input is a typed [`DecodeError`], never a panic.
//!
//! Colour handling for the embedder lives in [`to_rgb8`]: every colour type
//! (grey, grey+alpha, RGBA, palette, 16-bit, CMYK JPEG) becomes 8-bit RGB,
//! with alpha composited over white (see its doc comment).

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

mod colour;
mod content_credentials;
#[cfg(feature = "runtime")]
mod credentials_reader;
mod exif_fields;
mod iim;
mod jpeg;
mod memory;
mod xmp;

pub use colour::to_rgb8;
pub use content_credentials::{
    ContentCredentials, CredentialsAction, CredentialsValidation, MAX_CREDENTIALS_ITEMS,
};
#[cfg(feature = "runtime")]
pub use credentials_reader::read_content_credentials;
pub use exif_fields::{exif_summary, ExifSummary};
pub use jpeg::MIN_DECODED_SIDE;
pub use memory::decode_memory_needed;
pub use xmp::{embedded_credits, EmbeddedCredits, XmpError, MAX_XMP_BYTES};

/// Bounds on what [`decode`] accepts, checked before decoding pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest width × height accepted (default 100 million pixels: a
    /// 12,000 × 8,000 photo fits, a decompression bomb does not).
    pub max_pixels: u64,
    /// Largest encoded file accepted, in bytes (default 64 MiB).
    pub max_bytes: u64,
    /// Largest width or height accepted (default 40,000 px, enough for
    /// panoramas).
    pub max_dimension: u32,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_pixels: 100_000_000,
            max_bytes: 64 * 1024 * 1024,
            max_dimension: 40_000,
        }
    }
}

/// A decoded picture with what was learnt while decoding it.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The picture, EXIF orientation applied, first frame of animations. A
    /// large JPEG is decoded at 1/2, 1/4 or 1/8 of its size (at least
    /// [`MIN_DECODED_SIDE`] pixels on its longest side), so this may
    /// be smaller than `width` × `height`.
    pub image: DynamicImage,
    /// Format sniffed from the bytes: `jpeg`, `png`, `gif`, `webp`, …
    pub format: String,
    /// The picture's true width after orientation.
    pub width: u32,
    /// The picture's true height after orientation.
    pub height: u32,
    /// Origin-related EXIF fields (empty when absent or unreadable).
    pub exif: ExifSummary,
}

/// Why bytes could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Zero bytes.
    #[error("empty file")]
    Empty,
    /// The bytes are not an image format we know.
    #[error("not an image (unrecognised file signature)")]
    NotAnImage,
    /// A known image format this build cannot decode.
    #[error("unsupported image format: {0}")]
    Unsupported(String),
    /// The file ends before the image does (a cut-short download).
    #[error("truncated {0} image: the file ends before its image data does")]
    Truncated(String),
    /// The file is larger than [`DecodeLimits::max_bytes`].
    #[error("file of {size} bytes exceeds the {limit}-byte limit")]
    TooManyBytes {
        /// File size.
        size: u64,
        /// Limit.
        limit: u64,
    },
    /// The header announces a picture without pixels (0 wide or high).
    #[error("image header announces {width}x{height} pixels")]
    ZeroSize {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
    },
    /// The header announces more pixels (or a longer side) than allowed.
    #[error("image of {width}x{height} exceeds the limit of {limit}")]
    TooLarge {
        /// Width from the header.
        width: u32,
        /// Height from the header.
        height: u32,
        /// The limit hit, in words.
        limit: String,
    },
    /// The bytes claim a format but do not decode as it.
    #[error("corrupt {format} image: {source}")]
    Corrupt {
        /// Sniffed format.
        format: String,
        /// What the decoder said.
        #[source]
        source: image::ImageError,
    },
}

/// The format of `bytes` from their magic bytes, if any known one matches.
pub fn sniff_format(bytes: &[u8]) -> Option<ImageFormat> {
    image::guess_format(bytes).ok()
}

/// Short lower-case name of a format (`jpeg`, `png`, `webp`, …).
pub fn format_name(format: ImageFormat) -> String {
    match format {
        ImageFormat::Jpeg => "jpeg".to_owned(),
        ImageFormat::Tiff => "tiff".to_owned(),
        other => other
            .extensions_str()
            .first()
            .map_or_else(|| format!("{other:?}").to_lowercase(), |e| (*e).to_owned()),
    }
}

/// Decodes `bytes` within `limits`. See the module docs.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<Decoded, DecodeError> {
    let format = check_bytes(bytes, limits)?;
    let name = format_name(format);
    let corrupt = |source| DecodeError::Corrupt {
        format: name.clone(),
        source,
    };
    // Header only: the dimensions are checked before any pixel is decoded.
    let mut probe = ImageReader::with_format(Cursor::new(bytes), format);
    probe.no_limits();
    let (width, height) = probe.into_dimensions().map_err(|e| classify(e, &name))?;
    check_dimensions(width, height, limits)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(image_limits(limits));
    let mut decoder = reader.into_decoder().map_err(|e| classify(e, &name))?;
    let orientation = decoder.orientation().ok();
    let exif = decoder
        .exif_metadata()
        .ok()
        .flatten()
        .map(exif_summary)
        .unwrap_or_default();
    let denominator = match format {
        ImageFormat::Jpeg => jpeg::scale_denominator(width, height),
        _ => 1,
    };
    let scaled = (denominator > 1)
        .then(|| jpeg::decode_scaled(bytes, width, height, denominator))
        .flatten();
    let full_size = scaled.is_none();
    let mut image = match scaled {
        Some(image) => image,
        None => DynamicImage::from_decoder(decoder).map_err(corrupt)?,
    };
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    // A picture decoded at a reduced size keeps its true size.
    let (width, height) = if full_size {
        (image.width(), image.height())
    } else {
        oriented(width, height, orientation)
    };
    Ok(Decoded {
        width,
        height,
        image,
        format: name,
        exif,
    })
}

/// `width` × `height` after `orientation` (a quarter turn swaps them).
fn oriented(width: u32, height: u32, orientation: Option<Orientation>) -> (u32, u32) {
    use Orientation::{Rotate270, Rotate270FlipH, Rotate90, Rotate90FlipH};
    match orientation {
        Some(Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH) => (height, width),
        _ => (width, height),
    }
}

/// Size and signature checks that need no decoder.
fn check_bytes(bytes: &[u8], limits: &DecodeLimits) -> Result<ImageFormat, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let size = bytes.len() as u64;
    if size > limits.max_bytes {
        return Err(DecodeError::TooManyBytes {
            size,
            limit: limits.max_bytes,
        });
    }
    if let Some(name) = unsupported_signature(bytes) {
        return Err(DecodeError::Unsupported(name.to_owned()));
    }
    let format = sniff_format(bytes).ok_or(DecodeError::NotAnImage)?;
    if !format.reading_enabled() {
        return Err(DecodeError::Unsupported(format_name(format)));
    }
    if format == ImageFormat::Jpeg && !jpeg::is_complete(bytes) {
        return Err(DecodeError::Truncated(format_name(format)));
    }
    Ok(format)
}

/// Recognises common image containers the image crate cannot sniff (HEIF).
fn unsupported_signature(bytes: &[u8]) -> Option<&'static str> {
    let brand = bytes.get(4..12)?;
    match brand {
        b"ftypheic" | b"ftypheix" | b"ftyphevc" | b"ftypmif1" | b"ftypmsf1" => Some("heif"),
        _ => None,
    }
}

/// The image crate's own limits, as a second line of defence.
fn image_limits(limits: &DecodeLimits) -> Limits {
    let mut out = Limits::default();
    out.max_image_width = Some(limits.max_dimension);
    out.max_image_height = Some(limits.max_dimension);
    // Worst case: 16-bit RGBA output (8 bytes a pixel) plus decoder scratch.
    out.max_alloc = Some(limits.max_pixels.saturating_mul(8).saturating_add(64 << 20));
    out
}

/// Rejects header dimensions beyond the limits.
fn check_dimensions(width: u32, height: u32, limits: &DecodeLimits) -> Result<(), DecodeError> {
    let too_large = |limit: String| DecodeError::TooLarge {
        width,
        height,
        limit,
    };
    if width == 0 || height == 0 {
        return Err(DecodeError::ZeroSize { width, height });
    }
    if width.max(height) > limits.max_dimension {
        return Err(too_large(format!("{} px a side", limits.max_dimension)));
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(too_large(format!("{} pixels", limits.max_pixels)));
    }
    Ok(())
}

/// Maps an error from opening a decoder (header parsing) to ours.
fn classify(error: image::ImageError, format: &str) -> DecodeError {
    match error {
        image::ImageError::Unsupported(_) => DecodeError::Unsupported(format.to_owned()),
        image::ImageError::Limits(_) => DecodeError::TooLarge {
            width: 0,
            height: 0,
            limit: format!("the decoder's limits ({error})"),
        },
        source => DecodeError::Corrupt {
            format: format.to_owned(),
            source,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_bytes(image: &DynamicImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn limits_are_checked_before_decoding() {
        let limits = DecodeLimits {
            max_pixels: 10,
            ..DecodeLimits::default()
        };
        let bytes = png_bytes(&DynamicImage::new_rgb8(4, 4));
        let err = decode(&bytes, &limits).unwrap_err();
        assert!(
            matches!(
                err,
                DecodeError::TooLarge {
                    width: 4,
                    height: 4,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn byte_limit_applies() {
        let limits = DecodeLimits {
            max_bytes: 8,
            ..DecodeLimits::default()
        };
        let bytes = png_bytes(&DynamicImage::new_rgb8(4, 4));
        assert!(matches!(
            decode(&bytes, &limits),
            Err(DecodeError::TooManyBytes { .. })
        ));
    }

    #[test]
    fn heif_is_named_unsupported() {
        let bytes = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        match decode(bytes, &DecodeLimits::default()) {
            Err(DecodeError::Unsupported(name)) => assert_eq!(name, "heif"),
            other => panic!("unexpected {other:?}"),
        }
    }

    /// AVIF needs the C dav1d decoder, which this build does not have (nor
    /// the AVIF encoder, rav1e, since the `image` features were trimmed):
    /// it must be named unsupported, not mistaken for "not an image".
    #[test]
    fn avif_is_named_unsupported() {
        let bytes = b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf";
        match decode(bytes, &DecodeLimits::default()) {
            Err(DecodeError::Unsupported(name)) => assert_eq!(name, "avif"),
            other => panic!("unexpected {other:?}"),
        }
    }

    /// A PNG whose header claims `width × height` and that has no pixel data.
    fn png_header_only(width: u32, height: u32) -> Vec<u8> {
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend(width.to_be_bytes());
        ihdr.extend(height.to_be_bytes());
        ihdr.extend([8, 2, 0, 0, 0]);
        let crc = crc32(&ihdr);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        out.extend(13u32.to_be_bytes());
        out.extend(&ihdr);
        out.extend(crc.to_be_bytes());
        // A few bytes of (bogus) pixel data and the end marker.
        for (kind, data) in [
            (&b"IDAT"[..], &[0x78, 0x9c, 0x03, 0x00][..]),
            (b"IEND", &[]),
        ] {
            let mut chunk = kind.to_vec();
            chunk.extend(data);
            out.extend((data.len() as u32).to_be_bytes());
            out.extend(&chunk);
            out.extend(crc32(&chunk).to_be_bytes());
        }
        out
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn huge_header_is_refused_before_decoding() {
        let bytes = png_header_only(30_000, 30_000);
        match decode(&bytes, &DecodeLimits::default()) {
            Err(DecodeError::TooLarge { width, height, .. }) => {
                assert_eq!((width, height), (30_000, 30_000));
            }
            other => panic!("unexpected {other:?}"),
        }
        // A GIF logical screen of 30,000 x 30,000 is refused as well.
        let mut gif = b"GIF89a".to_vec();
        gif.extend(30_000u16.to_le_bytes());
        gif.extend(30_000u16.to_le_bytes());
        gif.extend([0, 0, 0, b',', 0, 0, 0, 0]);
        gif.extend(30_000u16.to_le_bytes());
        gif.extend(30_000u16.to_le_bytes());
        gif.extend([0, 2, 2, 0x4c, 0x01, 0, b';']);
        assert!(decode(&gif, &DecodeLimits::default()).is_err());
    }

    #[test]
    fn empty_and_non_image_bytes_are_typed_errors() {
        assert!(matches!(
            decode(b"", &DecodeLimits::default()),
            Err(DecodeError::Empty)
        ));
        assert!(matches!(
            decode(
                b"<html><body>not found</body></html>",
                &DecodeLimits::default()
            ),
            Err(DecodeError::NotAnImage)
        ));
    }

    #[test]
    fn truncated_png_is_corrupt_not_a_panic() {
        let image = DynamicImage::ImageRgb8(image::RgbImage::from_fn(64, 64, |x, y| {
            image::Rgb([x as u8, y as u8, (x * y) as u8])
        }));
        let bytes = png_bytes(&image);
        for cut in [8, 20, 33, bytes.len() / 2, bytes.len() - 13] {
            let err = decode(&bytes[..cut], &DecodeLimits::default()).unwrap_err();
            assert!(
                matches!(err, DecodeError::Corrupt { .. }),
                "cut {cut}: {err:?}"
            );
        }
        // Header of 0 x 0.
        assert!(decode(&png_header_only(0, 0), &DecodeLimits::default()).is_err());
    }

    #[test]
    fn one_pixel_decodes() {
        let bytes = png_bytes(&DynamicImage::new_rgb8(1, 1));
        let decoded = decode(&bytes, &DecodeLimits::default()).unwrap();
        assert_eq!((decoded.width, decoded.height), (1, 1));
        assert_eq!(decoded.format, "png");
    }
}
