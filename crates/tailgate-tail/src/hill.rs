//! Hill (1975) on magnitudes, with a fixed `k` or the double bootstrap of
//! Danielsson, de Haan, Peng & de Vries (2001) as laid out by Voitalov et al. (2019).

use super::TailError;
use super::gather::resample_values;
use super::streams::stream;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// How the number of upper order statistics `k` is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KChoice {
    /// Exactly this `k`.
    Fixed(usize),
    /// Danielsson et al. (2001) double bootstrap with `resamples` resamples per stage.
    DoubleBootstrap {
        /// Bootstrap resamples at each of the two stages (at least 1).
        resamples: usize,
        /// Seed of the resample streams (resample `r` of a stage is stream `r`).
        seed: u64,
    },
}

/// A Hill estimate with the `k` it used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HillEstimate {
    /// The tail index α̂ at `k`.
    pub alpha: f64,
    /// Upper order statistics used (the k largest magnitudes above the (k+1)-th).
    pub k: usize,
    /// `fixed` or `double_bootstrap`.
    pub k_rule: String,
}

/// `α̂_k = 1 / ((1/k) Σ_{i≤k} log X_(i) − log X_(k+1))` on magnitudes `X ≥ 0`,
/// `X_(1) ≥ X_(2) ≥ …`. O(n): only the top `k+1` are partially sorted.
pub fn hill_alpha(magnitudes: &[f64], k: usize) -> Result<f64, TailError> {
    hill_alpha_in_place(&mut magnitudes.to_vec(), k)
}

/// [`hill_alpha`] on magnitudes the caller no longer needs in their order (reordered here,
/// not copied: a bootstrap resample of 10⁷ chains).
pub fn hill_alpha_in_place(v: &mut [f64], k: usize) -> Result<f64, TailError> {
    let n = v.len();
    if k == 0 || k >= n {
        return Err(TailError::KOutOfRange { k, n });
    }
    // Descending: after this, v[..k] are the k largest and v[k] is X_(k+1).
    v.select_nth_unstable_by(k, |a, b| b.total_cmp(a));
    let threshold = v[k];
    if threshold <= 0.0 {
        return Err(TailError::ZeroThreshold { k });
    }
    let mean_log = v[..k].iter().map(|x| x.ln()).sum::<f64>() / k as f64;
    Ok(1.0 / (mean_log - threshold.ln()))
}

/// The Hill plot: `(k, α̂_k)` for `k = 1..=k_max` (clamped to `n − 1`), stopping where
/// `X_(k+1)` reaches 0.
pub fn hill_plot(magnitudes: &[f64], k_max: usize) -> Vec<(usize, f64)> {
    let sorted = sorted_desc(magnitudes);
    let logs: Vec<f64> = sorted.iter().map(|x| x.ln()).collect();
    let mut out = Vec::new();
    let mut cum = 0.0;
    for k in 1..=k_max.min(sorted.len().saturating_sub(1)) {
        cum += logs[k - 1];
        if sorted[k] <= 0.0 {
            break;
        }
        out.push((k, 1.0 / (cum / k as f64 - logs[k])));
    }
    out
}

/// Hill with `k` chosen by `choice`.
pub fn hill(magnitudes: &[f64], choice: KChoice) -> Result<HillEstimate, TailError> {
    let (k, k_rule) = match choice {
        KChoice::Fixed(k) => (k, "fixed"),
        KChoice::DoubleBootstrap { resamples, seed } => (
            double_bootstrap_k(magnitudes, resamples, seed)?,
            "double_bootstrap",
        ),
    };
    Ok(HillEstimate {
        alpha: hill_alpha(magnitudes, k)?,
        k,
        k_rule: k_rule.to_string(),
    })
}

pub(super) fn sorted_desc(magnitudes: &[f64]) -> Vec<f64> {
    let mut v = magnitudes.to_vec();
    sort_desc(&mut v);
    v
}

/// Sorts magnitudes descending in place (the order of [`sorted_desc`]).
pub(super) fn sort_desc(v: &mut [f64]) {
    v.sort_unstable_by(|a, b| b.total_cmp(a));
}

/// Smallest sample the double bootstrap accepts: below it the second-stage resamples
/// are too small to have an AMSE minimum.
const MIN_DOUBLE_BOOTSTRAP_N: usize = 50;

