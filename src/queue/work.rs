//! A batch's work as it is kept in the queue (JSON in `scan_batches.work`):
//! the candidates it fetches and the pages it follows, and how a scan's
//! candidates are split into batches. Pure: no I/O.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::model::{PostingWords, SourceFacts};
use crate::search::{ImageCandidate, PageRef, ProviderKind};

/// What one batch does.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatchWork {
    /// Pictures to fetch.
    pub candidates: Vec<QueuedCandidate>,
    /// Pages to follow beyond the candidates' own (with `follow_pages`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<Url>,
}

/// An [`ImageCandidate`] as kept in the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedCandidate {
    image_url: Url,
    pages: Vec<QueuedPage>,
    thumbnail_url: Option<Url>,
    width: Option<u32>,
    height: Option<u32>,
    best_rank: u32,
    providers: Vec<String>,
    title: Option<String>,
    facts: SourceFacts,
    words: PostingWords,
}

/// A [`PageRef`] as kept in the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct QueuedPage {
    page_url: Url,
    page_title: Option<String>,
    site: Option<String>,
    rank: u32,
    provider: String,
    facts: SourceFacts,
    words: PostingWords,
}

impl From<&ImageCandidate> for QueuedCandidate {
    fn from(c: &ImageCandidate) -> Self {
        Self {
            image_url: c.image_url.clone(),
            pages: c
                .pages
                .iter()
                .map(|p| QueuedPage {
                    page_url: p.page_url.clone(),
                    page_title: p.page_title.clone(),
                    site: p.site.clone(),
                    rank: p.rank,
                    provider: p.provider.to_string(),
                    facts: p.facts.clone(),
                    words: p.words.clone(),
                })
                .collect(),
            thumbnail_url: c.thumbnail_url.clone(),
            width: c.width,
            height: c.height,
            best_rank: c.best_rank,
            providers: c.providers.iter().map(|p| p.to_string()).collect(),
            title: c.title.clone(),
            facts: c.facts.clone(),
            words: c.words.clone(),
        }
    }
}

impl From<QueuedCandidate> for ImageCandidate {
    fn from(c: QueuedCandidate) -> Self {
        Self {
            image_url: c.image_url,
            pages: c
                .pages
                .into_iter()
                .map(|p| PageRef {
                    page_url: p.page_url,
                    page_title: p.page_title,
                    site: p.site,
                    rank: p.rank,
                    provider: provider_name(&p.provider),
                    facts: p.facts,
                    words: p.words,
                })
                .collect(),
            thumbnail_url: c.thumbnail_url,
            width: c.width,
            height: c.height,
            best_rank: c.best_rank,
            providers: c.providers.iter().map(|p| provider_name(p)).collect(),
            title: c.title,
            facts: c.facts,
            words: c.words,
        }
    }
}

/// Where a candidate came from when the queue names no known source.
pub const UNKNOWN_PROVIDER: &str = "queued";

/// The static name of a provider, as sightings record it.
fn provider_name(name: &str) -> &'static str {
    let others = [
        crate::search::LENS_PROVIDER,
        crate::scrape::PAGE_PROVIDER,
        crate::scan::sources::LIST_PROVIDER,
        crate::scan::sources::LOCAL_PROVIDER,
    ];
    ProviderKind::ALL
        .iter()
        .map(|kind| kind.name())
        .chain(others)
        .find(|known| *known == name)
        .unwrap_or(UNKNOWN_PROVIDER)
}

