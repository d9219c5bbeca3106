//! What a page says about when it was published and who made its
//! pictures: `article:published_time` (and `og:updated_time`), JSON-LD
//! `datePublished`/`dateCreated`/`uploadDate`, and for each JSON-LD
//! `ImageObject` its `creditText`, `copyrightNotice`, `creator`, `license`
//! and dates; plus, per image, a `<time datetime>` in its `<figure>` or
//! `<article>`. The page's claims, bounded and kept as text; JSON-LD that
//! is not JSON is skipped.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use scraper::{ElementRef, Html, Selector};
use serde_json::Value;
use url::Url;

use super::selector;
use crate::model::source_facts::{fact_text, parse_source_date};
use crate::model::{DateMeaning, SourceDate, SourceFacts};
use crate::search::normalize_url;

/// Largest JSON-LD block read.
const MAX_JSON_LD_BYTES: usize = 256 * 1024;
/// Most JSON-LD blocks read per page.
const MAX_JSON_LD_BLOCKS: usize = 16;
/// Most JSON values visited per block (nesting is bounded by serde_json).
const MAX_JSON_NODES: usize = 5000;
/// How far up from an image a `<figure>` or `<article>` is looked for.
const MAX_ANCESTORS: usize = 8;

static JSON_LD: LazyLock<Selector> =
    LazyLock::new(|| selector(r#"script[type="application/ld+json"]"#));
static TIME: LazyLock<Selector> = LazyLock::new(|| selector("time[datetime]"));

/// A page's own statements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageEvidence {
    /// The earliest publication date the page states.
    pub published: Option<DateTime<Utc>>,
    /// Credits of the pictures JSON-LD describes, by normalised URL.
    pub images: Vec<(String, SourceFacts)>,
}

impl PageEvidence {
    /// What the page says about the picture at `url`, its own `<time>`
    /// (`dated`) preferred to the page's publication date.
    pub fn facts_for(&self, url: &Url, dated: Option<DateTime<Utc>>) -> SourceFacts {
        let key = normalize_url(url);
        let own = self
            .images
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, f)| f.clone())
            .unwrap_or_default();
        let published = dated.or(self.published).map(|at| SourceDate {
            at,
            meaning: DateMeaning::Published,
        });
        own.or(SourceFacts {
            date: published,
            ..SourceFacts::default()
        })
    }
}

/// Reads the page's dates and picture credits; `base` resolves relative
/// picture URLs, `now` drops dates in the future.
pub fn page_evidence(document: &Html, base: &Url, now: DateTime<Utc>) -> PageEvidence {
    let mut evidence = PageEvidence::default();
    let mut dates: Vec<DateTime<Utc>> = Vec::new();
    for meta in document.root_element().descendent_elements() {
        if meta.value().name() != "meta" {
            continue;
        }
        let key = meta
            .attr("property")
            .or_else(|| meta.attr("name"))
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if matches!(
            key.as_str(),
            "article:published_time" | "og:published_time" | "datepublished"
        ) {
            dates.extend(meta.attr("content").and_then(|c| parse_source_date(c, now)));
        }
    }
    for script in document.select(&JSON_LD).take(MAX_JSON_LD_BLOCKS) {
        let text: String = script.text().collect();
        if text.len() > MAX_JSON_LD_BYTES {
            continue;
        }
        let Ok(value) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let mut budget = MAX_JSON_NODES;
        visit(&value, &mut budget, &mut |object| {
            let date = ["datePublished", "dateCreated", "uploadDate"]
                .iter()
                .filter_map(|field| object.get(*field)?.as_str())
                .filter_map(|d| parse_source_date(d, now))
                .min();
            if is_type(object, "ImageObject") {
                if let Some(credit) = image_credit(object, base, date) {
                    evidence.images.push(credit);
                }
            } else {
                dates.extend(date);
            }
        });
    }
    evidence.published = dates.into_iter().min();
    evidence
}

/// A `<time datetime>` in the image's nearest `<figure>` or `<article>`.
pub fn nearby_time(image: ElementRef<'_>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    image
        .ancestors()
        .take(MAX_ANCESTORS)
        .filter_map(ElementRef::wrap)
        .filter(|e| matches!(e.value().name(), "figure" | "article"))
        .find_map(|container| {
            container
                .select(&TIME)
                .find_map(|t| parse_source_date(t.attr("datetime")?, now))
        })
}

/// Calls `found` on every JSON object in `value` (through `@graph` and any
/// nesting), visiting at most `budget` values.
fn visit(
    value: &Value,
    budget: &mut usize,
    found: &mut dyn FnMut(&serde_json::Map<String, Value>),
) {
    if *budget == 0 {
        return;
    }
    *budget -= 1;
    match value {
        Value::Object(object) => {
            found(object);
            for child in object.values() {
                visit(child, budget, found);
            }
        }
        Value::Array(items) => {
            for item in items {
                visit(item, budget, found);
            }
        }
        _ => {}
    }
}

fn is_type(object: &serde_json::Map<String, Value>, name: &str) -> bool {
    match object.get("@type") {
        Some(Value::String(t)) => t == name,
        Some(Value::Array(types)) => types.iter().any(|t| t.as_str() == Some(name)),
        _ => false,
    }
}