/// The resample sizes of a double bootstrap on `n` magnitudes (t = ½): `n₁ = n^ε`,
/// `ε = ½(1 + ln⌊n/2⌋ / ln n)`, and `n₂ = n₁²/n`; an error for too few magnitudes or no
/// resamples. Shared by Hill's and the moments estimator's (`extreme.rs`) double bootstrap.
pub(super) fn double_bootstrap_sizes(
    n: usize,
    resamples: usize,
) -> Result<(usize, usize), TailError> {
    if n < MIN_DOUBLE_BOOTSTRAP_N {
        return Err(TailError::TooFewRows {
            needed: MIN_DOUBLE_BOOTSTRAP_N,
            got: n,
        });
    }
    if resamples == 0 {
        return Err(TailError::Invalid(
            "double bootstrap needs at least 1 resample".into(),
        ));
    }
    let nf = n as f64;
    let eps = 0.5 * (1.0 + (0.5 * nf).floor().ln() / nf.ln());
    let n1 = nf.powf(eps).floor() as usize;
    Ok((n1, n1 * n1 / n))
}

/// The `k` that minimises the asymptotic MSE of Hill, by double bootstrap
/// (Danielsson et al. 2001): first-stage resamples of size `n1 = √t·n`, second of
/// `n2 = n1²/n` (t = 1/2), AMSE `(M2 − 2 M1²)²` averaged over resamples, and
/// `k* = (k1²/k2) · (log k1 / (2 log n1 − log k1))^{2 (log n1 − log k1)/log n1}`.
pub fn double_bootstrap_k(
    magnitudes: &[f64],
    resamples: usize,
    seed: u64,
) -> Result<usize, TailError> {
    let n = magnitudes.len();
    let (n1, n2) = double_bootstrap_sizes(n, resamples)?;
    let nf = n as f64;
    let amse1 = mean_amse(magnitudes, n1, resamples, seed, "hill_double_bootstrap_1");
    let amse2 = mean_amse(magnitudes, n2, resamples, seed, "hill_double_bootstrap_2");
    // Voitalov et al.: when k2 > k1 the first minimum is suspected false; move the
    // left boundary of both searches up by 0.5% of n and search again.
    let shift = ((0.005 * nf) as usize).max(1);
    let mut lo = 1;
    let (k1, k2) = loop {
        let k1 = argmin_k(&amse1, lo, n1);
        let k2 = argmin_k(&amse2, lo, n2);
        match (k1, k2) {
            (Some(k1), Some(k2)) if k2 <= k1 => break (k1, k2),
            (Some(_), Some(_)) => lo += shift,
            _ => {
                return Err(TailError::Invalid(format!(
                    "double bootstrap found no AMSE minimum for n = {n}; give k explicitly"
                )));
            }
        }
    };
    let (lk1, ln1) = ((k1 as f64).ln(), (n1 as f64).ln());
    let prefactor = (lk1 / (2.0 * ln1 - lk1)).powf(2.0 * (ln1 - lk1) / ln1);
    let k_star = ((k1 * k1) as f64 / k2 as f64 * prefactor).round() as usize;
    Ok(k_star.clamp(2, n - 1))
}

/// Average over `resamples` bootstrap resamples of size `size` of the AMSE proxy
/// `(M2(k) − 2 M1(k)²)²`, for `k = 1..size−1` (index `k − 1`). NaN where undefined.
fn mean_amse(
    magnitudes: &[f64],
    size: usize,
    resamples: usize,
    seed: u64,
    purpose: &str,
) -> Vec<f64> {
    mean_over_resamples(magnitudes, size, resamples, seed, purpose, amse_in_place)
}

/// The average over `resamples` resamples of size `size` (with replacement, sorted
/// descending; resample `r` from stream `r` of `purpose`) of `per_sample`'s curve over k = 1 … size − 1, NaNs skipped: the first and
/// second stages of a double bootstrap (Hill's here, the moments estimator's in
/// `extreme.rs`). `per_sample` turns the sorted resample into its curve in place (one
/// buffer per resample in flight: at 10⁷ chains a resample is 56 MB).
pub(super) fn mean_over_resamples(
    magnitudes: &[f64],
    size: usize,
    resamples: usize,
    seed: u64,
    purpose: &str,
    per_sample: impl Fn(&mut Vec<f64>) + Sync,
) -> Vec<f64> {
    let len = size.saturating_sub(1);
    let mut sum = vec![0.0; len];
    let mut count = vec![0u32; len];
    // Resamples in parallel batches, summed in a fixed order: same seed, same k.
    let batch = rayon::current_num_threads().max(1);
    for start in (0..resamples).step_by(batch) {
        let parts: Vec<Vec<f64>> = (start..(start + batch).min(resamples))
            .into_par_iter()
            .map(|r| {
                let mut rng = stream(seed, purpose, r as u64);
                let mut sample = resample_values(magnitudes, size, &mut rng);
                sort_desc(&mut sample);
                per_sample(&mut sample);
                sample
            })
            .collect();
        for part in parts {
            for (i, v) in part.into_iter().enumerate() {
                if v.is_finite() {
                    sum[i] += v;
                    count[i] += 1;
                }
            }
        }
    }
    sum.iter()
        .zip(&count)
        .map(|(&s, &c)| if c > 0 { s / f64::from(c) } else { f64::NAN })
        .collect()
}

