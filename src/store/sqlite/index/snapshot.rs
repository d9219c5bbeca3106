//! The embedded store's flat index saved in a file next to its SQLite file,
//! so that a new process loads the codes of a million vectors with one file
//! read instead of decoding a million blobs out of SQLite.
//!
//! Layout, little-endian: the magic `PROVFLAT`, a `u32` version, a `u32`
//! header length, the header as JSON ([`SnapshotHeader`]), then per row the
//! ids (`i64`), the code scales (`f32`), the code errors (`f32`), the codes
//! (`dim` bytes a row), and last a CRC-32 of everything before it.
//!
//! A snapshot is written to a temporary file and renamed over the old one,
//! so a reader sees a whole file or none; a file that fails any check (size,
//! version, checksum, consistency) is reported and not used.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::codes::Coded;
use super::flat::{FlatIndex, FlatParts};
use crate::model::ImageId;

const MAGIC: &[u8; 8] = b"PROVFLAT";
const VERSION: u32 = 1;
/// Larger headers are refused before anything is allocated.
const MAX_HEADER_BYTES: u32 = 256 << 20;
/// Bytes read and checksummed at a time.
const CHUNK: usize = 1 << 20;

/// What a snapshot says about the store it was taken from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct SnapshotHeader {
    /// `store_meta.store_id` of the store: a file copied or recreated at the
    /// same path is another store.
    pub store_id: String,
    /// The model id of the vectors.
    pub model: String,
    /// Their dimension.
    pub dim: usize,
    /// Rows in the snapshot.
    pub rows: usize,
    /// The highest image id read when it was taken.
    pub max_id: ImageId,
    /// The last `vector_changes.seq` applied.
    pub change_seq: i64,
    /// Images read while they had no vector yet.
    pub without_vector: Vec<ImageId>,
}

/// A saved flat index and where it stood.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Snapshot {
    pub header: SnapshotHeader,
    pub parts: FlatParts,
}

/// Why a snapshot could not be written or read.
#[derive(Debug, thiserror::Error)]
pub(super) enum SnapshotError {
    #[error("vector snapshot {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("vector snapshot {path} is unusable: {reason}")]
    Format { path: String, reason: String },
}

/// The snapshot file of the store at `store_path`.
pub(crate) fn path_for(store_path: &Path) -> PathBuf {
    let mut name = store_path.as_os_str().to_owned();
    name.push(".vectors");
    PathBuf::from(name)
}

/// Writes `index` with `header` to `path`, atomically.
pub(super) fn save(
    path: &Path,
    header: &SnapshotHeader,
    index: &FlatIndex,
) -> Result<(), SnapshotError> {
    let io_error = |source| SnapshotError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".tmp-{}", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let written = File::create(&temporary).and_then(|file| {
        let mut out = Checksummed::new(BufWriter::with_capacity(CHUNK, file));
        write_body(&mut out, header, index)?;
        let crc = out.crc.clone().finalize();
        let mut file = out.inner;
        file.write_all(&crc.to_le_bytes())?;
        file.into_inner().map_err(io::IntoInnerError::into_error)?;
        std::fs::rename(&temporary, path)
    });
    if written.is_err() {
        // Best effort: a stray temporary file is only wasted space.
        let _ = std::fs::remove_file(&temporary);
    }
    written.map_err(io_error)
}

fn write_body(out: &mut impl Write, header: &SnapshotHeader, index: &FlatIndex) -> io::Result<()> {
    let (ids, coded, codes) = index.raw_parts();
    let header = serde_json::to_vec(&SnapshotHeader {
        dim: index.dim(),
        rows: ids.len(),
        ..header.clone()
    })?;
    let header_len = u32::try_from(header.len())
        .ok()
        .filter(|&n| n <= MAX_HEADER_BYTES)
        .ok_or_else(|| io::Error::other("snapshot header too large"))?;
    out.write_all(MAGIC)?;
    out.write_all(&VERSION.to_le_bytes())?;
    out.write_all(&header_len.to_le_bytes())?;
    out.write_all(&header)?;
    for id in ids {
        out.write_all(&id.to_le_bytes())?;
    }
    for c in coded {
        out.write_all(&c.scale.to_le_bytes())?;
    }
    for c in coded {
        out.write_all(&c.error.to_le_bytes())?;
    }
    for chunk in codes.chunks(CHUNK) {
        let bytes: Vec<u8> = chunk.iter().map(|&c| c.to_le_bytes()[0]).collect();
        out.write_all(&bytes)?;
    }
    Ok(())
}

