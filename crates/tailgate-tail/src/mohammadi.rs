//! Mohammadi, Mohammadpour & Ogata (2015), the estimator of SSG19 and GSZ21
//! (docs/theory.md §5.1).

use super::gather::rows_at;
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
    /// The median of `per_block_size`'s α̂: the reported value (finite and positive).
    pub alpha: f64,
    /// The grid's short name ([`BlockGrid::name`]).
    pub grid: String,
    /// `α̂_m` for every block size, in grid order.
    pub per_block_size: Vec<BlockAlpha>,
}

/// The estimate at one block size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BlockAlpha {
    /// Block size: consecutive rows summed into each block.
    pub m: usize,
    /// α̂_m at this block size ([`mohammadi`]).
    pub alpha: f64,
}

/// α̂ for one block size `m`:
/// `1/α̂ = [mean_i log(‖Y_i‖+ε) − mean_{j≤n·m} log(‖X_j‖+ε)] / log m`,
/// `Y_i` the sums of consecutive blocks of `m` rows, rows after `n·m` dropped from both means.
pub fn mohammadi(rows: &Rows, m: usize) -> Result<f64, TailError> {
    check_block(m, rows.n())?;
    Ok(mohammadi_sizes(&RowSource::whole(rows), &[m])[0])
}

/// Where the estimator reads its rows: the rows themselves, or a bootstrap resample of them
/// minus a centre, built one tile at a time and never materialised (a bootstrap's
/// resamples then cost no copy and no centring pass over the whole sample).
pub(crate) enum RowSource<'a> {
    /// Row-major rows of `dim` values, borrowed (a whole sample or a prefix of it).
    Rows { data: &'a [f64], dim: usize },
    /// Row `i` is `rows.row(indices[i]) − centre`.
    Resample {
        rows: &'a Rows,
        indices: &'a [usize],
        centre: &'a [f64],
    },
}

impl<'a> RowSource<'a> {
    fn whole(rows: &'a Rows) -> Self {
        RowSource::Rows {
            data: rows.as_slice(),
            dim: rows.dim(),
        }
    }

    fn n(&self) -> usize {
        match self {
            RowSource::Rows { data, dim } => data.len() / dim,
            RowSource::Resample { indices, .. } => indices.len(),
        }
    }

    fn dim(&self) -> usize {
        match self {
            RowSource::Rows { dim, .. } => *dim,
            RowSource::Resample { rows, .. } => rows.dim(),
        }
    }

    /// Rows `range`, row-major: borrowed, or written into `scratch`.
    #[inline(always)]
    fn tile<'s>(&'s self, range: std::ops::Range<usize>, scratch: &'s mut Vec<f64>) -> &'s [f64] {
        match self {
            RowSource::Rows { data, dim } => &data[range.start * dim..range.end * dim],
            RowSource::Resample {
                rows,
                indices,
                centre,
            } => {
                scratch.clear();
                for row in rows_at(rows, indices, range) {
                    scratch.extend(row.iter().zip(*centre).map(|(v, c)| v - c));
                }
                scratch
            }
        }
    }
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

/// Values per tile: the tile's rows are summed into every block size while they are in L1.
const TILE_VALUES: usize = 4096;

/// [`mohammadi`] at every size of `sizes` (each already checked) in one pass over the rows.
/// A size with a smaller divisor in the grid (10 after 5, 1000 after 500) sums that size's
/// finished blocks instead of rows, so the network grid reads each value twice, not eight times.
///
/// Also compiled for AVX2 and chosen at run time (the helpers it calls are inlined into
/// it): the same f64 operations in the same order, twice the vector width.
#[multiversion::multiversion(targets("x86_64+avx2+bmi1+bmi2+lzcnt+popcnt"))]
fn mohammadi_sizes(rows: &RowSource, sizes: &[usize]) -> Vec<f64> {
    let (n, dim) = (rows.n(), rows.dim());
    let k = sizes.len();
    let used: Vec<usize> = sizes.iter().map(|&m| n / m * m).collect();
    let end = used.iter().copied().max().unwrap_or(0);
    // The largest proper divisor of each size among the others (its blocks' source).
    let source: Vec<Option<usize>> = sizes
        .iter()
        .map(|&m| {
            (0..k)
                .filter(|&p| sizes[p] < m && m % sizes[p] == 0)
                .max_by_key(|&p| sizes[p])
        })
        .collect();
    let mut sums = BlockSums {
        dim,
        sizes,
        children: (0..k)
            .map(|s| (0..k).filter(|&c| source[c] == Some(s)).collect())
            .collect(),
        blocks_left: sizes.iter().map(|&m| n / m).collect(),
        acc: vec![0.0; k * dim],
        filled: vec![0; k],
        sum_log_blocks: vec![0.0; k],
        finished: Vec::new(),
        block: vec![0.0; dim],
    };
    let mut sum_log_rows = vec![0.0; k];
    let (mut logs, mut scratch) = (Vec::new(), Vec::new());
    let tile_rows = (TILE_VALUES / dim).max(1);
    for first in (0..end).step_by(tile_rows) {
        let tile = rows.tile(first..(first + tile_rows).min(end), &mut scratch);
        logs.clear();
        logs.extend(tile.chunks_exact(dim).map(log_norm));
        let tile_sum = sum(&logs);
        for s in 0..k {
            let take = used[s].saturating_sub(first).min(logs.len());
            sum_log_rows[s] += if take == logs.len() {
                tile_sum
            } else {
                sum(&logs[..take])
            };
            if source[s].is_none() {
                sums.add_rows(s, &tile[..take * dim]);
            }
        }
    }
    (0..k)
        .map(|s| {
            let m = sizes[s];
            let blocks = (n / m) as f64;
            let mean_blocks = sums.sum_log_blocks[s] / blocks;
            1.0 / ((mean_blocks - sum_log_rows[s] / used[s] as f64) / (m as f64).ln())
        })
        .collect()
}

/// The running block sums of every size of a grid.
struct BlockSums<'a> {
    dim: usize,
    sizes: &'a [usize],
    /// The sizes whose blocks are sums of this size's blocks.
    children: Vec<Vec<usize>>,
    /// Blocks still to finish per size (rows past `n / m · m` are not used).
    blocks_left: Vec<usize>,
    /// The open block of each size, `dim` values each.
    acc: Vec<f64>,
    /// Rows in each open block.
    filled: Vec<usize>,
    sum_log_blocks: Vec<f64>,
    /// Sizes whose open block just filled (a work stack for [`BlockSums::finish`]).
    finished: Vec<usize>,
    /// A finished block, copied out so it can be added to the larger sizes' open blocks.
    block: Vec<f64>,
}

