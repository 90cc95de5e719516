//! The Clauset–Shalizi–Newman (2009) power-law fit on magnitudes, as the `powerlaw`
//! package computes it: for a threshold `xmin`, the continuous MLE of the tail above it
//! (here the tail index `α = n_tail / Σ ln(xᵢ/xmin)`, the package's `alpha` − 1), the
//! threshold that minimises the Kolmogorov–Smirnov distance between the tail and the fitted
//! Pareto, and a semi-parametric bootstrap p-value of that distance (goodness of fit).
//!
//! The KS distance is the package's: over the distinct tail values `x` in ascending order,
//! `max |F̂(x) − F(x)|` with `F(x) = 1 − (x/xmin)^(−α)` and `F̂(x)` the fraction of the tail
//! strictly below `x`.

use super::TailError;
use super::streams::stream;
use rand::RngExt;
use rayon::prelude::*;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// Which thresholds the fit searches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerLawOptions {
    /// The smallest tail (samples ≥ xmin) a candidate threshold may leave.
    pub min_tail: usize,
    /// At most this many candidate thresholds, at tail sizes spaced geometrically from
    /// `min_tail` to n; 0 = every distinct sample value that leaves `min_tail` samples
    /// (exact, O(n²)).
    pub max_candidates: usize,
}

impl Default for PowerLawOptions {
    fn default() -> Self {
        PowerLawOptions {
            min_tail: 50,
            max_candidates: 400,
        }
    }
}

/// A power-law fit of the tail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerLawFit {
    /// The tail index (P(X > x) ~ x^−α), the MLE above `xmin`.
    pub alpha: f64,
    /// The threshold: the candidate sample value whose fit above it has the smallest KS
    /// distance.
    pub xmin: f64,
    /// Samples ≥ `xmin`.
    pub n_tail: usize,
    /// The KS distance at `xmin`.
    pub ks: f64,
    /// Positive samples the fit used (zeros are dropped, as the package does).
    pub n: usize,
    /// Candidate thresholds searched.
    pub candidates: usize,
}

/// The fit on `magnitudes` (non-negative; zeros dropped).
pub fn powerlaw_fit(
    magnitudes: &[f64],
    options: &PowerLawOptions,
) -> Result<PowerLawFit, TailError> {
    let sorted = positive_sorted(magnitudes)?;
    fit_sorted(&sorted, options)
}

/// The fit's α alone, on magnitudes the caller no longer needs (a subsample's statistic):
/// sorted in place rather than copied.
pub fn powerlaw_alpha_in_place(
    magnitudes: &mut [f64],
    options: &PowerLawOptions,
) -> Result<f64, TailError> {
    check_finite(magnitudes)?;
    magnitudes.sort_unstable_by(f64::total_cmp);
    let positive = magnitudes.partition_point(|&v| v <= 0.0);
    fit_sorted(&magnitudes[positive..], options).map(|f| f.alpha)
}

fn check_finite(magnitudes: &[f64]) -> Result<(), TailError> {
    match magnitudes.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(TailError::NonFinite { row: i, col: 0 }),
        None => Ok(()),
    }
}

fn positive_sorted(magnitudes: &[f64]) -> Result<Vec<f64>, TailError> {
    check_finite(magnitudes)?;
    let mut y: Vec<f64> = magnitudes.iter().copied().filter(|&v| v > 0.0).collect();
    y.sort_unstable_by(f64::total_cmp);
    Ok(y)
}

/// The starts `j` (tail = `y[j..]`) of the candidate thresholds, ascending.
fn candidate_starts(y: &[f64], options: &PowerLawOptions) -> Vec<usize> {
    let n = y.len();
    let min_tail = options.min_tail.max(2);
    if n < min_tail {
        return vec![];
    }
    // A threshold is a distinct value: the tail holds every sample equal to it.
    let first_of = |mut j: usize| {
        while j > 0 && y[j - 1] == y[j] {
            j -= 1;
        }
        j
    };
    let last = n - min_tail;
    let all = last + 1;
    if options.max_candidates == 0 || all <= options.max_candidates {
        return (0..=last).filter(|&j| j == 0 || y[j] != y[j - 1]).collect();
    }
    let m = options.max_candidates;
    let (lo, hi) = ((min_tail as f64).ln(), (n as f64).ln());
    let mut starts: Vec<usize> = (0..m)
        .map(|i| {
            let k = (lo + (hi - lo) * i as f64 / (m - 1) as f64).exp().round() as usize;
            first_of(n - k.clamp(min_tail, n))
        })
        .collect();
    starts.sort_unstable();
    starts.dedup();
    starts
}