/// Reads the snapshot at `path`; `None` if there is no file.
pub(super) fn load(path: &Path) -> Result<Option<Snapshot>, SnapshotError> {
    let shown = path.display().to_string();
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SnapshotError::Io {
                path: shown,
                source,
            })
        }
    };
    read_snapshot(file).map(Some).map_err(|e| match e {
        ReadError::Io(source) => SnapshotError::Io {
            path: shown,
            source,
        },
        ReadError::Format(reason) => SnapshotError::Format {
            path: shown,
            reason,
        },
    })
}

enum ReadError {
    Io(io::Error),
    Format(String),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Self::Format("the file ends early".into())
        } else {
            Self::Io(e)
        }
    }
}

fn format_error(reason: impl Into<String>) -> ReadError {
    ReadError::Format(reason.into())
}

fn read_snapshot(file: File) -> Result<Snapshot, ReadError> {
    let file_len = file.metadata()?.len();
    let mut input = Checksummed::new(BufReader::with_capacity(CHUNK, file));
    let mut magic = [0u8; 8];
    input.read_exact(&mut magic)?;
    if &magic != MAGIC {
        return Err(format_error("not a vector snapshot"));
    }
    let version = read_u32(&mut input)?;
    if version != VERSION {
        return Err(format_error(format!(
            "version {version}, expected {VERSION}"
        )));
    }
    let header_len = read_u32(&mut input)?;
    if header_len > MAX_HEADER_BYTES || u64::from(header_len) > file_len {
        return Err(format_error(format!("header of {header_len} bytes")));
    }
    let mut header = vec![0u8; header_len as usize];
    input.read_exact(&mut header)?;
    let header: SnapshotHeader =
        serde_json::from_slice(&header).map_err(|e| format_error(format!("header: {e}")))?;
    let (rows, dim) = (header.rows, header.dim);
    let expected = (rows as u64)
        .checked_mul(16 + dim as u64)
        .and_then(|body| body.checked_add(8 + 4 + 4 + u64::from(header_len) + 4));
    if expected != Some(file_len) {
        return Err(format_error(format!(
            "{file_len} bytes, not what {rows} rows of {dim} codes take"
        )));
    }
    let ids = read_values(&mut input, rows, i64::from_le_bytes)?;
    let scales = read_values(&mut input, rows, f32::from_le_bytes)?;
    let errors = read_values(&mut input, rows, f32::from_le_bytes)?;
    let mut codes = Vec::with_capacity(rows * dim);
    let mut buffer = vec![0u8; CHUNK];
    let mut left = rows * dim;
    while left > 0 {
        let chunk = &mut buffer[..left.min(CHUNK)];
        input.read_exact(chunk)?;
        // `encode` writes codes in [-127, 127]; the search kernel relies on it.
        if chunk.contains(&0x80) {
            return Err(format_error("a code of -128"));
        }
        codes.extend(chunk.iter().map(|&b| i8::from_le_bytes([b])));
        left -= chunk.len();
    }
    let computed = input.crc.clone().finalize();
    let stored = read_u32(&mut input.inner)?;
    if computed != stored {
        return Err(format_error("checksum mismatch"));
    }
    let coded: Vec<Coded> = scales
        .into_iter()
        .zip(errors)
        .map(|(scale, error)| Coded { scale, error })
        .collect();
    if coded
        .iter()
        .any(|c| !(c.scale >= 0.0 && c.error >= 0.0) || c.scale.is_infinite())
    {
        return Err(format_error("a negative or undefined code scale"));
    }
    Ok(Snapshot {
        parts: FlatParts {
            dim,
            ids,
            coded,
            codes,
        },
        header,
    })
}

