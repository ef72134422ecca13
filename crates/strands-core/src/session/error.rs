//! Errors of session persistence.

use std::path::PathBuf;

/// Why a session could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// A session or agent id would not stay inside its directory (or S3 prefix).
    #[error("invalid {kind} id {id:?}: {rule}")]
    InvalidId {
        /// `"session"`, `"agent"` or another kind of id a backend names (`"actor"`).
        kind: &'static str,
        /// The rejected id.
        id: String,
        /// What a valid id looks like.
        rule: &'static str,
    },
    /// Reading or writing a file failed.
    #[error("session storage I/O failed at {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A stored document is not valid session JSON.
    #[error("session data at {location} is not valid: {source}")]
    Json {
        /// Where the document lives (a path or an S3 key).
        location: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// Something that must exist does not, or something that must not exist does.
    #[error("{0}")]
    Conflict(String),
    /// The repository does not store this kind of record.
    #[error("this session repository cannot store {0}")]
    Unsupported(&'static str),
    /// The storage backend (e.g. S3) failed.
    #[error("session storage backend failed: {message}")]
    Backend {
        /// What was being done.
        message: String,
        /// The cause.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}
