//! Turning the bytes of a page into text: is it HTML (by `Content-Type`, or
//! sniffed when the type is missing or generic), and which charset (BOM,
//! `Content-Type`, `<meta charset>`, else UTF-8). Pure.

use encoding_rs::{Encoding, UTF_8};

use super::headers::{charset_param, media_type};

/// What the `Content-Type` says about HTML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HtmlVerdict {
    /// Declared HTML (`text/html`, `application/xhtml+xml`).
    Html,
    /// Missing or generic: decide from the bytes.
    Sniff,
    /// Declared something else (an image, JSON, …).
    NotHtml,
}

/// Judges a `Content-Type` header value.
pub fn html_verdict(content_type: Option<&str>) -> HtmlVerdict {
    let Some(content_type) = content_type else {
        return HtmlVerdict::Sniff;
    };
    match media_type(content_type).as_str() {
        "text/html" | "application/xhtml+xml" => HtmlVerdict::Html,
        "" | "text/plain" | "application/octet-stream" | "unknown/unknown" => HtmlVerdict::Sniff,
        _ => HtmlVerdict::NotHtml,
    }
}

/// Whether the start of a body looks like HTML (WHATWG sniffing, simplified).
pub fn looks_like_html(body: &[u8]) -> bool {
    let start = skip_bom_and_space(body);
    let head: Vec<u8> = start.iter().take(64).map(u8::to_ascii_lowercase).collect();
    const TAGS: [&[u8]; 9] = [
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<body",
        b"<title",
        b"<!--",
        b"<meta",
        b"<div",
        b"<p",
    ];
    TAGS.iter().any(|tag| {
        head.starts_with(tag)
            && head
                .get(tag.len())
                .is_none_or(|b| matches!(b, b' ' | b'>' | b'\t' | b'\n' | b'\r' | b'-'))
    })
}

fn skip_bom_and_space(body: &[u8]) -> &[u8] {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let first = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    &body[first..]
}

/// Decodes a page to text. The charset comes from the BOM, else the
/// `Content-Type`, else a `<meta>` in the first 1024 bytes, else UTF-8;
/// malformed sequences become U+FFFD.
pub fn decode_html(body: &[u8], content_type: Option<&str>) -> String {
    let declared = content_type
        .and_then(charset_param)
        .and_then(|label| Encoding::for_label(label.as_bytes()))
        .or_else(|| meta_charset(&body[..body.len().min(1024)]))
        .unwrap_or(UTF_8);
    let (text, _, _) = declared.decode(body);
    text.into_owned()
}

/// The charset named by `<meta charset=…>` or `<meta http-equiv … content="…charset=…">`.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let at = find(&lower, b"charset=")? + b"charset=".len();
    let rest = &lower[at..];
    let rest = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let end = rest
        .iter()
        .position(|b| matches!(b, b'"' | b'\'' | b' ' | b'>' | b';' | b'/'))
        .unwrap_or(rest.len());
    let encoding = Encoding::for_label(&rest[..end])?;
    // A page that reached us as bytes cannot really be UTF-16 (HTML spec).
    Some(if encoding.is_single_byte() || encoding == UTF_8 {
        encoding
    } else {
        encoding.output_encoding()
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        assert_eq!(
            html_verdict(Some("text/html; charset=utf-8")),
            HtmlVerdict::Html
        );
        assert_eq!(html_verdict(None), HtmlVerdict::Sniff);
        assert_eq!(
            html_verdict(Some("application/octet-stream")),
            HtmlVerdict::Sniff
        );
        assert_eq!(html_verdict(Some("image/jpeg")), HtmlVerdict::NotHtml);
    }

    #[test]
    fn sniffing() {
        assert!(looks_like_html(b"\xEF\xBB\xBF  <!DOCTYPE html><html>"));
        assert!(looks_like_html(b"<HTML lang=en>"));
        assert!(!looks_like_html(b"\xFF\xD8\xFF\xE0JFIF"));
        assert!(!looks_like_html(b"<pre>"));
        assert!(!looks_like_html(b""));
    }

    #[test]
    fn charset_from_header_meta_and_default() {
        let latin1 = b"<html><title>caf\xE9</title>";
        assert!(decode_html(latin1, Some("text/html; charset=iso-8859-1")).contains("café"));
        let meta = b"<html><head><meta charset=\"windows-1252\"><title>caf\xE9 \x80</title>";
        assert!(decode_html(meta, Some("text/html")).contains("café €"));
        let equiv =
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-15\"><p>\xA4";
        assert!(decode_html(equiv, None).contains('€'));
        assert!(decode_html("<p>café".as_bytes(), None).contains("café"));
        assert!(decode_html(b"<p>\xFF\xFE", None).contains('\u{FFFD}'));
    }
}
