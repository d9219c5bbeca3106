//! Searching the words postings were made with: the query as both stores
//! read it ([`TextQuery`]: every word or quoted phrase must be there,
//! English stop words alone ignored), and what a hit is ([`PostingHit`]
//! with its highlighted [`Snippet`]).

use serde::{Deserialize, Serialize};

use super::{ImageId, PostingWords};

/// Most words or phrases in one query.
pub const MAX_QUERY_TERMS: usize = 16;
/// Longest word kept in a query, in characters.
const MAX_WORD_CHARS: usize = 64;

/// Marks the start of a highlighted run in a store's snippet.
pub const HIT_START: char = '\u{2}';
/// Marks its end.
pub const HIT_END: char = '\u{3}';

/// Why a text query cannot be searched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextQueryError {
    /// Nothing searchable: no letters or digits, or only stop words.
    #[error("the query has no words to search for (only stop words such as \"the\", or no letters at all)")]
    NoWords,
}

/// A parsed full-text query: each term (a word, or a phrase of words in
/// order) must appear in the posting's words. Words are lower-case runs
/// of letters and digits; a term standing alone that is an English stop
/// word is dropped (PostgreSQL's English dictionary ignores them, and
/// both stores must answer alike).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextQuery {
    terms: Vec<Vec<String>>,
}

impl TextQuery {
    /// Parses what a person typed: words, and `"quoted phrases"`.
    pub fn parse(text: &str) -> Result<Self, TextQueryError> {
        let mut terms = Vec::new();
        for (at, piece) in text.split('"').enumerate() {
            let words = words_of(piece);
            if at % 2 == 1 && words.len() > 1 {
                terms.push(words);
            } else {
                terms.extend(
                    words
                        .into_iter()
                        .filter(|w| !is_stop_word(w))
                        .map(|w| vec![w]),
                );
            }
        }
        terms.dedup();
        terms.truncate(MAX_QUERY_TERMS);
        if terms.is_empty() {
            return Err(TextQueryError::NoWords);
        }
        Ok(Self { terms })
    }

    /// The terms: each a word or a phrase.
    pub fn terms(&self) -> &[Vec<String>] {
        &self.terms
    }

    /// As an SQLite FTS5 `MATCH` expression: `"leaked" AND "film poster"`.
    /// Words hold only letters and digits, so nothing needs escaping.
    pub fn to_fts5(&self) -> String {
        self.terms
            .iter()
            .map(|phrase| format!("\"{}\"", phrase.join(" ")))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// As a PostgreSQL `to_tsquery` text: `'leaked' & ('film' <-> 'poster')`.
    pub fn to_tsquery(&self) -> String {
        self.terms
            .iter()
            .map(|phrase| {
                let quoted: Vec<String> = phrase.iter().map(|w| format!("'{w}'")).collect();
                match quoted.len() {
                    1 => quoted[0].clone(),
                    _ => format!("({})", quoted.join(" <-> ")),
                }
            })
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// The query as it was understood, for a report: `leaked "film poster"`.
    pub fn display(&self) -> String {
        self.terms
            .iter()
            .map(|phrase| match phrase.len() {
                1 => phrase[0].clone(),
                _ => format!("\"{}\"", phrase.join(" ")),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            w.chars()
                .take(MAX_WORD_CHARS)
                .collect::<String>()
                .to_lowercase()
        })
        .collect()
}

/// Snowball's English stop words: the list PostgreSQL's `english`
/// configuration drops.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "did",
    "do",
    "does",
    "doing",
    "don",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "more",
    "most",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "t",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "s",
];

fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

/// A short excerpt of a posting's words with the query's words marked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Snippet {
    /// The excerpt, in runs.
    pub parts: Vec<SnippetPart>,
}

/// A run of a [`Snippet`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetPart {
    /// The text.
    pub text: String,
    /// True when it is one of the query's words.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hit: bool,
}

