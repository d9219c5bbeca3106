//! Reading a local file the user named (a `match` query, a URL list, a
//! picture under an indexed folder) safely: only regular files, never more
//! than a limit, checked before reading and while reading. A device such as
//! `/dev/zero`, a FIFO that would block forever, or a file that grows while
//! it is read ends as one clear error instead of exhausting memory.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why a local file was not read.
#[derive(Debug, thiserror::Error)]
pub enum LocalFileError {
    /// Not a regular file: a folder, a device, a FIFO, a socket.
    #[error("{path} is not a regular file ({kind}); give the path of a file")]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// Larger than the limit (said by its size, or found while reading).
    #[error("{path} is larger than the {limit}-byte limit")]
    TooLarge {
        /// The path.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Reads the regular file at `path` (links followed) if it holds at most
/// `limit` bytes.
pub fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, LocalFileError> {
    let io = |source| LocalFileError::Io {
        path: path.to_owned(),
        source,
    };
    let too_large = || LocalFileError::TooLarge {
        path: path.to_owned(),
        limit,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(LocalFileError::NotAFile {
            path: path.to_owned(),
            kind: kind_of(&meta),
        });
    }
    if meta.len() > limit {
        return Err(too_large());
    }
    let file = File::open(path).map_err(io)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// What a path that is not a regular file is.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = meta.file_type();
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    if meta.is_dir() {
        "a folder"
    } else {
        "not a plain file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_within_the_limit_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_capped(&path, 5).unwrap(), b"12345");
        assert!(matches!(
            read_capped(&path, 4),
            Err(LocalFileError::TooLarge { limit: 4, .. })
        ));
    }

    #[test]
    fn devices_folders_and_missing_files_are_refused_without_reading() {
        let err = read_capped(Path::new("/dev/zero"), 1024).unwrap_err();
        assert!(
            matches!(
                err,
                LocalFileError::NotAFile {
                    kind: "a device",
                    ..
                }
            ),
            "{err:?}"
        );
        let dir = tempfile::tempdir().unwrap();
        let err = read_capped(dir.path(), 1024).unwrap_err();
        assert!(err.to_string().contains("a folder"), "{err}");
        let err = read_capped(&dir.path().join("missing"), 1024).unwrap_err();
        assert!(matches!(err, LocalFileError::Io { .. }), "{err:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_instead_of_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let err = read_capped(&fifo, 1024).unwrap_err();
        assert!(err.to_string().contains("a FIFO"), "{err}");
    }
}
