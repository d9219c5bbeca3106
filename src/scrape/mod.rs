//! Source-page extraction: every image an HTML page shows or declares, as
//! absolute URLs, plus the page title. Pure functions over HTML text and the
//! page's URL — fetching (robots.txt, size caps, SSRF rules) is the
//! fetcher's job, not this module's.
//!
//! Found: `<img src>`, `srcset` (largest entry), `<picture><source srcset>`,
//! `og:image`, `twitter:image`, `<link rel=image_src>`, lazy-load attributes
//! (`data-src`, `data-srcset`, `data-lazy-src`, `data-original`, …), images
//! inside `<noscript>` (the lazy-loading fallback) and `<a href>` links to
//! image files (gallery lightboxes). Relative URLs resolve against the page
//! and `<base href>`; `data:` URIs and images stated to be tiny are skipped.
//! What the page says about its pictures — publication dates, JSON-LD
//! `ImageObject` credits, a `<time>` beside a picture — comes along
//! (`evidence`), and so do the words each picture is posted with: alt,
//! title, caption, heading, the text around it, the page's description
//! (`words`).

mod evidence;
mod flatten;
mod images;
mod srcset;
mod title;
mod words;

use url::Url;

use crate::model::PostingWords;
use crate::search::Candidate;

pub use evidence::PageEvidence;
pub use images::extract_images_with;
pub use words::fragment_text;

/// A built-in CSS selector. They are constants, so a typo is a bug that
/// the unit tests catch, not an input error.
fn selector(css: &str) -> scraper::Selector {
    scraper::Selector::parse(css).unwrap_or_else(|_| panic!("invalid built-in selector {css}"))
}

/// Provider name of candidates found on pages.
pub const PAGE_PROVIDER: &str = "page";

/// Where on the page an image URL was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageSource {
    /// `<img src>`.
    Img,
    /// The largest entry of an `<img srcset>`.
    Srcset,
    /// The largest entry of a `<picture>`'s `<source srcset>`s.
    Picture,
    /// `<meta property="og:image">`.
    OgImage,
    /// `<meta name="twitter:image">`.
    TwitterImage,
    /// `<link rel="image_src">`.
    LinkImageSrc,
    /// A lazy-loading attribute (`data-src`, `data-srcset`, …).
    LazyAttr,
    /// `<a href>` pointing at an image file.
    AnchorHref,
}

impl ImageSource {
    /// A stable lowercase name, for storage and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Img => "img",
            Self::Srcset => "srcset",
            Self::Picture => "picture",
            Self::OgImage => "og_image",
            Self::TwitterImage => "twitter_image",
            Self::LinkImageSrc => "link_image_src",
            Self::LazyAttr => "lazy_attr",
            Self::AnchorHref => "anchor_href",
        }
    }
}

/// One image found on a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageImage {
    /// Absolute `http(s)` URL.
    pub url: Url,
    /// Width stated by the page (attribute, `w` descriptor, `og:image:width`).
    pub width: Option<u32>,
    /// Height stated by the page.
    pub height: Option<u32>,
    /// Where it was found (the first place, when found several times).
    pub source: ImageSource,
    /// A `<time datetime>` in its `<figure>` or `<article>`.
    pub dated: Option<chrono::DateTime<chrono::Utc>>,
    /// Its alt text, title, caption, heading and the text around it.
    pub words: PostingWords,
}

/// What a page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageImages {
    /// `<title>`, else `og:title`/`twitter:title`: whitespace collapsed, capped.
    pub title: Option<String>,
    /// `<meta name="description">`, else `og:description`/`twitter:description`.
    pub description: Option<String>,
    /// Distinct images, declared ones (`og:image`, …) first, then in
    /// document order, at most [`ExtractOptions::max_images`].
    pub images: Vec<PageImage>,
    /// The page's dates and picture credits.
    pub evidence: PageEvidence,
}

/// Limits for [`extract_images_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractOptions {
    /// Most images taken from one page.
    pub max_images: usize,
    /// Images whose stated width or height is below this are skipped
    /// (icons, spacers, tracking pixels).
    pub min_dimension: u32,
    /// Longest title kept, in characters.
    pub max_title_chars: usize,
    /// Only this many bytes of HTML are parsed (the rest is ignored).
    pub max_html_bytes: usize,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        Self {
            max_images: 500,
            min_dimension: 50,
            max_title_chars: 300,
            max_html_bytes: 4 * 1024 * 1024,
        }
    }
}

/// The title and images of `html`, served at `page_url`, with default limits.
pub fn extract_images(html: &str, page_url: &Url) -> PageImages {
    extract_images_with(html, page_url, &ExtractOptions::default())
}

/// One candidate per image on the page (provider `"page"`, rank = position
/// on the page), each with the page as its page.
pub fn candidates_from_page(page: &PageImages, page_url: &Url) -> Vec<Candidate> {
    let site = crate::search::site_of(page_url);
    page.images
        .iter()
        .enumerate()
        .map(|(index, image)| Candidate {
            image_url: image.url.clone(),
            page_url: Some(page_url.clone()),
            page_title: page.title.clone(),
            site: site.clone(),
            thumbnail_url: None,
            width: image.width,
            height: image.height,
            rank: u32::try_from(index + 1).unwrap_or(u32::MAX),
            provider: PAGE_PROVIDER,
            facts: page.evidence.facts_for(&image.url, image.dated),
            words: image.words.clone().or(PostingWords {
                description: page.description.clone(),
                ..PostingWords::default()
            }),
        })
        .collect()
}
