//! Report files: the formats, their timestamped names, and writing them to
//! the reports directory (the only I/O of this module).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::{render_html, render_json, render_markdown, Report, ReportError};

/// A report file format (`--report-format html,json,md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum ReportFormat {
    /// Self-contained HTML for people.
    Html,
    /// JSON for programs (docs/report-schema.md).
    Json,
    /// Markdown, e.g. for an issue or a pull request.
    #[value(name = "md", alias = "markdown")]
    Markdown,
}

impl ReportFormat {
    /// Every format, in the order they are written.
    pub const ALL: [Self; 3] = [Self::Html, Self::Json, Self::Markdown];

    /// File extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Html => "html",
            Self::Json => "json",
            Self::Markdown => "md",
        }
    }

    /// Renders the report in this format.
    pub fn render(self, r: &Report) -> String {
        match self {
            Self::Html => render_html(r),
            Self::Json => render_json(r),
            Self::Markdown => render_markdown(r),
        }
    }

    /// Parses a comma-separated list such as `html,json,md`, without
    /// repeats, in the order given.
    pub fn parse_list(list: &str) -> Result<Vec<Self>, ReportError> {
        let mut formats = Vec::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let format = name.parse()?;
            if !formats.contains(&format) {
                formats.push(format);
            }
        }
        if formats.is_empty() {
            return Err(ReportError::UnknownFormat(list.to_string()));
        }
        Ok(formats)
    }
}

impl FromStr for ReportFormat {
    type Err = ReportError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "html" | "htm" => Ok(Self::Html),
            "json" => Ok(Self::Json),
            "md" | "markdown" => Ok(Self::Markdown),
            _ => Err(ReportError::UnknownFormat(s.to_string())),
        }
    }
}

/// `provenance-report-20261122T095514Z.<ext>`: sorts by time, safe on
/// every file system (no colons).
pub fn report_file_name(generated_at: DateTime<Utc>, ext: &str) -> String {
    format!(
        "provenance-report-{}.{ext}",
        generated_at.format("%Y%m%dT%H%M%SZ")
    )
}

/// Writes the report in each format into `dir` (created if missing) under
/// its timestamped name, never overwriting: a name already taken gets
/// `-2`, `-3`, … before the extension. Returns the paths written.
pub fn write_reports(
    dir: &Path,
    r: &Report,
    formats: &[ReportFormat],
) -> Result<Vec<PathBuf>, ReportError> {
    fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    formats
        .iter()
        .map(|format| {
            let name = report_file_name(r.generated_at, format.extension());
            write_new(dir, &name, format.render(r).as_bytes())
        })
        .collect()
}

/// Creates a new file named `name` (or a numbered variant) in `dir`.
fn write_new(dir: &Path, name: &str, contents: &[u8]) -> Result<PathBuf, ReportError> {
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    let mut attempt = 1u32;
    loop {
        let candidate = match attempt {
            1 => dir.join(name),
            n => dir.join(format!("{stem}-{n}.{ext}")),
        };
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(mut file) => {
                file.write_all(contents)
                    .map_err(|source| ReportError::Write {
                        path: candidate.clone(),
                        source,
                    })?;
                return Ok(candidate);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 1000 => {
                attempt += 1
            }
            Err(source) => {
                return Err(ReportError::Write {
                    path: candidate,
                    source,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn file_names_are_timestamped_and_portable() {
        let t = Utc
            .with_ymd_and_hms(2026, 11, 22, 9, 55, 14)
            .single()
            .unwrap();
        assert_eq!(
            report_file_name(t, "html"),
            "provenance-report-20261122T095514Z.html"
        );
    }

    #[test]
    fn clap_knows_the_formats_by_their_extensions() {
        use clap::ValueEnum;
        let names: Vec<String> = ReportFormat::value_variants()
            .iter()
            .filter_map(|f| f.to_possible_value().map(|v| v.get_name().to_string()))
            .collect();
        assert_eq!(names, ["html", "json", "md"]);
        assert_eq!(
            <ReportFormat as ValueEnum>::from_str("markdown", true),
            Ok(ReportFormat::Markdown)
        );
    }

    #[test]
    fn format_lists_parse_in_order_without_repeats() {
        use ReportFormat::*;
        assert_eq!(
            ReportFormat::parse_list("html,json,md").unwrap(),
            [Html, Json, Markdown]
        );
        assert_eq!(
            ReportFormat::parse_list(" MD , html,markdown").unwrap(),
            [Markdown, Html]
        );
        let err = ReportFormat::parse_list("html,pdf").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown report format `pdf`; choose from html, json, md"
        );
        assert!(ReportFormat::parse_list(" , ").is_err());
    }
}
