//! Where a scan's candidates come from: a search provider, a reverse search
//! by image URL, a list of URLs, or a local folder. Each becomes a stream of
//! [`ImageCandidate`]s (one image, every page it was seen on). Parsing and
//! walking are plain functions; the async producer lives in `pipeline::run`.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};

use url::Url;

use crate::search::{dedupe, normalize_url, Candidate, ImageCandidate, MAX_URL_BYTES};

/// Provider name of local files.
pub const LOCAL_PROVIDER: &str = "local";
/// Provider name of URL lists.
pub const LIST_PROVIDER: &str = "list";

/// File extensions taken as images when indexing a folder (others are
/// sniffed by their first bytes).
const IMAGE_EXTENSIONS: [&str; 11] = [
    "jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff", "avif", "ico", "jfif",
];

/// A line of a URL list that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number.
    pub line: usize,
    /// Why.
    pub reason: String,
}

/// Parses a URL list: one `IMAGE_URL [PAGE_URL]` per line (separated by
/// white space, a tab or a comma); blank lines and `#` comments are ignored.
/// Only http(s) URLs are accepted.
pub fn parse_url_list(text: &str) -> (Vec<ImageCandidate>, Vec<BadLine>) {
    let mut candidates = Vec::new();
    let mut bad = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|f| !f.is_empty());
        let parsed = fields.next().map(web_url).transpose().and_then(|image| {
            let page = fields.next().map(web_url).transpose()?;
            Ok((image, page))
        });
        match parsed {
            Ok((Some(image_url), page_url)) => candidates.push(Candidate {
                site: page_url
                    .as_ref()
                    .unwrap_or(&image_url)
                    .host_str()
                    .map(str::to_string),
                image_url,
                page_url,
                page_title: None,
                thumbnail_url: None,
                width: None,
                height: None,
                rank: u32::try_from(index + 1).unwrap_or(u32::MAX),
                provider: LIST_PROVIDER,
                facts: Default::default(),
                words: Default::default(),
            }),
            Ok((None, _)) => {}
            Err(reason) => bad.push(BadLine {
                line: index + 1,
                reason,
            }),
        }
    }
    (dedupe(candidates), bad)
}

fn web_url(raw: &str) -> Result<Url, String> {
    if raw.len() > MAX_URL_BYTES {
        return Err(format!(
            "a URL of {} bytes, longer than the {MAX_URL_BYTES}-byte limit (`{}…`)",
            raw.len(),
            shown(raw)
        ));
    }
    let url = Url::parse(raw).map_err(|e| format!("`{}` is not a URL ({e})", shown(raw)))?;
    match url.scheme() {
        "http" | "https" if url.host_str().is_some() => Ok(url),
        _ => Err(format!("`{}` is not an http(s) URL", shown(raw))),
    }
}

/// The first 100 characters of a raw line, for messages.
fn shown(raw: &str) -> String {
    raw.chars().take(100).collect()
}

/// Every image file under `root`, recursively, in a stable (sorted) order:
/// files with an image extension, and other files whose first bytes are an
/// image signature. Symbolic links are not followed (no loops, no escaping
/// the folder). Unreadable entries are returned as errors, not fatal.
pub fn image_files(root: &Path) -> (Vec<PathBuf>, Vec<(PathBuf, io::Error)>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    let mut seen_dirs = HashSet::new();
    while let Some(dir) = pending.pop() {
        if !seen_dirs.insert(dir.clone()) {
            continue;
        }
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                errors.push((dir, e));
                continue;
            }
        };
        let mut children: Vec<_> = entries.filter_map(Result::ok).collect();
        children.sort_by_key(|e| e.file_name());
        for entry in children.into_iter().rev() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => pending.push(path),
                Ok(t) if t.is_file() && looks_like_image(&path) => files.push(path),
                Ok(_) => {}
                Err(e) => errors.push((path, e)),
            }
        }
    }
    files.sort();
    (files, errors)
}

fn looks_like_image(path: &Path) -> bool {
    let by_extension = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
    by_extension || has_image_signature(path)
}

fn has_image_signature(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 32];
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let n = file.read(&mut head).unwrap_or(0);
    n > 0 && crate::decode::sniff_format(&head[..n]).is_some()
}

