//! Fetching images and pages from the web, politely and safely.
//!
//! One [`Fetcher`] (cheap to clone) holds one HTTP client and enforces:
//! - **limits**: global and per-host concurrency, connect / read (between
//!   bytes) / total timeouts, at most N redirects, body caps enforced while
//!   streaming (after gzip decoding, whatever `Content-Length` says);
//! - **safety**: the SSRF guard ([`guard`]) refuses loopback, private,
//!   link-local, CGNAT, multicast and unspecified addresses at every hop and
//!   for every resolved address, unless `allow_private_addresses`;
//! - **politeness**: an identifiable `User-Agent`, robots.txt per origin
//!   (cached), `X-Robots-Tag: noai / noimageai`, retries with exponential
//!   back-off and jitter honouring `Retry-After`.
//!
//! Defaults are documented on [`FetchSettings`]. Skips for politeness are
//! errors for which [`FetchError::is_skip`] is true.

mod client;
mod error;
pub mod guard;
pub mod headers;
mod limits;
pub mod page;
pub mod robots;
mod robots_cache;
mod settings;

use chrono::{DateTime, Utc};
use url::Url;

pub use client::{Fetcher, Validators};
pub use error::{FetchError, TimeoutPhase};
pub use guard::BlockedAddress;
pub use limits::{SharedHostSlots, SharedSlot};
pub use settings::FetchSettings;

use client::{Downloaded, Kind};
use page::{decode_html, html_verdict, looks_like_html, HtmlVerdict};

/// An image's bytes as served, with what the response said about them.
/// The format is not trusted from `Content-Type`: sniff it from the bytes.
#[derive(Debug, Clone)]
pub struct FetchedImage {
    /// Where the bytes finally came from (after redirects).
    pub final_url: Url,
    /// The body, complete.
    pub bytes: bytes::Bytes,
    /// SHA-256 of `bytes`, computed while streaming.
    pub sha256: [u8; 32],
    /// `Last-Modified`.
    pub last_modified: Option<DateTime<Utc>>,
    /// `ETag`, verbatim.
    pub etag: Option<String>,
    /// `Content-Type` as declared (informative only).
    pub content_type: Option<String>,
}

impl FetchedImage {
    /// The image format told by the first bytes (magic numbers), whatever
    /// `Content-Type` claimed; `None` when the bytes are no known image.
    pub fn sniffed_format(&self) -> Option<image::ImageFormat> {
        image::guess_format(&self.bytes).ok()
    }
}

/// What asking for an image again found.
#[derive(Debug, Clone)]
pub enum Recheck {
    /// `304 Not Modified`: the same as before.
    Unchanged,
    /// The image as served now (compare its SHA-256 with the one kept).
    Fetched(Box<FetchedImage>),
}

/// An HTML page decoded to text.
#[derive(Debug, Clone)]
pub struct FetchedPage {
    /// Where the page finally came from (after redirects); resolve relative
    /// links against it.
    pub final_url: Url,
    /// The HTML, decoded from its charset; cut at `max_page_bytes`.
    pub html: String,
    /// Whether the page was longer than `max_page_bytes` and cut.
    pub truncated: bool,
    /// `Last-Modified`.
    pub last_modified: Option<DateTime<Utc>>,
}

impl Fetcher {
    /// Fetches an image. Fails with [`FetchError::TooLarge`] above
    /// `max_image_bytes`; skips (see [`FetchError::is_skip`]) when robots.txt
    /// or `X-Robots-Tag` forbid it.
    pub async fn fetch_image(&self, url: &Url) -> Result<FetchedImage, FetchError> {
        let Downloaded {
            final_url,
            headers,
            body,
            ..
        } = self.download(url, Kind::Image).await?;
        Ok(FetchedImage {
            final_url,
            bytes: body.bytes,
            sha256: body.sha256,
            last_modified: headers::last_modified(&headers),
            etag: headers::etag(&headers),
            content_type: headers::content_type(&headers),
        })
    }

    /// Asks for an image again with what was kept of its last answer
    /// (`If-None-Match` / `If-Modified-Since`): [`Recheck::Unchanged`] on
    /// `304 Not Modified`, else the bytes as [`Self::fetch_image`] gets
    /// them (a server that ignores the validators costs one download).
    /// Every rule of a fetch applies: robots.txt, the SSRF guard, per-host
    /// limits, retries.
    pub async fn recheck_image(
        &self,
        url: &Url,
        validators: &Validators,
    ) -> Result<Recheck, FetchError> {
        let downloaded = self.download_if(url, Kind::Image, validators).await?;
        if downloaded.not_modified {
            return Ok(Recheck::Unchanged);
        }
        let Downloaded {
            final_url,
            headers,
            body,
            ..
        } = downloaded;
        Ok(Recheck::Fetched(Box::new(FetchedImage {
            final_url,
            bytes: body.bytes,
            sha256: body.sha256,
            last_modified: headers::last_modified(&headers),
            etag: headers::etag(&headers),
            content_type: headers::content_type(&headers),
        })))
    }

    /// Fetches an HTML page (declared `text/html`, or sniffed when the type is
    /// missing or generic), decoded to text and cut at `max_page_bytes`.
    pub async fn fetch_page(&self, url: &Url) -> Result<FetchedPage, FetchError> {
        let Downloaded {
            final_url,
            headers,
            body,
            ..
        } = self.download(url, Kind::Page).await?;
        let content_type = headers::content_type(&headers);
        let is_html = match html_verdict(content_type.as_deref()) {
            HtmlVerdict::Html => true,
            HtmlVerdict::Sniff => looks_like_html(&body.bytes),
            HtmlVerdict::NotHtml => false,
        };
        if !is_html {
            return Err(FetchError::NotHtml { content_type });
        }
        Ok(FetchedPage {
            final_url,
            html: decode_html(&body.bytes, content_type.as_deref()),
            truncated: body.truncated,
            last_modified: headers::last_modified(&headers),
        })
    }
}
