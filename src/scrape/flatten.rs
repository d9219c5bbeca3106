//! A guard against deeply nested HTML. Building a tree from markup nested
//! tens of thousands deep costs the HTML5 tree builder time quadratic in
//! the depth (scope checks walk the stack of open elements). A linear scan
//! estimates the depth first; past [`MAX_NESTING`], the markup is flattened
//! to the only tags extraction reads (`img`, `source`, `picture`, `meta`,
//! `link`, `base`, `a`, `noscript`, `title`) plus text, so the parser sees
//! a shallow document.

use std::borrow::Cow;

/// Estimated nesting beyond which the markup is flattened (browsers cap
/// their trees at a few hundred levels too).
pub(crate) const MAX_NESTING: usize = 512;
/// Most `<picture>` elements kept open inside one another when flattening.
const MAX_PICTURE_NESTING: usize = 4;

/// Elements that never have content, or whose end tag is implied by the
/// next sibling; they do not deepen the estimate.
const NOT_NESTING: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param", "keygen", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "rt",
    "rp", "tbody", "thead", "tfoot", "colgroup", "!doctype",
];
/// Tags kept when flattening: those extraction reads, and the raw-text
/// ones whose content must stay text (a script's `'<img src=…>'` string is
/// not an image).
const KEPT: &[&str] = &[
    "img", "source", "picture", "meta", "link", "base", "a", "noscript", "title", "script",
    "style", "textarea",
];

/// One tag found by the scan.
struct Tag<'a> {
    /// Lowercase name.
    name: String,
    /// `</name>`.
    closing: bool,
    /// The tag's full text, `<` to `>`.
    text: &'a str,
}

/// `html` itself when its estimated nesting is at most `MAX_NESTING`,
/// else its flattened form.
pub(crate) fn flatten_if_deep(html: &str) -> Cow<'_, str> {
    if estimated_depth(html) <= MAX_NESTING {
        Cow::Borrowed(html)
    } else {
        Cow::Owned(flatten(html))
    }
}

/// The deepest nesting of open elements, roughly (comments and scripts
/// are not understood; that only errs towards flattening).
pub(crate) fn estimated_depth(html: &str) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    for (_, piece) in pieces(html) {
        let Some(tag) = piece else { continue };
        if NOT_NESTING.contains(&tag.name.as_str()) || tag.text.ends_with("/>") {
            continue;
        }
        if tag.closing {
            depth = depth.saturating_sub(1);
        } else {
            depth += 1;
            deepest = deepest.max(depth);
        }
    }
    deepest
}

fn flatten(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut pictures_open = 0usize;
    let mut pictures_dropped = 0usize;
    for (text, piece) in pieces(html) {
        let Some(tag) = piece else {
            out.push_str(text);
            continue;
        };
        if !KEPT.contains(&tag.name.as_str()) {
            continue;
        }
        if tag.name == "picture" {
            match (tag.closing, pictures_dropped > 0) {
                (true, true) => {
                    pictures_dropped -= 1;
                    continue;
                }
                (true, false) => pictures_open = pictures_open.saturating_sub(1),
                (false, _) if pictures_open >= MAX_PICTURE_NESTING => {
                    pictures_dropped += 1;
                    continue;
                }
                (false, _) => pictures_open += 1,
            }
        }
        out.push_str(tag.text);
    }
    out
}

/// Splits `html` into text runs (`None`) and tags (`Some`), in order.
fn pieces(html: &str) -> impl Iterator<Item = (&str, Option<Tag<'_>>)> {
    let bytes = html.as_bytes();
    let mut at = 0usize;
    std::iter::from_fn(move || {
        if at >= bytes.len() {
            return None;
        }
        let start = at;
        if bytes[at] == b'<' {
            if let Some((tag, end)) = tag_at(html, at) {
                at = end;
                return Some((&html[start..end], Some(tag)));
            }
            at += 1;
        }
        while at < bytes.len() && bytes[at] != b'<' {
            at += 1;
        }
        Some((&html[start..at], None))
    })
}

/// The tag starting at `start` (which holds `<`) and the index after its
/// `>`; `None` when `<` does not open a tag.
fn tag_at(html: &str, start: usize) -> Option<(Tag<'_>, usize)> {
    let bytes = html.as_bytes();
    let closing = bytes.get(start + 1) == Some(&b'/');
    let name_start = start + 1 + usize::from(closing);
    let first = *bytes.get(name_start)?;
    if !(first.is_ascii_alphabetic() || (first == b'!' && !closing)) {
        return None;
    }
    let mut name_end = name_start + 1;
    while name_end < bytes.len()
        && (bytes[name_end].is_ascii_alphanumeric() || bytes[name_end] == b'-')
    {
        name_end += 1;
    }
    let mut quote: Option<u8> = None;
    let mut at = name_end;
    while at < bytes.len() {
        match (quote, bytes[at]) {
            (None, b'>') => break,
            (None, q @ (b'"' | b'\'')) => quote = Some(q),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
        at += 1;
    }
    let end = (at + 1).min(bytes.len());
    let tag = Tag {
        name: html[name_start..name_end].to_ascii_lowercase(),
        closing,
        text: &html[start..end],
    };
    Some((tag, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_pages_are_left_alone() {
        let html =
            "<html><body><div><p>one<p>two<ul><li>a<li>b</ul><img src=x.jpg></div></body></html>";
        assert_eq!(estimated_depth(html), 4);
        assert!(matches!(flatten_if_deep(html), Cow::Borrowed(_)));
    }

    #[test]
    fn deep_pages_keep_only_the_tags_extraction_reads() {
        let html = format!(
            "{}<img src=\"a>b.jpg\" alt='x'>text{}",
            "<div class=\"c\">".repeat(600),
            "</div>".repeat(600)
        );
        assert_eq!(estimated_depth(&html), 600);
        let flat = flatten_if_deep(&html);
        assert_eq!(flat, "<img src=\"a>b.jpg\" alt='x'>text");
    }

    #[test]
    fn script_text_stays_script() {
        let html = format!(
            "{}<script>x = '<img src=\"fake.jpg\">';</script>",
            "<div>".repeat(600)
        );
        assert_eq!(
            flatten(&html),
            "<script>x = '<img src=\"fake.jpg\">';</script>"
        );
    }

    #[test]
    fn nested_pictures_are_capped() {
        let html = format!(
            "{}<source srcset=\"a.jpg\">{}",
            "<picture>".repeat(10),
            "</picture>".repeat(10)
        );
        let flat = flatten(&html);
        assert_eq!(
            flat,
            format!(
                "{}<source srcset=\"a.jpg\">{}",
                "<picture>".repeat(4),
                "</picture>".repeat(4)
            )
        );
    }

    #[test]
    fn stray_angle_brackets_are_text() {
        let pieces: Vec<_> = pieces("a < b <3 <img src=1>")
            .map(|(text, tag)| (text, tag.is_some()))
            .collect();
        assert_eq!(
            pieces,
            vec![
                ("a ", false),
                ("< b ", false),
                ("<3 ", false),
                ("<img src=1>", true)
            ]
        );
    }
}
