//! Percentile bootstrap intervals over rows (chains): of one statistic, of a difference of
//! two independent samples, and of a difference of two samples paired row by row.

use super::center::resample_centre;
use super::gather::resample_values;
use super::mohammadi::{RowSource, mohammadi_median_of};
use super::{BlockGrid, Center, Rows, TailError, center_in_place, mohammadi_median};
use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::Serialize;

/// A percentile bootstrap confidence interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BootstrapCi {
    pub level: f64,
    pub lo: f64,
    pub hi: f64,
    /// Resamples drawn.
    pub resamples: usize,
    /// Resamples on which the statistic could not be computed (left out of the interval).
    pub failed: usize,
    pub seed: u64,
}

/// Percentile interval of `statistic` over `resamples` resamples of the rows with
/// replacement, each handed over owned (the statistic may centre it in place). Resample `r`
/// uses its own seeded stream, so the interval does not depend on the thread count.
pub fn bootstrap_ci<F>(
    rows: &Rows,
    resamples: usize,
    level: f64,
    seed: u64,
    statistic: F,
) -> Result<BootstrapCi, TailError>
where
    F: Fn(Rows) -> Result<f64, TailError> + Sync,
{
    percentile(resamples, level, seed, |r_seed| {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(r_seed);
        statistic(resample(rows, &mut rng)).ok()
    })
}

/// [`bootstrap_ci`] of a statistic of scalar samples, with the same resamples: each is
/// drawn straight into one buffer that the statistic may reorder (order statistics select
/// in place), so a resample in flight costs one copy of the sample, not three.
pub fn bootstrap_scalar_ci<F>(
    x: &[f64],
    resamples: usize,
    level: f64,
    seed: u64,
    statistic: F,
) -> Result<BootstrapCi, TailError>
where
    F: Fn(&mut [f64]) -> Result<f64, TailError> + Sync,
{
    let n = x.len();
    percentile(resamples, level, seed, |r_seed| {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(r_seed);
        let mut sample = resample_values(x, n, &mut rng);
        statistic(&mut sample).ok()
    })
}

/// [`bootstrap_ci`] of the Mohammadi median of the centred resamples (the interval every
/// run reports), with the same numbers: a resample's rows are read through its indices
/// and centred one tile at a time instead of copied and centred whole (about a tenth off
/// the estimation after a W run, BENCHMARKS.md). Median centring needs each resample's
/// columns, so it takes the general path.
pub fn mohammadi_bootstrap_ci(
    rows: &Rows,
    center: &Center,
    grid: &BlockGrid,
    resamples: usize,
    level: f64,
    seed: u64,
) -> Result<BootstrapCi, TailError> {
    if *center == Center::Median {
        return bootstrap_ci(rows, resamples, level, seed, |r| {
            Ok(mohammadi_median(&center_in_place(r, center)?, grid)?.alpha)
        });
    }
    percentile(resamples, level, seed, |r_seed| {
        let indices = draw_indices(rows.n(), &mut Xoshiro256PlusPlus::seed_from_u64(r_seed));
        let centre = resample_centre(rows, &indices, center)?.ok()?;
        let resample = RowSource::Resample {
            rows,
            indices: &indices,
            centre: &centre,
        };
        mohammadi_median_of(&resample, grid).ok().map(|e| e.alpha)
    })
}

/// Percentile interval of `statistic(a) − statistic(b)` for two independent samples, each
/// resampled with replacement on its own seeded stream.
pub fn bootstrap_diff_ci<F>(
    a: &Rows,
    b: &Rows,
    resamples: usize,
    level: f64,
    seed: u64,
    statistic: F,
) -> Result<BootstrapCi, TailError>
where
    F: Fn(Rows) -> Result<f64, TailError> + Sync,
{
    percentile(resamples, level, seed, |r_seed| {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(r_seed);
        let mut rng_b = Xoshiro256PlusPlus::seed_from_u64(r_seed ^ 0x9e37_79b9_7f4a_7c15);
        let x = statistic(resample(a, &mut rng)).ok()?;
        let y = statistic(resample(b, &mut rng_b)).ok()?;
        Some(x - y)
    })
}

/// Percentile interval of `statistic(a) − statistic(b)` for two samples paired row by row
/// (row i of `a` and of `b` come from one chain's shared randomness): each resample draws
/// one set of indices and takes those rows of both, so what the two share cancels.
pub fn bootstrap_paired_diff_ci<F>(
    a: &Rows,
    b: &Rows,
    resamples: usize,
    level: f64,
    seed: u64,
    statistic: F,
) -> Result<BootstrapCi, TailError>
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
    percentile(resamples, level, seed, |r_seed| {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(r_seed);
        let idx = draw_indices(a.n(), &mut rng);
        let x = statistic(a.select(&idx)).ok()?;
        let y = statistic(b.select(&idx)).ok()?;
        Some(x - y)
    })
}

/// Draws `resamples` values in parallel, resample `r` from the seed `seed + r` (so the
/// interval does not depend on the thread count), and takes their percentile interval;
/// non-finite and failed draws are left out and counted.
fn percentile(
    resamples: usize,
    level: f64,
    seed: u64,
    draw: impl Fn(u64) -> Option<f64> + Sync,
) -> Result<BootstrapCi, TailError> {
    check(resamples, level)?;
    let values: Vec<Option<f64>> = (0..resamples)
        .into_par_iter()
        .map(|r| draw(seed.wrapping_add(r as u64)).filter(|v| v.is_finite()))
        .collect();
    interval(values, level, resamples, seed)
}

fn check(resamples: usize, level: f64) -> Result<(), TailError> {
    if !(level > 0.0 && level < 1.0) {
        return Err(TailError::Invalid(format!(
            "confidence level must lie in (0, 1), got {level}"
        )));
    }
    if resamples < 2 {
        return Err(TailError::Invalid(format!(
            "a bootstrap interval needs at least 2 resamples, got {resamples}"
        )));
    }
    Ok(())
}

fn resample(rows: &Rows, rng: &mut Xoshiro256PlusPlus) -> Rows {
    rows.select(&draw_indices(rows.n(), rng))
}

/// `n` row indices drawn with replacement (the draws [`bootstrap_scalar_ci`] repeats).
fn draw_indices(n: usize, rng: &mut Xoshiro256PlusPlus) -> Vec<usize> {
    (0..n).map(|_| rng.random_range(0..n)).collect()
}

fn interval(
    values: Vec<Option<f64>>,
    level: f64,
    resamples: usize,
    seed: u64,
) -> Result<BootstrapCi, TailError> {
    let mut ok: Vec<f64> = values.iter().flatten().copied().collect();
    if ok.len() < 2 {
        return Err(TailError::Invalid(
            "the statistic failed on almost every bootstrap resample".into(),
        ));
    }
    ok.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Ok(BootstrapCi {
        level,
        lo: quantile_sorted(&ok, tail),
        hi: quantile_sorted(&ok, 1.0 - tail),
        resamples,
        failed: resamples - ok.len(),
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
