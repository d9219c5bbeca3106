//! Validated configuration: raw flags/environment (`cli::args`) become one
//! `Config` value here, once. Nothing deeper reads the environment.

use std::fmt;
use std::path::PathBuf;

use url::Url;

/// File name of the embedded store inside the data directory.
pub const SQLITE_FILE_NAME: &str = "provenance.sqlite3";

/// A configuration problem the user must fix; exits with code 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// `DATABASE_URL` could not be parsed.
    #[error("DATABASE_URL is not a valid URL ({reason}); expected postgres://USER:PASSWORD@HOST:PORT/DATABASE or sqlite:PATH")]
    MalformedDatabaseUrl {
        /// Why parsing failed.
        reason: String,
    },
    /// `DATABASE_URL` names a database we do not support.
    #[error("DATABASE_URL has scheme `{scheme}:`, which provenance does not support; use postgres://… for PostgreSQL + pgvector, sqlite:PATH, or unset it for the embedded store")]
    UnsupportedDatabase {
        /// The scheme that was given.
        scheme: String,
    },
    /// No data directory was given and the platform has none.
    #[error("no data directory could be determined for this user; set one with --data-dir or PROVENANCE_DATA_DIR")]
    NoDataDir,
    /// A setting had a value outside its range.
    #[error("{0}")]
    Invalid(String),
}

/// A value that must never be printed: API keys, passwords.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A PostgreSQL URL. Displays with its password redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl(Url);

impl PostgresUrl {
    /// The full URL, password included, for connecting.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }
    /// `host:port` for messages.
    pub fn host_port(&self) -> String {
        let host = self.0.host_str().unwrap_or("localhost");
        format!("{host}:{}", self.0.port().unwrap_or(5432))
    }
}

impl fmt::Display for PostgresUrl {
    /// The URL with every credential form hidden: the password in the
    /// user-info and `password=` / `sslpassword=` in the query.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::redact::redact_url(&self.0))
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostgresUrl({self})")
    }
}

/// Where images, sightings and vectors are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// The embedded SQLite file (the default).
    Sqlite(PathBuf),
    /// PostgreSQL with pgvector.
    Postgres(PostgresUrl),
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres(url) => write!(f, "{url}"),
        }
    }
}

impl StoreLocation {
    /// Chooses the store: a `DATABASE_URL` if given, else the SQLite file in
    /// the data directory.
    pub fn resolve(
        database_url: Option<&str>,
        data_dir: &std::path::Path,
    ) -> Result<Self, ConfigError> {
        let Some(raw) = database_url.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(Self::Sqlite(data_dir.join(SQLITE_FILE_NAME)));
        };
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(ConfigError::MalformedDatabaseUrl {
                    reason: "sqlite: needs a file path".into(),
                });
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        let url = Url::parse(raw).map_err(|e| ConfigError::MalformedDatabaseUrl {
            reason: e.to_string(),
        })?;
        match url.scheme() {
            "postgres" | "postgresql" => {
                if url.host_str().is_none_or(str::is_empty) {
                    return Err(ConfigError::MalformedDatabaseUrl {
                        reason: "no host".into(),
                    });
                }
                Ok(Self::Postgres(PostgresUrl(url)))
            }
            other => Err(ConfigError::UnsupportedDatabase {
                scheme: other.to_string(),
            }),
        }
    }
}

/// How results are written to stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "runtime", derive(clap::ValueEnum))]
pub enum OutputFormat {
    /// Text for people.
    Human,
    /// Stable JSON for programs.
    Json,
}

/// The settings every command shares, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the store lives.
    pub store: StoreLocation,
    /// Directory for the embedded store, reports and caches.
    pub data_dir: PathBuf,
    /// Output format for results on stdout.
    pub format: OutputFormat,
}

/// The platform's data directory for provenance (e.g. `~/.local/share/provenance`).
#[cfg(feature = "runtime")]
pub fn default_data_dir() -> Result<PathBuf, ConfigError> {
    directories::ProjectDirs::from("", "", "provenance")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .ok_or(ConfigError::NoDataDir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn no_url_means_sqlite_in_data_dir() {
        let loc = StoreLocation::resolve(None, Path::new("/d")).unwrap();
        assert_eq!(
            loc,
            StoreLocation::Sqlite(PathBuf::from("/d/provenance.sqlite3"))
        );
        let blank = StoreLocation::resolve(Some("  "), Path::new("/d")).unwrap();
        assert_eq!(blank, loc);
    }

    #[test]
    fn postgres_url_is_redacted_when_shown() {
        let loc = StoreLocation::resolve(Some("postgres://u:hunter2@db:5433/p"), Path::new("/d"))
            .unwrap();
        let shown = loc.to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("db:5433"));
        let StoreLocation::Postgres(url) = loc else {
            panic!()
        };
        assert!(url.expose().contains("hunter2"));
        assert_eq!(url.host_port(), "db:5433");
        assert!(!format!("{url:?}").contains("hunter2"));
    }

    /// Regression: a password given as a query parameter (a form sqlx
    /// documents) was printed in errors, `db status` and logs.
    #[test]
    fn a_password_in_the_query_is_redacted_when_shown() {
        let url = "postgres://alice@127.0.0.1:1/prov?password=SECRET&sslpassword=OTHER";
        let loc = StoreLocation::resolve(Some(url), Path::new("/d")).unwrap();
        let shown = format!("{loc} {loc:?}");
        assert!(
            !shown.contains("SECRET") && !shown.contains("OTHER"),
            "{shown}"
        );
        let StoreLocation::Postgres(url) = loc else {
            panic!()
        };
        assert!(url.expose().contains("password=SECRET"));
    }

    #[test]
    fn sqlite_url_is_a_path() {
        let loc = StoreLocation::resolve(Some("sqlite:/tmp/x.db"), Path::new("/d")).unwrap();
        assert_eq!(loc, StoreLocation::Sqlite(PathBuf::from("/tmp/x.db")));
    }

    #[test]
    fn bad_urls_are_config_errors() {
        let err = StoreLocation::resolve(Some("mysql://h/db"), Path::new("/d")).unwrap_err();
        assert!(err.to_string().contains("`mysql:`"), "{err}");
        let err = StoreLocation::resolve(Some("not a url"), Path::new("/d")).unwrap_err();
        assert!(
            matches!(err, ConfigError::MalformedDatabaseUrl { .. }),
            "{err}"
        );
        let err = StoreLocation::resolve(Some("postgres:///db"), Path::new("/d")).unwrap_err();
        assert!(
            matches!(err, ConfigError::MalformedDatabaseUrl { .. }),
            "{err}"
        );
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("sk-123");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
        assert_eq!(s.expose(), "sk-123");
    }
}