/// The fit on positive values sorted ascending.
fn fit_sorted(y: &[f64], options: &PowerLawOptions) -> Result<PowerLawFit, TailError> {
    let n = y.len();
    let starts = candidate_starts(y, options);
    if starts.is_empty() {
        return Err(TailError::TooFewRows {
            needed: options.min_tail.max(2),
            got: n,
        });
    }
    let logs: Vec<f64> = y.iter().map(|v| v.ln()).collect();
    // suffix[j] = Σ_{i ≥ j} ln yᵢ, summed from the largest so that small tails are exact.
    let mut suffix = vec![0.0; n + 1];
    for j in (0..n).rev() {
        suffix[j] = suffix[j + 1] + logs[j];
    }
    // Non-negative f64s order as their bits: the best distance so far, shared by threads,
    // lets a candidate stop as soon as its distance exceeds it (the minimum is unchanged).
    let best = AtomicU64::new(f64::INFINITY.to_bits());
    let scored: Vec<Option<(f64, f64)>> = starts
        .par_iter()
        .map(|&j| {
            let k = n - j;
            let l0 = logs[j];
            let spread = suffix[j] - k as f64 * l0;
            // A constant tail has no power law (its spread is rounding).
            if y[n - 1] == y[j] || spread.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                return None;
            }
            let alpha = k as f64 / spread;
            let bound = f64::from_bits(best.load(Ordering::Relaxed));
            let kf = k as f64;
            let mut d: f64 = 0.0;
            let mut first = 0usize;
            for t in 0..k {
                if t > 0 && y[j + t] != y[j + t - 1] {
                    first = t;
                }
                let fitted = 1.0 - (-alpha * (logs[j + t] - l0)).exp();
                let dev = (fitted - first as f64 / kf).abs();
                if dev > d {
                    d = dev;
                    if d > bound {
                        return Some((f64::INFINITY, alpha));
                    }
                }
            }
            best.fetch_min(d.to_bits(), Ordering::Relaxed);
            Some((d, alpha))
        })
        .collect();
    // The smallest distance; among equal ones the lowest threshold (the package's argmin).
    let (i, (ks, alpha)) = scored
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.map(|s| (i, s)))
        .filter(|(_, (d, _))| d.is_finite())
        .min_by(|a, b| a.1.0.total_cmp(&b.1.0).then(a.0.cmp(&b.0)))
        .ok_or_else(|| {
            TailError::Invalid("every candidate tail is constant: no power-law fit".into())
        })?;
    let j = starts[i];
    Ok(PowerLawFit {
        alpha,
        xmin: y[j],
        n_tail: n - j,
        ks,
        n,
        candidates: starts.len(),
    })
}

/// The semi-parametric bootstrap p-value of a fit (Clauset et al. 2009, §4.1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoodnessOfFit {
    /// The fraction of synthetic samples whose refitted KS distance is at least the data's.
    pub p_value: f64,
    /// Synthetic samples drawn (failed ones included).
    pub resamples: usize,
    /// Synthetic samples whose refit failed (left out of the fraction).
    pub failed: usize,
}

