//! Wayback CDX answers (`output=json`): an array whose first row names the
//! fields, then one row per capture, e.g.
//! `[["timestamp","original","mimetype","statuscode","digest"],
//! ["20090115083000","http://example.com/a.jpg","image/jpeg","200","VGMT…"]]`.
//! Timestamps are `yyyyMMddhhmmss`, UTC. Rows that do not fit are skipped;
//! an answer that is not an array of rows is an error.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use crate::model::Capture;

/// Longest value kept from a row (URLs, digests).
const MAX_FIELD_CHARS: usize = 8192;

/// The captures in a CDX answer, oldest first; captures dated after `now`
/// (a lying or broken archive) are dropped.
pub fn parse_captures(body: &str, now: DateTime<Utc>) -> Result<Vec<Capture>, String> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| format!("the answer is not JSON ({e})"))?;
    let rows = value
        .as_array()
        .ok_or("the answer is not an array of rows")?;
    let Some((header, rows)) = rows.split_first() else {
        return Ok(Vec::new());
    };
    let names: Vec<&str> = header
        .as_array()
        .ok_or("the first row does not name the fields")?
        .iter()
        .map(|n| n.as_str().unwrap_or(""))
        .collect();
    let column = |name: &str| names.iter().position(|n| *n == name);
    let (Some(at), Some(original)) = (column("timestamp"), column("original")) else {
        return Err("the answer names no timestamp or original field".into());
    };
    let digest = column("digest");
    let mut captures: Vec<Capture> = rows
        .iter()
        .filter_map(|row| {
            let row = row.as_array()?;
            let field = |i: usize| {
                row.get(i)?
                    .as_str()
                    .filter(|v| !v.is_empty() && v.len() <= MAX_FIELD_CHARS)
            };
            let at = parse_timestamp(field(at)?).filter(|t| *t <= now)?;
            Some(Capture {
                at,
                original: field(original)?.to_string(),
                digest: digest.and_then(field).map(str::to_string),
            })
        })
        .collect();
    captures.sort_by_key(|c| c.at);
    Ok(captures)
}

/// `20090115083000` → 2009-01-15 08:30:00 UTC (exactly 14 digits).
fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    if text.len() != 14 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDateTime::parse_from_str(text, "%Y%m%d%H%M%S")
        .ok()
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-12-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn rows_become_captures_oldest_first() {
        let body = r#"[["timestamp","original","mimetype","statuscode","digest"],
            ["20120301000000","http://e.com/a.jpg","image/jpeg","200","BBBB"],
            ["20090115083000","http://e.com/a.jpg","image/jpeg","200","AAAA"],
            ["20990101000000","http://e.com/a.jpg","image/jpeg","200","FUTURE"],
            ["2009","http://e.com/a.jpg","image/jpeg","200","SHORT"],
            ["20100101000000"],
            "not a row"]"#;
        let captures = parse_captures(body, now()).unwrap();
        let got: Vec<_> = captures
            .iter()
            .map(|c| (c.at.to_rfc3339(), c.digest.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("2009-01-15T08:30:00+00:00".to_string(), Some("AAAA")),
                ("2012-03-01T00:00:00+00:00".to_string(), Some("BBBB")),
            ]
        );
        assert_eq!(
            captures[0].playback_url(),
            "https://web.archive.org/web/20090115083000/http://e.com/a.jpg"
        );
    }

    #[test]
    fn empty_and_broken_answers() {
        assert_eq!(parse_captures("[]", now()).unwrap(), []);
        assert!(parse_captures("<html>busy</html>", now()).is_err());
        assert!(parse_captures(r#"{"a": 1}"#, now()).is_err());
        assert!(parse_captures(r#"[["x","y"],["1","2"]]"#, now()).is_err());
    }
}
