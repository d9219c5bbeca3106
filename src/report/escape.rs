//! Escaping for hostile strings: every title, URL, site or EXIF text in a
//! report came from someone else's page or file. HTML text and attribute
//! values, Markdown text and link targets, and the two kinds of URL allowed
//! in a report (http(s) links, `data:image/…;base64` thumbnails).

use url::Url;

/// Replaces characters that have no business in displayed text: C0/C1
/// controls (tabs and newlines become spaces) and the bidirectional
/// overrides that can make text read backwards.
fn clean_char(c: char) -> Option<char> {
    match c {
        '\t' | '\n' | '\r' => Some(' '),
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => Some('\u{FFFD}'),
        c if c.is_control() => Some('\u{FFFD}'),
        c => Some(c),
    }
}

/// Text for a terminal: controls and direction overrides replaced, so a
/// stored string cannot move the cursor or recolour the screen.
pub(crate) fn terminal(s: &str) -> String {
    s.chars().filter_map(clean_char).collect()
}

/// Longest link text shown, in characters; the full value stays in JSON.
const MAX_LINK_TEXT_CHARS: usize = 200;

/// The text to show for a link: the fallback (the URL) when the text is
/// blank, so no link is invisible, and at most [`MAX_LINK_TEXT_CHARS`]
/// characters, so a page cannot flood the report with its title.
pub(crate) fn link_text(text: &str, fallback: &str) -> String {
    let shown = if text.trim().is_empty() {
        fallback
    } else {
        text
    };
    match shown.char_indices().nth(MAX_LINK_TEXT_CHARS) {
        Some((cut, _)) => format!("{}…", &shown[..cut]),
        None => shown.to_string(),
    }
}

/// Escapes text for HTML, safe both between tags and inside a quoted
/// attribute value.
pub(crate) fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().filter_map(clean_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for Markdown (CommonMark and GitHub tables): punctuation
/// with a meaning inside a line is backslash-escaped (the renderer never
/// starts a line with data, so `-`, `+`, `.` and `=` need nothing), `<`, `>` and `&` become entities so
/// no raw HTML gets through, and newlines become spaces so a value stays on
/// its line and in its table cell.
pub(crate) fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().filter_map(clean_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '{' | '}' | '#' | '!' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// The URL, normalised, if it is an absolute `http` or `https` URL; any
/// other scheme (`javascript:`, `data:`, `file:`, …) is not to be linked.
pub(crate) fn web_url(raw: &str) -> Option<String> {
    let url = Url::parse(raw.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// A web URL made safe as a Markdown link target: the characters that
/// could end the target or a table cell are percent-encoded.
pub(crate) fn markdown_url(raw: &str) -> Option<String> {
    let url = web_url(raw)?;
    let mut out = String::with_capacity(url.len());
    for (i, c) in url.char_indices() {
        match c {
            // `&amp;` in a link target would be read as `&`: keep it literal.
            '&' if starts_entity(&url[i + 1..]) => out.push_str("\\&"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '|' => out.push_str("%7C"),
            '\\' => out.push_str("%5C"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            ' ' => out.push_str("%20"),
            c => out.push(c),
        }
    }
    Some(out)
}

/// True when the text after a `&` would make it a character reference
/// (`&amp;`, `&#38;`, `&#x26;`).
fn starts_entity(rest: &str) -> bool {
    let name = rest.strip_prefix('#').unwrap_or(rest);
    let len = name.bytes().take_while(u8::is_ascii_alphanumeric).count();
    len > 0 && name.as_bytes().get(len) == Some(&b';')
}

/// The value, if it is a base64 `data:` URI of a raster image (what
/// [`crate::thumbnail::thumbnail_data_uri`] makes); anything else is not shown.
pub(crate) fn data_image_uri(raw: &str) -> Option<&str> {
    let payload = ["jpeg", "png", "gif", "webp"].iter().find_map(|kind| {
        raw.strip_prefix("data:image/")?
            .strip_prefix(kind)?
            .strip_prefix(";base64,")
    })?;
    let base64_char = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
    (!payload.is_empty() && payload.bytes().all(base64_char)).then_some(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "</title><script>alert(1)</script>\"'<img src=x onerror=alert(1)>";

    #[test]
    fn html_escapes_every_markup_character() {
        assert_eq!(
            html(HOSTILE),
            "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(html("a & b"), "a &amp; b");
    }

    #[test]
    fn controls_and_bidi_overrides_are_neutralised() {
        assert_eq!(html("a\nb\tc\u{0}d"), "a b c\u{FFFD}d");
        assert_eq!(html("gpj.\u{202E}exe"), "gpj.\u{FFFD}exe");
        assert_eq!(markdown("line one\nline two"), "line one line two");
    }

    #[test]
    fn link_text_is_never_blank_nor_endless() {
        assert_eq!(link_text("  ", "https://e.com/"), "https://e.com/");
        assert_eq!(link_text("Title", "https://e.com/"), "Title");
        let long = "é".repeat(500);
        let shown = link_text(&long, "");
        assert_eq!(shown.chars().count(), 201);
        assert!(shown.ends_with("é…"));
    }

    #[test]
    fn markdown_escapes_syntax_and_raw_html() {
        assert_eq!(
            markdown("<script>|[x](javascript:y) `code`"),
            "&lt;script&gt;\\|\\[x\\]\\(javascript:y\\) \\`code\\`"
        );
        assert_eq!(markdown("*bold* _it_ # h"), "\\*bold\\* \\_it\\_ \\# h");
    }

    #[test]
    fn only_http_and_https_urls_are_links() {
        assert_eq!(
            web_url("https://example.com/a b").as_deref(),
            Some("https://example.com/a%20b")
        );
        assert_eq!(
            web_url("HTTP://Example.com").as_deref(),
            Some("http://example.com/")
        );
        for bad in [
            "javascript:alert(1)",
            " JaVaScRiPt:alert(1)",
            "java\tscript:alert(1)",
            "\u{0}javascript:alert(1)",
            "javascript://example.com/%0aalert(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "vbscript:x",
            "//example.com/x",
            "/relative",
            "",
        ] {
            assert_eq!(web_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn web_urls_never_carry_quotes_or_angle_brackets() {
        let url = web_url("https://e.com/p\"'<>?q=\"'<>#\"<>").unwrap();
        assert!(!url.contains(['"', '<', '>']), "{url}");
    }

    #[test]
    fn markdown_urls_cannot_end_the_link_or_the_cell() {
        assert_eq!(
            markdown_url("https://e.com/a(b)|c\\d").as_deref(),
            Some("https://e.com/a%28b%29%7Cc/d")
        );
        assert_eq!(markdown_url("javascript:alert(1)"), None);
        assert_eq!(
            markdown_url("https://e.com/?a=1&b=2&amp;c=3&#38;d").as_deref(),
            Some("https://e.com/?a=1&b=2\\&amp;c=3\\&#38;d")
        );
    }

    #[test]
    fn only_base64_raster_data_uris_pass() {
        assert!(data_image_uri("data:image/jpeg;base64,/9j/4AAQ+/=").is_some());
        assert!(data_image_uri("data:image/svg+xml;base64,PHN2Zz4=").is_none());
        assert!(data_image_uri("data:image/jpeg;base64,\"onerror=alert(1)").is_none());
        assert!(data_image_uri("data:image/jpeg;base64,").is_none());
        assert!(data_image_uri("https://e.com/x.jpg").is_none());
    }
}
