use super::{Rows, TailError};
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
/// replacement. Resample `r` uses its own seeded stream, so the interval does not depend
/// on the thread count.
pub fn bootstrap_ci<F>(
    rows: &Rows,
    resamples: usize,
    level: f64,
    seed: u64,
    statistic: F,
) -> Result<BootstrapCi, TailError>
where
    F: Fn(&Rows) -> Result<f64, TailError> + Sync,
{
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
    let n = rows.n();
    let values: Vec<Option<f64>> = (0..resamples)
        .into_par_iter()
        .map(|r| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed.wrapping_add(r as u64));
            let idx: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
            statistic(&rows.select(&idx)).ok().filter(|v| v.is_finite())
        })
        .collect();
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
