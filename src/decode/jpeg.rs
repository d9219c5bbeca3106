//! A JPEG completeness check. The JPEG decoder is lenient: a file cut short
//! decodes into a half-grey picture without complaint, and such a picture
//! must not be stored as if it were the image. A complete JPEG has an
//! end-of-image marker (FF D9) after its first scan; entropy-coded data
//! never contains FF D9 (FF is always followed by 00 or a restart marker).

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
}
