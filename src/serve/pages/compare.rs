//! The compare view: the query and one match side by side, each with the
//! other's outline drawn where the verified transform puts it; with
//! JavaScript, also flicker and overlay with the match aligned on the
//! query.

use super::{esc, layout, Nav};
use crate::lookup::{Comparison, Corner};
use crate::report::view;
use crate::report::{Report, ReportMatch};
use crate::serve::cases::{CaseId, CaseMeta};

/// The compare page of one match of a case.
pub(in crate::serve) fn compare_page(
    csrf: &str,
    case: CaseId,
    meta: &CaseMeta,
    report: &Report,
    m: Option<&ReportMatch>,
    c: &Comparison,
) -> String {
    let id = c.image_id;
    let geometry = geometry_words(c);
    let why: String = m
        .map(|m| view::explain(m, &report.thresholds))
        .unwrap_or_default()
        .iter()
        .map(|w| format!("<li>{}</li>", esc(w)))
        .collect();
    let heading = match m {
        Some(m) => format!("Match #{} · {}", m.rank, esc(m.kind.label())),
        None => format!("Stored picture #{id}"),
    };
    let aligned = c
        .image_in_query
        .map(|q| format!(r#" data-image-in-query="{}""#, esc(&corners_json(&q))))
        .unwrap_or_default();
    let body = format!(
        r#"<p><a href="/cases/{case}#match-{id}">← back to the matches of {label}</a></p>
<h1>{heading}</h1>
<p class="geometry">{geometry}</p>
<ul class="why">{why}</ul>
<div class="modes" role="group" aria-label="Compare mode" hidden>
<button type="button" data-mode="side" aria-pressed="true">Side by side</button>
<button type="button" data-mode="flicker" aria-pressed="false">Flicker</button>
<button type="button" data-mode="overlay" aria-pressed="false">Overlay</button>
<label class="opacity">Match opacity <input type="range" id="opacity" min="0" max="100" value="50"></label>
</div>
<div class="compare mode-side" id="compare"{aligned}>
<figure class="pane query-pane"><div class="frame"><img id="query-img" src="/cases/{case}/query" alt="the query">{query_outline}</div><figcaption>query — {outline_in_query}</figcaption></figure>
<figure class="pane match-pane"><div class="frame"><img id="match-img" src="/images/{id}/thumbnail" alt="stored picture {id}">{match_outline}</div><figcaption>match — {outline_in_match}</figcaption></figure>
</div>"#,
        label = esc(&meta.label),
        query_outline = outline(c.image_in_query.as_ref(), "match-outline"),
        match_outline = outline(c.query_in_image.as_ref(), "query-outline"),
        outline_in_query = if c.image_in_query.is_some() {
            "the green outline is where the match's edges fall (outside it when the query is a crop)"
        } else {
            "no region was verified"
        },
        outline_in_match = if c.query_in_image.is_some() {
            "the green outline is where the query lies in it"
        } else {
            "no region was verified"
        },
    );
    layout("Compare", Nav::Cases, csrf, &body)
}

/// An SVG drawn over a picture, in fractions of it.
fn outline(corners: Option<&[Corner; 4]>, class: &str) -> String {
    let Some(corners) = corners else {
        return String::new();
    };
    let points: Vec<String> = corners
        .iter()
        .map(|[x, y]| format!("{:.4},{:.4}", x, y))
        .collect();
    format!(
        r#"<svg class="outline {class}" viewBox="0 0 1 1" preserveAspectRatio="none" aria-hidden="true"><polygon points="{}" vector-effect="non-scaling-stroke"/></svg>"#,
        points.join(" ")
    )
}

fn corners_json(c: &[Corner; 4]) -> String {
    serde_json::to_string(c).unwrap_or_default()
}

/// The transform in words.
fn geometry_words(c: &Comparison) -> String {
    if c.inliers == 0 || c.scale.is_none() {
        return "No keypoints agree on one placement: the pictures are not aligned.".into();
    }
    let mut s = format!(
        "{} keypoints agree on one placement: the query appears in the match at {:.2}× its pixel size",
        c.inliers,
        c.scale.unwrap_or(1.0)
    );
    if let Some(r) = c.rotation_degrees.filter(|r| r.abs() >= 1.0) {
        s.push_str(&format!(", turned {r:.0}°"));
    }
    if c.mirrored {
        s.push_str(", mirrored");
    }
    s.push('.');
    s
}
