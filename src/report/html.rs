//! The HTML report: one self-contained file (inline CSS, a few lines of
//! inline JavaScript to sort the table, thumbnails as `data:` URIs, nothing
//! loaded from anywhere). Every value from a report passes through
//! [`escape::html`]; only http(s) URLs become links; a Content Security
//! Policy that allows only this file's own style and script is a second
//! line of defence.

use std::fmt::Write;

use base64::Engine;
use sha2::{Digest, Sha256};

use super::cards::{self, link};
use super::escape::{data_image_uri, html};
use super::view::{self, View};
use super::{words, Report, ReportMatch};
use crate::matching::MatchKind;

const STYLE: &str = "
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
h1{margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
dl.query{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}dl.query dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
.query-box{display:flex;gap:1.5em;align-items:flex-start}
img.thumb{max-width:160px;max-height:160px;border:1px solid #ccc}
.badge{display:inline-block;padding:.1em .5em;border-radius:.7em;color:#fff;font-weight:600;white-space:nowrap;font-size:.8em;background:#777}
.badge.exact_copy{background:#1b7f3b}.badge.near_duplicate{background:#b35c00}.badge.similar{background:#2f5fa8}
.badge.ai{background:#8a1c8a}.badge.credentials-invalid{background:#a12a2a}.badge.decision-confirmed{background:#1b7f3b}.badge.decision-not_a_copy{background:#a12a2a}.badge.unreviewed{background:#fff3d6;color:#7a5600}
article.match{display:grid;grid-template-columns:minmax(280px,420px) 1fr;gap:.8em 1.5em;border:1px solid #ddd;border-left:6px solid #ccc;border-radius:8px;padding:1em;margin:1em 0}
article.exact_copy{border-left-color:#1b7f3b}article.near_duplicate{border-left-color:#b35c00}article.similar{border-left-color:#2f5fa8}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:.5em}.pair figure{margin:0}.pair img{width:100%;aspect-ratio:1;object-fit:contain;background:#f3f3f3;border:1px solid #ddd}
.pair figcaption{font-size:.8em;color:#666;text-align:center}.about h3{margin:0 0 .3em}
.sightings-head,.sightings-none,ol.sightings{grid-column:1/-1}ol.sightings{list-style:none;padding:0;margin:0;display:grid;gap:.5em}
li.sighting{border-top:1px solid #eee;padding-top:.4em}li.sighting .page{font-weight:600;overflow-wrap:anywhere}
li.sighting dl{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:.2em 1em;margin:.3em 0 0}li.sighting dl div.wide{grid-column:1/-1}li.sighting div.gone dd{color:#b91c1c;font-weight:600}mark{background:#fde68a;padding:0 .1em}.words-label{color:#555}
li.sighting dt{font-size:.75em;text-transform:uppercase;letter-spacing:.04em;color:#666}dd.url{font-size:.85em}
ol.timeline time{font-weight:600}.hint,.muted,small{color:#666}.not-link{color:#a00}code{font-size:.9em;overflow-wrap:anywhere}
@media (max-width:760px){article.match{grid-template-columns:1fr}}
";

const SCRIPT: &str = "
var order = document.getElementById('order');
if (order) {
  order.addEventListener('change', function () {
    var box = document.getElementById('matches'), key = order.value;
    var value = function (card) { return parseFloat(card.dataset[key]); };
    Array.prototype.slice.call(box.children).sort(function (a, b) {
      return (value(a) - value(b)) || (parseFloat(a.dataset.rank) - parseFloat(b.dataset.rank));
    }).forEach(function (card) { box.appendChild(card); });
  });
}
";

/// The report as one self-contained HTML page.
pub fn render_html(r: &Report) -> String {
    let mut out = String::with_capacity(16 * 1024);
    head(&mut out, r);
    query_section(&mut out, r);
    origins_section(&mut out, r);
    matches_section(&mut out, r);
    sites_section(&mut out, r);
    notes_section(&mut out, &r.notes);
    let _ = write!(
        out,
        "<footer class=\"muted\">provenance report, schema version {}</footer>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        r.schema_version
    );
    out
}

fn csp_hash(source: &str) -> String {
    let digest = Sha256::digest(source.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

fn head(out: &mut String, r: &Report) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src {}; script-src {}; base-uri 'none'; form-action 'none'\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>provenance report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>provenance report</h1>\n",
        csp_hash(STYLE),
        csp_hash(SCRIPT),
        html(&r.query.label)
    );
}

fn thumbnail(uri: Option<&str>, alt: &str) -> String {
    match uri.and_then(data_image_uri) {
        Some(src) => format!(
            "<img class=\"thumb\" src=\"{}\" alt=\"{}\">",
            html(src),
            html(alt)
        ),
        None => "<span class=\"muted\">no thumbnail</span>".to_string(),
    }
}

fn or_dash(value: Option<&str>) -> String {
    value.map_or_else(|| "—".to_string(), html)
}

fn query_section(out: &mut String, r: &Report) {
    let q = &r.query;
    let size = match (q.width, q.height) {
        (Some(w), Some(h)) => format!("{w}×{h}"),
        _ => "—".to_string(),
    };
    let model = r.model.as_ref().map(ToString::to_string);
    let _ = write!(
        out,
        "<section class=\"query-box\">\n{}\n<dl class=\"query\">\n\
         <dt>Query</dt><dd>{}</dd>\n<dt>SHA-256</dt><dd><code>{}</code></dd>\n<dt>Size</dt><dd>{size}</dd>\n\
         <dt>Mode</dt><dd>{}</dd>\n<dt>Model</dt><dd>{}</dd>\n<dt>Thresholds</dt><dd>{}</dd>\n\
         <dt>Generated</dt><dd>{}</dd>\n{}</dl>\n</section>\n",
        thumbnail(q.thumbnail_data_uri.as_deref(), "query"),
        html(&q.label),
        or_dash(q.sha256.as_deref()),
        r.mode.as_str(),
        or_dash(model.as_deref()),
        html(&words::thresholds(&r.thresholds)),
        words::when(&r.generated_at),
        r.words_query.as_deref().map_or_else(String::new, |w| format!(
            "<dt>Words looked for</dt><dd>{}</dd>\n",
            html(w)
        )),
    );
}

fn origins_section(out: &mut String, r: &Report) {
    let origins = &r.origins;
    out.push_str("<h2>Where it came from</h2>\n");
    if origins.is_empty() {
        out.push_str("<p class=\"hint\">No exact copy or near-duplicate was found, so there is no evidence of origin.</p>\n");
        return;
    }
    out.push_str("<p class=\"hint\">Postings with evidence of being the source, strongest evidence first. Evidence, not proof.</p>\n<ol class=\"origins\">\n");
    for c in origins {
        let page = match &c.page_url {
            Some(url) => link(url, c.page_title.as_deref().unwrap_or(url)),
            None => "<span class=\"muted\">no page</span>".to_string(),
        };
        let image = c
            .image_url
            .as_deref()
            .map_or_else(String::new, |u| format!(" · image {}", link(u, u)));
        let site = c
            .site
            .as_deref()
            .map_or_else(String::new, |s| format!(" · {}", html(s)));
        let _ = write!(
            out,
            "<li>{page}{site}{image} · {}×{}\n<ul>\n",
            c.width, c.height
        );
        for reason in &c.reasons {
            let _ = writeln!(out, "<li>{}</li>", html(reason));
        }
        out.push_str("</ul>\n</li>\n");
    }
    out.push_str("</ol>\n");
    out.push_str(&cards::timeline(r));
    out.push('\n');
}

/// Sort keys of a card: smaller first.
fn kind_order(kind: MatchKind) -> u8 {
    match kind {
        MatchKind::ExactCopy => 0,
        MatchKind::NearDuplicate => 1,
        MatchKind::Similar => 2,
    }
}

fn matches_section(out: &mut String, r: &Report) {
    let matches = &r.matches;
    let _ = writeln!(out, "<h2>Matches ({})</h2>", matches.len());
    if matches.is_empty() {
        out.push_str("<p class=\"hint\">No stored image matches.</p>\n");
        return;
    }
    out.push_str(
        "<p><label>Order <select id=\"order\"><option value=\"rank\">best evidence first</option>\
         <option value=\"oldest\">oldest first</option><option value=\"largest\">largest first</option>\
         <option value=\"kind\">by kind</option></select></label></p>\n<div id=\"matches\">\n",
    );
    let query = thumbnail(r.query.thumbnail_data_uri.as_deref(), "query");
    for m in matches {
        match_card(out, r, m, &query);
    }
    out.push_str("</div>\n");
}

fn match_card(out: &mut String, r: &Report, m: &ReportMatch, query: &str) {
    let img = &m.image;
    let oldest = view::earliest(m).map_or(i64::MAX, |t| t.timestamp());
    let pixels = u64::from(img.width) * u64::from(img.height);
    let note = m
        .review
        .as_ref()
        .and_then(|r| r.note.as_deref())
        .map_or_else(String::new, |n| {
            format!("<p class=\"note\">Note: {}</p>", html(n))
        });
    let _ = writeln!(
        out,
        "<article class=\"match {kind}\" id=\"match-{id}\" data-rank=\"{rank}\" data-oldest=\"{oldest}\" \
         data-largest=\"{largest}\" data-kind=\"{order}\">\n\
         <div class=\"pair\"><figure>{query}<figcaption>query</figcaption></figure>\
         <figure>{thumb}<figcaption>match #{rank}</figcaption></figure></div>\n\
         <div class=\"about\"><h3>#{rank} <span class=\"badge {kind}\">{label}</span> {decision}</h3>\n\
         <p>{w}×{h} {format}, {bytes} bytes; first seen {first}{exif}<br><code class=\"muted\" title=\"SHA-256\">{sha}</code></p>\n\
         {why}{note}</div>\n{sightings}\n</article>",
        kind = m.kind.as_str(),
        id = img.id,
        rank = m.rank,
        largest = u64::MAX - pixels,
        order = kind_order(m.kind),
        thumb = thumbnail(m.thumbnail_data_uri.as_deref(), &format!("match {}", m.rank)),
        label = m.kind.label(),
        decision = cards::decision_badge(m),
        w = img.width,
        h = img.height,
        format = html(&img.format),
        bytes = img.byte_size,
        first = words::when(&img.first_seen_at),
        exif = cards::exif_line(m),
        sha = html(&img.sha256),
        why = cards::why(m, &r.thresholds),
        sightings = cards::sightings(&m.sightings),
    );
}

/// The matches seen on each site.
fn sites_section(out: &mut String, r: &Report) {
    let sites = view::sites(r);
    if sites.is_empty() {
        return;
    }
    out.push_str("<h2>By site</h2>\n<ul class=\"sites\">\n");
    let grouped = View {
        group: "site".into(),
        ..View::default()
    };
    for group in grouped.arrange(r) {
        let links: Vec<String> = group
            .matches
            .iter()
            .map(|m| {
                format!(
                    "<a href=\"#match-{}\">#{}</a> {}",
                    m.image.id,
                    m.rank,
                    m.kind.label()
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "<li><strong>{}</strong>: {}</li>",
            html(group.site.as_deref().unwrap_or_default()),
            links.join(", ")
        );
    }
    out.push_str("</ul>\n");
}

fn notes_section(out: &mut String, notes: &[String]) {
    if notes.is_empty() {
        return;
    }
    out.push_str("<h2>Notes</h2>\n<ul class=\"notes\">\n");
    for note in notes {
        let _ = writeln!(out, "<li>{}</li>", html(note));
    }
    out.push_str("</ul>\n");
}
