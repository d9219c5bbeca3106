//! JPEG specifics: a completeness check, and decoding a large JPEG at a
//! reduced size.
//!
//! **Reduced size.** Nothing provenance computes from a picture needs more
//! than [`MIN_DECODED_SIDE`] pixels on its longest side (the keypoint
//! pyramid starts at 512, the hashes and the model at 224 or less), so a
//! large JPEG is decoded at 1/2, 1/4 or 1/8 of its size by scaling its DCT
//! (`jpeg-decoder`; the image crate's decoder cannot): a 24-megapixel photo
//! costs a quarter of the memory and of the decoding time, a
//! 100-megapixel one a sixteenth. Colour types that decoder cannot give as
//! RGB or grey (CMYK, 16-bit) are decoded at full size as before.
//!
//! **Completeness.** The JPEG decoder is lenient: a file cut short
//! decodes into a half-grey picture without complaint, and such a picture
//! must not be stored as if it were the image. A complete JPEG has an
//! end-of-image marker (FF D9) after its first scan; entropy-coded data
//! never contains FF D9 (FF is always followed by 00 or a restart marker).

use std::panic::{catch_unwind, AssertUnwindSafe};

use image::{DynamicImage, GrayImage, RgbImage};
use jpeg_decoder::PixelFormat;

/// The least longest side a large JPEG is decoded at: twice the keypoint
/// pyramid's base side, so its first level is still a true downscale.
pub const MIN_DECODED_SIDE: u32 = 1024;

/// The DCT scale denominator (1, 2, 4 or 8) for a JPEG of `width` ×
/// `height`: the largest that keeps the longest side at least
/// [`MIN_DECODED_SIDE`].
pub fn scale_denominator(width: u32, height: u32) -> u32 {
    let longest = width.max(height);
    [8, 4, 2]
        .into_iter()
        .find(|d| longest / d >= MIN_DECODED_SIDE)
        .unwrap_or(1)
}

/// Decodes the JPEG `bytes` (`width` × `height` by its header) at
/// 1/`denominator` of its size. `None` when that decoder cannot (a colour
/// type other than RGB or grey, an error, even a panic): the caller then
/// decodes at full size, so nothing decodable is lost.
pub fn decode_scaled(
    bytes: &[u8],
    width: u32,
    height: u32,
    denominator: u32,
) -> Option<DynamicImage> {
    let decode = || {
        let mut decoder = jpeg_decoder::Decoder::new(bytes);
        let wanted = |side: u32| u16::try_from(side.div_ceil(denominator)).ok();
        let (w, h) = decoder.scale(wanted(width)?, wanted(height)?).ok()?;
        let format = decoder.info()?.pixel_format;
        if !matches!(format, PixelFormat::RGB24 | PixelFormat::L8) {
            return None;
        }
        let pixels = decoder.decode().ok()?;
        let (w, h) = (u32::from(w), u32::from(h));
        match format {
            PixelFormat::RGB24 => RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8),
            _ => GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8),
        }
    };
    catch_unwind(AssertUnwindSafe(decode)).ok().flatten()
}

