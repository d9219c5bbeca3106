//! `provenance match` of many pictures: the arguments expanded to a list
//! (files, folders walked for image files, `-` for paths on stdin), each
//! picture matched against the store opened once, one report per picture
//! and a summary. One unreadable picture never stops the others.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use crate::matching::MatchKind;
use crate::report::Report;

/// Longest list of paths read from stdin: far more than any folder of
/// pictures needs, and `/dev/zero` piped in ends as one error.
pub const MAX_STDIN_LIST_BYTES: u64 = 16 * 1024 * 1024;

/// The pictures a `match` names.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pictures {
    /// Every picture, in the order named (a folder's in sorted order),
    /// without repeats.
    pub paths: Vec<PathBuf>,
    /// Entries of a folder that could not be listed, with the reason.
    pub unlisted: Vec<(PathBuf, String)>,
    /// Whether this is a batch (several pictures, a folder or `-`) rather
    /// than the one picture of a plain `match FILE`.
    pub batch: bool,
}

/// Why the arguments name no pictures to match.
#[derive(Debug, thiserror::Error)]
pub enum PicturesError {
    /// `-` given twice.
    #[error("`-` (paths on stdin) can be given only once")]
    StdinTwice,
    /// The list on stdin is too long or not text.
    #[error("the list of paths on stdin {0}")]
    Stdin(String),
    /// Nothing to match after expansion.
    #[error("no pictures to match: {0}")]
    Nothing(String),
}

