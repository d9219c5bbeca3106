//! Reads and validates a file's C2PA Content Credentials with the `c2pa`
//! crate, offline: no remote manifest, no OCSP, no trust list (see
//! [`ContentCredentials`]). Only files that carry a JUMBF `c2pa` label are
//! handed to it, so the many pictures without credentials cost one memory
//! search. A manifest store that is corrupt, or a reader that panics on
//! hostile bytes, gives [`CredentialsValidation::Unreadable`] with the
//! reason: the picture is kept either way.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use c2pa::{Context, Manifest, Reader};
use chrono::{DateTime, Utc};
use memchr::memmem;
use serde_json::Value;

use super::content_credentials::{
    clip, ContentCredentials, CredentialsAction, CredentialsValidation, MAX_CREDENTIALS_ITEMS,
};

/// Validation codes about trust, which provenance does not establish (it
/// loads no trust list); they are not problems with the file.
const TRUST_CODES: [&str; 2] = ["signingCredential.untrusted", "timeStamp.untrusted"];

/// Offline: never fetch a remote manifest or a revocation answer.
const SETTINGS: &str = r#"{"verify": {"remote_manifest_fetch": false, "ocsp_fetch": false}}"#;

/// The Content Credentials `bytes` carry, validated; `None` when the file
/// has no manifest store.
pub fn read_content_credentials(bytes: &[u8]) -> Option<ContentCredentials> {
    memmem::find(bytes, b"c2pa")?;
    let read = catch_unwind(AssertUnwindSafe(|| read(bytes)));
    match read {
        Ok(Ok(credentials)) => Some(credentials),
        Ok(Err(c2pa::Error::JumbfNotFound)) => None,
        Ok(Err(e)) => Some(ContentCredentials::unreadable(e.to_string())),
        Err(_) => Some(ContentCredentials::unreadable(
            "the C2PA reader failed on this file",
        )),
    }
}

fn read(bytes: &[u8]) -> c2pa::Result<ContentCredentials> {
    let context = Context::new().with_settings(SETTINGS)?;
    let format = super::sniff_format(bytes)
        .and_then(|f| f.to_mime_type().split(';').next().map(str::to_owned))
        .unwrap_or_else(|| "application/octet-stream".into());
    let reader = Reader::from_context(context).with_stream(&format, Cursor::new(bytes))?;
    let problems: Vec<String> = reader
        .validation_status()
        .unwrap_or_default()
        .iter()
        .filter(|s| !s.passed() && !TRUST_CODES.contains(&s.code()))
        .take(MAX_CREDENTIALS_ITEMS)
        .map(|s| match s.explanation() {
            Some(why) => clip(&format!("{}: {why}", s.code())),
            None => clip(s.code()),
        })
        .collect();
    let validation = match reader.validation_state() {
        c2pa::ValidationState::Invalid => CredentialsValidation::Invalid,
        _ if !problems.is_empty() => CredentialsValidation::Invalid,
        _ => CredentialsValidation::Valid,
    };
    let Some(manifest) = reader.active_manifest() else {
        let mut none = ContentCredentials::unreadable("the manifest store has no active manifest");
        none.problems.extend(problems);
        return Ok(none);
    };
    let signature = manifest.signature_info();
    Ok(ContentCredentials {
        validation,
        problems,
        title: manifest.title().map(clip),
        generator: generator(manifest),
        signer: signature.and_then(|s| s.common_name.as_deref()).map(clip),
        signer_organisation: signature.and_then(|s| s.issuer.as_deref()).map(clip),
        signed_at: signature.and_then(|s| s.time.as_deref()).and_then(time),
        actions: actions(manifest),
        ingredients: manifest
            .ingredients()
            .iter()
            .take(MAX_CREDENTIALS_ITEMS)
            .map(|i| {
                let relationship = serde_json::to_value(i.relationship())
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                clip(&format!(
                    "{} ({relationship})",
                    i.title().unwrap_or("untitled")
                ))
            })
            .collect(),
    })
}

/// `name version` of the first claim generator (v2 claims), else the v1
/// claim generator string.
fn generator(manifest: &Manifest) -> Option<String> {
    let info = manifest
        .claim_generator_info
        .as_ref()
        .and_then(|all| all.first())
        .map(|g| match &g.version {
            Some(v) => format!("{} {v}", g.name),
            None => g.name.clone(),
        });
    info.or_else(|| manifest.claim_generator().map(str::to_owned))
        .map(|g| clip(&g))
}

/// The actions of every `c2pa.actions` assertion (v1 and v2), in order.
fn actions(manifest: &Manifest) -> Vec<CredentialsAction> {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(clip);
    manifest
        .assertions()
        .iter()
        .filter(|a| a.label().starts_with("c2pa.actions"))
        .filter_map(|a| a.value().ok())
        .filter_map(|v| v.get("actions").and_then(Value::as_array))
        .flatten()
        .filter_map(|a| {
            Some(CredentialsAction {
                action: text(a, "action")?,
                when: a.get("when").and_then(Value::as_str).and_then(time),
                software_agent: match a.get("softwareAgent") {
                    Some(Value::String(s)) => Some(clip(s)),
                    Some(agent) => text(agent, "name"),
                    None => None,
                },
                digital_source_type: text(a, "digitalSourceType"),
            })
        })
        .take(MAX_CREDENTIALS_ITEMS)
        .collect()
}

fn time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
