//! Walking a parsed page once, in document order, collecting image URLs
//! from every place pages put them (see the module docs of `scrape`).

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use scraper::node::Node;
use scraper::{ElementRef, Html, Selector};

use super::selector;
use url::Url;

use super::evidence::{nearby_time, page_evidence};
use super::flatten::flatten_if_deep;
use super::srcset::{largest, parse_srcset};
use super::title::page_title;
use super::words::{is_visible_text, nearby, own_words, page_description, TextWindow};
use super::{ExtractOptions, ImageSource, PageImage, PageImages};
use crate::model::PostingWords;
use crate::search::normalize_url;

/// Lazy-loading attributes holding one URL, in order of preference.
const LAZY_SRC_ATTRS: &[&str] = &[
    "data-src",
    "data-lazy-src",
    "data-original",
    "data-lazy",
    "data-url",
    "data-hi-res-src",
    "data-full-src",
    "data-large-file",
    "data-orig-file",
    "data-original-src",
    "data-echo",
];
/// Lazy-loading attributes holding a `srcset`.
const LAZY_SRCSET_ATTRS: &[&str] = &["data-srcset", "data-lazy-srcset", "data-original-set"];
/// File extensions that make an `<a href>` an image link.
const IMAGE_EXTENSIONS: &[&str] = &[
    ".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif", ".bmp", ".tif", ".tiff",
];

static BASE: LazyLock<Selector> = LazyLock::new(|| selector("base[href]"));

/// [`extract_images`](super::extract_images) with explicit limits.
pub fn extract_images_with(html: &str, page_url: &Url, options: &ExtractOptions) -> PageImages {
    let html = flatten_if_deep(truncate(html, options.max_html_bytes));
    let document = Html::parse_document(&html);
    let base = document_base(&document, page_url);
    let now = chrono::Utc::now();
    let mut collector = Collector::new(base.clone(), options, now);
    collector.declared(&document);
    collector.walk(document.root_element());
    PageImages {
        title: page_title(&document, options.max_title_chars),
        description: page_description(&document),
        images: collector.finish(),
        evidence: page_evidence(&document, &base, now),
    }
}

/// `html` cut to at most `max_bytes`, on a character boundary.
fn truncate(html: &str, max_bytes: usize) -> &str {
    if html.len() <= max_bytes {
        return html;
    }
    let mut cut = max_bytes;
    while !html.is_char_boundary(cut) {
        cut -= 1;
    }
    &html[..cut]
}

/// The URL relative references resolve against: the first `<base href>`
/// (itself resolved against the page), else the page.
fn document_base(document: &Html, page_url: &Url) -> Url {
    document
        .select(&BASE)
        .next()
        .and_then(|base| base.attr("href"))
        .and_then(|href| page_url.join(href.trim()).ok())
        .filter(|url| matches!(url.scheme(), "http" | "https"))
        .unwrap_or_else(|| page_url.clone())
}

struct Collector<'a> {
    base: Url,
    now: chrono::DateTime<chrono::Utc>,
    options: &'a ExtractOptions,
    seen: HashMap<String, usize>,
    images: Vec<PageImage>,
    window: TextWindow,
    placed: HashSet<usize>,
}

impl<'a> Collector<'a> {
    fn new(base: Url, options: &'a ExtractOptions, now: chrono::DateTime<chrono::Utc>) -> Self {
        Self {
            base,
            now,
            options,
            seen: HashMap::new(),
            images: Vec::new(),
            window: TextWindow::default(),
            placed: HashSet::new(),
        }
    }

    /// The images, each with the text after it joined to the text before.
    fn finish(mut self) -> Vec<PageImage> {
        for (at, after) in self.window.finish() {
            let words = &mut self.images[at].words;
            words.nearby = nearby(words.nearby.as_deref().unwrap_or_default(), &after);
        }
        self.images
    }

    /// The picture at `at` was found at `element`: its own words, and the
    /// first time it is found in the page's body, the heading and text
    /// around it.
    fn place(&mut self, at: usize, element: ElementRef<'_>) {
        let mut words = own_words(element);
        if self.placed.insert(at) {
            words = words.or(self.window.picture(at));
        }
        let known = &mut self.images[at].words;
        *known = std::mem::take(known).or(words);
    }

    fn full(&self) -> bool {
        self.images.len() >= self.options.max_images
    }

