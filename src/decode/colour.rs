//! Any decoded picture → 8-bit RGB, the input CLIP preprocessing expects.

use image::{DynamicImage, RgbImage};

/// Converts any picture to 8-bit RGB the way the embedder expects.
///
/// * 16-bit samples become 8-bit by rounding (`(v + 128) / 257`).
/// * Grey is replicated into R, G and B; palettes are already expanded by
///   the decoders; CMYK JPEGs are converted to RGB by the JPEG decoder.
/// * **Alpha is composited over white**: `out = (c·a + 255·(255 − a) + 127) / 255`
///   in integers. Transparent regions then look like the same picture
///   flattened onto a white page (what most sites do when re-encoding a PNG
///   as JPEG), rather than showing whatever colour hides under alpha = 0.
///   The Python reference (`scripts/gen_clip_fixtures.py`) does exactly the
///   same before handing the picture to `CLIPImageProcessor`.
pub fn to_rgb8(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    let (width, height) = rgba.dimensions();
    let mut out = RgbImage::new(width, height);
    for (dst, src) in out.pixels_mut().zip(rgba.pixels()) {
        let alpha = u32::from(src[3]);
        for channel in 0..3 {
            let c = u32::from(src[channel]);
            // At most 255, so the cast cannot truncate.
            dst[channel] = ((c * alpha + 255 * (255 - alpha) + 127) / 255) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_is_composited_over_white() {
        let mut rgba = image::RgbaImage::new(3, 1);
        rgba.put_pixel(0, 0, image::Rgba([10, 20, 30, 255]));
        rgba.put_pixel(1, 0, image::Rgba([10, 20, 30, 0]));
        rgba.put_pixel(2, 0, image::Rgba([0, 100, 200, 128]));
        let rgb = to_rgb8(&DynamicImage::ImageRgba8(rgba));
        assert_eq!(rgb.get_pixel(0, 0).0, [10, 20, 30]);
        assert_eq!(rgb.get_pixel(1, 0).0, [255, 255, 255]);
        // 0·128 + 255·127 = 32385 → (32385 + 127) / 255 = 127.
        assert_eq!(rgb.get_pixel(2, 0).0, [127, 177, 227]);
    }

    #[test]
    fn sixteen_bit_grey_rounds_to_eight_bits() {
        let grey =
            image::ImageBuffer::<image::Luma<u16>, _>::from_raw(2, 1, vec![65535u16, 386]).unwrap();
        let rgb = to_rgb8(&DynamicImage::ImageLuma16(grey));
        assert_eq!(rgb.get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(rgb.get_pixel(1, 0).0, [2, 2, 2]);
    }
}
