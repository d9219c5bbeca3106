//! Thumbnails for self-contained reports: a small JPEG inlined as a
//! `data:` URI, so the HTML file needs nothing from anywhere else.

use std::io::Cursor;

use base64::Engine;
use image::codecs::jpeg::JpegEncoder;
use image::DynamicImage;

use super::ReportError;

/// JPEG quality of thumbnails: small files, faces and text still readable.
const THUMBNAIL_JPEG_QUALITY: u8 = 75;

/// A JPEG of the image scaled to fit within `max_side` × `max_side`
/// (never enlarged; aspect ratio kept; transparency flattened), as a
/// `data:image/jpeg;base64,…` URI.
pub fn thumbnail_data_uri(image: &DynamicImage, max_side: u32) -> Result<String, ReportError> {
    Ok(jpeg_data_uri(&thumbnail_jpeg(image, max_side)?))
}

/// The thumbnail's JPEG bytes, e.g. to keep in the store at scan time so a
/// later report can show matches without fetching them again.
pub fn thumbnail_jpeg(image: &DynamicImage, max_side: u32) -> Result<Vec<u8>, ReportError> {
    let max_side = max_side.max(1);
    let scaled = if image.width() > max_side || image.height() > max_side {
        image.thumbnail(max_side, max_side)
    } else {
        image.clone()
    };
    let rgb = scaled.to_rgb8();
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(Cursor::new(&mut jpeg), THUMBNAIL_JPEG_QUALITY)
        .encode_image(&rgb)
        .map_err(ReportError::Thumbnail)?;
    Ok(jpeg)
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
}
