//! What a file's C2PA Content Credentials say, as kept with the picture:
//! whether the manifest validates, who signed it and when a time-stamp
//! authority saw it, the tool that made it, its actions (with the IPTC
//! digital source type: a picture a model made says so) and ingredients.
//!
//! This is the summary only; reading and validating the manifest store
//! needs the `c2pa` crate and lives in `credentials_reader` (runtime
//! builds). Everything here is what a signer *claims*: the validation says
//! the claims are intact; who the signer is would take a trust list, which
//! provenance does not load (the signer's name is shown as its own claim).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest text kept from one field.
pub const MAX_CREDENTIALS_CHARS: usize = 500;
/// Most actions, ingredients or problems kept from one manifest.
pub const MAX_CREDENTIALS_ITEMS: usize = 50;

/// How far the Content Credentials hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialsValidation {
    /// Intact: the signature and every hash check out. The signer is not
    /// checked against a trust list, so its name is its own claim.
    Valid,
    /// Read, but a check failed: the picture or the manifest changed after
    /// signing, or the signature or certificate is bad (see `problems`).
    Invalid,
    /// The file carries a manifest store that could not be read at all.
    Unreadable,
}

impl CredentialsValidation {
    /// In words, for reports.
    pub fn words(self) -> &'static str {
        match self {
            Self::Valid => "valid signature (the signer is not checked against a trust list)",
            Self::Invalid => "INVALID: changed after signing, or badly signed",
            Self::Unreadable => "present but unreadable",
        }
    }

    /// Whether the claims are intact.
    pub fn holds(self) -> bool {
        self == Self::Valid
    }
}

/// One action the manifest records (`c2pa.created`, `c2pa.edited`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialsAction {
    /// The action's label, e.g. `c2pa.created`.
    pub action: String,
    /// When, as the manifest says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<DateTime<Utc>>,
    /// The software that did it, as the manifest names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_agent: Option<String>,
    /// An IPTC digital source type URI (`…/trainedAlgorithmicMedia`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digital_source_type: Option<String>,
}

/// The active manifest of a file's Content Credentials, summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentCredentials {
    /// Whether it validates.
    pub validation: CredentialsValidation,
    /// The failed checks, `code: explanation` (the signer being absent
    /// from a trust list is not one of them: see `validation`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// The manifest's title for the asset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The tool that wrote the claim (`name version`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generator: Option<String>,
    /// The signing certificate's common name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// The signing certificate's organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer_organisation: Option<String>,
    /// When a time-stamp authority countersigned the claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<DateTime<Utc>>,
    /// The recorded actions, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<CredentialsAction>,
    /// The ingredients, `title (relationship)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingredients: Vec<String>,
}

impl ContentCredentials {
    /// A manifest store that could not be read, and why.
    pub fn unreadable(why: impl Into<String>) -> Self {
        Self {
            validation: CredentialsValidation::Unreadable,
            problems: vec![clip(&why.into())],
            title: None,
            generator: None,
            signer: None,
            signer_organisation: None,
            signed_at: None,
            actions: Vec::new(),
            ingredients: Vec::new(),
        }
    }

    /// True when an action says a trained model made (or composited) it.
    pub fn says_ai_generated(&self) -> bool {
        self.actions.iter().any(|a| {
            a.digital_source_type
                .as_deref()
                .is_some_and(super::xmp::is_ai_source_type)
        })
    }

    /// The earliest time an action names.
    pub fn earliest_action(&self) -> Option<DateTime<Utc>> {
        self.actions.iter().filter_map(|a| a.when).min()
    }

    /// The actions in words: `created (trained algorithmic media, by
    /// Example Generator 2)`.
    pub fn actions_in_words(&self) -> Vec<String> {
        self.actions
            .iter()
            .map(|a| {
                let name = a.action.strip_prefix("c2pa.").unwrap_or(&a.action);
                let detail: Vec<String> = [
                    a.digital_source_type.as_deref().map(source_type_words),
                    a.software_agent.as_ref().map(|s| format!("by {s}")),
                    a.when.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
                ]
                .into_iter()
                .flatten()
                .collect();
                if detail.is_empty() {
                    name.to_string()
                } else {
                    format!("{name} ({})", detail.join(", "))
                }
            })
            .collect()
    }
}

/// An IPTC digital source type in words (its last path segment, spaced).
fn source_type_words(uri: &str) -> String {
    let term = uri.rsplit('/').next().unwrap_or(uri);
    let mut words = String::new();
    for c in term.chars() {
        if c.is_uppercase() && !words.is_empty() {
            words.push(' ');
        }
        words.extend(c.to_lowercase());
    }
    words
}

/// `text`, cut to [`MAX_CREDENTIALS_CHARS`] characters.
pub fn clip(text: &str) -> String {
    text.chars().take(MAX_CREDENTIALS_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(name: &str, source: Option<&str>) -> CredentialsAction {
        CredentialsAction {
            action: name.into(),
            when: None,
            software_agent: Some("Gen 2".into()),
            digital_source_type: source.map(Into::into),
        }
    }

    #[test]
    fn a_model_made_picture_says_so_in_words() {
        let mut c = ContentCredentials::unreadable("x");
        c.validation = CredentialsValidation::Valid;
        c.actions = vec![action(
            "c2pa.created",
            Some("http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"),
        )];
        assert!(c.says_ai_generated());
        assert_eq!(
            c.actions_in_words(),
            ["created (trained algorithmic media, by Gen 2)"]
        );
        c.actions = vec![action(
            "c2pa.created",
            Some("http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"),
        )];
        assert!(!c.says_ai_generated());
    }

    #[test]
    fn long_claims_are_cut() {
        let c = ContentCredentials::unreadable("é".repeat(2000));
        assert_eq!(c.problems[0].chars().count(), MAX_CREDENTIALS_CHARS);
    }
}
