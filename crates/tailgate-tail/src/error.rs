//! Why an estimator could not answer.

use thiserror::Error;

/// Why an estimate could not be computed. Each message names the offending input.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum TailError {
    #[error("no samples: the estimator needs at least {needed} rows, got {got}")]
    TooFewRows { needed: usize, got: usize },
    #[error(
        "{got} samples, fewer than min_samples = {min}: no estimate (lower min_samples to force one)"
    )]
    BelowMinSamples { got: usize, min: usize },
    #[error("block size {m} is invalid: block sizes must be at least 2")]
    BlockTooSmall { m: usize },
    #[error("fewer rows ({n}) than the block size {m}")]
    BlockLargerThanData { m: usize, n: usize },
    #[error("no block size of the grid fits {n} rows (the smallest needs {smallest})")]
    EmptyGrid { n: usize, smallest: usize },
    #[error("k = {k} is out of range: Hill needs 1 <= k < n = {n}")]
    KOutOfRange { k: usize, n: usize },
    #[error("the ({k}+1)-th largest magnitude is 0: Hill is undefined at this k")]
    ZeroThreshold { k: usize },
    #[error("non-finite value (NaN or inf) in row {row}, column {col}")]
    NonFinite { row: usize, col: usize },
    #[error("{what} has length {got}, expected {expected}")]
    ShapeMismatch {
        what: String,
        got: usize,
        expected: usize,
    },
    #[error("the estimator is undefined on this sample: {0}")]
    Undefined(String),
    #[error("invalid parameter: {0}")]
    Invalid(String),
}