impl Snippet {
    /// Reads a store's snippet, whose hits are between [`HIT_START`] and
    /// [`HIT_END`]; those characters anywhere else are dropped.
    pub fn from_marked(marked: &str) -> Self {
        let mut parts: Vec<SnippetPart> = Vec::new();
        let mut hit = false;
        let mut text = String::new();
        let flush = |text: &mut String, hit: bool, parts: &mut Vec<SnippetPart>| {
            if !text.is_empty() {
                parts.push(SnippetPart {
                    text: std::mem::take(text),
                    hit,
                });
            }
        };
        for c in marked.chars() {
            match c {
                HIT_START if !hit => {
                    flush(&mut text, hit, &mut parts);
                    hit = true;
                }
                HIT_END if hit => {
                    flush(&mut text, hit, &mut parts);
                    hit = false;
                }
                HIT_START | HIT_END => {}
                c => text.push(c),
            }
        }
        flush(&mut text, hit, &mut parts);
        Self { parts }
    }

    /// The plain text.
    pub fn plain(&self) -> String {
        self.parts.iter().map(|p| p.text.as_str()).collect()
    }

    /// The text with hits in `[brackets]`, for a terminal.
    pub fn bracketed(&self) -> String {
        self.parts
            .iter()
            .map(|p| match p.hit {
                true => format!("[{}]", p.text),
                false => p.text.clone(),
            })
            .collect()
    }
}

/// One posting whose words fit a query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostingHit {
    /// The sighting's row id.
    pub sighting_id: i64,
    /// The picture posted.
    pub image_id: ImageId,
    /// Where the picture's bytes are.
    pub image_url: String,
    /// The page it was posted on.
    pub page_url: Option<String>,
    /// That page's title.
    pub page_title: Option<String>,
    /// Site or domain.
    pub site: Option<String>,
    /// The provider that reported it.
    pub provider: Option<String>,
    /// The words the posting was made with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub words: Option<PostingWords>,
    /// The best excerpt, query words marked.
    pub snippet: Snippet,
    /// Relevance in the store's own scale (higher is better; SQLite's
    /// BM25 and PostgreSQL's `ts_rank` differ in scale, not in order of
    /// magnitude of meaning).
    pub score: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_phrases_and_stop_words() {
        let q = TextQuery::parse(r#"The LEAKED "film of the year" poster!"#).unwrap();
        assert_eq!(
            q.terms(),
            [
                vec!["leaked".to_string()],
                vec!["film".into(), "of".into(), "the".into(), "year".into()],
                vec!["poster".into()],
            ]
        );
        assert_eq!(
            q.to_fts5(),
            r#""leaked" AND "film of the year" AND "poster""#
        );
        assert_eq!(
            q.to_tsquery(),
            "'leaked' & ('film' <-> 'of' <-> 'the' <-> 'year') & 'poster'"
        );
        assert_eq!(q.display(), r#"leaked "film of the year" poster"#);
    }

    #[test]
    fn hostile_queries_cannot_break_out() {
        let q = TextQuery::parse(r#"a' OR 1=1 -- "x" NEAR(y) * ^z"#).unwrap();
        assert_eq!(q.to_fts5(), r#""1" AND "x" AND "near" AND "y" AND "z""#);
        assert!(!q.to_tsquery().contains("''"));
        assert_eq!(TextQuery::parse("the of !!"), Err(TextQueryError::NoWords));
        assert_eq!(TextQuery::parse(""), Err(TextQueryError::NoWords));
        let many = "w ".repeat(100) + &(0..100).map(|i| format!("x{i} ")).collect::<String>();
        assert_eq!(
            TextQuery::parse(&many).unwrap().terms().len(),
            MAX_QUERY_TERMS
        );
    }

    #[test]
    fn non_latin_words_are_words() {
        let q = TextQuery::parse("Плакат 海报").unwrap();
        assert_eq!(q.terms(), [vec!["плакат".to_string()], vec!["海报".into()]]);
    }

    #[test]
    fn snippets_mark_hits_and_drop_stray_markers() {
        let s = Snippet::from_marked("the \u{2}leaked\u{3} poster \u{3}x\u{2}y");
        assert_eq!(s.bracketed(), "the [leaked] poster x[y]");
        assert_eq!(s.plain(), "the leaked poster xy");
        assert_eq!(
            serde_json::to_string(&Snippet::from_marked("a \u{2}b\u{3}")).unwrap(),
            r#"[{"text":"a "},{"text":"b","hit":true}]"#
        );
    }
}
