//! `Rows`: n samples of dimension d in one row-major f64 buffer, the estimators' input.

use super::TailError;
use super::gather::rows_at;

/// `n` samples of dimension `dim`, row-major, in f64.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    data: Vec<f64>,
    dim: usize,
}

impl Rows {
    /// Rows from a row-major buffer; rejects NaN and inf (they are never a tail sample).
    pub fn new(data: Vec<f64>, dim: usize) -> Result<Self, TailError> {
        if dim == 0 {
            return Err(TailError::Invalid(
                "row dimension must be at least 1".into(),
            ));
        }
        if !data.len().is_multiple_of(dim) {
            return Err(TailError::ShapeMismatch {
                what: "row-major buffer".into(),
                got: data.len(),
                expected: (data.len() / dim + 1) * dim,
            });
        }
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(TailError::NonFinite {
                row: i / dim,
                col: i % dim,
            });
        }
        Ok(Rows { data, dim })
    }

    /// Scalar samples (rows of length 1).
    pub fn scalars(data: Vec<f64>) -> Result<Self, TailError> {
        Self::new(data, 1)
    }

    /// Rows from an f32 buffer, widened to f64.
    pub fn from_f32(data: &[f32], dim: usize) -> Result<Self, TailError> {
        Self::new(data.iter().map(|&v| f64::from(v)).collect(), dim)
    }

    /// Number of rows (samples).
    pub fn n(&self) -> usize {
        self.data.len() / self.dim
    }

    /// Values per row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Row `i` as its `dim` values (panics for `i ≥ n()`).
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// The row-major buffer: `n × dim` values.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// Every coordinate as its own scalar sample (the "pooled" protocol).
    pub fn pooled(&self) -> Rows {
        Rows {
            data: self.data.clone(),
            dim: 1,
        }
    }

    /// Euclidean norm of every row (absolute value for scalars).
    pub fn norms(&self) -> Vec<f64> {
        self.data
            .chunks_exact(self.dim)
            .map(|r| r.iter().map(|v| v * v).sum::<f64>().sqrt())
            .collect()
    }

    /// The rows at the given indices, in that order (bootstrap resamples).
    pub fn select(&self, indices: &[usize]) -> Rows {
        let mut data = Vec::with_capacity(indices.len() * self.dim);
        for row in rows_at(self, indices, 0..indices.len()) {
            data.extend_from_slice(row);
        }
        Rows {
            data,
            dim: self.dim,
        }
    }

    pub(crate) fn data_mut(&mut self) -> &mut [f64] {
        &mut self.data
    }
}
