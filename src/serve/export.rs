//! A case handed on: CSV (one row per posting of each match, for a
//! spreadsheet), JSON (the case and its report), and a bundle (zip: the
//! HTML, JSON and Markdown reports, the query, every thumbnail, and
//! `SHA256SUMS` over them all).

use std::io::Write;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::cases::{CaseId, CaseMeta};
use super::error::ApiError;
use super::matcher;
use super::state::AppState;
use crate::report::{render_html, render_json, render_markdown, Report};

/// The columns of the CSV.
const CSV_HEADER: [&str; 25] = [
    "query_sha256",
    "query_label",
    "rank",
    "kind",
    "decided_by",
    "image_id",
    "image_sha256",
    "width",
    "height",
    "hash_distance",
    "verified_inliers",
    "similarity",
    "decision",
    "note",
    "decided_at",
    "site",
    "page_url",
    "page_title",
    "image_url",
    "found_by",
    "keyphrase",
    "first_seen_at",
    "last_seen_at",
    "last_modified",
    "posted_with",
];

/// A cell a spreadsheet will not run as a formula: text starting with
/// `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// The CSV of a report: one row per sighting of each match (a match
/// never seen on a page has one row without a page).
pub fn csv_of(case: CaseId, meta: &CaseMeta, report: &Report) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(CSV_HEADER)?;
    let opt = |v: Option<String>| v.unwrap_or_default();
    for m in &report.matches {
        let review = m.review.as_ref();
        let fixed = [
            case.to_string(),
            cell(&meta.label),
            m.rank.to_string(),
            m.kind.as_str().to_string(),
            opt(m
                .decided_by
                .and_then(|d| serde_json::to_value(d).ok()?.as_str().map(str::to_string))),
            m.image.id.to_string(),
            m.image.sha256.clone(),
            m.image.width.to_string(),
            m.image.height.to_string(),
            opt(m.hash_distance.map(|d| d.to_string())),
            opt(m.verified_inliers.map(|n| n.to_string())),
            opt(m.similarity.map(|s| format!("{s:.4}"))),
            opt(review.map(|r| r.decision.as_str().to_string())),
            cell(&opt(review.and_then(|r| r.note.clone()))),
            opt(review.map(|r| r.decided_at.to_rfc3339())),
        ];
        if m.sightings.is_empty() {
            let mut row = fixed.to_vec();
            row.extend(std::iter::repeat_n(
                String::new(),
                CSV_HEADER.len() - fixed.len(),
            ));
            out.write_record(&row)?;
        }
        for s in &m.sightings {
            let mut row = fixed.to_vec();
            row.extend([
                cell(&crate::report::view::site_of(s)),
                cell(&opt(s.page_url.clone())),
                cell(&opt(s.page_title.clone())),
                cell(&s.image_url),
                cell(&opt(s.provider.clone())),
                cell(&opt(s.keyphrase.clone())),
                s.first_seen_at.to_rfc3339(),
                s.last_seen_at.to_rfc3339(),
                opt(s.last_modified.map(|t| t.to_rfc3339())),
                cell(&posted_with(s)),
            ]);
            out.write_record(&row)?;
        }
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// The words a posting was made with, in one cell: `caption: …; alt
/// text: …; text around it: …`.
fn posted_with(s: &crate::report::ReportSighting) -> String {
    crate::report::words::posted_with(s.words.as_ref(), false)
        .iter()
        .map(|(label, text)| format!("{label}: {text}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn attachment(name: String, mime: &'static str, body: Vec<u8>) -> Response {
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}

/// The file name stem of a case's exports.
fn stem(case: CaseId) -> String {
    format!("provenance-case-{}", &case.to_string()[..12])
}

/// `GET …/export.csv`.
pub(super) async fn csv(
    State(state): State<Arc<AppState>>,
    Path(case): Path<String>,
) -> Result<Response, ApiError> {
    let (id, meta, _, report) = matcher::case_report(&state, &case).await?;
    let body =
        csv_of(id, &meta, &report).map_err(|e| ApiError::internal("cannot write the CSV", &e))?;
    Ok(attachment(
        format!("{}.csv", stem(id)),
        "text/csv; charset=utf-8",
        body,
    ))
}

/// The case as JSON: what was uploaded, and the report.
fn case_json(id: CaseId, meta: &CaseMeta, report: &Report) -> serde_json::Value {
    json!({
        "case": {"query_sha256": id.to_string(), "label": meta.label, "uploaded_at": meta.uploaded_at},
        "report": report,
    })
}

/// `GET …/export.json`.
pub(super) async fn json(
    State(state): State<Arc<AppState>>,
    Path(case): Path<String>,
) -> Result<Response, ApiError> {
    let (id, meta, _, report) = matcher::case_report(&state, &case).await?;
    let body = serde_json::to_vec_pretty(&case_json(id, &meta, &report))
        .map_err(|e| ApiError::internal("cannot write the JSON", &e))?;
    Ok(attachment(
        format!("{}.json", stem(id)),
        "application/json",
        body,
    ))
}

/// `GET …/bundle.zip`.
pub(super) async fn bundle(
    State(state): State<Arc<AppState>>,
    Path(case): Path<String>,
) -> Result<Response, ApiError> {
    let (id, meta, _, report) = matcher::case_report(&state, &case).await?;
    let (_, query, _) = matcher::load_case(&state, &case).await?;
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("report.html".into(), render_html(&report).into_bytes()),
        ("report.json".into(), render_json(&report).into_bytes()),
        ("report.md".into(), render_markdown(&report).into_bytes()),
        (
            "case.json".into(),
            serde_json::to_vec_pretty(&case_json(id, &meta, &report)).unwrap_or_default(),
        ),
        (format!("query.{}", extension(&query)), query),
    ];
    for m in &report.matches {
        if let Some(jpeg) = state.store.thumbnail(m.image.id).await? {
            files.push((format!("thumbnails/{}.jpg", m.image.id), jpeg));
        }
    }
    let body = zip_of(&files).map_err(|e| ApiError::internal("cannot write the bundle", &e))?;
    Ok(attachment(
        format!("{}.zip", stem(id)),
        "application/zip",
        body,
    ))
}

fn extension(bytes: &[u8]) -> &'static str {
    image::guess_format(bytes)
        .ok()
        .and_then(|f| f.extensions_str().first().copied())
        .unwrap_or("bin")
}

/// A zip of `files` with `SHA256SUMS` (as `sha256sum -c` reads it).
pub fn zip_of(files: &[(String, Vec<u8>)]) -> zip::result::ZipResult<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut sums = String::new();
    for (name, bytes) in files {
        zip.start_file(name.as_str(), options)?;
        zip.write_all(bytes)?;
        sums.push_str(&format!("{}  {name}\n", hex::encode(Sha256::digest(bytes))));
    }
    zip.start_file("SHA256SUMS", options)?;
    zip.write_all(sums.as_bytes())?;
    Ok(zip.finish()?.into_inner())
}
