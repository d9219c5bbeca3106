//! The values search providers produce: one [`Candidate`] per result, and
//! the deduplicated [`ImageCandidate`] (one image, every page it was seen on).

use url::Url;

use crate::model::{PostingWords, SourceFacts};

/// What to search for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// The words to search for.
    pub keyphrase: String,
    /// Stop after this many candidates (providers page until they have them
    /// or run out).
    pub max_results: usize,
}

/// One search result: an image, and the page it was found on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The full-size image.
    pub image_url: Url,
    /// The page showing the image, when the provider says.
    pub page_url: Option<Url>,
    /// That page's title.
    pub page_title: Option<String>,
    /// The site's name or host (e.g. "Wikipedia", "example.com").
    pub site: Option<String>,
    /// A small preview, often hosted by the provider.
    pub thumbnail_url: Option<Url>,
    /// Width the provider or page states, in pixels (not verified).
    pub width: Option<u32>,
    /// Height the provider or page states, in pixels (not verified).
    pub height: Option<u32>,
    /// Position in this provider's results, 1-based (1 is best).
    pub rank: u32,
    /// "serpapi", "brave", "serper", "searxng", "openverse", "commons",
    /// "serpapi_lens" or "page".
    pub provider: &'static str,
    /// What the provider says about the posting (creator, licence, a date).
    pub facts: SourceFacts,
    /// The words it was posted with (from the page, or the provider's snippet).
    pub words: PostingWords,
}

/// One page an image was seen on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRef {
    /// The page.
    pub page_url: Url,
    /// Its title, if known.
    pub page_title: Option<String>,
    /// The site's name or host.
    pub site: Option<String>,
    /// Best rank this page was given for the image.
    pub rank: u32,
    /// The provider that first reported this page.
    pub provider: &'static str,
    /// What the providers say about this posting.
    pub facts: SourceFacts,
    /// The words it was posted with.
    pub words: PostingWords,
}

/// One distinct image (by [`normalize_url`](super::normalize_url)) with
/// every page it was seen on: the output of [`dedupe`](super::dedupe).
///
/// The pipeline fetches `image_url` once and records one sighting per page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageCandidate {
    /// The image, as first reported (an `https` form preferred).
    pub image_url: Url,
    /// Every distinct page showing it, best rank first.
    pub pages: Vec<PageRef>,
    /// First thumbnail any provider gave.
    pub thumbnail_url: Option<Url>,
    /// Largest stated width.
    pub width: Option<u32>,
    /// Largest stated height.
    pub height: Option<u32>,
    /// The best (lowest) rank any provider gave it.
    pub best_rank: u32,
    /// Every provider that reported it, in first-seen order.
    pub providers: Vec<&'static str>,
    /// The title a provider gave it without a usable page link: kept on its
    /// page-less sighting rather than lost.
    pub title: Option<String>,
    /// What providers said of it without a page.
    pub facts: SourceFacts,
    /// The words providers gave it without a page.
    pub words: PostingWords,
}

/// Longest URL taken from a provider, a page or a URL list, in bytes: far
/// beyond any real image or page address (browsers and CDNs stop near
/// 8 KiB too), and what keeps a hostile answer's megabyte "URL" out of the
/// fetcher, the store and the failures table.
pub const MAX_URL_BYTES: usize = 8 * 1024;

/// Parses a URL from a provider or page, resolving it against `base` when
/// relative; only `http`/`https` URLs of at most [`MAX_URL_BYTES`] are
/// accepted (no `data:`, `javascript:`).
pub(crate) fn parse_web_url(raw: &str, base: Option<&Url>) -> Option<Url> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_URL_BYTES {
        return None;
    }
    let parsed = match base {
        Some(base) => base.join(raw).ok()?,
        None if raw.starts_with("//") => Url::parse(&format!("https:{raw}")).ok()?,
        None => Url::parse(raw).ok()?,
    };
    matches!(parsed.scheme(), "http" | "https")
        .then_some(parsed)
        .filter(|url| url.host_str().is_some_and(|host| !host.is_empty()))
        .filter(|url| url.as_str().len() <= MAX_URL_BYTES)
}

/// The host of `url` without a leading `www.`, for [`Candidate::site`].
pub(crate) fn site_of(url: &Url) -> Option<String> {
    url.host_str()
        .map(|host| host.strip_prefix("www.").unwrap_or(host).to_string())
}

/// Trims a provider-given text; empty becomes `None`.
pub(crate) fn clean_text(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_urls_only() {
        assert!(parse_web_url("data:image/png;base64,AAAA", None).is_none());
        assert!(parse_web_url("javascript:alert(1)", None).is_none());
        assert!(parse_web_url("  ", None).is_none());
        assert!(parse_web_url("not a url", None).is_none());
        let url = parse_web_url("//cdn.example.com/a.jpg", None).unwrap();
        assert_eq!(url.as_str(), "https://cdn.example.com/a.jpg");
        let base = Url::parse("http://example.org/news/story.html").unwrap();
        let url = parse_web_url("../img/a.jpg", Some(&base)).unwrap();
        assert_eq!(url.as_str(), "http://example.org/img/a.jpg");
    }

    #[test]
    fn urls_longer_than_8_kib_are_refused() {
        let path = "a".repeat(MAX_URL_BYTES);
        assert!(parse_web_url(&format!("https://e.example/{path}"), None).is_none());
        let base = Url::parse(&format!("https://e.example/{}/", &path[..8000])).unwrap();
        assert!(
            parse_web_url(&path[..1000], Some(&base)).is_none(),
            "nor once resolved"
        );
        assert!(parse_web_url(&format!("https://e.example/{}", &path[..8000]), None).is_some());
    }

    #[test]
    fn site_drops_www() {
        let url = Url::parse("https://www.example.com/x").unwrap();
        assert_eq!(site_of(&url).as_deref(), Some("example.com"));
    }
}
