//! A case's results: the query beside each match at the same size, the
//! scores in words, every sighting readable, the decisions, the origin
//! timeline; sorted, filtered and grouped as the view asks.

use super::{action, bytes, esc, layout, Nav};
use crate::matching::MatchKind;
use crate::model::Decision;
use crate::report::cards::{self, plural};
use crate::report::view::{self, Group, Sort, View};
use crate::report::words::when;
use crate::report::{Report, ReportMatch};
use crate::serve::cases::{CaseId, CaseMeta};

/// The results page of a case.
pub(in crate::serve) fn results_page(
    csrf: &str,
    case: CaseId,
    meta: &CaseMeta,
    report: &Report,
    v: &View,
) -> String {
    let mut body = String::new();
    head(&mut body, case, meta, report);
    filters(&mut body, report, v);
    origin(&mut body, report);
    let groups = v.arrange(report);
    body.push_str(r#"<section class="matches" aria-label="Matches">"#);
    if groups.iter().all(|g| g.matches.is_empty()) {
        body.push_str(r#"<p class="empty">No match to show."#);
        if report.matches.is_empty() {
            body.push_str(" Nothing stored looks like this picture.");
        } else {
            body.push_str(r#" <a href="?">Show every match.</a>"#);
        }
        body.push_str("</p>");
    }
    for group in &groups {
        group_section(&mut body, csrf, case, report, group);
    }
    body.push_str("</section>");
    notes(&mut body, report);
    layout(
        &format!("Matches of {}", meta.label),
        Nav::Cases,
        csrf,
        &body,
    )
}

fn head(out: &mut String, case: CaseId, meta: &CaseMeta, report: &Report) {
    let count = |k: MatchKind| report.matches.iter().filter(|m| m.kind == k).count();
    let reviewed = report.matches.iter().filter(|m| m.review.is_some()).count();
    let total = report.matches.len();
    out.push_str(&format!(
        r#"<section class="case-head">
<figure class="query"><img src="/cases/{case}/query" alt="the query picture"><figcaption><strong>{label}</strong><br>{w}×{h} · uploaded {uploaded}<br><code class="sha">{case}</code></figcaption></figure>
<div class="summary">
<h1>{total} {matches}</h1>
<p>{exact} exact {copies}, {near} near-{duplicates}, {similar} similar. <strong id="reviewed-count">{reviewed} of {total}</strong> reviewed.</p>
<p>Compared by {mode}. Keys: <kbd>j</kbd>/<kbd>k</kbd> next/previous match, <kbd>c</kbd> confirmed copy, <kbd>n</kbd> not a copy, <kbd>i</kbd> ignore, <kbd>o</kbd> compare.</p>
<p class="exports">Export: <a href="/cases/{case}/export.csv" download>CSV</a> · <a href="/cases/{case}/export.json" download>JSON</a> · <a href="/cases/{case}/bundle.zip" download>case bundle (zip)</a></p>
</div>
</section>"#,
        label = esc(&meta.label),
        w = report.query.width.unwrap_or(0),
        h = report.query.height.unwrap_or(0),
        uploaded = when(&meta.uploaded_at),
        matches = plural(total, "match", "matches"),
        exact = count(MatchKind::ExactCopy),
        copies = plural(count(MatchKind::ExactCopy), "copy", "copies"),
        near = count(MatchKind::NearDuplicate),
        duplicates = plural(count(MatchKind::NearDuplicate), "duplicate", "duplicates"),
        similar = count(MatchKind::Similar),
        mode = esc(report.mode.as_str()),
    ));
}

fn option(value: &str, label: &str, current: &str) -> String {
    let selected = if value == current { " selected" } else { "" };
    format!(
        r#"<option value="{}"{selected}>{}</option>"#,
        esc(value),
        esc(label)
    )
}

fn filters(out: &mut String, report: &Report, v: &View) {
    let sorts: String = Sort::ALL
        .iter()
        .map(|s| option(s.as_str(), s.label(), v.sort.as_str()))
        .collect();
    let kinds: String = [("", "every kind")]
        .into_iter()
        .chain(
            [
                MatchKind::ExactCopy,
                MatchKind::NearDuplicate,
                MatchKind::Similar,
            ]
            .map(|k| (k.as_str(), k.label())),
        )
        .map(|(value, label)| option(value, label, &v.kind))
        .collect();
    let sites: String = std::iter::once(option("", "every site", &v.site))
        .chain(view::sites(report).iter().map(|s| option(s, s, &v.site)))
        .collect();
    let reviews: String = [("", "reviewed or not"), ("unreviewed", "unreviewed")]
        .into_iter()
        .chain(Decision::ALL.map(|d| (d.as_str(), d.label())))
        .map(|(value, label)| option(value, label, &v.review))
        .collect();
    let grouped = if v.by_site() { " checked" } else { "" };
    out.push_str(&format!(
        r#"<form class="filters" method="get" aria-label="Sort and filter">
<label>Sort <select name="sort" id="sort">{sorts}</select></label>
<label>Kind <select name="kind" id="kind">{kinds}</select></label>
<label>Site <select name="site" id="site">{sites}</select></label>
<label>Decision <select name="review" id="review">{reviews}</select></label>
<label class="check"><input type="checkbox" name="group" value="site" id="group"{grouped}> Group by site</label>
<button type="submit">Show</button>
</form>"#
    ));
}

fn origin(out: &mut String, report: &Report) {
    let timeline = cards::timeline(report);
    if report.origins.is_empty() && timeline.is_empty() {
        return;
    }
    out.push_str(r#"<section class="origin"><h2>Where it came from</h2>"#);
    if let Some(first) = report.origins.first() {
        let place = first
            .page_url
            .as_deref()
            .or(first.image_url.as_deref())
            .map_or_else(
                || "a local file".to_string(),
                |u| cards::link(u, first.page_title.as_deref().unwrap_or(u)),
            );
        out.push_str(&format!(
            r#"<p class="likely">Likely original: picture #{} ({}×{}) at {place}.</p><ul class="reasons">"#,
            first.image_id, first.width, first.height
        ));
        for reason in &first.reasons {
            out.push_str(&format!("<li>{}</li>", esc(reason)));
        }
        out.push_str("</ul>");
    }
    out.push_str(&timeline);
    out.push_str("</section>");
}

fn group_section(out: &mut String, csrf: &str, case: CaseId, report: &Report, group: &Group<'_>) {
    if let Some(site) = &group.site {
        out.push_str(&format!(
            r#"<h2 class="site">{} <small>{} {}</small></h2>"#,
            esc(site),
            group.matches.len(),
            plural(group.matches.len(), "match", "matches")
        ));
    }
    for m in &group.matches {
        match_card(out, csrf, case, report, m);
    }
}

fn match_card(out: &mut String, csrf: &str, case: CaseId, report: &Report, m: &ReportMatch) {
    let id = m.image.id;
    let decision = m.review.as_ref().map_or("none", |r| r.decision.as_str());
    let note = m
        .review
        .as_ref()
        .and_then(|r| r.note.as_deref())
        .unwrap_or("");
    let why = cards::why(m, &report.thresholds);
    let exif = cards::exif_line(m);
    let buttons: String = Decision::ALL
        .iter()
        .map(|d| {
            let key = match d {
                Decision::Confirmed => 'c',
                Decision::NotACopy => 'n',
                Decision::Ignored => 'i',
            };
            format!(
                r#"<button type="submit" name="decision" value="{}" class="decide decide-{}">{} <kbd>{key}</kbd></button>"#,
                d.as_str(),
                d.as_str(),
                esc(d.label())
            )
        })
        .collect();
    out.push_str(&format!(
        r#"<article class="match kind-{kind_class} reviewed-{decision}" id="match-{id}" data-image-id="{id}" data-decision="{decision}" tabindex="0">
<div class="pair">
<figure><img src="/cases/{case}/query" alt="the query"><figcaption>query</figcaption></figure>
<figure><img src="/images/{id}/thumbnail" alt="stored picture {id}"><figcaption>match #{rank}</figcaption></figure>
</div>
<div class="about">
<h3>#{rank} <span class="kind">{kind}</span> {badge}</h3>
<p class="facts">{w}×{h} {format}, {size}; first seen {first}{exif}</p>
{why}
<p><a class="compare" href="/cases/{case}/compare/{id}">Compare side by side</a></p>
<form class="review" method="post" action="{review_action}">
<input type="hidden" name="image_id" value="{id}">
<label>Note <input type="text" name="note" maxlength="2000" value="{note}"></label>
<div class="decide-buttons">{buttons}</div>
</form>
</div>
{sightings}
</article>"#,
        kind_class = m.kind.as_str(),
        rank = m.rank,
        kind = esc(m.kind.label()),
        badge = cards::decision_badge(m),
        w = m.image.width,
        h = m.image.height,
        format = esc(&m.image.format),
        size = bytes(m.image.byte_size),
        first = when(&m.image.first_seen_at),
        review_action = action(&format!("/cases/{case}/reviews"), csrf),
        note = esc(note),
        sightings = cards::sightings(&m.sightings),
    ));
}

fn notes(out: &mut String, report: &Report) {
    if report.notes.is_empty() {
        return;
    }
    out.push_str(r#"<section class="notes"><h2>Notes</h2><ul>"#);
    for n in &report.notes {
        out.push_str(&format!("<li>{}</li>", esc(n)));
    }
    out.push_str("</ul></section>");
}