fn read_u32(input: &mut impl Read) -> io::Result<u32> {
    let mut bytes = [0u8; 4];
    input.read_exact(&mut bytes)?;
    Ok(u32::from_le_bytes(bytes))
}

/// Reads `count` values of `N` bytes each.
fn read_values<T, const N: usize>(
    input: &mut impl Read,
    count: usize,
    from_bytes: fn([u8; N]) -> T,
) -> io::Result<Vec<T>> {
    let mut values = Vec::with_capacity(count);
    let mut buffer = vec![0u8; CHUNK / N * N];
    let mut left = count * N;
    while left > 0 {
        let chunk = &mut buffer[..left.min(CHUNK / N * N)];
        input.read_exact(chunk)?;
        values.extend(chunk.chunks_exact(N).map(|b| {
            let mut bytes = [0u8; N];
            bytes.copy_from_slice(b);
            from_bytes(bytes)
        }));
        left -= chunk.len();
    }
    Ok(values)
}

/// A reader or writer that keeps a CRC-32 of the bytes through it.
struct Checksummed<T> {
    inner: T,
    crc: crc32fast::Hasher,
}

impl<T> Checksummed<T> {
    fn new(inner: T) -> Self {
        Self {
            inner,
            crc: crc32fast::Hasher::new(),
        }
    }
}

impl<R: Read> Read for Checksummed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
}

impl<W: Write> Write for Checksummed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::index::flat::FlatIndex;

    fn snapshot(rows: usize, dim: usize) -> (SnapshotHeader, FlatIndex) {
        let mut index = FlatIndex::with_threads(1);
        for row in 0..rows {
            let v: Vec<f32> = (0..dim)
                .map(|i| ((row * 7 + i * 3) % 11) as f32 - 5.0)
                .collect();
            index.upsert(10 + row as ImageId, &v).unwrap();
        }
        let header = SnapshotHeader {
            store_id: "abc".into(),
            model: "test/model@1".into(),
            dim,
            rows,
            max_id: 10 + rows as ImageId + 4,
            change_seq: 3,
            without_vector: vec![1, 2],
        };
        (header, index)
    }

    #[test]
    fn a_saved_snapshot_loads_back_identical() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_for(&dir.path().join("store.sqlite3"));
        assert!(path.ends_with("store.sqlite3.vectors"));
        assert_eq!(load(&path).unwrap(), None, "no file yet");
        for (rows, dim) in [(0, 0), (3, 5), (5000, 300)] {
            let (header, index) = snapshot(rows, dim);
            save(&path, &header, &index).unwrap();
            let loaded = load(&path).unwrap().unwrap();
            assert_eq!((loaded.header, loaded.parts), (header, index.parts()));
        }
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn damaged_files_are_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.vectors");
        let (header, index) = snapshot(40, 16);
        save(&path, &header, &index).unwrap();
        let good = std::fs::read(&path).unwrap();

        let mut flipped = good.clone();
        let last_code = flipped.len() - 5;
        flipped[last_code] ^= 1;
        let mut bad_magic = good.clone();
        bad_magic[0] = b'X';
        let mut huge_header = good.clone();
        huge_header[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        let cases = [
            (flipped, "checksum"),
            (good[..good.len() - 100].to_vec(), "bytes, not what"),
            (bad_magic, "not a vector snapshot"),
            (huge_header, "header of"),
            (Vec::new(), "ends early"),
        ];
        for (bytes, why) in cases {
            std::fs::write(&path, bytes).unwrap();
            let err = load(&path).unwrap_err().to_string();
            assert!(err.contains(why) && err.contains("s.vectors"), "{err}");
        }
    }

    #[test]
    fn a_failed_save_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("s.vectors");
        let (header, index) = snapshot(2, 2);
        let err = save(&path, &header, &index).unwrap_err();
        assert!(err.to_string().contains("s.vectors"), "{err}");
        assert!(!path.exists());
    }
}
