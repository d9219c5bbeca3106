//! IPTC IIM, the older home of a news photo's credits: a JPEG APP13
//! segment (`Photoshop 3.0`) holding image resources (`8BIM`), of which
//! resource 0x0404 is the IIM record. Read here: 2:80 By-line (creator),
//! 2:116 Copyright Notice, 2:110 Credit and 2:55 Date Created. Strings are
//! UTF-8 when record 1:90 says so (`ESC % G`), else Latin-1. Anything that
//! does not fit the layout ends the reading; nothing here can panic or
//! read past the segment.

use super::xmp::EmbeddedCredits;

const APP13: u8 = 0xED;
const PHOTOSHOP: &[u8] = b"Photoshop 3.0\0";
const IIM_RESOURCE: u16 = 0x0404;
/// Longest text kept from one dataset.
const MAX_FIELD_CHARS: usize = 500;

/// The credits in a JPEG's IIM record, if it has one.
pub fn iim_credits(jpeg: &[u8]) -> Option<EmbeddedCredits> {
    let record = iim_record(app13(jpeg)?)?;
    let datasets = datasets(record);
    let utf8 = datasets
        .iter()
        .any(|(r, d, v)| (*r, *d) == (1, 90) && v.as_slice() == b"\x1b%G");
    let text = |dataset: u8| {
        let values: Vec<String> = datasets
            .iter()
            .filter(|(r, d, _)| (*r, *d) == (2, dataset))
            .filter_map(|(_, _, v)| decode_text(v, utf8))
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    };
    let credits = EmbeddedCredits {
        creator: text(80),
        rights: text(116),
        credit: text(110),
        date_created: text(55).and_then(|d| iso_day(&d)),
        web_statement: None,
        digital_source_type: None,
        content_credentials: None,
    };
    credits.non_empty()
}

/// The APP13 segment's payload after `Photoshop 3.0\0`.
fn app13(jpeg: &[u8]) -> Option<&[u8]> {
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut at = 2;
    while at + 4 <= jpeg.len() {
        if jpeg[at] != 0xFF {
            return None;
        }
        let marker = jpeg[at + 1];
        // Start of scan or end of image: no more metadata segments.
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        let length = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        let payload = jpeg.get(at + 4..at + 2 + length)?;
        if marker == APP13 {
            if let Some(rest) = payload.strip_prefix(PHOTOSHOP) {
                return Some(rest);
            }
        }
        at += 2 + length;
    }
    None
}

/// The IIM bytes in the image resources (`8BIM`, id, padded Pascal name,
/// size, data padded to even).
fn iim_record(mut resources: &[u8]) -> Option<&[u8]> {
    while resources.len() >= 12 && resources.starts_with(b"8BIM") {
        let id = u16::from_be_bytes([resources[4], resources[5]]);
        let name_len = usize::from(resources[6]);
        let name_total = (1 + name_len + 1) & !1;
        let size_at = 6 + name_total;
        let size_bytes = resources.get(size_at..size_at + 4)?;
        let size = u32::from_be_bytes(size_bytes.try_into().ok()?) as usize;
        let data_at = size_at + 4;
        let data = resources.get(data_at..data_at.checked_add(size)?)?;
        if id == IIM_RESOURCE {
            return Some(data);
        }
        resources = resources.get(data_at + ((size + 1) & !1)..)?;
    }
    None
}

/// (record, dataset, value) of each dataset; extended-length datasets
/// (over 32 KB, never credits) end the reading.
fn datasets(mut bytes: &[u8]) -> Vec<(u8, u8, Vec<u8>)> {
    let mut found = Vec::new();
    while bytes.len() >= 5 && bytes[0] == 0x1C {
        let (record, dataset) = (bytes[1], bytes[2]);
        let size = u16::from_be_bytes([bytes[3], bytes[4]]);
        if size & 0x8000 != 0 {
            break;
        }
        let Some(value) = bytes.get(5..5 + usize::from(size)) else {
            break;
        };
        found.push((record, dataset, value.to_vec()));
        bytes = &bytes[5 + usize::from(size)..];
    }
    found
}

fn decode_text(bytes: &[u8], utf8: bool) -> Option<String> {
    let text: String = match (utf8, std::str::from_utf8(bytes)) {
        (_, Ok(text)) => text.to_string(),
        (true, Err(_)) => String::from_utf8_lossy(bytes).into_owned(),
        (false, Err(_)) => bytes.iter().map(|b| char::from(*b)).collect(),
    };
    let text: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_FIELD_CHARS)
        .collect();
    (!text.is_empty()).then_some(text)
}

/// `CCYYMMDD` → `CCYY-MM-DD`.
fn iso_day(raw: &str) -> Option<String> {
    let digits = raw.trim();
    (digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{}-{}-{}", &digits[..4], &digits[4..6], &digits[6..]))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A JPEG prefix with an APP13 IIM record of `datasets`.
    pub fn jpeg_with_iim(datasets: &[(u8, u8, &[u8])]) -> Vec<u8> {
        let mut iim = Vec::new();
        for (record, dataset, value) in datasets {
            iim.extend_from_slice(&[0x1C, *record, *dataset]);
            iim.extend_from_slice(&u16::try_from(value.len()).unwrap().to_be_bytes());
            iim.extend_from_slice(value);
        }
        let mut resources = b"8BIM".to_vec();
        resources.extend_from_slice(&0x03EDu16.to_be_bytes());
        resources.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 0]);
        resources.extend_from_slice(b"8BIM");
        resources.extend_from_slice(&IIM_RESOURCE.to_be_bytes());
        resources.extend_from_slice(&[0, 0]);
        resources.extend_from_slice(&u32::try_from(iim.len()).unwrap().to_be_bytes());
        resources.extend_from_slice(&iim);
        if iim.len() % 2 == 1 {
            resources.push(0);
        }
        let mut payload = PHOTOSHOP.to_vec();
        payload.extend_from_slice(&resources);
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, APP13];
        jpeg.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        jpeg.extend_from_slice(&payload);
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0, 2]);
        jpeg
    }

    #[test]
    fn reads_by_line_copyright_credit_and_date() {
        let jpeg = jpeg_with_iim(&[
            (1, 90, b"\x1b%G"),
            (2, 80, "Zoë Roe".as_bytes()),
            (2, 80, b"Bob"),
            (2, 116, b"(c) 2012 Zoe Roe"),
            (2, 110, b"Agency"),
            (2, 55, b"20120304"),
        ]);
        let credits = iim_credits(&jpeg).unwrap();
        assert_eq!(credits.creator.as_deref(), Some("Zoë Roe, Bob"));
        assert_eq!(credits.rights.as_deref(), Some("(c) 2012 Zoe Roe"));
        assert_eq!(credits.credit.as_deref(), Some("Agency"));
        assert_eq!(credits.date_created.as_deref(), Some("2012-03-04"));
    }

    #[test]
    fn latin1_and_truncated_records_never_panic() {
        let jpeg = jpeg_with_iim(&[(2, 80, b"Jos\xe9")]);
        assert_eq!(iim_credits(&jpeg).unwrap().creator.as_deref(), Some("José"));
        for cut in 0..jpeg.len() {
            let _ = iim_credits(&jpeg[..cut]);
        }
        assert_eq!(iim_credits(b"\xFF\xD8\xFF\xDA"), None);
        assert_eq!(iim_credits(b"not a jpeg"), None);
    }
}
