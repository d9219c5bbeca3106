//! Re-checking one posting: is the page still showing the picture, and
//! does its URL still serve the same bytes? A conditional GET with the
//! `ETag`/`Last-Modified` kept from the last answer (a `304` costs no
//! download), under every rule of a fetch: robots.txt, the SSRF guard,
//! per-host limits and retries. HEAD is not used: a conditional GET
//! answers the same question in one request and also says *what* changed.

use url::Url;

use crate::fetch::{FetchError, Fetcher, Recheck, Validators};
use crate::model::{CheckOutcome, PostingToCheck};
use crate::scrape::extract_images;
use crate::search::normalize_url;

/// What a failed request says about the posting: 404 or 410 is gone; a
/// refusal for politeness (robots.txt, `noai`, a host that throttles us)
/// or a blocked address is not a check at all; anything else (a timeout,
/// a 5xx, a refused connection) may pass, so it only counts towards gone.
pub fn outcome_of_error(what: &str, error: &FetchError) -> CheckOutcome {
    match error.root() {
        FetchError::Status {
            code: 404 | 410, ..
        } => CheckOutcome::Gone(format!("the {what} answers {}", status_of(error))),
        _ if error.is_skip() => CheckOutcome::Skipped(format!("the {what} was not asked: {error}")),
        FetchError::BlockedAddress(_) | FetchError::InvalidUrl { .. } => {
            CheckOutcome::Skipped(format!("the {what} was not asked: {error}"))
        }
        _ => CheckOutcome::Failed(format!("the {what}: {error}")),
    }
}

fn status_of(error: &FetchError) -> u16 {
    match error.root() {
        FetchError::Status { code, .. } => *code,
        _ => 0,
    }
}

/// Re-checks a posting: its page first (when it has one: gone when the
/// page is gone or no longer shows the picture's URL), then the picture's
/// URL (gone on 404/410, changed when other bytes come back).
pub async fn check_posting(fetcher: &Fetcher, posting: &PostingToCheck) -> CheckOutcome {
    let Some(image_url) = Url::parse(&posting.image_url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
    else {
        return CheckOutcome::Skipped("not a web address (a local file)".into());
    };
    if let Some(page_url) = posting.page_url.as_deref().and_then(|p| Url::parse(p).ok()) {
        match fetcher.fetch_page(&page_url).await {
            Ok(page) => {
                if !page_shows(&page.html, &page.final_url, &image_url) {
                    return CheckOutcome::Gone("the page no longer shows the picture".into());
                }
            }
            // A "page" that is not HTML (some lists give the picture's own
            // address): only the picture can be checked.
            Err(error) if matches!(error.root(), FetchError::NotHtml { .. }) => {}
            Err(error) => return outcome_of_error("page", &error),
        }
    }
    let validators = Validators {
        etag: posting.etag.clone(),
        last_modified: posting.last_modified,
    };
    match fetcher.recheck_image(&image_url, &validators).await {
        Ok(Recheck::Unchanged) => CheckOutcome::There {
            etag: None,
            last_modified: None,
        },
        Ok(Recheck::Fetched(image)) if hex::encode(image.sha256) == posting.sha256 => {
            CheckOutcome::There {
                etag: image.etag,
                last_modified: image.last_modified,
            }
        }
        Ok(Recheck::Fetched(image)) => CheckOutcome::Changed(format!(
            "the picture's address serves other bytes now (SHA-256 {})",
            hex::encode(image.sha256)
        )),
        Err(error) => outcome_of_error("picture's address", &error),
    }
}

/// True when the page shows (or links) the picture at `image_url`.
fn page_shows(html: &str, page_url: &Url, image_url: &Url) -> bool {
    let wanted = normalize_url(image_url);
    extract_images(html, page_url)
        .images
        .iter()
        .any(|image| normalize_url(&image.url) == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_shows_a_picture_by_any_form_of_its_address() {
        let page = Url::parse("https://news.example/story").unwrap();
        let image = Url::parse("https://cdn.example/a.jpg?utm_source=x").unwrap();
        assert!(page_shows(
            r#"<img src="//cdn.example/a.jpg" width=500>"#,
            &page,
            &image
        ));
        assert!(!page_shows(
            r#"<img src="//cdn.example/b.jpg">"#,
            &page,
            &image
        ));
        assert!(!page_shows("", &page, &image));
    }
}
