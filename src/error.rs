//! The library's error type. Every variant names the field, file or position at fault.

use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    /// A config value out of range or inconsistent with another.
    #[error("invalid config: `{field}` {message}")]
    Config {
        field: &'static str,
        message: String,
    },
    /// Malformed or truncated JSON, or an unknown field.
    #[error("{path}: {message}")]
    Json { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A `.npy` or CSV input that is not what the command needs.
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },
    #[error("backend: {0}")]
    Backend(String),
    #[error("output folder {0} already exists; choose another --out or remove it")]
    OutputExists(PathBuf),
    /// Some cells of a sweep failed (the others are kept; a rerun retries the failed ones).
    #[error("sweep: {0}")]
    Sweep(String),
    /// The caller stopped the run (Python's Ctrl-C); nothing was written.
    #[error("interrupted: the run was stopped before it finished; nothing was written")]
    Interrupted,
    #[error(transparent)]
    Tail(#[from] crate::tail::TailError),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A bad value of the config field `field` (its message says what is wrong).
    pub fn config(field: &'static str, message: impl Into<String>) -> Self {
        Error::Config {
            field,
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
