//! `GET /postings?q=…`: the postings whose words (alt text, caption,
//! titles, heading, the text around the picture, the page's description)
//! hold the words asked for, most relevant first, the words marked.

use super::{esc, layout, Nav};
use crate::model::PostingHit;
use crate::report::cards;

/// The search form and, when something was asked, the postings found (or
/// why the question cannot be asked).
pub(in crate::serve) fn postings_page(
    csrf: &str,
    q: &str,
    found: Result<&[PostingHit], String>,
) -> String {
    let mut body = format!(
        r#"<h1>Search the words of pages</h1>
<form method="get" action="/postings" class="search" role="search">
<label for="q">Posted with the words (alt text, caption, titles, the text around the picture); "quoted phrases" kept together</label>
<input type="search" id="q" name="q" value="{}">
<button type="submit">Search</button>
</form>"#,
        esc(q)
    );
    match found {
        Err(why) => body.push_str(&format!(
            r#"<p class="error" role="alert">{}</p>"#,
            esc(&why)
        )),
        Ok([]) if q.is_empty() => {}
        Ok([]) => {
            body.push_str(r#"<p class="postings-none">No posting's words hold these words.</p>"#)
        }
        Ok(hits) => {
            body.push_str(r#"<ol class="postings">"#);
            for hit in hits {
                body.push_str(&posting(hit));
            }
            body.push_str("</ol>");
        }
    }
    layout("Search the words of pages", Nav::Library, csrf, &body)
}

fn posting(hit: &PostingHit) -> String {
    let page = match &hit.page_url {
        Some(url) => cards::link(url, hit.page_title.as_deref().unwrap_or(url)),
        None => cards::link(&hit.image_url, &hit.image_url),
    };
    format!(
        r#"<li class="posting"><a href="/api/v1/images/{id}"><img src="/images/{id}/thumbnail" alt="stored picture {id}" loading="lazy"></a><div><div class="page">{page}</div><p class="site">{site}</p><p class="words-found">{snippet}</p></div></li>"#,
        id = hit.image_id,
        site = esc(hit.site.as_deref().unwrap_or("")),
        snippet = cards::marked(&hit.snippet),
    )
}
