//! The credits an image file carries in its XMP packet (IPTC Photo
//! Metadata; a JPEG's older IIM record fills what XMP lacks, see `iim`): creator (`dc:creator`), rights (`dc:rights`), credit line
//! (`photoshop:Credit`), date created (`photoshop:DateCreated`), web
//! statement (`xmpRights:WebStatement`) and the IPTC digital source type
//! (`Iptc4xmpExt:DigitalSourceType`: a picture made by AI says so).
//!
//! The packet is found the way the XMP specification allows for any
//! format, by scanning for `<x:xmpmeta` … `</x:xmpmeta>` (JPEG APP1, PNG
//! iTXt, WebP, TIFF and others alike), and read with namespaces resolved,
//! so property names are matched by namespace, not by prefix. A packet
//! over 1 MiB, or XML that does not parse, is no packet.

use memchr::memmem;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use serde::{Deserialize, Serialize};

use super::content_credentials::ContentCredentials;

/// Largest XMP packet read.
pub const MAX_XMP_BYTES: usize = 1024 * 1024;
/// Longest text kept from one property.
const MAX_FIELD_CHARS: usize = 500;

const DC: &str = "http://purl.org/dc/elements/1.1/";
const PHOTOSHOP: &str = "http://ns.adobe.com/photoshop/1.0/";
const XMP_RIGHTS: &str = "http://ns.adobe.com/xap/1.0/rights/";
const IPTC_EXT: &str = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/";
const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

/// IPTC digital source types meaning "made by a trained model".
const AI_SOURCE_TYPES: [&str; 2] = [
    "trainedAlgorithmicMedia",
    "compositeWithTrainedAlgorithmicMedia",
];

/// What the file says about who made it and how.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddedCredits {
    /// `dc:creator` (several joined with `, `).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    /// `dc:rights`: the copyright notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rights: Option<String>,
    /// `photoshop:Credit`: the credit line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<String>,
    /// `photoshop:DateCreated`, as written (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_created: Option<String>,
    /// `xmpRights:WebStatement`: where the rights are stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_statement: Option<String>,
    /// `Iptc4xmpExt:DigitalSourceType`: an IPTC vocabulary URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digital_source_type: Option<String>,
    /// The file's C2PA Content Credentials, when it carries a manifest
    /// store (read in runtime builds only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_credentials: Option<ContentCredentials>,
}

impl EmbeddedCredits {
    /// True when the file says a trained model made (or composited) it.
    pub fn says_ai_generated(&self) -> bool {
        self.digital_source_type
            .as_deref()
            .is_some_and(is_ai_source_type)
    }

    /// `self`, with each field it lacks taken from `other`.
    pub fn or(self, other: Self) -> Self {
        Self {
            creator: self.creator.or(other.creator),
            rights: self.rights.or(other.rights),
            credit: self.credit.or(other.credit),
            date_created: self.date_created.or(other.date_created),
            web_statement: self.web_statement.or(other.web_statement),
            digital_source_type: self.digital_source_type.or(other.digital_source_type),
            content_credentials: self.content_credentials.or(other.content_credentials),
        }
    }

    /// `Some(self)` unless nothing was found.
    pub fn non_empty(self) -> Option<Self> {
        (self != Self::default()).then_some(self)
    }
}

/// True for an IPTC digital source type URI (or bare term) meaning "made
/// by a trained model".
pub fn is_ai_source_type(uri: &str) -> bool {
    let term = uri.rsplit('/').next().unwrap_or(uri);
    AI_SOURCE_TYPES.contains(&term)
}

/// Why a file's XMP was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmpError {
    /// The packet is larger than [`MAX_XMP_BYTES`].
    #[error("its XMP packet is larger than {MAX_XMP_BYTES} bytes")]
    TooLarge,
    /// The packet is not well-formed XML.
    #[error("its XMP packet is not well-formed XML ({0})")]
    Malformed(String),
}

/// The credits in `bytes`' XMP packet, completed from a JPEG's IPTC IIM
/// record; `Ok(None)` when it has neither. A broken or huge XMP packet is
/// an error even when IIM could be read (the caller says why it skipped).
pub fn embedded_credits(bytes: &[u8]) -> Result<Option<EmbeddedCredits>, XmpError> {
    let iim = super::iim::iim_credits(bytes);
    let Some(packet) = find_packet(bytes)? else {
        return Ok(iim);
    };
    let text = String::from_utf8_lossy(packet);
    let xmp = read_packet(&text)?;
    Ok(match iim {
        Some(iim) => xmp.or(iim),
        None => xmp,
    }
    .non_empty())
}

