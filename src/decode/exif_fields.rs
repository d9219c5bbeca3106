//! The origin-related EXIF fields (DateTimeOriginal, Artist, Copyright).

use serde::{Deserialize, Serialize};

/// EXIF fields that speak to origin, when the file carries them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExifSummary {
    /// `DateTimeOriginal` as written in the file (no time zone is implied).
    pub date_time_original: Option<String>,
    /// `Artist`.
    pub artist: Option<String>,
    /// `Copyright`.
    pub copyright: Option<String>,
}

/// Reads DateTimeOriginal, Artist and Copyright from raw EXIF (TIFF) bytes.
/// Garbage yields an empty summary.
pub fn exif_summary(raw: Vec<u8>) -> ExifSummary {
    let Ok(exif) = exif::Reader::new().read_raw(raw) else {
        return ExifSummary::default();
    };
    let text = |tag| {
        exif.get_field(tag, exif::In::PRIMARY)
            .and_then(|field| ascii_value(&field.value))
    };
    ExifSummary {
        date_time_original: text(exif::Tag::DateTimeOriginal),
        artist: text(exif::Tag::Artist),
        copyright: text(exif::Tag::Copyright),
    }
}

/// First non-empty ASCII string of an EXIF value, trimmed.
fn ascii_value(value: &exif::Value) -> Option<String> {
    let exif::Value::Ascii(parts) = value else {
        return None;
    };
    parts
        .iter()
        .map(|part| {
            String::from_utf8_lossy(part)
                .trim_matches(['\0', ' '])
                .to_owned()
        })
        .find(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_exif_gives_empty_summary() {
        assert_eq!(
            exif_summary(b"MM\0*garbage".to_vec()),
            ExifSummary::default()
        );
        assert_eq!(exif_summary(Vec::new()), ExifSummary::default());
    }
}