impl BlockSums<'_> {
    /// Adds consecutive rows to size `s`'s blocks, finishing each block as it fills.
    #[inline(always)]
    fn add_rows(&mut self, s: usize, mut rows: &[f64]) {
        let (dim, m) = (self.dim, self.sizes[s]);
        while !rows.is_empty() {
            let k = (m - self.filled[s]).min(rows.len() / dim);
            let (head, rest) = rows.split_at(k * dim);
            add_rows(&mut self.acc[s * dim..(s + 1) * dim], head);
            self.filled[s] += k;
            if self.filled[s] == m {
                self.finish(s);
            }
            rows = rest;
        }
    }

    /// Logs the full block of size `s`, hands it to the larger sizes built from it, and
    /// finishes those that fill in turn.
    #[inline(always)]
    fn finish(&mut self, s: usize) {
        let dim = self.dim;
        self.finished.push(s);
        while let Some(s) = self.finished.pop() {
            let open = s * dim..(s + 1) * dim;
            self.block.copy_from_slice(&self.acc[open.clone()]);
            self.acc[open].fill(0.0);
            self.filled[s] = 0;
            self.blocks_left[s] -= 1;
            self.sum_log_blocks[s] += log_norm(&self.block);
            for &c in &self.children[s] {
                if self.blocks_left[c] == 0 {
                    continue;
                }
                add_rows(&mut self.acc[c * dim..(c + 1) * dim], &self.block);
                self.filled[c] += self.sizes[s];
                if self.filled[c] == self.sizes[c] {
                    self.finished.push(c);
                }
            }
        }
    }
}

/// `block += Σ rows` for consecutive rows of `block.len()` values, eight columns at a time
/// so the running sums stay in registers.
#[inline(always)]
fn add_rows(block: &mut [f64], rows: &[f64]) {
    let dim = block.len();
    if dim == 1 {
        block[0] += sum(rows);
        return;
    }
    let mut cols = block.chunks_exact_mut(8);
    for (c, b) in cols.by_ref().enumerate() {
        let mut acc = [0.0; 8];
        for row in rows.chunks_exact(dim) {
            let r = &row[c * 8..c * 8 + 8];
            for j in 0..8 {
                acc[j] += r[j];
            }
        }
        for j in 0..8 {
            b[j] += acc[j];
        }
    }
    let start = dim - dim % 8;
    for (j, b) in cols.into_remainder().iter_mut().enumerate() {
        *b += rows
            .chunks_exact(dim)
            .map(|row| row[start + j])
            .sum::<f64>();
    }
}

