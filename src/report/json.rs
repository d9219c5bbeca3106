//! The JSON report: the [`Report`] value serialised with its stable schema
//! (docs/report-schema.md), safe to embed in HTML.

use super::{Report, ReportError};

/// The report as pretty-printed JSON, ending in a newline.
///
/// `<`, `>` and `&` inside strings are written as `\u003c`, `\u003e`,
/// `\u0026` (still the same JSON strings), so no scraped `<script` survives
/// even if the JSON is pasted into a page. Outside strings JSON never holds
/// these characters, so replacing them everywhere is exact.
pub fn render_json(r: &Report) -> String {
    let json = match serde_json::to_string_pretty(r) {
        Ok(json) => json,
        // A Report has string keys and plain values only: serialising it
        // cannot fail. Should that change, say so in the output.
        Err(e) => {
            tracing::error!("could not serialise the report: {e}");
            serde_json::json!({ "error": e.to_string() }).to_string()
        }
    };
    let mut out = html_safe(json);
    out.push('\n');
    out
}

/// `value` as one line of JSON (JSON Lines), without the newline, with the
/// same escapes as [`render_json`].
pub fn render_json_line(value: &serde_json::Value) -> String {
    html_safe(value.to_string())
}

/// Writes `<`, `>` and `&` as their `\u` escapes (exact: outside strings
/// JSON never holds them).
fn html_safe(json: String) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Reads a JSON report back.
pub fn parse_json(text: &str) -> Result<Report, ReportError> {
    serde_json::from_str(text).map_err(ReportError::Json)
}
