//! Why an estimator could not answer.

use thiserror::Error;

/// Why an estimate could not be computed. Each message names the offending input.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum TailError {
    /// Fewer rows than the routine needs.
    #[error("no samples: the estimator needs at least {needed} rows, got {got}")]
    TooFewRows {
        /// The fewest rows the routine accepts.
        needed: usize,
        /// Rows in the sample.
        got: usize,
    },
    /// Fewer samples than the caller's `min_samples` floor (lowering it forces an estimate).
    #[error(
        "{got} samples, fewer than min_samples = {min}: no estimate (lower min_samples to force one)"
    )]
    BelowMinSamples {
        /// Samples available.
        got: usize,
        /// The caller's `min_samples` floor.
        min: usize,
    },
    /// A block size below 2.
    #[error("block size {m} is invalid: block sizes must be at least 2")]
    BlockTooSmall {
        /// The block size given.
        m: usize,
    },
    /// A block size larger than the sample.
    #[error("fewer rows ({n}) than the block size {m}")]
    BlockLargerThanData {
        /// The block size given.
        m: usize,
        /// Rows in the sample.
        n: usize,
    },
    /// Every block size of a fixed grid is larger than the sample.
    #[error("no block size of the grid fits {n} rows (the smallest needs {smallest})")]
    EmptyGrid {
        /// Rows in the sample.
        n: usize,
        /// The grid's smallest block size (the rows it would need).
        smallest: usize,
    },
    /// A number of upper order statistics outside the estimator's range (Hill and moments
    /// need `1 ≤ k < n`, Pickands `1 ≤ k ≤ n/4`).
    #[error("k = {k} is out of range: Hill needs 1 <= k < n = {n}")]
    KOutOfRange {
        /// The `k` asked for.
        k: usize,
        /// Values in the sample.
        n: usize,
    },
    /// The threshold `X₍ₖ₊₁₎` is not positive, so its logarithm is undefined.
    #[error("the ({k}+1)-th largest magnitude is 0: Hill is undefined at this k")]
    ZeroThreshold {
        /// The `k` whose (k+1)-th largest magnitude is 0.
        k: usize,
    },
    /// A NaN or ±∞ in the input (never a tail sample).
    #[error("non-finite value (NaN or inf) in row {row}, column {col}")]
    NonFinite {
        /// Row of the first such value (0-based).
        row: usize,
        /// Its column (0-based; 0 for scalars).
        col: usize,
    },
    /// An input whose length does not fit the shape it should have.
    #[error("{what} has length {got}, expected {expected}")]
    ShapeMismatch {
        /// The input, in words (e.g. "centre vector").
        what: String,
        /// Its length.
        got: usize,
        /// The length its shape calls for.
        expected: usize,
    },
    /// The estimate does not exist on this sample (e.g. no positive α̂); the message says why.
    #[error("the estimator is undefined on this sample: {0}")]
    Undefined(String),
    /// A setting the routine cannot work with, or a search that found no answer; the
    /// message says which.
    #[error("invalid parameter: {0}")]
    Invalid(String),
}
