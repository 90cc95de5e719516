//! Confidence intervals by symmetric subsampling without replacement (half-samples):
//! the statistic is recomputed on `B` random halves of the rows, and the interval is
//! `θ̂ ± c·√(m/(n − m))`, with `c` the `level` quantile of `|θ̂_half − θ̂|` and `m = ⌊n/2⌋`.
//!
//! Why this and not a bootstrap with replacement: a resample with replacement repeats rows,
//! and ties enter the block estimator's block sums and the order statistics the other
//! estimators read, so its percentile interval could miss the estimate itself. A
//! subsample has no ties; for a statistic that is asymptotically a mean,
//! `Var(θ̂_m − θ̂_n) = σ²(1/m − 1/n)`, which the factor `√(m/(n − m))` turns into `Var(θ̂_n)`;
//! the symmetric form contains `θ̂` by construction. Its coverage is measured, not assumed
//! (`tailgate coverage`, docs/validation/coverage/coverage.md; docs/theory.md §5.6).

use super::center::resample_centre;
use super::mohammadi::{RowSource, mohammadi_median_of};
use super::streams::stream;
use super::{BlockGrid, Center, Rows, TailError, center_in_place, mohammadi_median};
use rayon::prelude::*;
use serde::Serialize;

/// A symmetric subsampling interval around an estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubsampleCi {
    /// Coverage asked for, in (0, 1).
    pub level: f64,
    /// `θ̂ − c·√(m/(n − m))`, `c` the `level` quantile of `|θ̂_half − θ̂|`.
    pub lo: f64,
    /// `θ̂ + c·√(m/(n − m))`.
    pub hi: f64,
    /// Subsamples drawn.
    pub subsamples: usize,
    /// Subsamples on which the statistic could not be computed (left out).
    pub failed: usize,
    /// Rows in each subsample (⌊n/2⌋).
    pub size: usize,
    /// Seed of the subsample streams (subsample `r` is stream `r`).
    pub seed: u64,
}

/// The subsample size for `n` rows.
pub fn subsample_size(n: usize) -> usize {
    n / 2
}

/// Interval of `statistic` around `estimate`; the statistic gets each subsample's rows
/// (owned: it may centre them in place) and the fraction m/n (so that an estimator at a
/// fixed k can keep k/n). Subsample `r` draws from its own stream of `seed`, so the
/// interval does not depend on the thread count.
pub fn subsample_ci<F>(
    rows: &Rows,
    estimate: f64,
    subsamples: usize,
    level: f64,
    seed: u64,
    statistic: F,
) -> Result<SubsampleCi, TailError>
where
    F: Fn(Rows, f64) -> Result<f64, TailError> + Sync,
{
    let (n, m) = sizes(rows.n())?;
    symmetric(estimate, subsamples, level, seed, n, m, |idx| {
        statistic(rows.select(idx), m as f64 / n as f64).ok()
    })
}

/// [`subsample_ci`] of a statistic of scalars; each subsample is one buffer the statistic
/// may reorder (order statistics select in place).
pub fn subsample_scalar_ci<F>(
    x: &[f64],
    estimate: f64,
    subsamples: usize,
    level: f64,
    seed: u64,
    statistic: F,
) -> Result<SubsampleCi, TailError>
where
    F: Fn(&mut [f64], f64) -> Result<f64, TailError> + Sync,
{
    let (n, m) = sizes(x.len())?;
    symmetric(estimate, subsamples, level, seed, n, m, |idx| {
        let mut sample: Vec<f64> = idx.iter().map(|&i| x[i]).collect();
        statistic(&mut sample, m as f64 / n as f64).ok()
    })
}

/// [`subsample_ci`] of the Mohammadi median of the subsamples, each centred on its own
/// centre; rows are read through the subsample's indices one tile at a time, never copied
/// (median centring needs each subsample's columns, so it takes the general path).
pub fn mohammadi_subsample_ci(
    rows: &Rows,
    center: &Center,
    grid: &BlockGrid,
    estimate: f64,
    subsamples: usize,
    level: f64,
    seed: u64,
) -> Result<SubsampleCi, TailError> {
    if *center == Center::Median {
        return subsample_ci(rows, estimate, subsamples, level, seed, |r, _| {
            Ok(mohammadi_median(&center_in_place(r, center)?, grid)?.alpha)
        });
    }
    let (n, m) = sizes(rows.n())?;
    symmetric(estimate, subsamples, level, seed, n, m, |indices| {
        let centre = resample_centre(rows, indices, center)?.ok()?;
        let source = RowSource::Resample {
            rows,
            indices,
            centre: &centre,
        };
        mohammadi_median_of(&source, grid).ok().map(|e| e.alpha)
    })
}