/// Synthetic samples of the data's size keep the body below `xmin` (resampled with
/// replacement) and draw each tail sample, with probability n_tail/n, from the fitted
/// Pareto; each is refitted in full (threshold included). Resample `r` draws from its own
/// stream of `seed`, so the answer does not depend on the thread count.
pub fn powerlaw_gof(
    magnitudes: &[f64],
    fit: &PowerLawFit,
    resamples: usize,
    seed: u64,
    options: &PowerLawOptions,
) -> Result<GoodnessOfFit, TailError> {
    if resamples == 0 {
        return Err(TailError::Invalid(
            "the goodness-of-fit test needs at least 1 resample".into(),
        ));
    }
    let y = positive_sorted(magnitudes)?;
    let n = y.len();
    let body = &y[..y.partition_point(|&v| v < fit.xmin)];
    let p_tail = fit.n_tail as f64 / n as f64;
    let distances: Vec<Option<f64>> = (0..resamples)
        .into_par_iter()
        .map(|r| {
            let mut rng = stream(seed, "powerlaw_gof", r as u64);
            let mut x: Vec<f64> = (0..n)
                .map(|_| {
                    if body.is_empty() || rng.random::<f64>() < p_tail {
                        // 1 − U lies in (0, 1]: a finite Pareto draw.
                        fit.xmin * (1.0 - rng.random::<f64>()).powf(-1.0 / fit.alpha)
                    } else {
                        body[rng.random_range(0..body.len())]
                    }
                })
                .collect();
            x.sort_unstable_by(f64::total_cmp);
            fit_sorted(&x, options).ok().map(|f| f.ks)
        })
        .collect();
    let ok: Vec<f64> = distances.into_iter().flatten().collect();
    if ok.is_empty() {
        return Err(TailError::Invalid(
            "every synthetic sample failed to fit".into(),
        ));
    }
    let above = ok.iter().filter(|&&d| d >= fit.ks).count();
    Ok(GoodnessOfFit {
        p_value: above as f64 / ok.len() as f64,
        resamples,
        failed: resamples - ok.len(),
    })
}

/// The Clauset–Shalizi–Newman fit in [`crate::ESTIMATORS`], with its goodness of fit.
#[derive(Debug, Clone, Copy)]
pub struct PowerLaw;

