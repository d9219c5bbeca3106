//! The Markdown report, for pasting into an issue or a chat. Every value
//! from a report passes through [`escape::markdown`], only http(s) URLs
//! become links, and no line starts with data. Thumbnails are left out
//! (most Markdown viewers refuse `data:` images).

use std::fmt::Write;

use super::escape::{link_text, markdown as md, markdown_url};
use super::{cards, timeline, words, Report, ReportMatch, ReportSighting};
use crate::matching::OriginClaim;

/// The report as Markdown.
pub fn render_markdown(r: &Report) -> String {
    let mut out = String::with_capacity(8 * 1024);
    query_section(&mut out, r);
    origins_section(&mut out, &r.origins);
    timeline_section(&mut out, r);
    matches_section(&mut out, &r.matches);
    notes_section(&mut out, &r.notes);
    let _ = writeln!(
        out,
        "\n_provenance report, schema version {}_",
        r.schema_version
    );
    out
}

/// `[text](url)` for a web URL; otherwise the escaped text and a warning.
fn link(url: &str, text: &str) -> String {
    let text = link_text(text, url);
    let text = text.as_str();
    match markdown_url(url) {
        Some(target) => format!("[{}]({target})", md(text)),
        None => format!("{} (not an http(s) URL, not linked)", md(text)),
    }
}

fn or_dash(value: Option<&str>) -> String {
    value.map_or_else(|| "—".to_string(), md)
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
        "# provenance report\n\n- **Query:** {}\n- **SHA-256:** {}\n- **Size:** {size}\n- **Mode:** {}\n\
         - **Model:** {}\n- **Thresholds:** {}\n- **Generated:** {}\n",
        md(&q.label),
        or_dash(q.sha256.as_deref()),
        r.mode.as_str(),
        or_dash(model.as_deref()),
        md(&words::thresholds(&r.thresholds)),
        words::when(&r.generated_at),
    );
    if let Some(w) = &r.words_query {
        let _ = writeln!(out, "- **Words looked for in the postings:** {}", md(w));
    }
}

fn origins_section(out: &mut String, origins: &[OriginClaim]) {
    out.push_str("\n## Where it came from\n\n");
    if origins.is_empty() {
        out.push_str(
            "No exact copy or near-duplicate was found, so there is no evidence of origin.\n",
        );
        return;
    }
    out.push_str("Postings with evidence of being the source, strongest evidence first. Evidence, not proof.\n\n");
    for (i, c) in origins.iter().enumerate() {
        let page = match &c.page_url {
            Some(url) => link(url, c.page_title.as_deref().unwrap_or(url)),
            None => "no page".to_string(),
        };
        let site = c
            .site
            .as_deref()
            .map_or_else(String::new, |s| format!(" · {}", md(s)));
        let image = c
            .image_url
            .as_deref()
            .map_or_else(String::new, |u| format!(" · image {}", link(u, u)));
        let _ = writeln!(
            out,
            "{}. {page}{site}{image} · {}×{}",
            i + 1,
            c.width,
            c.height
        );
        for reason in &c.reasons {
            let _ = writeln!(out, "   - {}", md(reason));
        }
    }
}

/// The likely original and the first events of the timeline.
fn timeline_section(out: &mut String, r: &Report) {
    if r.timeline.is_empty() {
        return;
    }
    out.push_str("\n## Timeline, oldest first\n\n");
    match &r.likely_original {
        Some(o) => {
            let _ = writeln!(
                out,
                "**Likely original:** match #{}{} — {}\n",
                o.match_rank,
                place(timeline::sighting_of(r, &o.evidence)),
                md(&o.why)
            );
            let credits = words::original_credits(r, o);
            if !credits.is_empty() {
                let _ = writeln!(out, "Credits: {}.\n", said(&credits));
            }
        }
        None => out.push_str("No strong or medium evidence names a likely original.\n\n"),
    }
    for e in r.timeline.iter().take(100) {
        let _ = writeln!(
            out,
            "- {} · #{} {}{} ({} evidence: {})",
            words::when(&e.at),
            e.match_rank,
            md(e.kind.what()),
            place(timeline::sighting_of(r, e)),
            cards::strength_word(e.strength),
            md(e.kind.caveat()),
        );
    }
    if r.timeline.len() > 100 {
        let _ = writeln!(
            out,
            "- … {} more in the JSON report",
            r.timeline.len() - 100
        );
    }
}

/// ` — the page (or image) as a link`, or nothing.
fn place(s: Option<&ReportSighting>) -> String {
    s.map_or_else(String::new, |s| {
        let url = s.page_url.as_deref().unwrap_or(&s.image_url);
        format!(" — {}", link(url, s.page_title.as_deref().unwrap_or(url)))
    })
}

