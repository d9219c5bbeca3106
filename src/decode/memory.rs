//! How much memory decoding and analysing a picture takes, told from its
//! header alone, so that the decodes running at once can be kept within a
//! budget (a 389 KB PNG can hold 100 million RGBA pixels: 400 MB decoded).

use std::io::Cursor;

use image::{ImageDecoder, ImageReader};

use super::sniff_format;

/// Peak memory of decoding and analysing a picture, as a multiple of its
/// decoded size: the pixels, the working copies made while analysing them
/// (a colour conversion, the keypoint pyramid's first resize, the hashes'
/// grey copy) and the decoder's own buffers. Measured: a 9,999 × 9,999
/// RGBA PNG (381 MiB decoded) peaks at 1,071 MiB resident for the whole
/// process, ~35 MiB of it the process itself (BENCHMARKS.md, "Decode
/// memory"): 2.7×; 3 leaves a margin.
pub const ANALYSIS_FACTOR: u64 = 3;

/// Memory every decode needs whatever its size (decoder state, the
/// features and the thumbnail being encoded).
pub const BASE_BYTES: u64 = 8 * 1024 * 1024;

/// The memory decoding and analysing `bytes` needs at its peak, from the
/// header's dimensions and colour type; [`BASE_BYTES`] when the header
/// cannot be read (the decode then fails at once).
pub fn decode_memory_needed(bytes: &[u8]) -> u64 {
    // Header parsing runs on the caller's (async) thread: a decoder bug
    // must not take it down; the decode proper then reports the file.
    let size = std::panic::catch_unwind(|| decoded_size(bytes))
        .ok()
        .flatten();
    size.map_or(BASE_BYTES, |size| {
        size.saturating_mul(ANALYSIS_FACTOR)
            .saturating_add(BASE_BYTES)
    })
}

/// Width × height × bytes per pixel of the decoded picture, per its header
/// (at the reduced size a large JPEG is decoded at).
fn decoded_size(bytes: &[u8]) -> Option<u64> {
    let format = sniff_format(bytes)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.no_limits();
    let decoder = reader.into_decoder().ok()?;
    let (width, height) = decoder.dimensions();
    let per_pixel = u64::from(decoder.color_type().bytes_per_pixel());
    // A large JPEG is decoded at a reduced size; should that fail it is
    // decoded whole, so the full size is reserved for the colour types
    // the reduced decoder refuses (CMYK, 16-bit).
    let shrink = match (format, decoder.color_type()) {
        (image::ImageFormat::Jpeg, image::ColorType::Rgb8 | image::ColorType::L8) => {
            u64::from(super::jpeg::scale_denominator(width, height))
        }
        _ => 1,
    };
    let side = |s: u32| u64::from(s).div_ceil(shrink);
    Some(side(width) * side(height) * per_pixel)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32, colour: image::ExtendedColorType) -> Vec<u8> {
        let channels = colour.channel_count() as usize;
        let pixels = vec![7u8; width as usize * height as usize * channels];
        let mut out = Vec::new();
        image::ImageEncoder::write_image(
            image::codecs::png::PngEncoder::new(&mut out),
            &pixels,
            width,
            height,
            colour,
        )
        .unwrap();
        out
    }

    #[test]
    fn the_need_follows_the_pixels_and_channels_of_the_header() {
        let rgba = png(1000, 500, image::ExtendedColorType::Rgba8);
        let grey = png(1000, 500, image::ExtendedColorType::L8);
        assert_eq!(decode_memory_needed(&rgba), 1000 * 500 * 4 * 3 + BASE_BYTES);
        assert_eq!(decode_memory_needed(&grey), 1000 * 500 * 3 + BASE_BYTES);
    }

    #[test]
    fn a_large_jpeg_needs_what_its_reduced_decode_needs() {
        let pixels = image::RgbImage::from_fn(4096, 2048, |x, y| image::Rgb([x as u8, y as u8, 9]));
        let mut jpeg = Vec::new();
        pixels
            .write_with_encoder(image::codecs::jpeg::JpegEncoder::new(&mut jpeg))
            .unwrap();
        assert_eq!(decode_memory_needed(&jpeg), 1024 * 512 * 3 * 3 + BASE_BYTES);
    }

    #[test]
    fn an_unreadable_header_needs_only_the_base() {
        assert_eq!(decode_memory_needed(b"not a picture"), BASE_BYTES);
        assert_eq!(decode_memory_needed(&[0x89, b'P', b'N', b'G']), BASE_BYTES);
    }
}
