//! Two order-statistics estimators of the extreme-value index ξ (α = 1/ξ) on magnitudes,
//! with the conventions of the `tail-estimation` package (Voitalov et al. 2019), on values
//! sorted descending `X₍₁₎ ≥ X₍₂₎ ≥ …`:
//! - moments (Dekkers, Einmahl & de Haan 1989): `Mⱼ = (1/k) Σ_{i≤k} (ln X₍ᵢ₎ − ln X₍ₖ₊₁₎)ʲ`,
//!   `ξ = M₁ + 1 − ½ (1 − M₁²/M₂)⁻¹`; data-driven k by the double bootstrap of
//!   Draisma, de Haan, Peng & Pereira (1999), as tail-estimation computes it;
//! - Pickands (1975), `1 ≤ k ≤ N/4`: `ξ = ln((X₍ₖ₎ − X₍₂ₖ₎)/(X₍₂ₖ₎ − X₍₄ₖ₎)) / ln 2`;
//!   data-driven k by a stability rule (below).
//!
//! A non-positive ξ has no finite α: it is reported as `alpha: None`, never as a number.

use super::TailError;
use super::hill::{KChoice, double_bootstrap_sizes, mean_over_resamples, sorted_desc};
use serde::Serialize;

/// An estimate of ξ at the `k` it used, and α = 1/ξ where ξ > 0.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct XiEstimate {
    /// The extreme-value index ξ̂ at `k`, of either sign.
    pub xi: f64,
    /// `None` when ξ ≤ 0 (no finite tail index: a light or bounded tail).
    pub alpha: Option<f64>,
    /// Upper order statistics used (moments: the k largest above X₍ₖ₊₁₎; Pickands:
    /// X₍ₖ₎, X₍₂ₖ₎ and X₍₄ₖ₎).
    pub k: usize,
    /// `fixed`, `double_bootstrap` or `stability`.
    pub k_rule: String,
}

impl XiEstimate {
    fn new(xi: f64, k: usize, k_rule: &str) -> Self {
        XiEstimate {
            xi,
            alpha: (xi > 0.0).then(|| 1.0 / xi),
            k,
            k_rule: k_rule.to_string(),
        }
    }
}

/// The moments estimator's AMSE proxy `(ξ₂ − ξ₃)²` at every k = 1 … n − 1 of a descending
/// sample, written over the sample (entry k − 1 is read before it is overwritten; the last
/// entry is dropped), from `(M₁, M₂, M₃)` at k (NaN where `X₍ₖ₊₁₎ ≤ 0`), with
/// `ξ₃ = √(M₂/2) + 1 − ⅔ (1 − M₁M₂/M₃)⁻¹`.
fn moments_amse_in_place(v: &mut Vec<f64>) {
    // ln x = −∞ exactly where x ≤ 0 among magnitudes (x ≥ 0, never NaN).
    v.iter_mut().for_each(|x| *x = x.ln());
    let (mut s1, mut s2, mut s3) = (0.0, 0.0, 0.0);
    for k in 1..v.len() {
        let y = v[k - 1];
        s1 += y;
        s2 += y * y;
        s3 += y * y * y;
        let (kf, l) = (k as f64, v[k]);
        let m = if l == f64::NEG_INFINITY {
            [f64::NAN; 3]
        } else {
            // Σ (y − l)ʲ from the power sums.
            let m1 = s1 / kf - l;
            let m2 = s2 / kf - 2.0 * l * s1 / kf + l * l;
            let m3 = s3 / kf - 3.0 * l * s2 / kf + 3.0 * l * l * s1 / kf - l * l * l;
            [m1, m2, m3]
        };
        let xi2 = moments_xi_of(m);
        let xi3 = (0.5 * m[1]).sqrt() + 1.0 - (2.0 / 3.0) / (1.0 - m[0] * m[1] / m[2]);
        v[k - 1] = (xi2 - xi3).powi(2);
    }
    v.pop();
}

fn moments_xi_of([m1, m2, _]: [f64; 3]) -> f64 {
    m1 + 1.0 - 0.5 / (1.0 - m1 * m1 / m2)
}