/// `log(‖row‖ + ε)`.
#[inline(always)]
fn log_norm(row: &[f64]) -> f64 {
    let norm = if row.len() == 1 {
        row[0].abs()
    } else {
        sum_sq(row).sqrt()
    };
    (norm + LOG_EPS).ln()
}

/// Σ v² in eight partial sums: a single running sum is one dependent add per value.
#[inline(always)]
fn sum_sq(values: &[f64]) -> f64 {
    let mut acc = [0.0; 8];
    let chunks = values.chunks_exact(8);
    let tail: f64 = chunks.remainder().iter().map(|v| v * v).sum();
    for c in chunks {
        for k in 0..8 {
            acc[k] += c[k] * c[k];
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// Σ v in eight partial sums.
#[inline(always)]
fn sum(values: &[f64]) -> f64 {
    let mut acc = [0.0; 8];
    let chunks = values.chunks_exact(8);
    let tail: f64 = chunks.remainder().iter().sum();
    for c in chunks {
        for k in 0..8 {
            acc[k] += c[k];
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// The Mohammadi estimate at every block size of `grid`, reported as their median.
pub fn mohammadi_median(rows: &Rows, grid: &BlockGrid) -> Result<MohammadiEstimate, TailError> {
    mohammadi_median_of(&RowSource::whole(rows), grid)
}

/// [`mohammadi_median`] of the first `n` rows, read in place (no copy of the prefix).
pub fn mohammadi_median_prefix(
    rows: &Rows,
    n: usize,
    grid: &BlockGrid,
) -> Result<MohammadiEstimate, TailError> {
    let dim = rows.dim();
    let data = &rows.as_slice()[..n.min(rows.n()) * dim];
    mohammadi_median_of(&RowSource::Rows { data, dim }, grid)
}

/// [`mohammadi_median`] of the rows that `rows` yields.
pub(crate) fn mohammadi_median_of(
    rows: &RowSource,
    grid: &BlockGrid,
) -> Result<MohammadiEstimate, TailError> {
    // `sizes` returns only block sizes with 2 ≤ m ≤ N.
    let sizes = grid.sizes(rows.n())?;
    let per_block_size: Vec<BlockAlpha> = sizes
        .iter()
        .zip(mohammadi_sizes(rows, &sizes))
        .map(|(&m, alpha)| BlockAlpha { m, alpha })
        .collect();
    let alphas: Vec<f64> = per_block_size.iter().map(|b| b.alpha).collect();
    let alpha = median(&alphas);
    // 1/α̂ < 0 where the block sums are smaller than the rows (a few rows, or blocks that
    // cancel): no tail index, not a number to report.
    if !(alpha.is_finite() && alpha > 0.0) {
        return Err(TailError::Undefined(format!(
            "the Mohammadi median over block sizes is {alpha} (not a positive number)"
        )));
    }
    Ok(MohammadiEstimate {
        alpha,
        grid: grid.name().to_string(),
        per_block_size,
    })
}

/// The Mohammadi block estimator in [`crate::ESTIMATORS`]: the median over the grid.
#[derive(Debug, Clone, Copy)]
pub struct Mohammadi;

impl crate::Estimator for Mohammadi {
    fn name(&self) -> &'static str {
        "mohammadi"
    }
    fn about(&self) -> &'static str {
        "Mohammadi–Mohammadpour–Ogata block estimator, median over the block sizes"
    }
    fn needs(&self) -> crate::Needs {
        crate::Needs::Rows
    }
    fn estimate(
        &self,
        sample: &crate::Sample<'_>,
        settings: &crate::EstimatorSettings,
    ) -> Result<crate::Answer, TailError> {
        let est = mohammadi_median_prefix(sample.centered(), sample.n(), &settings.grid)?;
        Ok(crate::Answer {
            per_block_size: Some(est.per_block_size),
            grid: Some(est.grid),
            ..crate::Answer::alpha(est.alpha)
        })
    }
    fn interval(
        &self,
        answer: &crate::Answer,
        resampled: crate::Resampled<'_>,
        settings: &crate::EstimatorSettings,
        interval: crate::IntervalSettings,
        on_resample: &(dyn Fn() + Sync),
    ) -> Result<crate::SubsampleCi, TailError> {
        let alpha = answer
            .alpha
            .ok_or_else(|| TailError::Undefined("no α̂ to put an interval around".into()))?;
        let crate::Resampled::Rows(rows) = resampled else {
            return Err(TailError::Invalid(
                "the Mohammadi interval resamples rows, not norms".into(),
            ));
        };
        let ci = crate::mohammadi_subsample_ci(
            rows,
            &settings.center,
            &settings.grid,
            alpha,
            interval.subsamples,
            interval.level,
            settings.seed,
        );
        (0..interval.subsamples).for_each(|_| on_resample());
        ci
    }
}