/// Hill's AMSE proxy over k = 1 … n − 1 of a descending sample, written over the sample
/// (entry k − 1 is read before it is overwritten; the last entry is dropped).
fn amse_in_place(v: &mut Vec<f64>) {
    v.iter_mut().for_each(|x| *x = x.ln());
    let (mut c1, mut c2) = (0.0, 0.0);
    for k in 1..v.len() {
        let y = v[k - 1];
        c1 += y;
        c2 += y * y;
        let kf = k as f64;
        let l = v[k];
        let m1 = c1 / kf - l;
        let m2 = c2 / kf - 2.0 * l * c1 / kf + l * l;
        v[k - 1] = if m2 <= 0.0 || !m1.is_finite() || !m2.is_finite() {
            f64::NAN
        } else {
            (m2 - 2.0 * m1 * m1).powi(2)
        };
    }
    v.pop();
}

/// `k` (1-based) minimising `amse` over `k ∈ [lo+1, 0.99·size)`, NaNs skipped.
fn argmin_k(amse: &[f64], lo: usize, size: usize) -> Option<usize> {
    let hi = ((0.99 * size as f64).round() as usize).min(amse.len());
    (lo..hi)
        .filter(|&i| amse[i].is_finite())
        .min_by(|&a, &b| amse[a].total_cmp(&amse[b]))
        .map(|i| i + 1)
}

/// Hill in [`crate::ESTIMATORS`]: on the norms, at the settings' k or the double bootstrap's.
#[derive(Debug, Clone, Copy)]
pub struct Hill;

impl crate::Estimator for Hill {
    fn name(&self) -> &'static str {
        "hill"
    }
    fn about(&self) -> &'static str {
        "Hill on |x| or row norms, at --k or the double-bootstrap k"
    }
    fn needs(&self) -> crate::Needs {
        crate::Needs::Norms
    }
    fn estimate(
        &self,
        sample: &crate::Sample<'_>,
        settings: &crate::EstimatorSettings,
    ) -> Result<crate::Answer, TailError> {
        let est = hill(sample.norms(), settings.k_choice())?;
        Ok(crate::Answer {
            k: Some(est.k),
            k_rule: Some(est.k_rule),
            ..crate::Answer::alpha(est.alpha)
        })
    }
    fn interval_at_fixed_k(&self) -> bool {
        true
    }
    fn statistic(
        &self,
        magnitudes: &mut [f64],
        fraction: f64,
        answer: &crate::Answer,
        _settings: &crate::EstimatorSettings,
    ) -> Result<f64, TailError> {
        let k = answer.k.unwrap_or(1);
        let len = magnitudes.len();
        hill_alpha_in_place(magnitudes, crate::scaled_k(k, fraction, len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-place curve from power sums equals `(M2 − 2 M1²)²` computed at each k from
    /// its definition, `Mⱼ = (1/k) Σ_{i≤k} (ln X₍ᵢ₎ − ln X₍ₖ₊₁₎)ʲ`.
    #[test]
    fn amse_in_place_is_the_definition() {
        // Pareto(1.5) quantiles: the spacings of a heavy tail.
        let mut x: Vec<f64> = (1..=300u32)
            .map(|i| (f64::from(i) / 301.0).powf(-1.0 / 1.5))
            .collect();
        sort_desc(&mut x);
        let mut curve = x.clone();
        amse_in_place(&mut curve);
        assert_eq!(curve.len(), x.len() - 1);
        for k in 1..x.len() {
            let l = x[k].ln();
            let m1 = x[..k].iter().map(|v| v.ln() - l).sum::<f64>() / k as f64;
            let m2 = x[..k].iter().map(|v| (v.ln() - l).powi(2)).sum::<f64>() / k as f64;
            let want = (m2 - 2.0 * m1 * m1).powi(2);
            assert!(
                (curve[k - 1] - want).abs() <= 1e-9 * want.abs().max(1e-6),
                "k {k}: {} vs {want}",
                curve[k - 1]
            );
        }
    }
}