/// Interval of `statistic(a) − statistic(b)` around `estimate` for two samples paired row
/// by row (row i of both from one chain's shared randomness): each subsample takes the
/// same rows of both, so what they share cancels.
pub fn paired_diff_ci<F>(
    a: &Rows,
    b: &Rows,
    estimate: f64,
    subsamples: usize,
    level: f64,
    seed: u64,
    statistic: F,
) -> Result<SubsampleCi, TailError>
where
    F: Fn(Rows) -> Result<f64, TailError> + Sync,
{
    if a.n() != b.n() {
        return Err(TailError::Invalid(format!(
            "paired samples need equally many rows, got {} and {}",
            a.n(),
            b.n()
        )));
    }
    let (n, m) = sizes(a.n())?;
    symmetric(estimate, subsamples, level, seed, n, m, |idx| {
        let x = statistic(a.select(idx)).ok()?;
        let y = statistic(b.select(idx)).ok()?;
        Some(x - y)
    })
}

fn sizes(n: usize) -> Result<(usize, usize), TailError> {
    if n < 4 {
        return Err(TailError::TooFewRows { needed: 4, got: n });
    }
    Ok((n, subsample_size(n)))
}

/// `m` distinct row indices out of `n`, ascending (rows stay in their order: chains are
/// exchangeable, and reading in order is faster).
fn draw(n: usize, m: usize, seed: u64, r: usize) -> Vec<usize> {
    let mut rng = stream(seed, "subsample", r as u64);
    let mut idx = rand::seq::index::sample(&mut rng, n, m).into_vec();
    idx.sort_unstable();
    idx
}

fn symmetric(
    estimate: f64,
    subsamples: usize,
    level: f64,
    seed: u64,
    n: usize,
    m: usize,
    stat: impl Fn(&[usize]) -> Option<f64> + Sync,
) -> Result<SubsampleCi, TailError> {
    if !(level > 0.0 && level < 1.0) {
        return Err(TailError::Invalid(format!(
            "confidence level must lie in (0, 1), got {level}"
        )));
    }
    if subsamples < 2 {
        return Err(TailError::Invalid(format!(
            "a subsampling interval needs at least 2 subsamples, got {subsamples}"
        )));
    }
    if !estimate.is_finite() {
        return Err(TailError::Invalid(format!(
            "the estimate {estimate} is not finite: no interval"
        )));
    }
    let mut devs: Vec<f64> = (0..subsamples)
        .into_par_iter()
        .map(|r| stat(&draw(n, m, seed, r)).filter(|v| v.is_finite()))
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .map(|v| (v - estimate).abs())
        .collect();
    if devs.len() < 2 {
        return Err(TailError::Invalid(
            "the statistic failed on almost every subsample".into(),
        ));
    }
    devs.sort_by(f64::total_cmp);
    let half = quantile_sorted(&devs, level) * (m as f64 / (n - m) as f64).sqrt();
    Ok(SubsampleCi {
        level,
        lo: estimate - half,
        hi: estimate + half,
        subsamples,
        failed: subsamples - devs.len(),
        size: m,
        seed,
    })
}

/// Linear-interpolated quantile of sorted data (numpy's default method).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos - pos.floor());
    if i + 1 < sorted.len() {
        sorted[i] + frac * (sorted[i + 1] - sorted[i])
    } else {
        sorted[i]
    }
}

/// `k` scaled to a subsample of `len` values holding `fraction` of the rows: k/n kept,
/// within 1 ≤ k < len.
pub fn scaled_k(k: usize, fraction: f64, len: usize) -> usize {
    ((k as f64 * fraction).round() as usize).clamp(1, len.saturating_sub(1).max(1))
}
