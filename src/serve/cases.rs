//! Uploaded pictures, kept by content: `DIR/<sha256>.img` and a small
//! `DIR/<sha256>.json` with the name it was uploaded under and when. A
//! case's id is the SHA-256 of its picture, so uploading the same file
//! again opens the same case with its decisions; only 64 hex digits are
//! ever accepted as an id, so no route can name another file.

use std::path::PathBuf;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A case: the SHA-256 of the uploaded picture, hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CaseId([u8; 32]);

impl CaseId {
    /// The case of these bytes.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// The SHA-256.
    pub fn sha256(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Display for CaseId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl FromStr for CaseId {
    type Err = ();

    /// Exactly 64 hex digits (any case).
    fn from_str(s: &str) -> Result<Self, ()> {
        let mut bytes = [0u8; 32];
        if s.len() != 64 {
            return Err(());
        }
        hex::decode_to_slice(s, &mut bytes).map_err(|_| ())?;
        Ok(Self(bytes))
    }
}

/// What is kept beside the picture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseMeta {
    /// The file name (or URL) it was uploaded as; hostile, escaped when shown.
    pub label: String,
    /// When it was first uploaded.
    pub uploaded_at: DateTime<Utc>,
}

/// The folder of uploaded pictures.
#[derive(Debug, Clone)]
pub(super) struct Cases {
    dir: PathBuf,
}

/// Most cases listed.
const MAX_LISTED: usize = 500;

impl Cases {
    /// Opens (creating) the folder.
    pub fn open(dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    fn picture(&self, id: CaseId) -> PathBuf {
        self.dir.join(format!("{id}.img"))
    }

    fn meta(&self, id: CaseId) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Keeps a picture (once: a second upload keeps the first name and time).
    pub fn save(&self, bytes: &[u8], label: &str) -> std::io::Result<CaseId> {
        let id = CaseId::of(bytes);
        if !self.meta(id).exists() {
            write_atomically(&self.picture(id), bytes)?;
            let meta = CaseMeta {
                label: label.chars().take(500).collect(),
                uploaded_at: Utc::now(),
            };
            let json = serde_json::to_vec(&meta).map_err(std::io::Error::other)?;
            write_atomically(&self.meta(id), &json)?;
        }
        Ok(id)
    }

    /// The picture and what is known of it, if kept.
    pub fn load(&self, id: CaseId) -> std::io::Result<Option<(Vec<u8>, CaseMeta)>> {
        let meta = match std::fs::read(self.meta(id)) {
            Ok(json) => serde_json::from_slice(&json).map_err(std::io::Error::other)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(Some((std::fs::read(self.picture(id))?, meta)))
    }

    /// The kept cases, newest first.
    pub fn list(&self) -> std::io::Result<Vec<(CaseId, CaseMeta)>> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            let Some(id) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .and_then(|n| n.parse::<CaseId>().ok())
            else {
                continue;
            };
            if let Ok(json) = std::fs::read(self.meta(id)) {
                if let Ok(meta) = serde_json::from_slice::<CaseMeta>(&json) {
                    found.push((id, meta));
                }
            }
        }
        found.sort_by_key(|(_, meta)| std::cmp::Reverse(meta.uploaded_at));
        found.truncate(MAX_LISTED);
        Ok(found)
    }
}

/// Writes through a temporary file of its own, so a reader never sees
/// half a file and two uploads of the same picture never mix.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temporary = path.with_extension(format!("{}-{n}.part", std::process::id()));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_64_hex_digits_name_a_case() {
        let id = CaseId::of(b"picture");
        assert_eq!(id.to_string().parse::<CaseId>(), Ok(id));
        for bad in [
            "../../etc/passwd",
            "",
            "abc",
            &"g".repeat(64),
            &format!("{id}/x"),
        ] {
            assert!(bad.parse::<CaseId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_picture_is_kept_once_under_its_first_name() {
        let dir = tempfile::tempdir().unwrap();
        let cases = Cases::open(dir.path().join("cases")).unwrap();
        let id = cases.save(b"bytes", "poster.jpg").unwrap();
        assert_eq!(cases.save(b"bytes", "again.jpg").unwrap(), id);
        let (bytes, meta) = cases.load(id).unwrap().unwrap();
        assert_eq!(bytes, b"bytes");
        assert_eq!(meta.label, "poster.jpg");
        assert_eq!(cases.list().unwrap().len(), 1);
        assert!(cases.load(CaseId::of(b"other")).unwrap().is_none());
    }
}
