//! The words around each picture on a page: its `alt` and `title`, the
//! caption of its `<figure>`, the nearest heading before it and a window
//! of the visible text just before and after it, and the page's
//! description. Only text nodes are read (markup never becomes words),
//! text inside `<script>`, `<style>`, `<template>` and `<noscript>` is
//! skipped, and every piece is bounded while it is read, so a page with a
//! megabyte of text around a picture costs no more than a short one.

use scraper::node::Node;
use scraper::{ElementRef, Html};

use crate::model::posting_words::{words_text, MAX_NEARBY_CHARS, MAX_WORDS_CHARS};
use crate::model::PostingWords;

/// Characters kept on each side of a picture.
const SIDE_CHARS: usize = MAX_NEARBY_CHARS / 2;
/// How far up from a picture its `<figure>` is looked for.
const MAX_ANCESTORS: usize = 8;
/// Most of an HTML fragment read by [`fragment_text`].
const MAX_FRAGMENT_BYTES: usize = 64 * 1024;
/// Elements whose text is not shown as words of the page.
const HIDDEN: &[&str] = &["script", "style", "template", "noscript", "title", "head"];

/// True for a text node that is shown on the page.
pub(super) fn is_visible_text(node: ego_tree::NodeRef<'_, Node>) -> bool {
    node.value().is_text()
        && node
            .parent()
            .and_then(ElementRef::wrap)
            .is_none_or(|parent| !HIDDEN.contains(&parent.value().name()))
}

/// The visible text inside `element`, white space collapsed, at most
/// `max_chars` characters (reading stops once that much is found).
pub(super) fn bounded_text(element: ElementRef<'_>, max_chars: usize) -> Option<String> {
    let mut raw = String::new();
    let budget = max_chars * 4 + 16;
    for node in element.descendants() {
        if raw.len() >= budget {
            break;
        }
        if let (true, Node::Text(text)) = (is_visible_text(node), node.value()) {
            raw.push(' ');
            raw.push_str(head(text, budget - raw.len().min(budget)));
        }
    }
    words_text(&raw, max_chars)
}

/// The visible text of an HTML fragment (a provider's description or
/// credit written as HTML): markup dropped, script and style text never
/// kept, white space collapsed, at most `max_chars` characters.
pub fn fragment_text(html: &str, max_chars: usize) -> Option<String> {
    let fragment = Html::parse_fragment(head(html, MAX_FRAGMENT_BYTES));
    bounded_text(fragment.root_element(), max_chars)
}

/// At most `max_bytes` of the start of `text`, on a character boundary.
fn head(text: &str, max_bytes: usize) -> &str {
    let mut cut = text.len().min(max_bytes);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    &text[..cut]
}

/// At most `max_bytes` of the end of `text`, on a character boundary.
fn tail(text: &str, max_bytes: usize) -> &str {
    let mut cut = text.len().saturating_sub(max_bytes);
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    &text[cut..]
}

/// The page's description: `<meta name="description">`, else
/// `og:description`, else `twitter:description`.
pub(super) fn page_description(document: &Html) -> Option<String> {
    let mut found: [Option<String>; 3] = Default::default();
    for meta in document.root_element().descendent_elements() {
        if meta.value().name() != "meta" {
            continue;
        }
        let key = meta
            .attr("name")
            .or_else(|| meta.attr("property"))
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let slot = match key.as_str() {
            "description" => 0,
            "og:description" => 1,
            "twitter:description" => 2,
            _ => continue,
        };
        if found[slot].is_none() {
            found[slot] = meta
                .attr("content")
                .and_then(|c| words_text(head(c, MAX_WORDS_CHARS * 4), MAX_WORDS_CHARS));
        }
    }
    found.into_iter().flatten().next()
}

/// The `alt`, `title` and `<figcaption>` of a picture's element (for a
/// link or a `<picture>`, the `alt` of the `<img>` inside).
pub(super) fn own_words(element: ElementRef<'_>) -> PostingWords {
    let attr = |el: ElementRef<'_>, name: &str| {
        el.attr(name)
            .and_then(|v| words_text(head(v, MAX_WORDS_CHARS * 4), MAX_WORDS_CHARS))
    };
    let inner_img = || {
        element
            .descendent_elements()
            .find(|e| e.value().name() == "img")
    };
    PostingWords {
        alt: attr(element, "alt").or_else(|| inner_img().and_then(|img| attr(img, "alt"))),
        title: attr(element, "title").or_else(|| inner_img().and_then(|img| attr(img, "title"))),
        caption: figure_caption(element),
        ..PostingWords::default()
    }
}

