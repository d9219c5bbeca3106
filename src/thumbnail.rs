//! Thumbnails: the small JPEG preview the scan stores with each picture,
//! and the `data:` URI that inlines one in a self-contained report.

use std::io::Cursor;

use base64::Engine;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::DynamicImage;

use crate::imageops;

/// A thumbnail could not be encoded.
#[derive(Debug, thiserror::Error)]
#[error("could not encode a thumbnail as JPEG")]
pub struct ThumbnailError(#[source] image::ImageError);

/// JPEG quality of thumbnails: small files, faces and text still readable.
const THUMBNAIL_JPEG_QUALITY: u8 = 75;

/// A JPEG of the image scaled to fit within `max_side` × `max_side`
/// (never enlarged; aspect ratio kept; transparency flattened), as a
/// `data:image/jpeg;base64,…` URI.
pub fn thumbnail_data_uri(image: &DynamicImage, max_side: u32) -> Result<String, ThumbnailError> {
    Ok(jpeg_data_uri(&thumbnail_jpeg(image, max_side)?))
}

/// The thumbnail's JPEG bytes, e.g. to keep in the store at scan time so a
/// later report can show matches without fetching them again.
pub fn thumbnail_jpeg(image: &DynamicImage, max_side: u32) -> Result<Vec<u8>, ThumbnailError> {
    let max_side = max_side.max(1);
    let (width, height) = (image.width(), image.height());
    let rgb = if width > max_side || height > max_side {
        let (w, h) = fit_within(width, height, max_side);
        // A triangle filter widened by the shrink factor: every source
        // pixel counts, as in an area average, at a fraction of the cost
        // of `DynamicImage::thumbnail`.
        imageops::resize_exact(image, w, h, FilterType::Triangle).to_rgb8()
    } else {
        image.to_rgb8()
    };
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(Cursor::new(&mut jpeg), THUMBNAIL_JPEG_QUALITY)
        .encode_image(&rgb)
        .map_err(ThumbnailError)?;
    Ok(jpeg)
}

/// The size of a `width` × `height` picture shrunk to fit `max_side`,
/// aspect ratio kept, no side under one pixel.
fn fit_within(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let ratio = f64::from(max_side) / f64::from(width.max(height));
    let side = |s: u32| ((f64::from(s) * ratio).round() as u32).clamp(1, max_side);
    (side(width), side(height))
}

/// JPEG bytes as a `data:image/jpeg;base64,…` URI.
pub fn jpeg_data_uri(jpeg: &[u8]) -> String {
    let base64 = base64::engine::general_purpose::STANDARD.encode(jpeg);
    format!("data:image/jpeg;base64,{base64}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GenericImageView, Rgba, RgbaImage};

    fn decode(uri: &str) -> DynamicImage {
        let payload = uri.strip_prefix("data:image/jpeg;base64,").unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(payload)
            .unwrap();
        image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg).unwrap()
    }

    #[test]
    fn a_large_image_is_scaled_to_fit_keeping_its_aspect() {
        let big =
            DynamicImage::ImageRgba8(RgbaImage::from_pixel(600, 300, Rgba([200, 30, 30, 128])));
        let uri = thumbnail_data_uri(&big, 160).unwrap();
        let thumb = decode(&uri);
        assert_eq!(thumb.dimensions(), (160, 80));
        // Flattened to RGB, the colour survives JPEG within a margin.
        let px = thumb.to_rgb8().get_pixel(80, 40).0;
        assert!(px[0] > 150 && px[1] < 80 && px[2] < 80, "{px:?}");
    }

    #[test]
    fn a_small_image_is_not_enlarged() {
        let small =
            DynamicImage::ImageRgb8(image::RgbImage::from_pixel(40, 20, image::Rgb([0, 0, 0])));
        let thumb = decode(&thumbnail_data_uri(&small, 160).unwrap());
        assert_eq!(thumb.dimensions(), (40, 20));
    }

    #[test]
    fn extreme_shapes_keep_at_least_one_pixel() {
        assert_eq!(fit_within(10_000, 3, 160), (160, 1));
        assert_eq!(fit_within(3, 10_000, 160), (1, 160));
        assert_eq!(fit_within(1000, 750, 160), (160, 120));
    }

    #[test]
    fn a_photo_thumbnail_looks_like_image_crate_thumbnail() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/hash/coffee.jpg"
        );
        let photo = image::open(path).unwrap();
        let ours = decode(&thumbnail_data_uri(&photo, 160).unwrap()).to_rgb8();
        let theirs = photo.thumbnail(160, 160).to_rgb8();
        assert_eq!(ours.dimensions(), theirs.dimensions());
        let total: u64 = ours
            .as_raw()
            .iter()
            .zip(theirs.as_raw())
            .map(|(a, b)| u64::from(a.abs_diff(*b)))
            .sum();
        let mean = total as f64 / ours.as_raw().len() as f64;
        assert!(mean < 6.0, "mean difference {mean}");
    }
}
