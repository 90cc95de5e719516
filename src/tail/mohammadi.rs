//! Mohammadi, Mohammadpour & Ogata (2015), the estimator of SSG19 and GSZ21 (science.md §3).

use super::{LOG_EPS, Rows, TailError, median};
use serde::{Deserialize, Serialize};

/// Which block sizes `m` the median is taken over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockGrid {
    /// GSZ21's network code: {2, 5, 10, 20, 50, 100, 500, 1000}, sizes above N skipped.
    Network,
    /// GSZ21's synthetic code: {2, 5, 10, 20, 50, 100, 40}, sizes above N skipped.
    Synthetic,
    /// A single block size ⌊√N⌋ (blocks and block count balanced).
    Sqrt,
    /// Exactly these sizes; one larger than N is an error.
    Explicit(Vec<usize>),
}

impl BlockGrid {
    /// A short name for reports.
    pub fn name(&self) -> &'static str {
        match self {
            BlockGrid::Network => "network",
            BlockGrid::Synthetic => "synthetic",
            BlockGrid::Sqrt => "sqrt",
            BlockGrid::Explicit(_) => "explicit",
        }
    }

    /// The block sizes used for `n` rows.
    pub fn sizes(&self, n: usize) -> Result<Vec<usize>, TailError> {
        let fixed = |grid: &[usize]| -> Result<Vec<usize>, TailError> {
            let sizes: Vec<usize> = grid.iter().copied().filter(|&m| m <= n).collect();
            if sizes.is_empty() {
                return Err(TailError::EmptyGrid { n, smallest: 2 });
            }
            Ok(sizes)
        };
        match self {
            BlockGrid::Network => fixed(&[2, 5, 10, 20, 50, 100, 500, 1000]),
            BlockGrid::Synthetic => fixed(&[2, 5, 10, 20, 50, 100, 40]),
            BlockGrid::Sqrt => {
                let m = (n as f64).sqrt().floor() as usize;
                if m < 2 {
                    return Err(TailError::TooFewRows { needed: 4, got: n });
                }
                Ok(vec![m])
            }
            BlockGrid::Explicit(sizes) => {
                if sizes.is_empty() {
                    return Err(TailError::Invalid("the block-size list is empty".into()));
                }
                for &m in sizes {
                    if m < 2 {
                        return Err(TailError::BlockTooSmall { m });
                    }
                    if m > n {
                        return Err(TailError::BlockLargerThanData { m, n });
                    }
                }
                Ok(sizes.clone())
            }
        }
    }
}

/// α̂ for every block size of a grid, and their median (the reported value).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MohammadiEstimate {
    pub alpha: f64,
    pub grid: String,
    /// `α̂_m` for every block size, in grid order.
    pub per_block_size: Vec<BlockAlpha>,
}

/// The estimate at one block size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BlockAlpha {
    pub m: usize,
    pub alpha: f64,
}

/// α̂ for one block size `m`:
/// `1/α̂ = [mean_i log(‖Y_i‖+ε) − mean_{j≤n·m} log(‖X_j‖+ε)] / log m`,
/// `Y_i` the sums of consecutive blocks of `m` rows, rows after `n·m` dropped from both means.
pub fn mohammadi(rows: &Rows, m: usize) -> Result<f64, TailError> {
    check_block(m, rows.n())?;
    Ok(mohammadi_with(rows, &log_norms(rows), m))
}

fn check_block(m: usize, n: usize) -> Result<(), TailError> {
    if m < 2 {
        return Err(TailError::BlockTooSmall { m });
    }
    if m > n {
        return Err(TailError::BlockLargerThanData { m, n });
    }
    Ok(())
}

/// `log(‖X_j‖ + ε)` of every row: shared by all block sizes of a grid.
fn log_norms(rows: &Rows) -> Vec<f64> {
    rows.as_slice()
        .chunks_exact(rows.dim())
        .map(|row| (norm(row) + LOG_EPS).ln())
        .collect()
}

/// [`mohammadi`] with the rows' log-norms given and `m` already checked.
fn mohammadi_with(rows: &Rows, row_logs: &[f64], m: usize) -> f64 {
    let dim = rows.dim();
    let blocks = rows.n() / m;
    let used = blocks * m;
    let data = rows.as_slice();
    let sum_log_rows: f64 = row_logs[..used].iter().sum();
    let mut sum_log_blocks = 0.0;
    let mut block = vec![0.0; dim];
    for chunk in data[..used * dim].chunks_exact(m * dim) {
        block.iter_mut().for_each(|v| *v = 0.0);
        for row in chunk.chunks_exact(dim) {
            for (b, v) in block.iter_mut().zip(row) {
                *b += v;
            }
        }
        sum_log_blocks += (norm(&block) + LOG_EPS).ln();
    }
    let inv_alpha = (sum_log_blocks / blocks as f64 - sum_log_rows / used as f64) / (m as f64).ln();
    1.0 / inv_alpha
}

fn norm(row: &[f64]) -> f64 {
    if row.len() == 1 {
        row[0].abs()
    } else {
        row.iter().map(|v| v * v).sum::<f64>().sqrt()
    }
}

/// The Mohammadi estimate at every block size of `grid`, reported as their median.
pub fn mohammadi_median(rows: &Rows, grid: &BlockGrid) -> Result<MohammadiEstimate, TailError> {
    // `sizes` returns only block sizes with 2 ≤ m ≤ N.
    let sizes = grid.sizes(rows.n())?;
    let row_logs = log_norms(rows);
    let per_block_size: Vec<BlockAlpha> = sizes
        .iter()
        .map(|&m| BlockAlpha {
            m,
            alpha: mohammadi_with(rows, &row_logs, m),
        })
        .collect();
    let alphas: Vec<f64> = per_block_size.iter().map(|b| b.alpha).collect();
    Ok(MohammadiEstimate {
        alpha: median(&alphas),
        grid: grid.name().to_string(),
        per_block_size,
    })
}