impl crate::Estimator for PowerLaw {
    fn name(&self) -> &'static str {
        "powerlaw"
    }
    fn about(&self) -> &'static str {
        "Clauset–Shalizi–Newman power-law fit on |x| or row norms: the threshold xmin by \
         minimum Kolmogorov–Smirnov distance, the MLE tail index above it, and a bootstrap \
         goodness-of-fit p-value (the headline estimator of `tailgate train`)"
    }
    fn needs(&self) -> crate::Needs {
        crate::Needs::Norms
    }
    fn estimate(
        &self,
        sample: &crate::Sample<'_>,
        settings: &crate::EstimatorSettings,
    ) -> Result<crate::Answer, TailError> {
        let norms = sample.norms();
        let opts = settings.powerlaw;
        let fit = powerlaw_fit(norms, &opts)?;
        // A goodness of fit that cannot be had leaves the fit without a p-value.
        let p_value = (settings.gof_resamples > 0)
            .then(|| powerlaw_gof(norms, &fit, settings.gof_resamples, settings.seed, &opts))
            .and_then(Result::ok)
            .map(|g| g.p_value);
        Ok(crate::Answer {
            xmin: Some(fit.xmin),
            n_tail: Some(fit.n_tail),
            ks: Some(fit.ks),
            p_value,
            ..crate::Answer::alpha(fit.alpha)
        })
    }
    fn statistic(
        &self,
        magnitudes: &mut [f64],
        _fraction: f64,
        _answer: &crate::Answer,
        settings: &crate::EstimatorSettings,
    ) -> Result<f64, TailError> {
        powerlaw_alpha_in_place(magnitudes, &settings.powerlaw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On exact Pareto quantiles with every candidate searched, the fit's α at the chosen
    /// threshold is the closed form `k / Σ ln(x/xmin)` and its distance the definition.
    #[test]
    fn fit_is_the_mle_and_the_distance_at_the_chosen_threshold() {
        let alpha = 1.5;
        let x: Vec<f64> = (1..=2000u32)
            .map(|i| (f64::from(i) / 2001.0).powf(-1.0 / alpha))
            .collect();
        let opts = PowerLawOptions {
            min_tail: 20,
            max_candidates: 0,
        };
        let fit = powerlaw_fit(&x, &opts).unwrap();
        let mut tail: Vec<f64> = x.iter().copied().filter(|&v| v >= fit.xmin).collect();
        tail.sort_by(f64::total_cmp);
        assert_eq!(tail.len(), fit.n_tail);
        let k = tail.len() as f64;
        let mle = k / tail.iter().map(|v| (v / fit.xmin).ln()).sum::<f64>();
        assert!((fit.alpha - mle).abs() < 1e-12 * mle);
        let d = tail
            .iter()
            .enumerate()
            .map(|(t, v)| ((1.0 - (v / fit.xmin).powf(-mle)) - t as f64 / k).abs())
            .fold(0.0, f64::max);
        assert!((fit.ks - d).abs() < 1e-12, "{} vs {d}", fit.ks);
        assert!((fit.alpha - alpha).abs() < 0.05, "{}", fit.alpha);
    }

    /// Pruned candidates never change the answer: the grid's fit equals a brute-force
    /// minimum over the same candidates.
    #[test]
    fn pruning_keeps_the_minimum() {
        let x: Vec<f64> = (1..=3000u32)
            .map(|i| {
                let u = f64::from(i) / 3001.0;
                // A lognormal-ish body and a Pareto tail: a threshold in between.
                if i % 3 == 0 {
                    u.powf(-1.0 / 1.2)
                } else {
                    1.0 + u
                }
            })
            .collect();
        let opts = PowerLawOptions {
            min_tail: 30,
            max_candidates: 0,
        };
        let fit = powerlaw_fit(&x, &opts).unwrap();
        let mut y = x.clone();
        y.sort_by(f64::total_cmp);
        let mut best = f64::INFINITY;
        for j in candidate_starts(&y, &opts) {
            let tail = &y[j..];
            let k = tail.len() as f64;
            let a = k / tail.iter().map(|v| (v / y[j]).ln()).sum::<f64>();
            let d = tail
                .iter()
                .enumerate()
                .map(|(t, v)| ((1.0 - (v / y[j]).powf(-a)) - t as f64 / k).abs())
                .fold(0.0, f64::max);
            best = best.min(d);
        }
        assert!((fit.ks - best).abs() < 1e-12);
    }

    /// The in-place statistic (sorted where it lies, zeros skipped) is the fit's α.
    #[test]
    fn in_place_alpha_equals_the_fit() {
        let x: Vec<f64> = (0..3000u32)
            .map(|i| {
                let u = f64::from((i * 7919) % 3001 + 1) / 3002.0;
                if i % 50 == 0 { 0.0 } else { u.powf(-1.0 / 1.3) }
            })
            .collect();
        let opts = PowerLawOptions::default();
        let fit = powerlaw_fit(&x, &opts).unwrap();
        let mut y = x.clone();
        assert_eq!(powerlaw_alpha_in_place(&mut y, &opts).unwrap(), fit.alpha);
        let mut bad = vec![1.0, f64::NAN];
        assert!(powerlaw_alpha_in_place(&mut bad, &opts).is_err());
    }

    #[test]
    fn too_few_or_non_finite_samples_are_errors() {
        let opts = PowerLawOptions::default();
        assert!(matches!(
            powerlaw_fit(&[1.0, 2.0, 3.0], &opts),
            Err(TailError::TooFewRows { .. })
        ));
        assert!(matches!(
            powerlaw_fit(&[1.0, f64::NAN], &opts),
            Err(TailError::NonFinite { .. })
        ));
        assert!(
            powerlaw_fit(&[2.0; 100], &opts).is_err(),
            "a constant sample has no fit"
        );
    }

    /// A Pareto sample is a plausible power law (p well above 0.1); a Pareto tail glued to
    /// a uniform body that the threshold cannot cut away (min_tail = n) is not.
    #[test]
    fn gof_accepts_a_pareto_and_rejects_a_bad_fit() {
        let pareto: Vec<f64> = (0..1000)
            .map(|i| {
                let mut r = stream(9, "test", i);
                (1.0 - r.random::<f64>()).powf(-1.0 / 1.5)
            })
            .collect();
        let opts = PowerLawOptions {
            min_tail: 50,
            max_candidates: 100,
        };
        let fit = powerlaw_fit(&pareto, &opts).unwrap();
        let good = powerlaw_gof(&pareto, &fit, 100, 1, &opts).unwrap();
        assert!(good.p_value > 0.1, "{good:?}");
        let bad: Vec<f64> = (0..1000).map(|i| 1.0 + f64::from(i) / 1000.0).collect();
        let whole = PowerLawOptions {
            min_tail: 1000,
            max_candidates: 0,
        };
        let fit = powerlaw_fit(&bad, &whole).unwrap();
        let p = powerlaw_gof(&bad, &fit, 50, 1, &whole).unwrap();
        assert!(p.p_value < 0.05, "{p:?}");
    }
}
