//! The pieces of a match both HTML views show alike — the static report
//! and the web UI: links, the sightings as readable blocks, the scores in
//! words, the decision. Every value is escaped; only http(s) URLs link.

use super::escape::{html, link_text, web_url};
use super::timeline::{self, Strength};
use super::view;
use super::{words, ReportMatch, ReportSighting};
use crate::matching::Thresholds;

/// A link to a web page (new tab, no referrer), or the text marked as not
/// a link when the URL is not http(s).
pub(crate) fn link(url: &str, text: &str) -> String {
    let shown = html(&link_text(text, url));
    match web_url(url) {
        Some(href) => format!(
            r#"<a href="{}" target="_blank" rel="noopener noreferrer nofollow">{shown}</a>"#,
            html(&href)
        ),
        None => format!(
            r#"<span class="not-link" title="not an http(s) URL, not linked">{shown}</span>"#
        ),
    }
}

/// `word` or `words` for `n`.
pub(crate) fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// Every posting, one readable block each: the page as a link, then its
/// facts in labelled cells that wrap, never squeezed into a column.
pub(crate) fn sightings(list: &[ReportSighting]) -> String {
    if list.is_empty() {
        return r#"<p class="sightings-none">Not seen on any web page (a local file).</p>"#.into();
    }
    let mut out = format!(
        r#"<h4 class="sightings-head">Seen on {} {}</h4><ol class="sightings">"#,
        list.len(),
        plural(list.len(), "page", "pages")
    );
    for s in list {
        let page = match &s.page_url {
            Some(url) => link(url, s.page_title.as_deref().unwrap_or(url)),
            None => "(no page: the image itself)".into(),
        };
        let found_by = match (&s.provider, &s.keyphrase) {
            (Some(p), Some(k)) => format!("{} for “{}”", html(p), html(k)),
            (Some(p), None) => html(p),
            (None, Some(k)) => format!("“{}”", html(k)),
            (None, None) => "—".into(),
        };
        out.push_str(&format!(
            r#"<li class="sighting"><div class="page">{page}</div>
<dl><div><dt>Site</dt><dd>{site}</dd></div><div><dt>Found by</dt><dd>{found_by}</dd></div><div><dt>First seen</dt><dd>{first}</dd></div><div><dt>Last seen</dt><dd>{last}</dd></div><div><dt>Last-Modified</dt><dd>{modified}</dd></div>{watched}{words_found}{posted_with}{source_says}{archived}<div class="wide"><dt>Image</dt><dd class="url">{image}</dd></div></dl></li>"#,
            watched = watched(s),
            words_found = words_found(s),
            posted_with = posted_with(s),
            source_says = labelled("The source says", words::source_facts(s.source_facts.as_ref(), s.provider.as_deref())),
            archived = labelled("Web archive", words::archive(s.archive.as_ref())),
            site = html(&view::site_of(s)),
            first = words::when(&s.first_seen_at),
            last = words::when(&s.last_seen_at),
            modified = s.last_modified.as_ref().map_or_else(|| "—".into(), words::when),
            image = link(&s.image_url, &s.image_url),
        ));
    }
    out.push_str("</ol>");
    out
}

/// What a watch found of the posting: gone since when, or there when
/// last checked; nothing when no watch checked it.
fn watched(s: &ReportSighting) -> String {
    match (&s.gone_at, &s.checked_at) {
        (Some(gone), _) => format!(
            r#"<div class="gone"><dt>Gone</dt><dd>since {}</dd></div>"#,
            words::when(gone)
        ),
        (None, Some(checked)) => format!(
            r#"<div><dt>Still there</dt><dd>checked {}</dd></div>"#,
            words::when(checked)
        ),
        (None, None) => String::new(),
    }
}

/// The excerpt of a posting whose words hold the report's words, the
/// words marked; nothing when it is not one.
fn words_found(s: &ReportSighting) -> String {
    let Some(snippet) = &s.words_hit else {
        return String::new();
    };
    format!(
        r#"<div class="wide words-found"><dt>Words found</dt><dd>{}</dd></div>"#,
        marked(snippet)
    )
}

/// A snippet as HTML: each run escaped, the hits in `<mark>`.
pub(crate) fn marked(snippet: &crate::model::Snippet) -> String {
    snippet
        .parts
        .iter()
        .map(|p| match p.hit {
            true => format!("<mark>{}</mark>", html(&p.text)),
            false => html(&p.text),
        })
        .collect()
}

/// The words the picture was posted with: the short ones in a line, the
/// text around it and the page's description each in a cell of its own
/// (nothing is hidden).
fn posted_with(s: &ReportSighting) -> String {
    let short = words::posted_with(s.words.as_ref(), true);
    let all = words::posted_with(s.words.as_ref(), false);
    let mut out = String::new();
    if !short.is_empty() {
        let line: Vec<String> = short
            .iter()
            .map(|(label, text)| {
                format!(
                    r#"<span class="words-label">{label}:</span> {}"#,
                    html(text)
                )
            })
            .collect();
        out.push_str(&format!(
            r#"<div class="wide posted-with"><dt>Posted with</dt><dd>{}</dd></div>"#,
            line.join(" · ")
        ));
    }
    for (label, text) in all.iter().filter(|field| !short.contains(field)) {
        out.push_str(&format!(
            r#"<div class="wide posted-with"><dt>{}</dt><dd>{}</dd></div>"#,
            html(&capitalised(label)),
            html(text)
        ));
    }
    out
}

