//! The page title: `<title>`, else `og:title`, else `twitter:title`;
//! whitespace collapsed, length capped.

use std::sync::LazyLock;

use scraper::{Html, Selector};

use super::selector;

static TITLE: LazyLock<Selector> = LazyLock::new(|| selector("title"));
static META_TITLES: LazyLock<Selector> = LazyLock::new(|| {
    selector(
        r#"meta[property="og:title"], meta[name="og:title"], meta[name="twitter:title"], meta[property="twitter:title"]"#,
    )
});

/// The title of `document`, at most `max_chars` characters.
pub(crate) fn page_title(document: &Html, max_chars: usize) -> Option<String> {
    let from_title = document
        .select(&TITLE)
        .next()
        .map(|element| element.text().collect::<String>());
    let from_meta = || {
        document
            .select(&META_TITLES)
            .find_map(|element| element.attr("content").map(str::to_string))
    };
    [from_title, from_meta()]
        .into_iter()
        .flatten()
        .map(|text| tidy(&text, max_chars))
        .find(|text| !text.is_empty())
}

/// Whitespace runs become one space; at most `max_chars` characters.
fn tidy(text: &str, max_chars: usize) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match collapsed.char_indices().nth(max_chars) {
        Some((cut, _)) => collapsed[..cut].trim_end().to_string(),
        None => collapsed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_trimmed_collapsed_and_capped() {
        let doc = Html::parse_document("<title>\n  Red   fox\n in snow </title>");
        assert_eq!(page_title(&doc, 300).as_deref(), Some("Red fox in snow"));
        assert_eq!(page_title(&doc, 7).as_deref(), Some("Red fox"));
        let long = format!("<title>{}</title>", "é".repeat(1000));
        let capped = page_title(&Html::parse_document(&long), 300).unwrap();
        assert_eq!(capped.chars().count(), 300);
    }

    #[test]
    fn og_title_is_the_fallback() {
        let doc = Html::parse_document(
            r#"<head><title>  </title><meta property="og:title" content=" Fox story "></head>"#,
        );
        assert_eq!(page_title(&doc, 300).as_deref(), Some("Fox story"));
        assert_eq!(
            page_title(&Html::parse_document("<p>no title</p>"), 300),
            None
        );
    }
}