/// The moments estimator at `k` (1 ≤ k < n).
pub fn moments_xi(magnitudes: &[f64], k: usize) -> Result<f64, TailError> {
    moments_xi_in_place(&mut magnitudes.to_vec(), k)
}

/// [`moments_xi`] on magnitudes the caller no longer needs in their order (reordered).
fn moments_xi_in_place(v: &mut [f64], k: usize) -> Result<f64, TailError> {
    let n = v.len();
    if k == 0 || k >= n {
        return Err(TailError::KOutOfRange { k, n });
    }
    // Descending: v[..k] are the k largest, v[k] is X₍ₖ₊₁₎.
    v.select_nth_unstable_by(k, |a, b| b.total_cmp(a));
    let threshold = v[k];
    if threshold <= 0.0 {
        return Err(TailError::ZeroThreshold { k });
    }
    let l = threshold.ln();
    let (mut m1, mut m2) = (0.0, 0.0);
    for x in &v[..k] {
        let y = x.ln() - l;
        m1 += y;
        m2 += y * y;
    }
    Ok(moments_xi_of([m1 / k as f64, m2 / k as f64, 0.0]))
}

/// α = 1/ξ of the moments estimator at `k`, an error where ξ ≤ 0 (no finite α): the
/// statistic a bootstrap interval resamples (such a resample counts as failed).
pub fn moments_alpha(magnitudes: &[f64], k: usize) -> Result<f64, TailError> {
    moments_alpha_in_place(&mut magnitudes.to_vec(), k)
}

/// [`moments_alpha`] on magnitudes the caller no longer needs in their order (reordered).
pub fn moments_alpha_in_place(magnitudes: &mut [f64], k: usize) -> Result<f64, TailError> {
    finite_alpha(moments_xi_in_place(magnitudes, k)?)
}

/// α = 1/ξ of Pickands' estimator at `k`, an error where ξ ≤ 0 (see [`moments_alpha`]).
pub fn pickands_alpha(magnitudes: &[f64], k: usize) -> Result<f64, TailError> {
    pickands_alpha_in_place(&mut magnitudes.to_vec(), k)
}

/// [`pickands_alpha`] on magnitudes the caller no longer needs in their order (reordered).
pub fn pickands_alpha_in_place(magnitudes: &mut [f64], k: usize) -> Result<f64, TailError> {
    finite_alpha(pickands_xi_in_place(magnitudes, k)?)
}

fn finite_alpha(xi: f64) -> Result<f64, TailError> {
    if xi > 0.0 {
        Ok(1.0 / xi)
    } else {
        Err(TailError::Invalid(format!("ξ = {xi} ≤ 0: no finite α")))
    }
}

/// The moments estimator with `k` fixed or chosen by double bootstrap.
pub fn moments(magnitudes: &[f64], choice: KChoice) -> Result<XiEstimate, TailError> {
    let (k, rule) = match choice {
        KChoice::Fixed(k) => (k, "fixed"),
        KChoice::DoubleBootstrap { resamples, seed } => (
            moments_double_bootstrap_k(magnitudes, resamples, seed)?,
            "double_bootstrap",
        ),
    };
    Ok(XiEstimate::new(moments_xi(magnitudes, k)?, k, rule))
}

/// The AMSE minimum is searched over k/size up to this fraction (tail-estimation's
/// `eps_stop` default for the moments estimator).
const EPS_STOP: f64 = 0.99;