/// Splits candidates into batches of at most `size`, each host's pictures
/// together (sorted by host, then rank): a host spans as few batches as
/// its count allows, so few workers ever ask one host at once (the shared
/// host slots hold the limit in any case) and each keeps its robots.txt.
/// Pages to follow beyond the candidates' own go with the first batch.
pub fn split(candidates: &[ImageCandidate], pages: &[Url], size: usize) -> Vec<BatchWork> {
    let mut sorted: Vec<&ImageCandidate> = candidates.iter().collect();
    sorted.sort_by(|a, b| {
        let host = |c: &ImageCandidate| c.image_url.host_str().unwrap_or("").to_ascii_lowercase();
        host(a)
            .cmp(&host(b))
            .then(a.best_rank.cmp(&b.best_rank))
            .then_with(|| a.image_url.as_str().cmp(b.image_url.as_str()))
    });
    let mut batches: Vec<BatchWork> = sorted
        .chunks(size.max(1))
        .map(|chunk| BatchWork {
            candidates: chunk.iter().map(|c| QueuedCandidate::from(*c)).collect(),
            pages: Vec::new(),
        })
        .collect();
    if !pages.is_empty() {
        if batches.is_empty() {
            batches.push(BatchWork::default());
        }
        batches[0].pages = pages.to_vec();
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(url: &str, rank: u32, provider: &'static str) -> ImageCandidate {
        ImageCandidate {
            image_url: Url::parse(url).unwrap(),
            pages: vec![PageRef {
                page_url: Url::parse("https://page.example/a").unwrap(),
                page_title: Some("A <page>".into()),
                site: Some("page.example".into()),
                rank,
                provider,
                facts: SourceFacts::default(),
                words: PostingWords::default(),
            }],
            thumbnail_url: None,
            width: Some(640),
            height: None,
            best_rank: rank,
            providers: vec![provider],
            title: None,
            facts: SourceFacts::default(),
            words: PostingWords::default(),
        }
    }

    #[test]
    fn a_candidate_survives_the_queue_whole() {
        let original = candidate("https://a.example/1.jpg", 3, "serpapi_lens");
        let work = BatchWork {
            candidates: vec![QueuedCandidate::from(&original)],
            pages: vec![Url::parse("https://b.example/p").unwrap()],
        };
        let json = serde_json::to_string(&work).unwrap();
        let back: BatchWork = serde_json::from_str(&json).unwrap();
        assert_eq!(back, work);
        let restored = ImageCandidate::from(back.candidates[0].clone());
        assert_eq!(restored, original);
    }

    #[test]
    fn every_known_provider_keeps_its_name_and_others_are_marked() {
        for kind in ProviderKind::ALL {
            assert_eq!(provider_name(kind.name()), kind.name());
        }
        for name in ["serpapi_lens", "page", "list", "local"] {
            assert_eq!(provider_name(name), name);
        }
        assert_eq!(provider_name("forged"), UNKNOWN_PROVIDER);
    }

    #[test]
    fn batches_keep_hosts_together_and_respect_the_size() {
        let candidates = vec![
            candidate("https://b.example/1.jpg", 1, "brave"),
            candidate("https://a.example/2.jpg", 2, "brave"),
            candidate("https://b.example/3.jpg", 3, "brave"),
            candidate("https://A.example/4.jpg", 4, "brave"),
            candidate("https://c.example/5.jpg", 5, "brave"),
        ];
        let batches = split(&candidates, &[], 2);
        let hosts: Vec<Vec<&str>> = batches
            .iter()
            .map(|b| {
                b.candidates
                    .iter()
                    .map(|c| c.image_url.host_str().unwrap())
                    .collect()
            })
            .collect();
        assert_eq!(
            hosts,
            vec![
                vec!["a.example", "a.example"],
                vec!["b.example", "b.example"],
                vec!["c.example"]
            ]
        );
        let total: usize = batches.iter().map(|b| b.candidates.len()).sum();
        assert_eq!(total, candidates.len(), "nothing lost or doubled");
    }

    #[test]
    fn pages_alone_make_one_batch() {
        let page = Url::parse("https://p.example/").unwrap();
        let batches = split(&[], std::slice::from_ref(&page), 10);
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].pages, vec![page]);
        assert!(split(&[], &[], 10).is_empty());
    }
}
