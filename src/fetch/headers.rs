//! Reading response headers: `X-Robots-Tag` directives meant for us,
//! `Last-Modified`, `ETag`, `Content-Type`. Pure functions over header values.

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, CONTENT_TYPE, ETAG, LAST_MODIFIED};

/// What a response's `X-Robots-Tag` headers forbid us.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RobotsTag {
    /// `noai`: the content must not be used for AI.
    pub noai: bool,
    /// `noimageai`: images must not be used for AI.
    pub noimageai: bool,
}

impl RobotsTag {
    /// Reads every `X-Robots-Tag` header, keeping the directives addressed to
    /// everyone or to `product_token` (`X-Robots-Tag: provenance: noai`).
    pub fn from_headers(headers: &HeaderMap, product_token: &str) -> Self {
        let mut tag = Self::default();
        for value in headers.get_all("x-robots-tag") {
            if let Ok(text) = value.to_str() {
                tag.add_header_value(text, product_token);
            }
        }
        tag
    }

    fn add_header_value(&mut self, text: &str, product_token: &str) {
        // A value is `[agent:] directive, directive, …`; an agent prefix
        // applies to the directives after it.
        let mut for_us = true;
        for item in text.split(',') {
            let mut item = item.trim();
            if let Some((agent, rest)) = item.split_once(':') {
                if !agent.trim().contains(' ') && !is_directive_with_value(agent) {
                    let agent = agent.trim();
                    for_us = agent == "*" || agent.eq_ignore_ascii_case(product_token);
                    item = rest.trim();
                }
            }
            if !for_us {
                continue;
            }
            if item.eq_ignore_ascii_case("noai") {
                self.noai = true;
            } else if item.eq_ignore_ascii_case("noimageai") {
                self.noimageai = true;
            }
        }
    }

    /// The directive that forbids using an image, if any.
    pub fn forbids_image(&self) -> Option<&'static str> {
        if self.noimageai {
            Some("noimageai")
        } else if self.noai {
            Some("noai")
        } else {
            None
        }
    }

    /// The directive that forbids using a page, if any.
    pub fn forbids_page(&self) -> Option<&'static str> {
        self.noai.then_some("noai")
    }
}

/// Directives that carry a value after a colon and are not agent names.
fn is_directive_with_value(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    matches!(
        name.as_str(),
        "unavailable_after" | "max-snippet" | "max-image-preview" | "max-video-preview"
    )
}

/// `Last-Modified` as a UTC time, when present and well formed.
pub fn last_modified(headers: &HeaderMap) -> Option<DateTime<Utc>> {
    let text = headers.get(LAST_MODIFIED)?.to_str().ok()?;
    let when = httpdate::parse_http_date(text.trim()).ok()?;
    Some(DateTime::<Utc>::from(when))
}

/// `ETag`, verbatim (quotes and `W/` kept), when present and printable.
pub fn etag(headers: &HeaderMap) -> Option<String> {
    let text = headers.get(ETAG)?.to_str().ok()?.trim();
    (!text.is_empty() && text.len() <= 512).then(|| text.to_owned())
}

/// `Content-Type`, verbatim, when present and printable.
pub fn content_type(headers: &HeaderMap) -> Option<String> {
    Some(headers.get(CONTENT_TYPE)?.to_str().ok()?.trim().to_owned())
}

/// The lower-cased media type of a `Content-Type` (`text/html; charset=x` → `text/html`).
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The `charset` parameter of a `Content-Type`, if any.
pub fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn robots_tag_directives_for_everyone_and_for_us() {
        let tag =
            RobotsTag::from_headers(&headers(&[("x-robots-tag", "noindex, NoAI")]), "provenance");
        assert_eq!(tag.forbids_image(), Some("noai"));
        assert_eq!(tag.forbids_page(), Some("noai"));
        let tag = RobotsTag::from_headers(&headers(&[("x-robots-tag", "noimageai")]), "provenance");
        assert_eq!(tag.forbids_image(), Some("noimageai"));
        assert_eq!(tag.forbids_page(), None);
        let tag = RobotsTag::from_headers(
            &headers(&[
                ("x-robots-tag", "otherbot: noai"),
                ("x-robots-tag", "provenance: noimageai"),
            ]),
            "provenance",
        );
        assert_eq!(
            tag,
            RobotsTag {
                noai: false,
                noimageai: true
            }
        );
    }

    #[test]
    fn robots_tag_ignores_other_agents_and_dates() {
        let tag = RobotsTag::from_headers(
            &headers(&[
                ("x-robots-tag", "googlebot: noai, noimageai"),
                (
                    "x-robots-tag",
                    "unavailable_after: 25 Jun 2010 15:00:00 PST",
                ),
            ]),
            "provenance",
        );
        assert_eq!(tag.forbids_image(), None);
        assert_eq!(
            RobotsTag::from_headers(&HeaderMap::new(), "provenance"),
            RobotsTag::default()
        );
    }

    #[test]
    fn validators() {
        let map = headers(&[
            ("last-modified", "Wed, 21 Oct 2015 07:28:00 GMT"),
            ("etag", "W/\"abc\""),
        ]);
        assert_eq!(
            last_modified(&map).unwrap().to_rfc3339(),
            "2015-10-21T07:28:00+00:00"
        );
        assert_eq!(etag(&map).as_deref(), Some("W/\"abc\""));
        assert_eq!(
            last_modified(&headers(&[("last-modified", "yesterday")])),
            None
        );
    }

    #[test]
    fn content_type_parts() {
        assert_eq!(media_type("Text/HTML; charset=ISO-8859-1"), "text/html");
        assert_eq!(
            charset_param("text/html; Charset=\"ISO-8859-1\"").as_deref(),
            Some("ISO-8859-1")
        );
        assert_eq!(charset_param("text/html"), None);
    }
}