/// An `ImageObject`'s credits, keyed by its normalised `contentUrl` (or
/// `url`).
fn image_credit(
    object: &serde_json::Map<String, Value>,
    base: &Url,
    date: Option<DateTime<Utc>>,
) -> Option<(String, SourceFacts)> {
    let raw = ["contentUrl", "url"]
        .iter()
        .find_map(|field| object.get(*field)?.as_str())?;
    let url = crate::search::parse_web_url(raw, Some(base))?;
    let text = |field: &str| fact_text(object.get(field).and_then(name_of).as_deref());
    let license = object.get("license").and_then(name_of);
    let license_url = license
        .as_deref()
        .and_then(|l| crate::search::parse_web_url(l, Some(base)))
        .map(String::from);
    let facts = SourceFacts {
        creator: text("creator").or_else(|| text("author")),
        creator_url: None,
        license: fact_text(license.as_deref()),
        license_url,
        credit: text("creditText"),
        copyright: text("copyrightNotice"),
        date: date.map(|at| SourceDate {
            at,
            meaning: DateMeaning::Published,
        }),
    };
    Some((normalize_url(&url), facts))
}

/// A JSON-LD value as a name: a string, an object's `name` (or `@id`), or
/// the first of an array.
fn name_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o
            .get("name")
            .or_else(|| o.get("@id"))
            .and_then(Value::as_str)
            .map(str::to_string),
        Value::Array(items) => items.iter().find_map(name_of),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-12-01T00:00:00Z".parse().unwrap()
    }

    fn read(html: &str) -> PageEvidence {
        let base = Url::parse("https://news.example/story").unwrap();
        page_evidence(&Html::parse_document(html), &base, now())
    }

    #[test]
    fn each_date_form_and_the_earliest_wins() {
        let page = read(
            r#"<html><head>
            <meta property="article:published_time" content="2021-05-02T08:00:00+02:00">
            <script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","datePublished":"2021-05-01","dateModified":"2022-01-01"}</script>
            </head></html>"#,
        );
        assert_eq!(
            page.published.unwrap().to_rfc3339(),
            "2021-05-01T00:00:00+00:00"
        );
    }

    #[test]
    fn image_objects_give_credits_for_their_picture() {
        let page = read(
            r#"<script type="application/ld+json">{"@graph":[
              {"@type":"WebPage","datePublished":"2020-01-01T00:00:00Z"},
              {"@type":["ImageObject"],"contentUrl":"/img/poster.jpg","creditText":"Photo: Ann Lee",
               "copyrightNotice":"© 2019 Ann Lee","creator":{"@type":"Person","name":"Ann Lee"},
               "license":"https://creativecommons.org/licenses/by/4.0/","uploadDate":"2019-07-07"}]}</script>"#,
        );
        assert_eq!(
            page.published.unwrap().to_rfc3339(),
            "2020-01-01T00:00:00+00:00"
        );
        let poster = Url::parse("https://news.example/img/poster.jpg").unwrap();
        let facts = page.facts_for(&poster, None);
        assert_eq!(facts.creator.as_deref(), Some("Ann Lee"));
        assert_eq!(facts.credit.as_deref(), Some("Photo: Ann Lee"));
        assert_eq!(facts.copyright.as_deref(), Some("© 2019 Ann Lee"));
        assert_eq!(
            facts.license_url.as_deref(),
            Some("https://creativecommons.org/licenses/by/4.0/")
        );
        let date = facts.date.unwrap();
        assert_eq!(
            (date.meaning, date.at.to_rfc3339().as_str()),
            (DateMeaning::Published, "2019-07-07T00:00:00+00:00")
        );
        let other = Url::parse("https://news.example/img/other.jpg").unwrap();
        let facts = page.facts_for(&other, None);
        assert_eq!(facts.creator, None);
        assert_eq!(
            facts.date.unwrap().at.to_rfc3339(),
            "2020-01-01T00:00:00+00:00",
            "the page's date"
        );
    }

    #[test]
    fn broken_hostile_and_huge_json_ld_is_skipped() {
        let huge = format!(
            r#"<script type="application/ld+json">{{"@type":"Article","datePublished":"2001-01-01","x":"{}"}}</script>"#,
            "a".repeat(1024 * 1024)
        );
        let deep = format!(
            r#"<script type="application/ld+json">{}{{"@type":"Article","datePublished":"2002-01-01"}}{}</script>"#,
            "[".repeat(200_000),
            "]".repeat(200_000)
        );
        let html = format!(
            r#"{huge}{deep}<script type="application/ld+json">{{ not json </script>
            <script type="application/ld+json">{{"@type":"Article","datePublished":"2999-01-01"}}</script>
            <script type="application/ld+json">{{"@type":"ImageObject","contentUrl":"javascript:alert(1)","creditText":"x"}}</script>"#
        );
        let page = read(&html);
        assert_eq!(page, PageEvidence::default());
    }

    #[test]
    fn a_time_in_the_figure_dates_its_picture() {
        let html = Html::parse_document(
            r#"<article><time datetime="2018-02-03">Feb 3</time><figure><img src="a.jpg"></figure></article>
               <div><img src="b.jpg"></div>"#,
        );
        let imgs: Vec<_> = html.select(&selector("img")).collect();
        assert_eq!(
            nearby_time(imgs[0], now()).unwrap().to_rfc3339(),
            "2018-02-03T00:00:00+00:00"
        );
        assert_eq!(nearby_time(imgs[1], now()), None);
    }
}