/// The double-bootstrap k of the moments estimator: resamples of sizes `n₁ = n^ε`
/// (ε = ½(1 + ln⌊n/2⌋/ln n)) and `n₂ = n₁²/n`; the AMSE proxy `(ξ₂ − ξ₃)²` with
/// `ξ₃ = √(M₂/2) + 1 − ⅔ (1 − M₁M₂/M₃)⁻¹`, averaged over resamples; its minima k₁, k₂ and
/// `k* = (k₁²/k₂)·c(ξ̂, ρ̂)`, with the constant of Draisma et al. from ξ̂ at k = ⌊√n⌋ and
/// `ρ̂ = ln k₁ / (2 ln k₁ − 2 ln n₁)`. Retried on fresh resamples when k₂ > k₁.
pub fn moments_double_bootstrap_k(
    magnitudes: &[f64],
    resamples: usize,
    seed: u64,
) -> Result<usize, TailError> {
    let n = magnitudes.len();
    let (n1, n2) = double_bootstrap_sizes(n, resamples)?;
    let nf = n as f64;
    let xi_n = moments_xi(magnitudes, (nf.sqrt().floor() as usize).max(1))?;
    for attempt in 0..5u64 {
        let k1 = amse_argmin(
            magnitudes,
            n1,
            resamples,
            seed,
            &format!("moments_double_bootstrap_1_{attempt}"),
        );
        let k2 = amse_argmin(
            magnitudes,
            n2,
            resamples,
            seed,
            &format!("moments_double_bootstrap_2_{attempt}"),
        );
        let (Some(k1), Some(k2)) = (k1, k2) else {
            break;
        };
        if k2 > k1 {
            continue;
        }
        let k_star = (k1 * k1) as f64 / k2 as f64 * moments_prefactor(xi_n, n1, k1);
        if !k_star.is_finite() {
            break;
        }
        return Ok((k_star as usize).clamp(2, n - 1));
    }
    Err(TailError::Invalid(format!(
        "the moments double bootstrap found no usable AMSE minimum for n = {n}; give k explicitly"
    )))
}

/// Argmin (1-based k) of the resample-averaged `(ξ₂ − ξ₃)²` at resample size `size`.
fn amse_argmin(
    magnitudes: &[f64],
    size: usize,
    resamples: usize,
    seed: u64,
    purpose: &str,
) -> Option<usize> {
    if size < 3 {
        return None;
    }
    let amse = mean_over_resamples(
        magnitudes,
        size,
        resamples,
        seed,
        purpose,
        moments_amse_in_place,
    );
    // tail-estimation: the index of linspace(1/size, 1, size) nearest EPS_STOP bounds the search.
    let stop = (EPS_STOP * size as f64 - 1.0)
        .round()
        .clamp(1.0, amse.len() as f64) as usize;
    (0..stop)
        .filter(|&i| amse[i].is_finite())
        .min_by(|&a, &b| amse[a].total_cmp(&amse[b]))
        .map(|i| i + 1)
}

/// The constant of Draisma et al. (1999) relating k₁²/k₂ to the optimal k of the moments
/// estimator, for ξ̂ and ρ̂ = ln k₁ / (2 ln k₁ − 2 ln n₁).
fn moments_prefactor(xi: f64, n1: usize, k1: usize) -> f64 {
    let rho = (k1 as f64).ln() / (2.0 * (k1 as f64).ln() - 2.0 * (n1 as f64).ln());
    let v_sq = if xi >= 0.0 {
        1.0 + xi * xi
    } else {
        (1.0 - xi).powi(2) * (1.0 - 2.0 * xi) * (6.0 * xi * xi - xi + 1.0)
            / ((1.0 - 3.0 * xi) * (1.0 - 4.0 * xi))
    };
    let v_bar_sq = if xi >= 0.0 {
        0.25 * (1.0 + xi * xi)
    } else {
        let a = 0.25 * (1.0 - xi).powi(2);
        let b = 1.0 - 8.0 * xi + 48.0 * xi.powi(2) - 154.0 * xi.powi(3);
        let c = 263.0 * xi.powi(4) - 222.0 * xi.powi(5) + 72.0 * xi.powi(6);
        let d = (1.0 - 2.0 * xi) * (1.0 - 3.0 * xi) * (1.0 - 4.0 * xi);
        let e = (1.0 - 5.0 * xi) * (1.0 - 6.0 * xi);
        a * (b + c) / (d * e)
    };
    let b = if xi < rho {
        (1.0 - xi) * (1.0 - 2.0 * xi) / ((1.0 - rho - xi) * (1.0 - rho - 2.0 * xi))
    } else if xi < 0.0 {
        1.0 / (1.0 - xi)
    } else {
        xi / (rho * (1.0 - rho)) + 1.0 / (1.0 - rho).powi(2)
    };
    let b_bar = if xi < rho {
        0.5 * (-rho * (1.0 - xi).powi(2))
            / ((1.0 - xi - rho) * (1.0 - 2.0 * xi - rho) * (1.0 - 3.0 * xi - rho))
    } else if xi < 0.0 {
        (1.0 - 2.0 * xi - ((1.0 - xi) * (1.0 - 2.0 * xi)).sqrt()) / ((1.0 - xi) * (1.0 - 2.0 * xi))
    } else {
        -(rho + xi * (1.0 - rho)) / (2.0 * (1.0 - rho).powi(3))
    };
    (v_sq * b_bar * b_bar / (v_bar_sq * b * b)).powf(1.0 / (1.0 - 2.0 * rho))
}

