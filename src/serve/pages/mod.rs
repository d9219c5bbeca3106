//! The UI's pages: pure functions from what is to be shown to HTML. Every
//! scraped or uploaded string goes through [`esc`]; links leave the site
//! only for http(s) URLs (`report::cards::link`), in a new tab without a
//! referrer.
//! No inline script or style (the Content-Security-Policy forbids them):
//! behaviour is in `/assets/app.js`, looks in `/assets/app.css`.

mod compare;
mod postings;
mod results;
mod scans;
mod watches;

use axum::http::StatusCode;

pub(super) use compare::compare_page;
pub(super) use postings::postings_page;
pub(super) use results::results_page;
pub(super) use scans::{scan_page, scans_page};
pub(super) use watches::watches_page;

use super::cases::{CaseId, CaseMeta};
use crate::model::ImageRecord;
use crate::report::escape;
use crate::report::words::when;

/// Escapes for HTML text and attribute values.
pub(super) fn esc(s: &str) -> String {
    escape::html(s)
}

/// The form action with the CSRF token.
pub(super) fn action(path: &str, csrf: &str) -> String {
    esc(&format!("{path}?csrf_token={csrf}"))
}

/// The navigation entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Nav {
    Match,
    Cases,
    Library,
    Scans,
    Watches,
    None,
}

/// A whole page around `body`.
pub(super) fn layout(title: &str, nav: Nav, csrf: &str, body: &str) -> String {
    let item = |target: Nav, href: &str, label: &str| {
        let current = if target == nav {
            r#" aria-current="page""#
        } else {
            ""
        };
        format!(r#"<a href="{href}"{current}>{label}</a>"#)
    };
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="{csrf}">
<title>{title} · provenance</title>
<link rel="stylesheet" href="/assets/app.css">
<script src="/assets/app.js" defer></script>
</head>
<body>
<header class="top"><a class="brand" href="/">provenance</a>
<nav>{}{}{}{}{}</nav></header>
<main>
{body}
</main>
</body>
</html>
"#,
        item(Nav::Match, "/", "Match a picture"),
        item(Nav::Cases, "/cases", "Cases"),
        item(Nav::Library, "/library", "Library"),
        item(Nav::Scans, "/scans", "Scans"),
        item(Nav::Watches, "/watches", "Watches"),
        csrf = esc(csrf),
        title = esc(title),
    )
}

/// An error as a page.
pub(super) fn error_page(status: StatusCode, message: &str) -> String {
    let body = format!(
        r#"<h1>{}</h1><p class="error" role="alert">{}</p><p><a href="/">Back to the start</a></p>"#,
        status.as_u16(),
        esc(message)
    );
    layout(
        status.canonical_reason().unwrap_or("Error"),
        Nav::None,
        "",
        &body,
    )
}

/// The start page: upload a file (or drop or paste one), or give a URL.
pub(super) fn home_page(csrf: &str, store_pictures: Option<i64>, upload_max_bytes: u64) -> String {
    let stored = match store_pictures {
        Some(n) => {
            format!("Pictures are looked for among the <strong>{n}</strong> the store holds.")
        }
        None => "The store is empty: run a scan first.".into(),
    };
    let body = format!(
        r#"<h1>Where else does this picture live?</h1>
<p>{stored} Exact copies, re-encodings, crops, screenshots, rotations and collages are found; every page each was seen on is listed, with the evidence of which came first.</p>
<form class="upload" method="post" action="{action}" enctype="multipart/form-data">
<label class="drop" id="drop" for="image">
<span class="drop-hint">Drop a picture here, paste one, or <u>choose a file</u></span>
<input type="file" id="image" name="image" accept="image/*">
<span class="drop-name" id="drop-name"></span>
</label>
<p class="or">or</p>
<label for="image_url">Picture URL</label>
<input type="url" id="image_url" name="image_url" placeholder="https://example.org/picture.jpg">
<p class="hint">At most {max}. The URL is fetched by this server under the scan's rules (no private addresses).</p>
<button type="submit" id="find">Find matches</button>
</form>"#,
        action = action("/match", csrf),
        max = bytes(upload_max_bytes),
    );
    layout("Match a picture", Nav::Match, csrf, &body)
}

/// The login page (only when a token is set).
pub(super) fn login_page(failed: bool) -> String {
    let error = if failed {
        r#"<p class="error" role="alert">That is not the token.</p>"#
    } else {
        ""
    };
    let body = format!(
        r#"<h1>Log in</h1>{error}
<form method="post" action="/login" class="login">
<label for="token">Token (PROVENANCE_API_TOKEN)</label>
<input type="password" id="token" name="token" autocomplete="current-password" required>
<button type="submit">Log in</button>
</form>"#
    );
    layout("Log in", Nav::None, "", &body)
}

/// The uploaded pictures, newest first.
pub(super) fn cases_page(csrf: &str, cases: &[(CaseId, CaseMeta)]) -> String {
    let mut body = String::from("<h1>Cases</h1>");
    if cases.is_empty() {
        body.push_str(r#"<p>No picture was uploaded yet. <a href="/">Match one.</a></p>"#);
    } else {
        body.push_str(r#"<ul class="cards">"#);
        for (id, meta) in cases {
            body.push_str(&format!(
                r#"<li class="card"><a href="/cases/{id}"><img src="/cases/{id}/query" alt="" loading="lazy"><span>{}</span></a><small>uploaded {}</small></li>"#,
                esc(&meta.label),
                when(&meta.uploaded_at)
            ));
        }
        body.push_str("</ul>");
    }
    layout("Cases", Nav::Cases, csrf, &body)
}

/// The stored pictures, newest first, with a search box.
pub(super) fn library_page(
    csrf: &str,
    q: &str,
    images: &[ImageRecord],
    next: Option<i64>,
) -> String {
    let mut body = format!(
        r#"<h1>Library</h1>
<form method="get" action="/library" class="search" role="search">
<label for="q">Seen at a URL, site or page title containing</label>
<input type="search" id="q" name="q" value="{}">
<button type="submit">Search</button>
</form>
<p>Or <a href="/postings">search the words pictures were posted with</a> (alt text, captions, the text around them).</p>"#,
        esc(q)
    );
    if images.is_empty() {
        body.push_str("<p>No stored picture fits.</p>");
    }
    body.push_str(r#"<ul class="cards">"#);
    for image in images {
        body.push_str(&format!(
            r#"<li class="card"><a href="/api/v1/images/{id}"><img src="/images/{id}/thumbnail" alt="stored picture {id}" loading="lazy"></a><span>#{id} · {w}×{h} {format} · {size}</span><small>first seen {first}</small></li>"#,
            id = image.id,
            w = image.width,
            h = image.height,
            format = esc(&image.format),
            size = bytes(image.byte_size),
            first = when(&image.first_seen_at),
        ));
    }
    body.push_str("</ul>");
    if let Some(before) = next {
        body.push_str(&format!(
            r#"<p><a href="/library?q={}&amp;before={before}" rel="next">Older pictures</a></p>"#,
            esc(&url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>())
        ));
    }
    layout("Library", Nav::Library, csrf, &body)
}

/// A byte count for people.
pub(super) fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KB", "MB", "GB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
