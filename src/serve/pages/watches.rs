//! `GET /watches`: the watches (what each scans, how often, when next,
//! how many postings it follows) and the latest changes they found.

use super::{esc, layout, Nav};
use crate::model::{ChangeKind, ChangeRecord, WatchRecord};
use crate::report::cards;
use crate::report::words::when;

/// The watches and the latest changes, newest first.
pub(in crate::serve) fn watches_page(
    csrf: &str,
    watches: &[WatchRecord],
    changes: &[ChangeRecord],
) -> String {
    let mut body = String::from("<h1>Watches</h1>");
    if watches.is_empty() {
        body.push_str(r#"<p class="watches-none">Nothing is watched. Add a watch with <code>provenance watch add "KEYPHRASE" --every 1d</code>; while this server runs, the watches that are due run on their own.</p>"#);
    } else {
        body.push_str(r#"<table class="watches"><thead><tr><th>#</th><th>Scans</th><th>Every</th><th>Next run</th><th>Last run</th><th>Postings</th></tr></thead><tbody>"#);
        for w in watches {
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                w.id,
                esc(&w.scan.input.label()),
                crate::watch::every_words(w.every_secs),
                when(&w.next_run_at),
                w.last_run_at.as_ref().map_or_else(|| "never".into(), when),
                w.postings
            ));
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("<h2>Latest changes</h2>");
    if changes.is_empty() {
        body.push_str(r#"<p class="changes-none">No changes yet.</p>"#);
    } else {
        body.push_str(r#"<ol class="changes">"#);
        for c in changes {
            let place = match &c.page_url {
                Some(url) => cards::link(url, c.page_title.as_deref().unwrap_or(url)),
                None => cards::link(&c.image_url, &c.image_url),
            };
            let label = match c.kind {
                ChangeKind::New => "new posting",
                ChangeKind::Gone => "gone",
                ChangeKind::Changed => "picture replaced",
            };
            body.push_str(&format!(
                r#"<li class="change change-{kind}"><span class="badge">{label}</span> {at} · {site} · {place}{why} <a href="/api/v1/images/{image}">picture {image}</a></li>"#,
                kind = c.kind.as_str(),
                at = when(&c.at),
                site = esc(c.site.as_deref().unwrap_or("?")),
                why = c
                    .detail
                    .as_deref()
                    .map_or_else(String::new, |d| format!(" — {}", esc(d))),
                image = c.image_id,
            ));
        }
        body.push_str("</ol>");
    }
    layout("Watches", Nav::Watches, csrf, &body)
}
