//! Providers against a local server replaying their saved responses:
//! request shape (path, parameters, headers, body), paging, error mapping,
//! retries, key redaction, and keyphrase → candidates → dedupe.

mod common;
#[path = "search_providers/keyed_and_keyless.rs"]
mod keyed_and_keyless;
#[path = "search_providers/keyless_sources.rs"]
mod keyless_sources;
#[path = "search_providers/mock.rs"]
mod mock;
#[path = "search_providers/pipeline.rs"]
mod pipeline;
#[path = "search_providers/redaction.rs"]
mod redaction;
#[path = "search_providers/retries.rs"]
mod retries;
#[path = "search_providers/serpapi.rs"]
mod serpapi;
#[path = "search_providers/tineye.rs"]
mod tineye;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mock::{fixture, MockServer, Recorded, Reply};
use provenance::config::Secret;
use provenance::http::RetryPolicy;
use provenance::scrape::{candidates_from_page, extract_images};
use provenance::search::{
    api_client, dedupe, gather, provider, Candidate, ImageSearch, Lens, ProviderKind,
    ProviderSettings, SearchError, SearchQuery,
};
use serde_json::json;
use url::Url;

const KEY: &str = "sk-test-0123456789abcdef";

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        retries: 2,
        base: Duration::from_millis(5),
        max: Duration::from_millis(50),
    }
}

/// Everything the library logs in this test binary, at every level.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The binary's log, captured by one global subscriber installed before
/// the first search. (A subscriber scoped to one test thread is not
/// reliable while other tests run: tracing may cache "nobody listens" for
/// a log call site another thread reached first.)
fn logs() -> &'static Logs {
    static LOGS: std::sync::OnceLock<Logs> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        logs
    })
}

fn search_with(kind: ProviderKind, server: &MockServer) -> Box<dyn ImageSearch> {
    logs();
    let settings = match kind {
        ProviderKind::SearXng => ProviderSettings::resolve(kind, None, Some(server.url.as_str())),
        _ => ProviderSettings::resolve(kind, Some(KEY), Some(server.url.as_str())),
    }
    .expect("settings");
    provider(settings, api_client().unwrap(), fast_retry())
}

fn query(keyphrase: &str, max_results: usize) -> SearchQuery {
    logs();
    SearchQuery {
        keyphrase: keyphrase.into(),
        max_results,
    }
}

/// The error's message, Debug form and source chain: none may hold the key.
fn assert_no_key(err: &SearchError) {
    let mut texts = vec![err.to_string(), format!("{err:?}")];
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        texts.push(cause.to_string());
        source = cause.source();
    }
    for text in texts {
        assert!(!text.contains(KEY), "key leaked: {text}");
    }
}

/// A `google_images` page of 100 results for paging past 100.
fn serpapi_generated_page(ijn: usize, last_page: usize) -> String {
    let results: Vec<_> = (0..100)
        .map(|i| {
            json!({
                "position": i + 1,
                "thumbnail": format!("https://serpapi.com/searches/abc/images/{ijn}-{i}.jpeg"),
                "source": "Example Photos",
                "title": format!("Fox photo {ijn}-{i}"),
                "link": format!("https://photos.example.com/fox/{ijn}/{i}"),
                "original": format!("https://photos.example.com/img/fox-{ijn}-{i}.jpg"),
                "original_width": 1600,
                "original_height": 1200
            })
        })
        .collect();
    let mut page = json!({
        "search_metadata": {"status": "Success"},
        "search_parameters": {"engine": "google_images", "ijn": ijn.to_string()},
        "images_results": results,
        "serpapi_pagination": {"current": ijn}
    });
    if ijn < last_page {
        page["serpapi_pagination"]["next"] = json!(format!(
            "https://serpapi.com/search.json?engine=google_images&ijn={}",
            ijn + 1
        ));
    }
    page.to_string()
}

fn ijn_of(request: &Recorded) -> usize {
    request
        .param("ijn")
        .and_then(|n| n.parse().ok())
        .expect("ijn")
}
