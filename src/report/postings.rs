//! `search --in-pages`: the postings whose words hold a text, for people
//! (a terminal listing, hits in `[brackets]`) and as JSON.

use serde::Serialize;

use crate::model::{PostingHit, Snippet};

/// What `search --in-pages --format json` prints.
#[derive(Debug, Serialize)]
pub struct PostingsAnswer<'a> {
    /// The text searched for, as given.
    pub query: &'a str,
    /// The postings, most relevant first.
    pub postings: &'a [PostingHit],
}

/// The answer as one JSON object.
pub fn render_postings_json(query: &str, hits: &[PostingHit]) -> String {
    serde_json::to_string_pretty(&PostingsAnswer {
        query,
        postings: hits,
    })
    .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// A numbered list: site and page title, the page, the excerpt with the
/// query's words in brackets, and the picture's id (for `match`/`serve`).
pub fn postings_overview(query: &str, hits: &[PostingHit]) -> String {
    let mut text = match hits.len() {
        0 => return format!("No posting's words hold {}.\n", shown(query)),
        1 => format!("1 posting whose words hold {}:\n", shown(query)),
        n => format!("{n} postings whose words hold {}:\n", shown(query)),
    };
    for (at, hit) in hits.iter().enumerate() {
        let site = hit.site.as_deref().unwrap_or("?");
        let title = hit.page_title.as_deref().unwrap_or("(no title)");
        let place = hit.page_url.as_deref().unwrap_or(&hit.image_url);
        text.push_str(&format!(
            "  {:>2}. {}: {}\n      {}\n      “{}”  (picture {})\n",
            at + 1,
            shown(site),
            shown(title),
            shown(place),
            shown(&excerpt(&hit.snippet)),
            hit.image_id
        ));
    }
    text
}

/// The excerpt with hits in brackets.
pub(crate) fn excerpt(snippet: &Snippet) -> String {
    snippet.bracketed()
}

/// Scraped text made safe for a terminal: control characters (escape
/// sequences among them) dropped.
pub(crate) fn shown(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(snippet: &str) -> PostingHit {
        PostingHit {
            sighting_id: 1,
            image_id: 9,
            image_url: "https://cdn.example/a.jpg".into(),
            page_url: Some("https://news.example/\u{1b}[31mleak".into()),
            page_title: Some("Festival".into()),
            site: Some("news.example".into()),
            provider: Some("page".into()),
            words: None,
            snippet: Snippet::from_marked(snippet),
            score: 1.5,
        }
    }

    #[test]
    fn listing_brackets_hits_and_drops_escape_sequences() {
        let text = postings_overview("leaked", &[hit("the \u{2}leaked\u{3} poster")]);
        assert!(
            text.starts_with("1 posting whose words hold leaked:"),
            "{text}"
        );
        assert!(
            text.contains("“the [leaked] poster”  (picture 9)"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'));
        assert_eq!(postings_overview("x", &[]), "No posting's words hold x.\n");
    }

    #[test]
    fn json_lists_the_postings_with_marked_runs() {
        let json: serde_json::Value = serde_json::from_str(&render_postings_json(
            "leaked",
            &[hit("a \u{2}leaked\u{3}")],
        ))
        .unwrap();
        assert_eq!(json["query"], "leaked");
        assert_eq!(json["postings"][0]["snippet"][1]["text"], "leaked");
        assert_eq!(json["postings"][0]["snippet"][1]["hit"], true);
        assert_eq!(json["postings"][0]["image_id"], 9);
    }
}
