//! TinEye API: reverse search by an uploaded file
//! (`POST /rest/search/`, multipart field `image_upload`) or by a public
//! image URL (`GET /rest/search/?image_url=…`), key in the `x-api-key`
//! header; `offset`/`limit` page through the matches, `backlink_limit`
//! bounds the postings of each. Every backlink becomes a candidate with
//! the day TinEye first crawled it.

use url::Url;

use super::http::{endpoint_url, Endpoint, Verdict};
use super::paging::collect_pages;
use super::serpapi::pages_for;
use crate::config::Secret;
use crate::http::RetryPolicy;
use crate::search::answer::tineye::{failure_message, parse_page, NAME};
use crate::search::answer::{parse_body, rank_of, Found, Page};
use crate::search::error::SearchError;
use crate::search::settings::TINEYE_DEFAULT_URL;

/// Matches asked per request.
const PAGE_SIZE: usize = 100;
/// Postings asked per match (TinEye's own default).
const BACKLINK_LIMIT: usize = 100;
const UNAUTHORIZED_HINT: &str =
    "check TINEYE_API_KEY (your key is at https://services.tineye.com/account/api)";
const NO_KEY: &str = "searching by a local file (--image) uses the TinEye API: get a key at https://services.tineye.com/TinEyeAPI, or search by a public image URL with --image-url (SerpApi Google Lens)";

/// What to look for.
#[derive(Debug, Clone)]
pub enum ReverseImage {
    /// A file's bytes and its name (sent as the upload's file name).
    File {
        /// The bytes.
        bytes: Vec<u8>,
        /// The name.
        name: String,
    },
    /// A public image URL.
    Url(Url),
}

/// The TinEye reverse image search API.
#[derive(Debug, Clone)]
pub struct TinEye {
    base_url: Url,
    api_key: Secret,
    client: reqwest::Client,
    retry: RetryPolicy,
}

impl TinEye {
    /// A client from the values the CLI read: `api_key` from
    /// `TINEYE_API_KEY`, `base_url` an optional override
    /// (`PROVENANCE_TINEYE_URL`). A missing key names the variable.
    pub fn resolve(
        api_key: Option<&str>,
        base_url: Option<&str>,
        client: reqwest::Client,
        retry: RetryPolicy,
    ) -> Result<Self, SearchError> {
        let api_key =
            api_key
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .ok_or(SearchError::MissingKey {
                    variable: "TINEYE_API_KEY",
                    alternatives: NO_KEY,
                })?;
        let raw = base_url
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .unwrap_or(TINEYE_DEFAULT_URL);
        let base_url = Url::parse(raw)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && !u.cannot_be_a_base())
            .ok_or_else(|| {
                SearchError::InvalidSetting(
                    "PROVENANCE_TINEYE_URL must be an http:// or https:// URL".into(),
                )
            })?;
        Ok(Self {
            base_url,
            api_key: Secret::new(api_key),
            client,
            retry,
        })
    }

    /// Every posting of the image TinEye knows, at most `max_results`,
    /// ranked in TinEye's order (best match first).
    pub async fn search(
        &self,
        image: &ReverseImage,
        max_results: usize,
    ) -> Result<Found, SearchError> {
        let max_pages = pages_for(max_results, PAGE_SIZE);
        let mut found = collect_pages(NAME, max_results, max_pages, |page| {
            self.fetch_page(image, page)
        })
        .await?;
        for (index, candidate) in found.candidates.iter_mut().enumerate() {
            candidate.rank = rank_of(index);
        }
        Ok(found)
    }

    async fn fetch_page(&self, image: &ReverseImage, page: u32) -> Result<Page, SearchError> {
        let mut url = endpoint_url(&self.base_url, "rest/search/")?;
        url.query_pairs_mut()
            .append_pair("offset", &(page as usize * PAGE_SIZE).to_string())
            .append_pair("limit", &PAGE_SIZE.to_string())
            .append_pair("backlink_limit", &BACKLINK_LIMIT.to_string())
            .append_pair("sort", "score")
            .append_pair("order", "desc");
        if let ReverseImage::Url(image_url) = image {
            url.query_pairs_mut()
                .append_pair("image_url", image_url.as_str());
        }
        let endpoint = Endpoint {
            provider: NAME,
            retry: &self.retry,
            secret: Some(&self.api_key),
            unauthorized_hint: UNAUTHORIZED_HINT,
            classify: classify_answer,
        };
        let body = endpoint
            .send(&url, || {
                let request = match image {
                    ReverseImage::File { bytes, name } => {
                        let part =
                            reqwest::multipart::Part::bytes(bytes.clone()).file_name(name.clone());
                        self.client
                            .post(url.clone())
                            .multipart(reqwest::multipart::Form::new().part("image_upload", part))
                    }
                    ReverseImage::Url(_) => self.client.get(url.clone()),
                };
                request
                    .header("Accept", "application/json")
                    .header("x-api-key", self.api_key.expose())
            })
            .await?;
        parse_page(&parse_body(NAME, &body)?, PAGE_SIZE, chrono::Utc::now())
    }
}

/// TinEye answers (any status) saying the searches are used up.
fn classify_answer(status: u16, body: &str) -> Option<Verdict> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let message = failure_message(&value)?;
    let lower = message.to_ascii_lowercase();
    if lower.contains("bundle") || lower.contains("no searches") || lower.contains("quota") {
        return Some(Verdict::QuotaExhausted(message));
    }
    matches!(status, 401 | 403).then_some(Verdict::Unauthorized)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_key_says_what_tineye_is_for() {
        let client = crate::search::api_client().unwrap();
        let err =
            TinEye::resolve(Some(" "), None, client.clone(), RetryPolicy::default()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("TINEYE_API_KEY is not set; searching by a local file"),
            "{err}"
        );
        let err = TinEye::resolve(Some("k"), Some("ftp://x"), client, RetryPolicy::default())
            .unwrap_err();
        assert!(err.to_string().contains("PROVENANCE_TINEYE_URL"), "{err}");
    }

    #[test]
    fn used_up_searches_are_told_from_other_failures() {
        let used_up = r#"{"code": 403, "messages": ["Your search bundle is exhausted."]}"#;
        assert!(matches!(
            classify_answer(403, used_up),
            Some(Verdict::QuotaExhausted(_))
        ));
        let refused = r#"{"code": 401, "messages": ["Invalid API key."]}"#;
        assert_eq!(classify_answer(401, refused), Some(Verdict::Unauthorized));
        assert_eq!(classify_answer(200, r#"{"code": 200}"#), None);
    }
}