fn matches_section(out: &mut String, matches: &[ReportMatch]) {
    let _ = writeln!(out, "\n## Matches ({})\n", matches.len());
    if matches.is_empty() {
        out.push_str("No stored image matches.\n");
        return;
    }
    out.push_str("| # | Kind | Decided by | Similarity | Hash distance | Size | Bytes | Sightings |\n|---|---|---|---|---|---|---|---|\n");
    for m in matches {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {}×{} {} | {} | {} |",
            m.rank,
            m.kind.label(),
            m.decided_by.map_or("—", |d| d.label()),
            words::similarity(m.similarity),
            words::evidence(m.hash_distance, m.verified_inliers),
            m.image.width,
            m.image.height,
            md(&m.image.format),
            m.image.byte_size,
            m.sightings.len()
        );
    }
    for m in matches {
        match_details(out, m);
    }
}

/// The recorded decision and its note, or `unreviewed`.
fn decision(m: &ReportMatch) -> String {
    match &m.review {
        Some(r) => match &r.note {
            Some(note) => format!("{} ({})", r.decision.label(), md(note)),
            None => r.decision.label().to_string(),
        },
        None => "unreviewed".into(),
    }
}

fn match_details(out: &mut String, m: &ReportMatch) {
    let e = &m.image.exif;
    let _ = write!(
        out,
        "\n### {}. {}\n\n- **Decision:** {}\n- **SHA-256:** {}\n- **EXIF:** taken {}; artist {}; copyright {}\n- **In the file (XMP):** {}\n- **Content Credentials:** {}\n- **Stored:** first seen {}, last seen {}\n\n",
        m.rank,
        m.kind.label(),
        decision(m),
        md(&m.image.sha256),
        or_dash(e.date_time_original.as_deref()),
        or_dash(e.artist.as_deref()),
        or_dash(e.copyright.as_deref()),
        said(&words::embedded(m.image.embedded.as_ref())),
        said(&words::content_credentials(m.image.embedded.as_ref())),
        words::when(&m.image.first_seen_at),
        words::when(&m.image.last_seen_at),
    );
    sightings_table(out, &m.sightings);
}

/// Words joined with `; `, each escaped; `—` when there are none.
fn said(words: &[String]) -> String {
    if words.is_empty() {
        "—".to_string()
    } else {
        words.iter().map(|w| md(w)).collect::<Vec<_>>().join("; ")
    }
}

fn sightings_table(out: &mut String, sightings: &[ReportSighting]) {
    if sightings.is_empty() {
        out.push_str("Not seen on any page.\n");
        return;
    }
    out.push_str("| Page | Site | Image | Found by | First seen | Last seen | Last-Modified | Posted with | The source says | Web archive |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for s in sightings {
        let mut page = match &s.page_url {
            Some(url) => link(url, s.page_title.as_deref().unwrap_or(url)),
            None => "—".to_string(),
        };
        if let Some(gone) = &s.gone_at {
            page.push_str(&format!(" (**gone** since {})", words::when(gone)));
        }
        let found_by = match (&s.provider, &s.keyphrase) {
            (Some(p), Some(k)) => format!("{} “{}”", md(p), md(k)),
            (p, k) => or_dash(p.as_deref().or(k.as_deref())),
        };
        let source_says = pieces(words::source_facts(
            s.source_facts.as_ref(),
            s.provider.as_deref(),
        ));
        let archived = pieces(words::archive(s.archive.as_ref()));
        let posted_with = posted_with(s);
        let _ = writeln!(
            out,
            "| {page} | {} | {} | {found_by} | {} | {} | {} | {posted_with} | {source_says} | {archived} |",
            or_dash(s.site.as_deref()),
            link(&s.image_url, "image"),
            words::when(&s.first_seen_at),
            words::when(&s.last_seen_at),
            s.last_modified
                .as_ref()
                .map_or_else(|| "—".to_string(), words::when),
        );
    }
}

/// The posting's words in a cell: the excerpt holding the report's words
/// (those in bold) when it has one, then the short fields; a dash when
/// there are none.
fn posted_with(s: &ReportSighting) -> String {
    let mut cell: Vec<String> = Vec::new();
    if let Some(snippet) = &s.words_hit {
        let excerpt: String = snippet
            .parts
            .iter()
            .map(|p| match p.hit {
                true => format!("**{}**", md(&p.text)),
                false => md(&p.text),
            })
            .collect();
        cell.push(format!("found: “{excerpt}”"));
    }
    cell.extend(
        words::posted_with(s.words.as_ref(), true)
            .iter()
            .map(|(label, text)| format!("{label}: {}", md(text))),
    );
    if cell.is_empty() {
        return "—".to_string();
    }
    cell.join(" · ")
}

/// (text, link) pieces as one cell, or a dash.
fn pieces(pieces: Vec<(String, Option<String>)>) -> String {
    if pieces.is_empty() {
        return "—".to_string();
    }
    pieces
        .iter()
        .map(|(text, url)| url.as_deref().map_or_else(|| md(text), |u| link(u, text)))
        .collect::<Vec<_>>()
        .join(" · ")
}

fn notes_section(out: &mut String, notes: &[String]) {
    if notes.is_empty() {
        return;
    }
    out.push_str("\n## Notes\n\n");
    for note in notes {
        let _ = writeln!(out, "- {}", md(note));
    }
}