/// The `<x:xmpmeta>…</x:xmpmeta>` (or bare `<rdf:RDF>…</rdf:RDF>`) bytes.
fn find_packet(bytes: &[u8]) -> Result<Option<&[u8]>, XmpError> {
    for (open, close) in [
        (&b"<x:xmpmeta"[..], &b"</x:xmpmeta>"[..]),
        (b"<x:xapmeta", b"</x:xapmeta>"),
        (b"<rdf:RDF", b"</rdf:RDF>"),
    ] {
        let Some(start) = memmem::find(bytes, open) else {
            continue;
        };
        let rest = &bytes[start..];
        let window = &rest[..rest.len().min(MAX_XMP_BYTES + close.len())];
        return match memmem::find(window, close) {
            Some(end) => Ok(Some(&rest[..end + close.len()])),
            None if rest.len() > MAX_XMP_BYTES => Err(XmpError::TooLarge),
            None => Err(XmpError::Malformed("the packet never ends".into())),
        };
    }
    Ok(None)
}

/// The properties this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Creator,
    Rights,
    Credit,
    DateCreated,
    WebStatement,
    DigitalSourceType,
}

fn field_of(namespace: &str, local: &str) -> Option<Field> {
    Some(match (namespace, local) {
        (DC, "creator") => Field::Creator,
        (DC, "rights") => Field::Rights,
        (PHOTOSHOP, "Credit") => Field::Credit,
        (PHOTOSHOP, "DateCreated") => Field::DateCreated,
        (XMP_RIGHTS, "WebStatement") => Field::WebStatement,
        (IPTC_EXT, "DigitalSourceType") => Field::DigitalSourceType,
        _ => return None,
    })
}

#[derive(Default)]
struct Values {
    found: Vec<(Field, String)>,
}

impl Values {
    fn push(&mut self, field: Field, text: &str) {
        let text: String = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(MAX_FIELD_CHARS)
            .collect();
        if !text.is_empty() && self.found.len() < 64 {
            self.found.push((field, text));
        }
    }

    /// The first value of `field` (creators: all, joined).
    fn get(&self, field: Field) -> Option<String> {
        let mut values = self
            .found
            .iter()
            .filter(|(f, _)| *f == field)
            .map(|(_, v)| v.as_str());
        match field {
            Field::Creator => {
                let all: Vec<&str> = values.collect();
                (!all.is_empty()).then(|| all.join(", "))
            }
            _ => values.next().map(str::to_string),
        }
    }
}

