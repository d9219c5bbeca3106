//! The HTML report: one self-contained file (inline CSS, a few lines of
//! inline JavaScript to sort the table, thumbnails as `data:` URIs, nothing
//! loaded from anywhere). Every value from a report passes through
//! [`escape::html`]; only http(s) URLs become links; a Content Security
//! Policy that allows only this file's own style and script is a second
//! line of defence.

use std::fmt::Write;

use base64::Engine;
use sha2::{Digest, Sha256};

use super::escape::{data_image_uri, html, link_text, web_url};
use super::{words, Report, ReportMatch, ReportSighting};
use crate::matching::{MatchKind, OriginClaim};

const STYLE: &str = "
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
h1{margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
dl.query{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
.query-box{display:flex;gap:1.5em;align-items:flex-start}
img.thumb{max-width:160px;max-height:160px;border:1px solid #ccc}
table{border-collapse:collapse;width:100%}th,td{padding:.35em .5em;border-bottom:1px solid #eee;vertical-align:top;text-align:left}
table.sortable th[data-sort]{cursor:pointer;white-space:nowrap}table.sortable th[data-sort]::after{content:' \\2195';color:#999}
td{overflow-wrap:anywhere}table.sightings{font-size:.9em}table.sightings th{background:#f6f6f6}
.badge{display:inline-block;padding:.1em .5em;border-radius:.7em;color:#fff;font-weight:600;white-space:nowrap}
.badge.exact_copy{background:#1b7f3b}.badge.near_duplicate{background:#b35c00}.badge.similar{background:#2f5fa8}
tr.exact_copy>td:first-child{border-left:5px solid #1b7f3b}tr.near_duplicate>td:first-child{border-left:5px solid #b35c00}tr.similar>td:first-child{border-left:5px solid #2f5fa8}
.hint,.muted{color:#666}.not-link{color:#a00}code{font-size:.9em}
";

const SCRIPT: &str = "
document.querySelectorAll('table.sortable th[data-sort]').forEach(function (th) {
  th.addEventListener('click', function () {
    var body = th.closest('table').tBodies[0], col = th.cellIndex;
    var num = th.dataset.sort === 'num', dir = th.dataset.dir === 'asc' ? -1 : 1;
    th.dataset.dir = dir === 1 ? 'asc' : 'desc';
    var key = function (row) { var v = row.cells[col].dataset.value; return num ? (v === '' ? null : parseFloat(v)) : v; };
    Array.prototype.slice.call(body.rows).sort(function (a, b) {
      var x = key(a), y = key(b);
      if (x === null || y === null) { return x === y ? 0 : (x === null ? 1 : -1); }
      return (num ? x - y : x.localeCompare(y)) * dir;
    }).forEach(function (row) { body.appendChild(row); });
  });
});
";

/// The report as one self-contained HTML page.
pub fn render_html(r: &Report) -> String {
    let mut out = String::with_capacity(16 * 1024);
    head(&mut out, r);
    query_section(&mut out, r);
    origins_section(&mut out, &r.origins);
    matches_section(&mut out, &r.matches);
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

/// A link to a web URL, or the escaped text marked as not a link.
fn link(url: &str, text: &str) -> String {
    let text = link_text(text, url);
    let text = text.as_str();
    match web_url(url) {
        Some(href) => format!(
            "<a href=\"{}\" rel=\"noopener noreferrer nofollow\">{}</a>",
            html(&href),
            html(text)
        ),
        None => format!(
            "<span class=\"not-link\" title=\"not an http(s) URL, not linked\">{}</span>",
            html(text)
        ),
    }
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
         <dt>Generated</dt><dd>{}</dd>\n</dl>\n</section>\n",
        thumbnail(q.thumbnail_data_uri.as_deref(), "query"),
        html(&q.label),
        or_dash(q.sha256.as_deref()),
        r.mode.as_str(),
        or_dash(model.as_deref()),
        html(&words::thresholds(&r.thresholds)),
        words::when(&r.generated_at),
    );
}

fn origins_section(out: &mut String, origins: &[OriginClaim]) {
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
}

fn kind_order(kind: MatchKind) -> u8 {
    match kind {
        MatchKind::ExactCopy => 0,
        MatchKind::NearDuplicate => 1,
        MatchKind::Similar => 2,
    }
}

fn matches_section(out: &mut String, matches: &[ReportMatch]) {
    let _ = writeln!(out, "<h2>Matches ({})</h2>", matches.len());
    if matches.is_empty() {
        out.push_str("<p class=\"hint\">No stored image matches.</p>\n");
        return;
    }
    out.push_str(
        "<table id=\"matches\" class=\"sortable\">\n<thead><tr><th data-sort=\"num\">#</th><th>Image</th>\
         <th data-sort=\"num\">Kind</th><th data-sort=\"num\">Similarity</th><th data-sort=\"num\">Hash distance</th>\
         <th data-sort=\"num\">Size</th><th data-sort=\"num\">Bytes</th><th data-sort=\"text\">EXIF</th>\
         <th data-sort=\"num\">Sightings</th></tr></thead>\n<tbody>\n",
    );
    for m in matches {
        match_row(out, m);
    }
    out.push_str("</tbody>\n</table>\n");
}

fn match_row(out: &mut String, m: &ReportMatch) {
    let img = &m.image;
    let similarity = m
        .similarity
        .filter(|s| s.is_finite())
        .map_or_else(String::new, |s| s.to_string());
    let distance = m.hash_distance.map_or_else(String::new, |d| d.to_string());
    let exif = exif_text(m);
    let _ = write!(
        out,
        "<tr class=\"{kind}\"><td data-value=\"{rank}\">{rank}</td><td>{thumb}</td>\
         <td data-value=\"{order}\"><span class=\"badge {kind}\">{label}</span></td>\
         <td data-value=\"{similarity}\">{sim_text}</td><td data-value=\"{distance}\">{dist_text}<br><span class=\"muted\">{decided}</span></td>\
         <td data-value=\"{pixels}\">{w}×{h} {format}</td><td data-value=\"{bytes}\">{bytes}</td>\
         <td data-value=\"{exif}\">{exif}<br><code class=\"muted\" title=\"SHA-256\">{sha}</code></td>\
         <td data-value=\"{count}\">",
        kind = m.kind.as_str(),
        rank = m.rank,
        thumb = thumbnail(m.thumbnail_data_uri.as_deref(), &format!("match {}", m.rank)),
        order = kind_order(m.kind),
        label = m.kind.label(),
        sim_text = words::similarity(m.similarity),
        dist_text = words::evidence(m.hash_distance, m.verified_inliers),
        decided = html(&words::decided(m.decided_by)),
        pixels = u64::from(img.width) * u64::from(img.height),
        w = img.width,
        h = img.height,
        format = html(&img.format),
        bytes = img.byte_size,
        sha = html(&img.sha256),
        count = m.sightings.len(),
    );
    sightings_table(out, &m.sightings);
    out.push_str("</td></tr>\n");
}

fn exif_text(m: &ReportMatch) -> String {
    let e = &m.image.exif;
    let parts: Vec<String> = [
        ("taken", &e.date_time_original),
        ("artist", &e.artist),
        ("copyright", &e.copyright),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.as_deref().map(|v| format!("{name} {}", html(v))))
    .collect();
    if parts.is_empty() {
        "—".to_string()
    } else {
        parts.join("; ")
    }
}

fn sightings_table(out: &mut String, sightings: &[ReportSighting]) {
    let noun = if sightings.len() == 1 {
        "sighting"
    } else {
        "sightings"
    };
    let _ = write!(
        out,
        "<details><summary>{} {noun}</summary>\n<table class=\"sightings\">\n<tr><th>Page</th><th>Site</th><th>Image</th>\
         <th>Found by</th><th>First seen</th><th>Last seen</th><th>Last-Modified</th></tr>\n",
        sightings.len()
    );
    for s in sightings {
        let page = match &s.page_url {
            Some(url) => link(url, s.page_title.as_deref().unwrap_or(url)),
            None => "—".to_string(),
        };
        let found_by = match (&s.provider, &s.keyphrase) {
            (Some(p), Some(k)) => format!("{} “{}”", html(p), html(k)),
            (p, k) => or_dash(p.as_deref().or(k.as_deref())),
        };
        let _ = writeln!(
            out,
            "<tr><td>{page}</td><td>{}</td><td>{}</td><td>{found_by}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            or_dash(s.site.as_deref()),
            link(&s.image_url, &s.image_url),
            words::when(&s.first_seen_at),
            words::when(&s.last_seen_at),
            s.last_modified.as_ref().map_or_else(|| "—".to_string(), words::when),
        );
    }
    out.push_str("</table>\n</details>");
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
