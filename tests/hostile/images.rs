//! Hostile and awkward image files, built in the test from small parts:
//! truncated and lying headers, decompression bombs, thousand-frame GIFs,
//! 16-bit PNGs, garbage EXIF. Valid images are distinct synthetic pictures
//! (`seed` changes the content, so each has its own SHA-256).

use std::io::{Cursor, Write};

use image::{DynamicImage, ImageBuffer, ImageFormat, Rgb, RgbImage};

/// A synthetic picture: a gradient whose pattern depends on `seed`, with
/// the seed's bytes written into the first rows so no two seeds collide.
pub fn picture(width: u32, height: u32, seed: u32) -> RgbImage {
    let bytes = seed.to_le_bytes();
    ImageBuffer::from_fn(width, height, |x, y| {
        if y < 8 && x < 32 {
            let v = bytes[(x / 8) as usize];
            return Rgb([v, v, v]);
        }
        let v = x.wrapping_mul(7 + seed % 97) ^ y.wrapping_mul(13 + 3 * (seed % 89));
        Rgb([
            (v % 256) as u8,
            ((x + seed * 31) % 256) as u8,
            (y % 256) as u8,
        ])
    })
}

/// A JPEG of [`picture`].
pub fn jpeg(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    picture(width, height, seed)
        .write_with_encoder(encoder)
        .expect("encode jpeg");
    out
}

/// A PNG of [`picture`].
pub fn png(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(picture(width, height, seed))
        .write_to(&mut out, ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}

/// A 16-bit-per-channel RGB PNG.
pub fn png_16bit(width: u32, height: u32) -> Vec<u8> {
    let image: ImageBuffer<Rgb<u16>, Vec<u16>> = ImageBuffer::from_fn(width, height, |x, y| {
        Rgb([(x * 997) as u16, (y * 991) as u16, ((x + y) * 499) as u16])
    });
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb16(image)
        .write_to(&mut out, ImageFormat::Png)
        .expect("encode 16-bit png");
    out.into_inner()
}

/// A valid PNG whose IHDR claims `width × height` (CRC fixed up): a
/// decompression bomb if anyone believed it and allocated.
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(4, 4, 9);
    // Signature (8), length (4), "IHDR" (4), then width and height.
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    bytes
}

/// A valid JPEG whose start-of-frame claims `width × height`.
pub fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = jpeg(16, 16, 9);
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline JPEG has SOF0");
    // Marker (2), length (2), precision (1), height (2), width (2).
    bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    bytes
}

/// A JPEG with an APP1 "Exif" segment right after SOI holding `payload`.
pub fn jpeg_with_app1(payload: &[u8], copies: usize) -> Vec<u8> {
    let plain = jpeg(48, 32, 11);
    let mut out = plain[..2].to_vec();
    for _ in 0..copies {
        let len = u16::try_from(payload.len() + 2 + 6).expect("segment fits");
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(b"Exif\0\0");
        out.extend_from_slice(payload);
    }
    out.extend_from_slice(&plain[2..]);
    out
}

/// EXIF that starts like a TIFF header and then points everywhere.
pub fn garbage_exif() -> Vec<u8> {
    let mut payload = b"II*\0\xff\xff\xff\x7f".to_vec();
    payload.extend((0..2000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    payload
}

/// The largest APP1 segment there is, full of noise.
pub fn oversized_exif() -> Vec<u8> {
    let mut payload = b"MM\0*\0\0\0\x08\xff\xff".to_vec();
    payload.resize(65_535 - 2 - 6, 0x5A);
    payload
}

/// An animated GIF: a `screen`×`screen` canvas and `frames` 1×1 frames.
/// Decoding every frame onto the canvas would take `frames × screen² × 4`
/// bytes; the first frame alone takes `screen² × 4`.
pub fn gif_with_frames(screen: u16, frames: usize) -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&screen.to_le_bytes());
    out.extend_from_slice(&screen.to_le_bytes());
    out.extend_from_slice(&[0x00, 0x00, 0x00]); // no global colour table
    out.extend_from_slice(b"\x21\xFF\x0BNETSCAPE2.0\x03\x01\x00\x00\x00");
    for i in 0..frames {
        let x = (i % usize::from(screen)) as u16;
        out.extend_from_slice(&[0x21, 0xF9, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00]);
        out.push(0x2C);
        out.extend_from_slice(&x.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.push(0x80); // local colour table of 2 entries
        out.extend_from_slice(&[(i % 256) as u8, 0x40, 0x80, 0xFF, 0xFF, 0xFF]);
        out.extend_from_slice(&[0x02, 0x02, 0x44, 0x01, 0x00]);
    }
    out.push(0x3B);
    out
}

/// `size` zero bytes, gzip-compressed (a few kilobytes per megabyte).
pub fn gzip_bomb(size: usize) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1024 * 1024];
    let mut left = size;
    // Starts with a JPEG header so that only the size cap can stop it.
    encoder.write_all(&[0xFF, 0xD8, 0xFF, 0xE0]).expect("gzip");
    while left > 0 {
        let n = left.min(zeros.len());
        encoder.write_all(&zeros[..n]).expect("gzip");
        left -= n;
    }
    encoder.finish().expect("gzip")
}

/// An SVG picture (vector: the decoder does not rasterise it).
pub fn svg() -> Vec<u8> {
    br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><script>alert(1)</script><rect width="100" height="100" fill="red"/></svg>"#.to_vec()
}