/// The `<figcaption>` of the nearest `<figure>` around `element`.
fn figure_caption(element: ElementRef<'_>) -> Option<String> {
    let figure = element
        .ancestors()
        .take(MAX_ANCESTORS)
        .filter_map(ElementRef::wrap)
        .find(|e| e.value().name() == "figure")?;
    let caption = figure
        .descendent_elements()
        .find(|e| e.value().name() == "figcaption")?;
    bounded_text(caption, MAX_WORDS_CHARS)
}

/// The text read so far, as the walk over the page goes: the last
/// heading, the last [`SIDE_CHARS`] of text, and the pictures still
/// waiting for the text after them.
#[derive(Debug, Default)]
pub(super) struct TextWindow {
    heading: Option<String>,
    recent: String,
    waiting: Vec<(usize, String)>,
    done: Vec<(usize, String)>,
}

impl TextWindow {
    /// A heading was reached.
    pub fn heading(&mut self, element: ElementRef<'_>) {
        if let Some(text) = bounded_text(element, MAX_WORDS_CHARS) {
            self.heading = Some(text);
        }
    }

    /// A visible text node was reached.
    pub fn text(&mut self, text: &str) {
        if text.trim().is_empty() {
            return;
        }
        let budget = SIDE_CHARS * 4;
        for (_, after) in &mut self.waiting {
            after.push(' ');
            after.push_str(head(text, budget));
        }
        let (full, open) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|(_, after)| after.len() >= budget);
        self.waiting = open;
        self.done.extend::<Vec<_>>(full);
        self.recent.push(' ');
        self.recent.push_str(tail(text, budget));
        if self.recent.len() > 2 * budget {
            self.recent = tail(&self.recent, budget).to_string();
        }
    }

    /// True while a picture waits for the text after it.
    pub fn waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// Words of the picture at `index` just found: the heading now and
    /// the text before it (its `nearby`, raw); the text after it comes
    /// with [`Self::finish`].
    pub fn picture(&mut self, index: usize) -> PostingWords {
        self.waiting.push((index, String::new()));
        PostingWords {
            heading: self.heading.clone(),
            nearby: Some(self.recent.clone()),
            ..PostingWords::default()
        }
    }

    /// The text after each picture, to join to its text before.
    pub fn finish(mut self) -> Vec<(usize, String)> {
        self.done.append(&mut self.waiting);
        self.done
    }
}

/// The window around a picture: the end of the text before it and the
/// start of the text after, together at most [`MAX_NEARBY_CHARS`].
pub(super) fn nearby(before: &str, after: &str) -> Option<String> {
    let before = words_text(tail(before, SIDE_CHARS * 4), usize::MAX).unwrap_or_default();
    let kept: Vec<&str> = before.split(' ').collect();
    let mut start = kept.len();
    let mut chars = 0;
    while start > 0 && chars + kept[start - 1].chars().count() < SIDE_CHARS {
        chars += kept[start - 1].chars().count() + 1;
        start -= 1;
    }
    let before = kept[start..].join(" ");
    let after = words_text(after, SIDE_CHARS).unwrap_or_default();
    words_text(&format!("{before} {after}"), MAX_NEARBY_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_window_keeps_the_end_before_and_the_start_after() {
        let before = format!("{} the festival poster", "filler ".repeat(500));
        let after = format!("was leaked on Monday {}", "more ".repeat(500));
        let window = nearby(&before, &after).unwrap();
        assert!(
            window.contains("the festival poster was leaked on Monday"),
            "{window}"
        );
        assert!(window.chars().count() <= MAX_NEARBY_CHARS);
        assert_eq!(nearby("  ", ""), None);
    }

    #[test]
    fn head_and_tail_respect_characters() {
        assert_eq!(head("ééé", 3), "é");
        assert_eq!(tail("ééé", 3), "é");
        assert_eq!(tail("ab", 10), "ab");
    }

    #[test]
    fn description_prefers_the_meta_description() {
        let doc = Html::parse_document(
            r#"<meta property="og:description" content="og words"><meta name="description" content=" Page   words ">"#,
        );
        assert_eq!(page_description(&doc).as_deref(), Some("Page words"));
        let doc = Html::parse_document(r#"<meta name="twitter:description" content="tw">"#);
        assert_eq!(page_description(&doc).as_deref(), Some("tw"));
    }
}