/// Pickands at `k` on descending `sorted` (1 ≤ k ≤ n/4).
fn pickands_sorted(sorted: &[f64], k: usize) -> f64 {
    pickands_of(sorted[k - 1], sorted[2 * k - 1], sorted[4 * k - 1])
}

/// `ln((X₍ₖ₎ − X₍₂ₖ₎)/(X₍₂ₖ₎ − X₍₄ₖ₎)) / ln 2`.
fn pickands_of(a: f64, b: f64, c: f64) -> f64 {
    ((a - b) / (b - c)).ln() / std::f64::consts::LN_2
}

/// Pickands' estimator at `k` (1 ≤ k ≤ n/4).
pub fn pickands_xi(magnitudes: &[f64], k: usize) -> Result<f64, TailError> {
    pickands_xi_in_place(&mut magnitudes.to_vec(), k)
}

/// [`pickands_xi`] on magnitudes the caller no longer needs in their order: three
/// selections instead of a sort (the same order statistics, so the same ξ).
fn pickands_xi_in_place(v: &mut [f64], k: usize) -> Result<f64, TailError> {
    let n = v.len();
    if k == 0 || 4 * k > n {
        return Err(TailError::KOutOfRange { k, n });
    }
    let desc = |a: &f64, b: &f64| b.total_cmp(a);
    // Each selection leaves the larger values before its index, where the next one looks.
    let c = *v.select_nth_unstable_by(4 * k - 1, desc).1;
    let b = *v[..4 * k - 1].select_nth_unstable_by(2 * k - 1, desc).1;
    let a = *v[..2 * k - 1].select_nth_unstable_by(k - 1, desc).1;
    Ok(pickands_of(a, b, c))
}

/// Pickands with `k` fixed, or chosen by stability: on a geometric grid of k (ratio 2^¼)
/// from 10 to n/8, the k whose neighbourhood `[k/2, 2k]` (within n/4) has the smallest
/// spread (interquartile range) of ξ̂ — the flattest stretch of the Pickands plot, where
/// neither the variance of small k nor the bias of large k dominates. The double
/// bootstrap's resample settings are ignored for Pickands.
pub fn pickands(magnitudes: &[f64], choice: KChoice) -> Result<XiEstimate, TailError> {
    let sorted = sorted_desc(magnitudes);
    let n = sorted.len();
    let (k, rule) = match choice {
        KChoice::Fixed(k) => {
            if k == 0 || 4 * k > n {
                return Err(TailError::KOutOfRange { k, n });
            }
            (k, "fixed")
        }
        KChoice::DoubleBootstrap { .. } => (pickands_stable_k(&sorted)?, "stability"),
    };
    Ok(XiEstimate::new(pickands_sorted(&sorted, k), k, rule))
}

fn pickands_stable_k(sorted: &[f64]) -> Result<usize, TailError> {
    let n = sorted.len();
    if n < 160 {
        return Err(TailError::TooFewRows {
            needed: 160,
            got: n,
        });
    }
    let quarter = n / 4;
    let xi: Vec<f64> = (1..=quarter).map(|k| pickands_sorted(sorted, k)).collect();
    let spread = |k: usize| {
        let mut w: Vec<f64> = xi[(k / 2).max(1) - 1..(2 * k).min(quarter)]
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        if w.len() < 4 {
            return f64::INFINITY;
        }
        w.sort_by(f64::total_cmp);
        let q = |p: f64| w[((w.len() - 1) as f64 * p).round() as usize];
        q(0.75) - q(0.25)
    };
    let mut best = (f64::INFINITY, 10);
    let mut kf = 10.0f64;
    while (kf as usize) <= n / 8 {
        let k = kf as usize;
        let s = spread(k);
        if s < best.0 {
            best = (s, k);
        }
        kf *= 2f64.powf(0.25);
    }
    Ok(best.1)
}

