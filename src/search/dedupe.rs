//! Merging candidates from several result pages and providers: one
//! [`ImageCandidate`] per normalised image URL, the best rank kept, every
//! distinct page kept.

use std::collections::HashMap;

use url::Url;

use super::candidate::{Candidate, ImageCandidate, PageRef};
use crate::model::{PostingWords, SourceFacts};

/// The comparison key for a URL: `http` and `https` are the same, the
/// fragment and `utm_*` tracking parameters are dropped, the remaining query
/// parameters are sorted, default ports are dropped, the host is lowercase.
/// The path keeps its case (it is case-sensitive on most servers).
pub fn normalize_url(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| !name.to_ascii_lowercase().starts_with("utm_"))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    pairs.sort();
    let query = if pairs.is_empty() {
        String::new()
    } else {
        let mut serializer = url::form_urlencoded::Serializer::new(String::from("?"));
        serializer.extend_pairs(pairs);
        serializer.finish()
    };
    let scheme = match url.scheme() {
        "http" | "https" => "https",
        other => other,
    };
    format!("{scheme}://{host}{port}{}{query}", url.path())
}

/// One entry per distinct image, in order of best rank (ties: first seen).
/// Within an image, one [`PageRef`] per distinct page (normalised), best
/// rank first; a page's missing title/site is filled from later sightings.
pub fn dedupe(candidates: Vec<Candidate>) -> Vec<ImageCandidate> {
    let mut images: Vec<ImageCandidate> = Vec::new();
    let mut page_keys: Vec<Vec<String>> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for candidate in candidates {
        let key = normalize_url(&candidate.image_url);
        let slot = *by_key.entry(key).or_insert_with(|| {
            images.push(empty_entry(&candidate));
            page_keys.push(Vec::new());
            images.len() - 1
        });
        merge(&mut images[slot], &mut page_keys[slot], candidate);
    }
    for image in &mut images {
        image.pages.sort_by_key(|page| page.rank);
    }
    images.sort_by_key(|image| image.best_rank);
    images
}

fn empty_entry(candidate: &Candidate) -> ImageCandidate {
    ImageCandidate {
        image_url: without_fragment(&candidate.image_url),
        pages: Vec::new(),
        thumbnail_url: None,
        width: None,
        height: None,
        best_rank: candidate.rank,
        providers: Vec::new(),
        title: None,
        facts: SourceFacts::default(),
        words: PostingWords::default(),
    }
}

fn without_fragment(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    url
}

fn merge(image: &mut ImageCandidate, page_keys: &mut Vec<String>, candidate: Candidate) {
    image.best_rank = image.best_rank.min(candidate.rank);
    image.width = image.width.max(candidate.width);
    image.height = image.height.max(candidate.height);
    if image.thumbnail_url.is_none() {
        image.thumbnail_url = candidate.thumbnail_url;
    }
    if image.image_url.scheme() == "http" && candidate.image_url.scheme() == "https" {
        image.image_url = without_fragment(&candidate.image_url);
    }
    if !image.providers.contains(&candidate.provider) {
        image.providers.push(candidate.provider);
    }
    let Some(page_url) = candidate.page_url else {
        image.title = image.title.take().or(candidate.page_title);
        image.facts = std::mem::take(&mut image.facts).or(candidate.facts);
        image.words = std::mem::take(&mut image.words).or(candidate.words);
        return;
    };
    let page_key = normalize_url(&page_url);
    match page_keys.iter().position(|known| *known == page_key) {
        Some(at) => {
            let page = &mut image.pages[at];
            page.rank = page.rank.min(candidate.rank);
            page.page_title = page.page_title.take().or(candidate.page_title);
            page.site = page.site.take().or(candidate.site);
            page.facts = std::mem::take(&mut page.facts).or(candidate.facts);
            page.words = std::mem::take(&mut page.words).or(candidate.words);
        }
        None => {
            page_keys.push(page_key);
            image.pages.push(PageRef {
                page_url,
                page_title: candidate.page_title,
                site: candidate.site,
                rank: candidate.rank,
                provider: candidate.provider,
                facts: candidate.facts,
                words: candidate.words,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    fn candidate(image: &str, page: Option<&str>, rank: u32, provider: &'static str) -> Candidate {
        Candidate {
            image_url: url(image),
            page_url: page.map(url),
            page_title: None,
            site: None,
            thumbnail_url: None,
            width: None,
            height: None,
            rank,
            provider,
            facts: Default::default(),
            words: Default::default(),
        }
    }

    #[test]
    fn normalisation_ignores_scheme_fragment_tracking_and_param_order() {
        let a = url("http://Example.COM:80/img/A.jpg?b=2&a=1&utm_source=x#top");
        let b = url("https://example.com/img/A.jpg?a=1&b=2");
        assert_eq!(normalize_url(&a), normalize_url(&b));
        let other_case = url("https://example.com/img/a.jpg?a=1&b=2");
        assert_ne!(normalize_url(&other_case), normalize_url(&b));
        let other_port = url("https://example.com:8443/img/A.jpg?a=1&b=2");
        assert_ne!(normalize_url(&other_port), normalize_url(&b));
        assert_eq!(normalize_url(&url("https://e.com/x?")), "https://e.com/x");
    }

    #[test]
    fn keeps_best_rank_and_every_page() {
        let mut first = candidate(
            "http://cdn.e.com/fox.jpg",
            Some("https://a.org/1"),
            7,
            "serpapi",
        );
        first.width = Some(800);
        let mut same_page_better = candidate(
            "https://cdn.e.com/fox.jpg#x",
            Some("https://a.org/1#c"),
            2,
            "brave",
        );
        same_page_better.page_title = Some("Fox".into());
        same_page_better.height = Some(600);
        let other_page = candidate(
            "https://cdn.e.com/fox.jpg",
            Some("https://b.org/2"),
            5,
            "serpapi",
        );
        let no_page = candidate("https://cdn.e.com/fox.jpg", None, 9, "page");
        let other_image = candidate(
            "https://cdn.e.com/owl.jpg",
            Some("https://a.org/1"),
            1,
            "serpapi",
        );
        let merged = dedupe(vec![
            first,
            same_page_better,
            other_page,
            no_page,
            other_image,
        ]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].image_url.as_str(), "https://cdn.e.com/owl.jpg");
        let fox = &merged[1];
        assert_eq!(fox.best_rank, 2);
        assert_eq!(fox.image_url.as_str(), "https://cdn.e.com/fox.jpg");
        assert_eq!((fox.width, fox.height), (Some(800), Some(600)));
        assert_eq!(fox.providers, vec!["serpapi", "brave", "page"]);
        let pages: Vec<(&str, u32)> = fox
            .pages
            .iter()
            .map(|p| (p.page_url.as_str(), p.rank))
            .collect();
        assert_eq!(pages, vec![("https://a.org/1", 2), ("https://b.org/2", 5)]);
        assert_eq!(fox.pages[0].page_title.as_deref(), Some("Fox"));
        assert_eq!(fox.pages[0].provider, "serpapi");
    }

    #[test]
    fn empty_in_empty_out() {
        assert!(dedupe(Vec::new()).is_empty());
    }
}
