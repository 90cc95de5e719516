//! Centring rows before estimation: none, mean, median, a given vector.

use super::gather::rows_at;
use super::{Rows, TailError, median};
use serde::{Deserialize, Serialize};

/// What the rows are centred on before estimation (docs/theory.md §6.2, §7.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Center {
    /// Use the rows as they are.
    None,
    /// Subtract the across-row mean (the stationary mean's estimate).
    Mean,
    /// Subtract the coordinate-wise median (robust to a few huge rows).
    Median,
    /// Subtract an explicit vector, e.g. a known minimiser.
    Vector(Vec<f64>),
    /// The least-squares solution of a training run's fixed dataset (GSZ21's synthetic
    /// protocol): the trainer resolves it into a `Vector`; estimators refuse it unresolved.
    LeastSquares,
}

impl Center {
    /// A short name for reports: `none`, `mean`, `median` or `vector`.
    pub fn name(&self) -> &'static str {
        match self {
            Center::None => "none",
            Center::Mean => "mean",
            Center::Median => "median",
            Center::Vector(_) => "vector",
            Center::LeastSquares => "least_squares",
        }
    }
}

/// The centre vector that [`Center`] designates for these rows.
pub fn center_vector(rows: &Rows, center: &Center) -> Result<Vec<f64>, TailError> {
    let (n, dim) = (rows.n(), rows.dim());
    match center {
        Center::None => Ok(vec![0.0; dim]),
        Center::Mean => Ok(mean((0..n).map(|i| rows.row(i)), dim)),
        Center::Median => Ok((0..dim)
            .map(|j| {
                let col: Vec<f64> = (0..n).map(|i| rows.row(i)[j]).collect();
                if col.is_empty() { 0.0 } else { median(&col) }
            })
            .collect()),
        Center::Vector(v) if v.len() != dim => Err(TailError::ShapeMismatch {
            what: "centre vector".into(),
            got: v.len(),
            expected: dim,
        }),
        Center::Vector(v) => Ok(v.clone()),
        Center::LeastSquares => Err(TailError::Invalid(
            "`least_squares` centring needs the run's dataset; pass the solution as a vector"
                .into(),
        )),
    }
}

/// The coordinate-wise mean of `rows` (each of `dim` values), summed in row order.
fn mean<'a>(rows: impl Iterator<Item = &'a [f64]>, dim: usize) -> Vec<f64> {
    let mut c = vec![0.0; dim];
    let mut n = 0usize;
    for row in rows {
        for (cj, v) in c.iter_mut().zip(row) {
            *cj += v;
        }
        n += 1;
    }
    c.iter_mut().for_each(|v| *v /= n.max(1) as f64);
    c
}

/// [`center_vector`] of the resample whose row `i` is `rows.row(indices[i])`, without
/// building it; `None` for [`Center::Median`], which needs the resample's columns.
pub(crate) fn resample_centre(
    rows: &Rows,
    indices: &[usize],
    center: &Center,
) -> Option<Result<Vec<f64>, TailError>> {
    match center {
        Center::Mean => Some(Ok(mean(
            rows_at(rows, indices, 0..indices.len()),
            rows.dim(),
        ))),
        Center::Median => None,
        // The rest depend on the rows' width only.
        other => Some(center_vector(rows, other)),
    }
}

/// The rows minus their centre.
pub fn center_rows(rows: &Rows, center: &Center) -> Result<Rows, TailError> {
    center_in_place(rows.clone(), center)
}

/// [`center_rows`] in place, for rows the caller no longer needs (bootstrap resamples).
pub fn center_in_place(mut rows: Rows, center: &Center) -> Result<Rows, TailError> {
    let c = center_vector(&rows, center)?;
    let dim = rows.dim();
    for row in rows.data_mut().chunks_exact_mut(dim) {
        for (v, cj) in row.iter_mut().zip(&c) {
            *v -= cj;
        }
    }
    Ok(rows)
}