/// `text around it` → `Text around it`.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// (text, link) pieces as one wide labelled cell, or nothing when there
/// are none.
fn labelled(label: &str, pieces: Vec<(String, Option<String>)>) -> String {
    if pieces.is_empty() {
        return String::new();
    }
    let text: Vec<String> = pieces
        .iter()
        .map(|(text, url)| match url {
            Some(url) => link(url, text),
            None => html(text),
        })
        .collect();
    format!(
        r#"<div class="wide"><dt>{}</dt><dd>{}</dd></div>"#,
        html(label),
        text.join(" · ")
    )
}

/// The scores in sentences, as a list.
pub(crate) fn why(m: &ReportMatch, t: &Thresholds) -> String {
    let items: String = view::explain(m, t)
        .iter()
        .map(|w| format!("<li>{}</li>", html(w)))
        .collect();
    format!(r#"<ul class="why">{items}</ul>"#)
}

/// The decision as a badge (`unreviewed` when none).
pub(crate) fn decision_badge(m: &ReportMatch) -> String {
    match &m.review {
        Some(r) => format!(
            r#"<span class="badge decision-{}">{}</span>"#,
            r.decision.as_str(),
            r.decision.label()
        ),
        None => r#"<span class="badge unreviewed">unreviewed</span>"#.into(),
    }
}

/// `; EXIF: taken …, by …, © …`, or nothing.
pub(crate) fn exif_line(m: &ReportMatch) -> String {
    let e = &m.image.exif;
    let parts: Vec<String> = [
        e.date_time_original
            .as_deref()
            .map(|d| format!("taken {}", html(d))),
        e.artist.as_deref().map(|a| format!("by {}", html(a))),
        e.copyright.as_deref().map(|c| format!("© {}", html(c))),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut line = if parts.is_empty() {
        String::new()
    } else {
        format!("; EXIF: {}", parts.join(", "))
    };
    let embedded = words::embedded(m.image.embedded.as_ref());
    if !embedded.is_empty() {
        let shown: Vec<String> = embedded.iter().map(|w| html(w)).collect();
        line.push_str(&format!("; in the file (XMP): {}", shown.join(", ")));
    }
    if m.image
        .embedded
        .as_ref()
        .is_some_and(|c| c.says_ai_generated())
    {
        line.push_str(r#" <span class="badge ai">AI-generated, the file says</span>"#);
    }
    let credentials = words::content_credentials(m.image.embedded.as_ref());
    if !credentials.is_empty() {
        let shown: Vec<String> = credentials.iter().map(|w| html(w)).collect();
        line.push_str(&format!("; Content Credentials: {}", shown.join(", ")));
    }
    if let Some(c) = m
        .image
        .embedded
        .as_ref()
        .and_then(|e| e.content_credentials.as_ref())
    {
        if !c.validation.holds() {
            line.push_str(
                r#" <span class="badge credentials-invalid">Content Credentials do not validate</span>"#,
            );
        }
        if c.says_ai_generated() {
            line.push_str(
                r#" <span class="badge ai">AI-generated, its Content Credentials say</span>"#,
            );
        }
    }
    line
}

/// The likely original and every dated piece of evidence, oldest first,
/// as an ordered list whose entries link to their match (`#match-ID`).
pub(crate) fn timeline(report: &super::Report) -> String {
    if report.timeline.is_empty() {
        return String::new();
    }
    let mut out = likely_original(report);
    out.push_str(r#"<h3>Timeline, oldest first</h3><ol class="timeline">"#);
    for e in report.timeline.iter().take(200) {
        let Some(m) = timeline::match_of(report, e.match_rank) else {
            continue;
        };
        out.push_str(&format!(
            r##"<li class="strength-{strength}"><time datetime="{}">{}</time> <a href="#match-{}">#{}</a> {}{} <small>({strength} evidence: {})</small></li>"##,
            e.at.to_rfc3339(),
            words::when(&e.at),
            m.image.id,
            m.rank,
            html(e.kind.what()),
            place(timeline::sighting_of(report, e)),
            html(e.kind.caveat()),
            strength = strength_word(e.strength),
        ));
    }
    out.push_str("</ol>");
    out
}

/// The likely original as a paragraph, or one saying there is none.
fn likely_original(report: &super::Report) -> String {
    let Some(o) = &report.likely_original else {
        return r#"<p class="likely-original muted">No strong or medium evidence names a likely original.</p>"#.into();
    };
    let m = timeline::match_of(report, o.match_rank);
    let id = m.map_or(0, |m| m.image.id);
    let credits = words::original_credits(report, o);
    let credits = if credits.is_empty() {
        String::new()
    } else {
        let shown: Vec<String> = credits.iter().map(|c| html(c)).collect();
        format!("<br>Credits: {}.", shown.join("; "))
    };
    format!(
        r##"<p class="likely-original"><strong>Likely original:</strong> <a href="#match-{id}">#{}</a>{} — {}{credits}</p>"##,
        o.match_rank,
        place(timeline::sighting_of(report, &o.evidence)),
        html(&o.why)
    )
}

/// ` — the page (or image) as a link`, or nothing.
fn place(s: Option<&ReportSighting>) -> String {
    s.map_or_else(String::new, |s| {
        let url = s.page_url.as_deref().unwrap_or(&s.image_url);
        format!(" — {}", link(url, s.page_title.as_deref().unwrap_or(url)))
    })
}

/// `strong`, `medium` or `weak`.
pub(crate) fn strength_word(s: Strength) -> &'static str {
    match s {
        Strength::Strong => "strong",
        Strength::Medium => "medium",
        Strength::Weak => "weak",
    }
}