    /// `og:image`, `twitter:image` and `<link rel=image_src>`: the images
    /// the page declares as its own, taken first.
    fn declared(&mut self, document: &Html) {
        let mut og_width = None;
        let mut og_height = None;
        let mut og_alt = None;
        let mut found: Vec<(&str, ImageSource)> = Vec::new();
        for element in document.root_element().descendent_elements() {
            match element.value().name() {
                "meta" => {
                    let key = element
                        .attr("property")
                        .or_else(|| element.attr("name"))
                        .unwrap_or_default()
                        .trim()
                        .to_ascii_lowercase();
                    let Some(content) = element.attr("content") else {
                        continue;
                    };
                    match key.as_str() {
                        "og:image" | "og:image:url" | "og:image:secure_url" => {
                            found.push((content, ImageSource::OgImage))
                        }
                        "twitter:image" | "twitter:image:src" => {
                            found.push((content, ImageSource::TwitterImage))
                        }
                        "og:image:width" => {
                            og_width = og_width.or_else(|| parse_dimension(content))
                        }
                        "og:image:height" => {
                            og_height = og_height.or_else(|| parse_dimension(content))
                        }
                        "og:image:alt" | "twitter:image:alt" => {
                            og_alt = og_alt.or_else(|| {
                                crate::model::posting_words::words_text(
                                    content,
                                    crate::model::posting_words::MAX_WORDS_CHARS,
                                )
                            })
                        }
                        _ => {}
                    }
                }
                "link" if has_rel(element, "image_src") => {
                    if let Some(href) = element.attr("href") {
                        found.push((href, ImageSource::LinkImageSrc));
                    }
                }
                _ => {}
            }
        }
        for (raw, source) in found {
            let (width, height) = match source {
                ImageSource::OgImage => (og_width, og_height),
                _ => (None, None),
            };
            if let Some(at) = self.add(raw, width, height, source) {
                let words = &mut self.images[at].words;
                words.alt = words.alt.take().or_else(|| og_alt.clone());
            }
        }
    }

    /// Every `<img>`, `<picture>`, `<noscript>` and image `<a href>` in
    /// document order, until the page's cap is reached; the headings and
    /// visible text on the way, for the words around each.
    fn walk(&mut self, root: ElementRef<'_>) {
        for node in root.descendants() {
            if let (true, Node::Text(text)) = (is_visible_text(node), node.value()) {
                self.window.text(text);
                continue;
            }
            let Some(element) = ElementRef::wrap(node) else {
                continue;
            };
            if self.full() && !self.window.waiting() {
                return;
            }
            match element.value().name() {
                "img" => {
                    let before = self.images.len();
                    if let Some(at) = self.img(element) {
                        self.place(at, element);
                    }
                    if self.images.len() > before {
                        if let Some(added) = self.images.last_mut() {
                            added.dated = nearby_time(element, self.now);
                        }
                    }
                }
                "picture" => {
                    if let Some(at) = self.picture(element) {
                        self.place(at, element);
                    }
                }
                "noscript" => self.noscript(element),
                "a" => {
                    if let Some(at) = self.anchor(element) {
                        self.place(at, element);
                    }
                }
                "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => self.window.heading(element),
                _ => {}
            }
        }
    }

    /// One `<img>`: the largest of its `srcset`s (lazy ones included), else
    /// a lazy `data-src`-like attribute, else `src`.
    fn img(&mut self, element: ElementRef<'_>) -> Option<usize> {
        let width = element.attr("width").and_then(parse_dimension);
        let height = element.attr("height").and_then(parse_dimension);
        if self.tiny(width, height) {
            return None;
        }
        let srcsets = std::iter::once(("srcset", ImageSource::Srcset)).chain(
            LAZY_SRCSET_ATTRS
                .iter()
                .map(|attr| (*attr, ImageSource::LazyAttr)),
        );
        for (attr, source) in srcsets {
            let Some(value) = element.attr(attr) else {
                continue;
            };
            let entries = parse_srcset(value);
            let usable: Vec<_> = entries
                .into_iter()
                .filter(|e| !is_data_uri(e.url))
                .collect();
            if let Some(best) = largest(&usable) {
                let (w, h) = match best.width() {
                    Some(w) => (Some(w), scaled_height(w, width, height)),
                    None => (None, None),
                };
                if let Some(at) = self.add(best.url, w, h, source) {
                    return Some(at);
                }
            }
        }
        let lazy = LAZY_SRC_ATTRS.iter().filter_map(|attr| element.attr(attr));
        for raw in lazy.filter(|raw| !is_data_uri(raw)) {
            if let Some(at) = self.add(raw, width, height, ImageSource::LazyAttr) {
                return Some(at);
            }
        }
        self.add(element.attr("src")?, width, height, ImageSource::Img)
    }

    /// A `<picture>`: the largest entry over all its `<source srcset>`s
    /// (its `<img>` is visited on its own).
    fn picture(&mut self, element: ElementRef<'_>) -> Option<usize> {
        let values: Vec<&str> = element
            .child_elements()
            .filter(|child| child.value().name() == "source")
            .flat_map(|source| {
                std::iter::once("srcset")
                    .chain(LAZY_SRCSET_ATTRS.iter().copied())
                    .filter_map(move |attr| source.attr(attr))
            })
            .collect();
        let entries: Vec<_> = values
            .iter()
            .flat_map(|value| parse_srcset(value))
            .filter(|e| !is_data_uri(e.url))
            .collect();
        let best = largest(&entries)?;
        self.add(best.url, best.width(), None, ImageSource::Picture)
    }

