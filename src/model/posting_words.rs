//! The words a picture was posted with: its alt text and title, the
//! caption of its figure, the nearest heading and a window of the text
//! around it on the page, the page's description, and a search provider's
//! snippet. Kept per sighting, bounded and as plain text (markup never
//! survives scraping), and searched with the stores' full-text indexes.

use serde::{Deserialize, Serialize};

/// Longest text kept of one field (alt, caption, heading, …), in characters.
pub const MAX_WORDS_CHARS: usize = 300;
/// Longest window of surrounding text kept, in characters (half before the
/// picture, half after).
pub const MAX_NEARBY_CHARS: usize = 600;

/// The words around one posting; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostingWords {
    /// The picture's `alt` text (or `og:image:alt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt: Option<String>,
    /// The picture's (or its link's) `title` attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The `<figcaption>` of its `<figure>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// The nearest heading before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heading: Option<String>,
    /// The text just before and after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nearby: Option<String>,
    /// The page's description (`<meta name="description">`, `og:description`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What a search provider wrote about the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
}

/// What a field of [`PostingWords`] is, for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordsField {
    /// `alt`.
    Alt,
    /// `title`.
    Title,
    /// `<figcaption>`.
    Caption,
    /// Nearest heading.
    Heading,
    /// Surrounding text.
    Nearby,
    /// Page description.
    Description,
    /// Provider snippet.
    Snippet,
}

impl WordsField {
    /// Words for a label: "alt text", "caption", …
    pub fn label(self) -> &'static str {
        match self {
            Self::Alt => "alt text",
            Self::Title => "picture title",
            Self::Caption => "caption",
            Self::Heading => "heading",
            Self::Nearby => "text around it",
            Self::Description => "page description",
            Self::Snippet => "search snippet",
        }
    }
}

impl PostingWords {
    /// True when nothing was found.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `Some(self)` unless empty.
    pub fn non_empty(self) -> Option<Self> {
        (!self.is_empty()).then_some(self)
    }

    /// `self`, with each field it lacks taken from `other`.
    pub fn or(self, other: Self) -> Self {
        Self {
            alt: self.alt.or(other.alt),
            title: self.title.or(other.title),
            caption: self.caption.or(other.caption),
            heading: self.heading.or(other.heading),
            nearby: self.nearby.or(other.nearby),
            description: self.description.or(other.description),
            snippet: self.snippet.or(other.snippet),
        }
    }

    /// The fields that hold words, most telling first.
    pub fn fields(&self) -> Vec<(WordsField, &str)> {
        [
            (WordsField::Caption, &self.caption),
            (WordsField::Alt, &self.alt),
            (WordsField::Title, &self.title),
            (WordsField::Heading, &self.heading),
            (WordsField::Snippet, &self.snippet),
            (WordsField::Nearby, &self.nearby),
            (WordsField::Description, &self.description),
        ]
        .into_iter()
        .filter_map(|(field, text)| text.as_deref().map(|t| (field, t)))
        .collect()
    }
}

/// Text made fit to keep: white space collapsed, trimmed, at most
/// `max_chars` characters (cut at a word where one is near); empty is
/// `None`.
pub fn words_text(text: &str, max_chars: usize) -> Option<String> {
    let mut kept = String::new();
    let mut chars = 0;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        let space = usize::from(!kept.is_empty());
        if chars + space + len > max_chars {
            if kept.is_empty() {
                kept = word.chars().take(max_chars).collect();
            }
            break;
        }
        if space == 1 {
            kept.push(' ');
        }
        kept.push_str(word);
        chars += space + len;
    }
    (!kept.is_empty()).then_some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_collapsed_and_cut_at_a_word() {
        assert_eq!(words_text("  a \n b ", 10).as_deref(), Some("a b"));
        assert_eq!(words_text(" \t ", 10), None);
        assert_eq!(
            words_text("leaked film poster", 12).as_deref(),
            Some("leaked film")
        );
        let long = "é".repeat(1000);
        assert_eq!(words_text(&long, 300).unwrap().chars().count(), 300);
    }

    #[test]
    fn fields_fill_gaps_and_list_most_telling_first() {
        let page = PostingWords {
            alt: Some("a fox".into()),
            nearby: Some("in the snow".into()),
            ..Default::default()
        };
        let provider = PostingWords {
            alt: Some("other".into()),
            caption: Some("Fox, 2019".into()),
            ..Default::default()
        };
        let merged = page.or(provider);
        assert_eq!(merged.alt.as_deref(), Some("a fox"));
        let fields: Vec<_> = merged.fields().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [WordsField::Caption, WordsField::Alt, WordsField::Nearby]
        );
        assert!(PostingWords::default().non_empty().is_none());
    }
}