/// An ξ estimate as an answer: α = 1/ξ where ξ > 0, otherwise none, with the reason.
fn xi_answer(est: XiEstimate) -> crate::Answer {
    crate::Answer {
        alpha: est.alpha,
        // The value is in `xi`.
        reason: est
            .alpha
            .is_none()
            .then(|| "ξ ≤ 0: no finite tail index".to_string()),
        xi: Some(est.xi),
        k: Some(est.k),
        k_rule: Some(est.k_rule),
        ..crate::Answer::default()
    }
}

/// The moments estimator in [`crate::ESTIMATORS`].
#[derive(Debug, Clone, Copy)]
pub struct Moments;

/// Pickands' estimator in [`crate::ESTIMATORS`].
#[derive(Debug, Clone, Copy)]
pub struct Pickands;

impl crate::Estimator for Moments {
    fn name(&self) -> &'static str {
        "moments"
    }
    fn about(&self) -> &'static str {
        "Dekkers–Einmahl–de Haan moments estimator on |x| or row norms, at --k or the \
         double-bootstrap k (Draisma et al. 1999, as the tail-estimation package)"
    }
    fn needs(&self) -> crate::Needs {
        crate::Needs::Norms
    }
    fn estimate(
        &self,
        sample: &crate::Sample<'_>,
        settings: &crate::EstimatorSettings,
    ) -> Result<crate::Answer, TailError> {
        moments(sample.norms(), settings.k_choice()).map(xi_answer)
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
        moments_alpha_in_place(magnitudes, crate::scaled_k(k, fraction, len))
    }
}

impl crate::Estimator for Pickands {
    fn name(&self) -> &'static str {
        "pickands"
    }
    fn about(&self) -> &'static str {
        "Pickands (1975) on |x| or row norms, at --k (≤ N/4) or the k where the Pickands \
         plot is flattest"
    }
    fn needs(&self) -> crate::Needs {
        crate::Needs::Norms
    }
    fn estimate(
        &self,
        sample: &crate::Sample<'_>,
        settings: &crate::EstimatorSettings,
    ) -> Result<crate::Answer, TailError> {
        pickands(sample.norms(), settings.k_choice()).map(xi_answer)
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
        pickands_alpha_in_place(magnitudes, crate::scaled_k(k, fraction, len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-place curve from power sums equals `(ξ₂ − ξ₃)²` from the moments at each k
    /// by their definition; NaN where `X₍ₖ₊₁₎ = 0`. (At k = 1 both denominators are 0 by
    /// definition, and the power sums' rounding decides: not compared.)
    #[test]
    fn moments_amse_in_place_is_the_definition() {
        // Pareto(1.5) quantiles: the spacings of a heavy tail.
        let mut x: Vec<f64> = (1..=300u32)
            .map(|i| (f64::from(i) / 301.0).powf(-1.0 / 1.5))
            .collect();
        x.extend([0.0; 3]);
        crate::hill::sort_desc(&mut x);
        let mut curve = x.clone();
        moments_amse_in_place(&mut curve);
        assert_eq!(curve.len(), x.len() - 1);
        for k in 2..x.len() {
            if x[k] == 0.0 {
                assert!(curve[k - 1].is_nan(), "k {k}");
                continue;
            }
            let l = x[k].ln();
            let m = |j: i32| x[..k].iter().map(|v| (v.ln() - l).powi(j)).sum::<f64>() / k as f64;
            let (m1, m2, m3) = (m(1), m(2), m(3));
            let xi2 = m1 + 1.0 - 0.5 / (1.0 - m1 * m1 / m2);
            let xi3 = (0.5 * m2).sqrt() + 1.0 - (2.0 / 3.0) / (1.0 - m1 * m2 / m3);
            let want = (xi2 - xi3).powi(2);
            assert!(
                (curve[k - 1] - want).abs() <= 1e-7 * want.abs().max(1e-6),
                "k {k}: {} vs {want}",
                curve[k - 1]
            );
        }
    }
}
