//! The scans page (start one; the latest scans and failures) and one
//! scan's live page.

use serde_json::Value;

use super::{action, esc, layout, Nav};
use crate::model::{BatchProgress, FailureRecord, ScanId, ScanRecord};
use crate::report::words::when;

/// The counters shown, as the terminal shows them.
const COUNTERS: [(&str, &str); 7] = [
    ("candidates", "candidates"),
    ("fetched", "fetched"),
    ("skipped", "skipped"),
    ("failed", "failed"),
    ("embedded", "embedded"),
    ("new_images", "new images"),
    ("new_sightings", "new sightings"),
];

/// `GET /scans`.
pub(in crate::serve) fn scans_page(
    csrf: &str,
    scans: &[ScanRecord],
    running: &[bool],
    batches: &[Option<BatchProgress>],
    failures: &[FailureRecord],
) -> String {
    let mut body = format!(
        r#"<h1>Scans</h1>
<form class="scan-form" method="post" action="{action}">
<fieldset><legend>Look for</legend>
<label class="check"><input type="radio" name="what" value="keyphrase" checked> a keyphrase</label>
<label class="check"><input type="radio" name="what" value="image_url"> pictures like an image URL (Google Lens)</label>
<label class="check"><input type="radio" name="what" value="urls"> a list of image URLs (one <code>IMAGE_URL [PAGE_URL]</code> per line)</label>
</fieldset>
<label for="scan-text">Keyphrase, image URL or URL list</label>
<textarea id="scan-text" name="text" rows="3" required></textarea>
<label for="provider">Provider</label>
<select id="provider" name="provider"><option value="">the first configured, else Openverse and Commons</option><option value="openverse,commons">openverse + commons (no key)</option><option value="openverse">openverse</option><option value="commons">commons</option><option value="serpapi">serpapi</option><option value="brave">brave</option><option value="serper">serper</option><option value="searxng">searxng</option></select>
<label for="max_results">Most results</label>
<input id="max_results" name="max_results" type="number" min="1" max="10000" value="100">
<label class="check"><input type="checkbox" name="follow_pages"> also take every image of the pages found</label>
<button type="submit" id="start-scan">Start the scan</button>
</form>
<h2>Latest scans</h2>"#,
        action = action("/scans", csrf)
    );
    if scans.is_empty() {
        body.push_str("<p>No scan yet.</p>");
    } else {
        body.push_str(r#"<table class="scans"><thead><tr><th>#</th><th>Looked for</th><th>Provider</th><th>State</th><th>New pictures</th><th>Failed</th><th>Started</th></tr></thead><tbody>"#);
        for ((scan, live), batches) in scans.iter().zip(running).zip(batches) {
            let mut state = if *live {
                "running".to_string()
            } else {
                scan.status.as_str().to_string()
            };
            // Run by workers: their batches, which any machine can see.
            if let Some(b) = batches {
                state.push_str(&format!(
                    " · batches {}/{} done, {} running, {} failed",
                    b.done, b.total, b.running, b.failed
                ));
            }
            body.push_str(&format!(
                r#"<tr><td><a href="/scans/{id}">{id}</a></td><td class="text">{what}</td><td>{provider}</td><td>{state}</td><td>{new}</td><td>{failed}</td><td>{started}</td></tr>"#,
                id = scan.id,
                what = esc(&scan.keyphrase),
                provider = esc(&scan.provider),
                new = scan.counts.new_images,
                failed = scan.counts.failed,
                started = when(&scan.started_at),
            ));
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("<h2>Latest failures</h2>");
    if failures.is_empty() {
        body.push_str("<p>None.</p>");
    } else {
        body.push_str(r#"<ol class="failures">"#);
        for f in failures {
            body.push_str(&format!(
                r#"<li><span class="stage">{stage}</span> {url}<br><small>{reason} · {attempts} {attempts_word} · last {last}</small></li>"#,
                stage = esc(&f.stage.to_string()),
                url = crate::report::cards::link(&f.url, &f.url),
                reason = esc(&f.reason),
                attempts = f.attempts,
                attempts_word = if f.attempts == 1 { "attempt" } else { "attempts" },
                last = when(&f.last_at),
            ));
        }
        body.push_str("</ol>");
    }
    layout("Scans", Nav::Scans, csrf, &body)
}

/// `GET /scans/{id}`: the counters, refreshed live by the page's script
/// from `/scans/{id}/events`.
pub(in crate::serve) fn scan_page(csrf: &str, id: ScanId, scan: &Value) -> String {
    let running = scan["running"].as_bool().unwrap_or(false);
    let counts = if running {
        &scan["live"]
    } else {
        &scan["counts"]
    };
    let counters: String = COUNTERS
        .iter()
        .map(|(key, label)| {
            format!(
                r#"<div><dt>{label}</dt><dd data-counter="{key}">{}</dd></div>"#,
                counts[*key].as_u64().unwrap_or(0)
            )
        })
        .collect();
    let status = if running {
        "running".to_string()
    } else {
        scan["status"].as_str().unwrap_or("unknown").to_string()
    };
    let cancel = if running {
        format!(
            r#"<form method="post" action="{}"><button type="submit" id="cancel-scan">Cancel the scan</button></form>"#,
            action(&format!("/scans/{id}/cancel"), csrf)
        )
    } else {
        String::new()
    };
    let error = scan["error"]
        .as_str()
        .map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, esc(e)))
        .unwrap_or_default();
    let body = format!(
        r#"<p><a href="/scans">← all scans</a></p>
<h1>Scan {id}: {what}</h1>
<p>Provider {provider}. State: <strong id="scan-status" data-events="/scans/{id}/events">{status}</strong></p>
{error}
<dl class="counters">{counters}</dl>
{cancel}
<p>Pictures it stores are matched at once: <a href="/">match a picture</a>, or browse <a href="/library">the library</a>.</p>"#,
        what = esc(scan["keyphrase"].as_str().unwrap_or("")),
        provider = esc(scan["provider"].as_str().unwrap_or("")),
        status = esc(&status),
    );
    layout(&format!("Scan {id}"), Nav::Scans, csrf, &body)
}
