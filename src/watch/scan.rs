//! A watch's scan as it is kept (names, not types; the picture apart)
//! and as it runs again ([`ScanRequest`]).

use crate::model::{WatchedInput, WatchedScan};
use crate::scan::request::providers_by_name;
use crate::scan::{ScanInput, ScanRequest};

/// The scan to keep for `request`, and the picture's bytes of a
/// reverse search by upload.
pub fn watched_scan(request: &ScanRequest) -> (WatchedScan, Option<Vec<u8>>) {
    let (input, image) = match &request.input {
        ScanInput::Keyphrase(words) => (WatchedInput::Keyphrase(words.clone()), None),
        ScanInput::ImageUrl(url) => (WatchedInput::ImageUrl(url.clone()), None),
        ScanInput::ImageFile { name, bytes } => (
            WatchedInput::Image { name: name.clone() },
            Some(bytes.clone()),
        ),
        ScanInput::UrlList { name, text } => (
            WatchedInput::Urls {
                name: name.clone(),
                text: text.clone(),
            },
            None,
        ),
    };
    let scan = WatchedScan {
        input,
        providers: request
            .providers
            .iter()
            .map(|p| p.name().to_string())
            .collect(),
        max_results: request.max_results,
        follow_pages: request.follow_pages,
        max_pages: request.max_pages,
        exact_matches: request.exact_matches,
    };
    (scan, image)
}

/// The scan a watch runs, with the model's name of this run.
pub fn scan_request(
    scan: &WatchedScan,
    image: Option<Vec<u8>>,
    embedder: String,
) -> Result<ScanRequest, String> {
    let input = match &scan.input {
        WatchedInput::Keyphrase(words) => ScanInput::Keyphrase(words.clone()),
        WatchedInput::ImageUrl(url) => ScanInput::ImageUrl(url.clone()),
        WatchedInput::Image { name } => ScanInput::ImageFile {
            name: name.clone(),
            bytes: image.ok_or("the watch's picture is missing from the store")?,
        },
        WatchedInput::Urls { name, text } => ScanInput::UrlList {
            name: name.clone(),
            text: text.clone(),
        },
    };
    let providers = providers_by_name(&scan.providers.join(",")).map_err(|e| e.to_string())?;
    Ok(ScanRequest {
        input,
        providers,
        max_results: scan.max_results,
        follow_pages: scan.follow_pages,
        max_pages: scan.max_pages,
        exact_matches: scan.exact_matches,
        embedder,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::ProviderKind;

    #[test]
    fn a_kept_scan_runs_as_it_was_asked() {
        let request = ScanRequest {
            input: ScanInput::ImageFile {
                name: "a.jpg".into(),
                bytes: vec![1, 2, 3],
            },
            providers: vec![ProviderKind::TinEye],
            max_results: 40,
            follow_pages: true,
            max_pages: 7,
            exact_matches: false,
            embedder: "none".into(),
        };
        let (kept, image) = watched_scan(&request);
        let json = serde_json::to_value(&kept).unwrap();
        let back: WatchedScan = serde_json::from_value(json).unwrap();
        assert_eq!(scan_request(&back, image, "none".into()).unwrap(), request);
        assert!(scan_request(&back, None, "none".into()).is_err());
    }
}