/// Merges two candidate lists: one entry per image (normalised URL), with
/// every distinct page (its facts and words completed from the other list), every
/// provider and the best rank; `first`'s order is kept and `second`'s new
/// images follow.
pub fn merge_candidates(
    first: Vec<ImageCandidate>,
    second: Vec<ImageCandidate>,
) -> Vec<ImageCandidate> {
    let mut merged: Vec<ImageCandidate> = Vec::with_capacity(first.len() + second.len());
    let mut index: HashMap<String, usize> = HashMap::new();
    for candidate in first.into_iter().chain(second) {
        let key = normalize_url(&candidate.image_url);
        let Some(&at) = index.get(&key) else {
            index.insert(key, merged.len());
            merged.push(candidate);
            continue;
        };
        let kept = &mut merged[at];
        kept.best_rank = kept.best_rank.min(candidate.best_rank);
        for provider in candidate.providers {
            if !kept.providers.contains(&provider) {
                kept.providers.push(provider);
            }
        }
        for page in candidate.pages {
            let key = normalize_url(&page.page_url);
            match kept
                .pages
                .iter_mut()
                .find(|p| normalize_url(&p.page_url) == key)
            {
                // The same page from a search and from following it: what
                // the page itself says fills what the search did not.
                Some(known) => {
                    known.facts = std::mem::take(&mut known.facts).or(page.facts);
                    known.words = std::mem::take(&mut known.words).or(page.words);
                }
                None => kept.pages.push(page),
            }
        }
        kept.width = kept.width.max(candidate.width);
        kept.height = kept.height.max(candidate.height);
        kept.thumbnail_url = kept.thumbnail_url.take().or(candidate.thumbnail_url);
    }
    merged
}

/// A candidate for a local file: its `file://` URL, no page.
pub fn local_candidate(path: &Path, rank: u32) -> Option<ImageCandidate> {
    let absolute = std::path::absolute(path).ok()?;
    let image_url = Url::from_file_path(absolute).ok()?;
    Some(ImageCandidate {
        image_url,
        pages: Vec::new(),
        thumbnail_url: None,
        width: None,
        height: None,
        best_rank: rank,
        providers: vec![LOCAL_PROVIDER],
        title: None,
        facts: Default::default(),
        words: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_lists_take_image_and_optional_page() {
        let text = "# postings\nhttps://a.example/1.jpg https://a.example/news\n\n\
                    https://b.example/2.png\nhttps://a.example/1.jpg,https://c.example/blog\n\
                    ftp://x/3.jpg\nnot-a-url\n  https://d.example/4.gif\t https://d.example/p  \n";
        let (candidates, bad) = parse_url_list(text);
        let urls: Vec<_> = candidates.iter().map(|c| c.image_url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://a.example/1.jpg",
                "https://b.example/2.png",
                "https://d.example/4.gif"
            ]
        );
        assert_eq!(candidates[0].pages.len(), 2, "one image, two pages");
        assert!(candidates[1].pages.is_empty());
        assert_eq!(candidates[1].providers, [LIST_PROVIDER]);
        assert_eq!(bad.iter().map(|b| b.line).collect::<Vec<_>>(), [6, 7]);
        assert!(bad[0].reason.contains("not an http(s) URL"), "{:?}", bad[0]);
    }

    #[test]
    fn merged_lists_keep_one_entry_per_image_with_every_page() {
        let (listed, _) = parse_url_list(
            "https://a.example/1.jpg https://a.example/news\nhttps://b.example/2.png\n",
        );
        let (on_pages, _) = parse_url_list(
            "http://a.example/1.jpg#x https://c.example/blog\nhttps://a.example/1.jpg https://a.example/news\nhttps://d.example/3.gif\n",
        );
        let merged = merge_candidates(listed, on_pages);
        let urls: Vec<_> = merged.iter().map(|c| c.image_url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://a.example/1.jpg",
                "https://b.example/2.png",
                "https://d.example/3.gif"
            ]
        );
        let pages: Vec<_> = merged[0]
            .pages
            .iter()
            .map(|p| p.page_url.as_str())
            .collect();
        assert_eq!(pages, ["https://a.example/news", "https://c.example/blog"]);
        assert_eq!(merged[0].best_rank, 1);
    }

    #[test]
    fn folders_are_walked_by_extension_and_signature() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/photo.JPG"), b"whatever").unwrap();
        std::fs::write(
            root.join("a/b/no_extension"),
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        )
        .unwrap();
        std::fs::write(root.join("a/b/notes.txt"), b"hello").unwrap();
        std::fs::write(root.join("z.gif"), b"GIF89a").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root, root.join("a/loop")).unwrap();
        let (files, errors) = image_files(root);
        let names: Vec<_> = files
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            names,
            [
                PathBuf::from("a/b/no_extension"),
                PathBuf::from("a/photo.JPG"),
                PathBuf::from("z.gif")
            ]
        );
        assert!(errors.is_empty());
        let candidate = local_candidate(&files[0], 1).unwrap();
        assert_eq!(candidate.image_url.scheme(), "file");
        assert_eq!(candidate.image_url.to_file_path().unwrap(), files[0]);
    }

    #[test]
    fn a_missing_folder_is_an_error_not_a_panic() {
        let (files, errors) = image_files(Path::new("/definitely/not/here"));
        assert!(files.is_empty());
        assert_eq!(errors.len(), 1);
    }
}