/// False when the JPEG's scan data is not followed by an end-of-image
/// marker (the file was cut short). Walks the marker segments to the first
/// start-of-scan, so an end marker inside an EXIF thumbnail does not count.
/// Anything unexpected in the marker walk is left to the decoder (true).
pub fn is_complete(bytes: &[u8]) -> bool {
    let mut i = 2; // after the start-of-image marker
    loop {
        let Some(&[ff, marker]) = bytes
            .get(i..i + 2)
            .and_then(|m| <&[u8; 2]>::try_from(m).ok())
        else {
            return false; // ran out before the first scan
        };
        if ff != 0xFF {
            return true;
        }
        match marker {
            0xFF => i += 1,
            0x01 | 0xD0..=0xD8 => i += 2,
            0xD9 => return false,
            _ => {
                let Some(len) = bytes
                    .get(i + 2..i + 4)
                    .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
                else {
                    return false;
                };
                if marker == 0xDA {
                    let scan = bytes.get(i + 2 + len..).unwrap_or_default();
                    return scan.windows(2).any(|w| w == [0xFF, 0xD9]);
                }
                i += 2 + len;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo() -> Vec<u8> {
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/hash/astronaut.jpg"
        ))
        .unwrap()
    }

    #[test]
    fn a_whole_jpeg_is_complete() {
        assert!(is_complete(&photo()));
        let mut trailing = photo();
        trailing.extend_from_slice(b"trailing garbage after the end marker");
        assert!(is_complete(&trailing));
    }

    #[test]
    fn a_cut_jpeg_is_not() {
        let photo = photo();
        for len in [4, 200, 2000, photo.len() / 2, photo.len() - 2] {
            assert!(!is_complete(&photo[..len]), "cut at {len}");
        }
    }

    #[test]
    fn odd_marker_walks_are_left_to_the_decoder() {
        assert!(is_complete(&[0xFF, 0xD8, 0x12, 0x34]));
        assert!(!is_complete(&[0xFF, 0xD8]));
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    /// A `width` × `height` JPEG (grey or colour): the astronaut photo
    /// stretched over it.
    fn large_jpeg(width: u32, height: u32, grey: bool) -> Vec<u8> {
        let photo = image::load_from_memory(&photo()).unwrap();
        let large = photo.resize_exact(width, height, image::imageops::FilterType::Triangle);
        let large = match grey {
            true => DynamicImage::ImageLuma8(large.to_luma8()),
            false => DynamicImage::ImageRgb8(large.to_rgb8()),
        };
        let mut out = Vec::new();
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
        large.write_with_encoder(encoder).unwrap();
        out
    }

    /// `jpeg` with the EXIF segment (APP1) of `tests/fixtures/clip/images/
    /// exif_rotated.jpg` (orientation 6: a quarter turn clockwise).
    fn with_rotation(jpeg: &[u8]) -> Vec<u8> {
        let donor = fixture("clip/images/exif_rotated.jpg");
        let mut i = 2;
        let app1 = loop {
            let len = usize::from(u16::from_be_bytes([donor[i + 2], donor[i + 3]]));
            if donor[i + 1] == 0xE1 {
                break &donor[i..i + 2 + len];
            }
            i += 2 + len;
        };
        [&jpeg[..2], app1, &jpeg[2..]].concat()
    }

    #[test]
    fn the_scale_keeps_the_longest_side_at_1024_or_more() {
        assert_eq!(scale_denominator(1600, 1200), 1);
        assert_eq!(scale_denominator(2047, 100), 1);
        assert_eq!(scale_denominator(2048, 1536), 2);
        assert_eq!(scale_denominator(1536, 4096), 4);
        assert_eq!(scale_denominator(12_000, 8000), 8);
    }

    #[test]
    fn a_large_jpeg_is_decoded_smaller_with_its_true_size_and_picture() {
        let bytes = large_jpeg(4096, 3072, false);
        let decoded = super::super::decode(&bytes, &super::super::DecodeLimits::default()).unwrap();
        assert_eq!((decoded.width, decoded.height), (4096, 3072));
        assert_eq!((decoded.image.width(), decoded.image.height()), (1024, 768));
        // The same picture as a full decode shrunk: a few grey levels apart.
        let full = image::load_from_memory(&bytes).unwrap();
        let shrunk = full.resize_exact(1024, 768, image::imageops::FilterType::Triangle);
        let (a, b) = (decoded.image.to_luma8(), shrunk.to_luma8());
        let mean_difference = a
            .pixels()
            .zip(b.pixels())
            .map(|(p, q)| u64::from(p[0].abs_diff(q[0])))
            .sum::<u64>()
            / u64::from(a.width() * a.height());
        assert!(mean_difference <= 3, "mean difference {mean_difference}");
    }

    #[test]
    fn a_rotated_large_jpeg_is_turned_and_keeps_its_true_size() {
        let bytes = with_rotation(&large_jpeg(4096, 2048, false));
        let decoded = super::super::decode(&bytes, &super::super::DecodeLimits::default()).unwrap();
        assert_eq!((decoded.width, decoded.height), (2048, 4096));
        assert_eq!((decoded.image.width(), decoded.image.height()), (512, 1024));
    }

    #[test]
    fn grey_is_scaled_and_cmyk_is_left_to_the_full_decoder() {
        let grey = large_jpeg(2400, 2400, true);
        let scaled = decode_scaled(&grey, 2400, 2400, 2).unwrap();
        assert!(matches!(scaled, DynamicImage::ImageLuma8(_)));
        assert_eq!((scaled.width(), scaled.height()), (1200, 1200));
        let cmyk = fixture("clip/images/cmyk.jpg");
        let (w, h) = image::load_from_memory(&cmyk)
            .map(|i| (i.width(), i.height()))
            .unwrap();
        assert!(decode_scaled(&cmyk, w, h, 2).is_none());
        assert!(decode_scaled(&cmyk[..cmyk.len() / 3], w, h, 2).is_none());
    }
}