fn read_packet(xml: &str) -> Result<EmbeddedCredits, XmpError> {
    let mut reader = NsReader::from_str(xml);
    let mut values = Values::default();
    // The property being read (an element), and the depth it opened at.
    let mut open: Option<(Field, usize)> = None;
    let mut depth = 0usize;
    let mut text = String::new();
    loop {
        let (ns, event) = reader
            .read_resolved_event()
            .map_err(|e| XmpError::Malformed(e.to_string()))?;
        let namespace: String = match ns {
            ResolveResult::Bound(n) => n.into_inner().to_string(),
            _ => String::new(),
        };
        match event {
            Event::Start(e) => {
                let property = field_of(&namespace, e.local_name().into_inner());
                attributes(&reader, &e, property, &mut values)?;
                if open.is_none() {
                    open = property.map(|f| (f, depth));
                }
                depth += 1;
            }
            Event::Empty(e) => {
                let property = field_of(&namespace, e.local_name().into_inner());
                attributes(&reader, &e, property, &mut values)?;
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if let Some((field, at)) = open {
                    if !text.trim().is_empty() {
                        values.push(field, &text);
                    }
                    text.clear();
                    if depth == at {
                        open = None;
                    }
                }
            }
            Event::Text(t) if open.is_some() => text.push_str(&t.xml10_content()),
            Event::CData(t) if open.is_some() => text.push_str(&t.into_inner()),
            Event::GeneralRef(r) if open.is_some() => {
                let name = r.xml10_content();
                if let Ok(resolved) = quick_xml::escape::unescape(&format!("&{name};")) {
                    text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(EmbeddedCredits {
        creator: values.get(Field::Creator),
        rights: values.get(Field::Rights),
        credit: values.get(Field::Credit),
        date_created: values.get(Field::DateCreated),
        web_statement: values.get(Field::WebStatement),
        digital_source_type: values.get(Field::DigitalSourceType),
        content_credentials: None,
    })
}

/// Properties written as attributes (`photoshop:Credit="…"` on an
/// `rdf:Description`), and `rdf:resource` on a property element.
fn attributes(
    reader: &NsReader<&[u8]>,
    element: &quick_xml::events::BytesStart<'_>,
    property: Option<Field>,
    values: &mut Values,
) -> Result<(), XmpError> {
    for attribute in element.attributes().flatten() {
        let (ns, local) = reader.resolver().resolve_attribute(attribute.key);
        let ns = match ns {
            ResolveResult::Bound(n) => n.into_inner(),
            _ => "",
        };
        let Ok(value) = attribute.normalized_value(quick_xml::XmlVersion::Implicit1_0) else {
            continue;
        };
        match (field_of(ns, local.into_inner()), property) {
            (Some(field), _) => values.push(field, &value),
            (None, Some(field)) if ns == RDF && local.into_inner() == "resource" => {
                values.push(field, &value)
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg_with(xmp: &str) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE1, 0, 0];
        bytes.extend_from_slice(b"http://ns.adobe.com/xap/1.0/\0");
        bytes.extend_from_slice(xmp.as_bytes());
        bytes.extend_from_slice(&[0xFF, 0xD9]);
        bytes
    }

    const PACKET: &str = r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
 <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
   xmlns:ps="http://ns.adobe.com/photoshop/1.0/" xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/"
   xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
   ps:Credit="Photo: Ann Lee &amp; friends" ps:DateCreated="2019-05-01T12:00:00+02:00">
  <dc:creator><rdf:Seq><rdf:li>Ann Lee</rdf:li><rdf:li>Bob Roe</rdf:li></rdf:Seq></dc:creator>
  <dc:rights><rdf:Alt><rdf:li xml:lang="x-default">© 2019 Ann Lee &lt;all rights&gt;</rdf:li></rdf:Alt></dc:rights>
  <xmpRights:WebStatement>https://annlee.example/licence</xmpRights:WebStatement>
  <Iptc4xmpExt:DigitalSourceType rdf:resource="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"/>
 </rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"#;

    #[test]
    fn reads_iptc_properties_by_namespace_not_prefix() {
        let credits = embedded_credits(&jpeg_with(PACKET)).unwrap().unwrap();
        assert_eq!(credits.creator.as_deref(), Some("Ann Lee, Bob Roe"));
        assert_eq!(
            credits.rights.as_deref(),
            Some("© 2019 Ann Lee <all rights>")
        );
        assert_eq!(credits.credit.as_deref(), Some("Photo: Ann Lee & friends"));
        assert_eq!(
            credits.date_created.as_deref(),
            Some("2019-05-01T12:00:00+02:00")
        );
        assert_eq!(
            credits.web_statement.as_deref(),
            Some("https://annlee.example/licence")
        );
        assert!(credits.says_ai_generated());
    }

    #[test]
    fn no_packet_a_broken_one_and_a_huge_one() {
        assert_eq!(embedded_credits(b"\xFF\xD8 plain jpeg").unwrap(), None);
        let broken = PACKET.replace("</dc:creator>", "");
        assert!(matches!(
            embedded_credits(&jpeg_with(&broken)),
            Err(XmpError::Malformed(_))
        ));
        let unterminated = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">";
        assert!(embedded_credits(unterminated.as_bytes()).is_err());
        let huge = PACKET.replace(
            "<dc:creator>",
            &format!("<!-- {} --><dc:creator>", "x".repeat(MAX_XMP_BYTES)),
        );
        assert_eq!(embedded_credits(&jpeg_with(&huge)), Err(XmpError::TooLarge));
        let empty = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"></x:xmpmeta>";
        assert_eq!(embedded_credits(empty.as_bytes()).unwrap(), None);
    }

    #[test]
    fn iim_fills_what_xmp_lacks() {
        let mut jpeg = super::super::iim::tests::jpeg_with_iim(&[
            (2, 80, b"IIM creator"),
            (2, 110, b"IIM credit"),
        ]);
        jpeg.extend_from_slice(
            PACKET
                .replace(" ps:Credit=\"Photo: Ann Lee &amp; friends\"", "")
                .as_bytes(),
        );
        let credits = embedded_credits(&jpeg).unwrap().unwrap();
        assert_eq!(
            credits.creator.as_deref(),
            Some("Ann Lee, Bob Roe"),
            "XMP first"
        );
        assert_eq!(
            credits.credit.as_deref(),
            Some("IIM credit"),
            "IIM fills the gap"
        );
    }

    #[test]
    fn only_trained_models_count_as_ai() {
        let credits = |t: &str| EmbeddedCredits {
            digital_source_type: Some(t.into()),
            ..EmbeddedCredits::default()
        };
        assert!(credits(
            "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
        )
        .says_ai_generated());
        assert!(
            !credits("http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture")
                .says_ai_generated()
        );
        assert!(!EmbeddedCredits::default().says_ai_generated());
    }
}
