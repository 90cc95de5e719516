//! The library's error type. Every variant names the field, file or position at fault.

use std::path::PathBuf;
use thiserror::Error;

/// Everything the library can fail with.
#[derive(Debug, Error)]
pub enum Error {
    /// A config value out of range or inconsistent with another.
    #[error("invalid config: `{field}` {message}")]
    Config {
        /// The config key at fault.
        field: &'static str,
        /// What is wrong with its value.
        message: String,
    },
    /// Malformed or truncated JSON, or an unknown field.
    #[error("{path}: {message}")]
    Json {
        /// The JSON file read or written.
        path: PathBuf,
        /// serde_json's message (with the line and column where parsing failed).
        message: String,
    },
    /// A file-system operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder it failed on.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A `.npy` or CSV input that is not what the command needs.
    #[error("{path}: {message}")]
    Input {
        /// The input file (or, for a study's entries, the entry's position).
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The compute backend could not be started or used (e.g. no wgpu adapter).
    #[error("backend: {0}")]
    Backend(String),
    /// The output folder already exists; outputs are never overwritten.
    #[error("output folder {0} already exists; choose another --out or remove it")]
    OutputExists(PathBuf),
    /// Some cells of a sweep failed (the others are kept; a rerun retries the failed ones).
    #[error("sweep: {0}")]
    Sweep(String),
    /// The caller stopped the run (Python's Ctrl-C); nothing was written.
    #[error("interrupted: the run was stopped before it finished; nothing was written")]
    Interrupted,
    /// An estimator's error, passed through unchanged.
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

/// The library's result: [`enum@Error`] unless another error type is named.
pub type Result<T, E = Error> = std::result::Result<T, E>;
