//! The web archive as evidence of origin: when the Wayback Machine first
//! captured a posting's image and page, and whether it holds exactly the
//! bytes we hold — "archived with identical bytes on DATE" is the strongest
//! date evidence there is.
//!
//! Layout: `cdx` reads the CDX API's answers (pure); `client` asks the API
//! politely; `evidence` adds what it says to a report, keeping answers in
//! the store.

mod cdx;
mod client;
mod evidence;

pub use cdx::parse_captures;
pub use client::{ArchiveError, Wayback, WAYBACK_DEFAULT_URL};
pub use evidence::{add_archive_evidence, ArchiveOptions};