    /// `<noscript>` holds the real `<img>` of many lazy-loading pages; the
    /// parser keeps it as text, so parse that text on its own.
    fn noscript(&mut self, element: ElementRef<'_>) {
        let text: String = element.text().collect();
        if !text.contains("<img") {
            return;
        }
        let fragment = Html::parse_fragment(&text);
        for img in fragment.root_element().descendent_elements() {
            if self.full() {
                return;
            }
            if img.value().name() == "img" {
                if let Some(at) = self.img(img) {
                    self.place(at, img);
                }
            }
        }
    }

    /// `<a href="…/photo.jpg">`: gallery links to the full-size image.
    fn anchor(&mut self, element: ElementRef<'_>) -> Option<usize> {
        let href = element
            .attr("href")
            .filter(|h| h.len() <= crate::search::MAX_URL_BYTES)?;
        let url = self.base.join(href.trim()).ok()?;
        let path = url.path().to_ascii_lowercase();
        IMAGE_EXTENSIONS
            .iter()
            .any(|ext| path.ends_with(ext))
            .then(|| self.add(href, None, None, ImageSource::AnchorHref))?
    }

    fn tiny(&self, width: Option<u32>, height: Option<u32>) -> bool {
        let min = self.options.min_dimension;
        width.is_some_and(|w| w < min) || height.is_some_and(|h| h < min)
    }

    /// Adds one image unless it is unusable, tiny, already known (then its
    /// missing dimensions are filled in) or over the cap. Its place in
    /// the list when `raw` was a usable image URL (new or known).
    fn add(
        &mut self,
        raw: &str,
        width: Option<u32>,
        height: Option<u32>,
        source: ImageSource,
    ) -> Option<usize> {
        if is_data_uri(raw) || self.tiny(width, height) {
            return None;
        }
        let url = crate::search::parse_web_url(raw, Some(&self.base))?;
        let key = normalize_url(&url);
        if let Some(&at) = self.seen.get(&key) {
            let known = &mut self.images[at];
            known.width = known.width.or(width);
            known.height = known.height.or(height);
            return Some(at);
        }
        if self.full() {
            return None;
        }
        self.seen.insert(key, self.images.len());
        self.images.push(PageImage {
            url,
            width,
            height,
            source,
            dated: None,
            words: PostingWords::default(),
        });
        Some(self.images.len() - 1)
    }
}

fn has_rel(element: ElementRef<'_>, wanted: &str) -> bool {
    element.attr("rel").is_some_and(|rel| {
        rel.split_whitespace()
            .any(|r| r.eq_ignore_ascii_case(wanted))
    })
}

fn is_data_uri(raw: &str) -> bool {
    raw.trim_start()
        .get(..5)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("data:"))
}

/// `"640"`, `" 640px "` → 640; percentages and junk → `None`.
fn parse_dimension(raw: &str) -> Option<u32> {
    let raw = raw.trim();
    let digits = raw.strip_suffix("px").unwrap_or(raw).trim();
    digits.parse().ok()
}

/// The height of a `w`-described srcset entry, from the `<img>`'s stated
/// aspect ratio.
fn scaled_height(entry_width: u32, width: Option<u32>, height: Option<u32>) -> Option<u32> {
    let (w, h) = (u64::from(width?), u64::from(height?));
    if w == 0 {
        return None;
    }
    u32::try_from(u64::from(entry_width) * h / w).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimensions() {
        assert_eq!(parse_dimension(" 640 "), Some(640));
        assert_eq!(parse_dimension("640px"), Some(640));
        assert_eq!(parse_dimension("100%"), None);
        assert_eq!(parse_dimension("-5"), None);
        assert_eq!(scaled_height(1920, Some(445), Some(267)), Some(1152));
        assert_eq!(scaled_height(1920, Some(0), Some(267)), None);
        assert_eq!(scaled_height(1920, None, Some(267)), None);
    }

    #[test]
    fn data_uris_in_any_case() {
        assert!(is_data_uri("  DaTa:image/png;base64,AA"));
        assert!(!is_data_uri("https://e.com/data:x"));
        assert!(!is_data_uri("dat"));
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate("ééé", 3), "é");
        assert_eq!(truncate("abc", 10), "abc");
    }

    #[test]
    fn base_href_resolves_against_the_page_and_ignores_junk() {
        let page = Url::parse("https://e.example/a/b.html").unwrap();
        let doc = Html::parse_document(r#"<base href="/static/">"#);
        assert_eq!(
            document_base(&doc, &page).as_str(),
            "https://e.example/static/"
        );
        let doc = Html::parse_document(r#"<base href="javascript:x">"#);
        assert_eq!(document_base(&doc, &page), page);
    }

    #[test]
    fn duplicates_fill_in_missing_dimensions() {
        let html = r#"<meta property="og:image" content="/fox.jpg"><img src="/fox.jpg" width="800" height="600">"#;
        let page = extract_images_with(
            html,
            &Url::parse("https://e.example/").unwrap(),
            &ExtractOptions::default(),
        );
        assert_eq!(page.images.len(), 1);
        assert_eq!(page.images[0].source, ImageSource::OgImage);
        assert_eq!(
            (page.images[0].width, page.images[0].height),
            (Some(800), Some(600))
        );
    }
}