/// Expands `args`: a folder becomes its image files (recursively, by
/// extension or by the first bytes), `-` the non-empty lines of `stdin`, and
/// anything else stays a path to read (so a missing file is reported, not
/// dropped).
pub fn expand(args: &[PathBuf], stdin: impl Read) -> Result<Pictures, PicturesError> {
    let mut pictures = Pictures {
        batch: args.len() > 1,
        ..Pictures::default()
    };
    let mut stdin = Some(stdin);
    for arg in args {
        if arg.as_os_str() == "-" {
            let reader = stdin.take().ok_or(PicturesError::StdinTwice)?;
            pictures.batch = true;
            pictures.paths.extend(read_list(reader)?);
        } else if arg.is_dir() {
            pictures.batch = true;
            let (files, errors) = crate::scan::sources::image_files(arg);
            pictures.paths.extend(files);
            pictures
                .unlisted
                .extend(errors.into_iter().map(|(p, e)| (p, e.to_string())));
        } else {
            pictures.paths.push(arg.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    pictures.paths.retain(|p| seen.insert(p.clone()));
    if pictures.paths.is_empty() && pictures.unlisted.is_empty() {
        let named: Vec<String> = args.iter().map(|a| a.display().to_string()).collect();
        return Err(PicturesError::Nothing(format!(
            "{} held no image files",
            named.join(", ")
        )));
    }
    Ok(pictures)
}

/// The non-empty lines of a list of paths, read with a bound.
fn read_list(reader: impl Read) -> Result<Vec<PathBuf>, PicturesError> {
    let mut limited = std::io::BufReader::new(reader.take(MAX_STDIN_LIST_BYTES + 1));
    let mut paths = Vec::new();
    let mut read = 0u64;
    let mut line = String::new();
    loop {
        line.clear();
        let n = limited
            .read_line(&mut line)
            .map_err(|e| PicturesError::Stdin(format!("cannot be read: {e}")))?;
        if n == 0 {
            return Ok(paths);
        }
        read += n as u64;
        if read > MAX_STDIN_LIST_BYTES {
            return Err(PicturesError::Stdin(format!(
                "is longer than {} MiB",
                MAX_STDIN_LIST_BYTES / (1024 * 1024)
            )));
        }
        let path = line.trim_end_matches(['\n', '\r']);
        if !path.trim().is_empty() {
            paths.push(PathBuf::from(path));
        }
    }
}

/// What a batch found, picture by picture.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BatchSummary {
    /// Pictures named (unreadable ones included).
    pub pictures: usize,
    /// Pictures with at least one exact copy or near-duplicate.
    pub with_copies: usize,
    /// Pictures with similar pictures only.
    pub similar_only: usize,
    /// Pictures with no match at all.
    pub without_matches: usize,
    /// Pictures that could not be read or decoded.
    pub unreadable: usize,
}

impl BatchSummary {
    /// Counts one matched picture.
    pub fn add(&mut self, report: &Report) {
        self.pictures += 1;
        if report.matches.iter().any(|m| m.kind.is_same_picture()) {
            self.with_copies += 1;
        } else if report.matches.iter().any(|m| m.kind == MatchKind::Similar) {
            self.similar_only += 1;
        } else {
            self.without_matches += 1;
        }
    }

    /// Counts one picture that could not be read.
    pub fn add_unreadable(&mut self) {
        self.pictures += 1;
        self.unreadable += 1;
    }

    /// One line for people: `3 pictures: 1 with copies, 1 with similar
    /// pictures only, 0 without matches, 1 unreadable`.
    pub fn line(&self) -> String {
        format!(
            "{}: {} with copies, {} with similar pictures only, {} without matches, {} unreadable",
            pictures(self.pictures),
            self.with_copies,
            self.similar_only,
            self.without_matches,
            self.unreadable
        )
    }
}

/// `1 picture`, `3 pictures`.
pub fn pictures(n: usize) -> String {
    match n {
        1 => "1 picture".to_string(),
        n => format!("{n} pictures"),
    }
}

/// The label of a picture in messages: its path as given.
pub fn label(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(path: &Path) {
        image::RgbImage::new(4, 4).save(path).unwrap();
    }

    #[test]
    fn one_file_is_not_a_batch_but_two_files_a_folder_or_stdin_are() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.png");
        png(&a);
        let one = expand(std::slice::from_ref(&a), std::io::empty()).unwrap();
        assert_eq!((one.paths.clone(), one.batch), (vec![a.clone()], false));
        let two = expand(&[a.clone(), "b.jpg".into()], std::io::empty()).unwrap();
        assert_eq!(two.paths, [a.clone(), PathBuf::from("b.jpg")]);
        assert!(two.batch);
        let folder = expand(&[dir.path().to_path_buf()], std::io::empty()).unwrap();
        assert_eq!((folder.paths, folder.batch), (vec![a.clone()], true));
        let listed = expand(&["-".into()], &b"a.png\n\n  \nb c.jpg\r\n"[..]).unwrap();
        assert_eq!(
            (listed.paths, listed.batch),
            (vec![PathBuf::from("a.png"), PathBuf::from("b c.jpg")], true)
        );
    }

    #[test]
    fn folders_are_walked_recursively_by_signature_without_repeats() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let a = dir.path().join("a.png");
        let hidden = dir.path().join("sub/no-extension");
        png(&a);
        std::fs::copy(&a, &hidden).unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"not a picture").unwrap();
        let found = expand(&[dir.path().to_path_buf(), a.clone()], std::io::empty()).unwrap();
        assert_eq!(found.paths, [a, hidden]);
    }

    #[test]
    fn stdin_is_read_once_and_with_a_bound() {
        assert!(matches!(
            expand(&["-".into(), "-".into()], std::io::empty()),
            Err(PicturesError::StdinTwice)
        ));
        let endless = std::io::repeat(b'a');
        let err = expand(&["-".into()], endless).unwrap_err();
        assert!(err.to_string().contains("longer than 16 MiB"), "{err}");
    }

    #[test]
    fn nothing_to_match_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = expand(&[dir.path().to_path_buf()], std::io::empty()).unwrap_err();
        assert!(err.to_string().contains("held no image files"), "{err}");
        assert!(expand(&["-".into()], std::io::empty()).is_err());
    }

    #[test]
    fn the_summary_counts_each_picture_once() {
        let mut summary = BatchSummary::default();
        summary.add_unreadable();
        assert_eq!(
            summary.line(),
            "1 picture: 0 with copies, 0 with similar pictures only, 0 without matches, 1 unreadable"
        );
    }
}
