//! Peaks over threshold: the maximum-likelihood generalised Pareto fit of excesses
//! (Pickands–Balkema–de Haan: excesses over a high threshold are ≈ GPD with shape ξ = 1/α).
//!
//! The likelihood is profiled in θ = ξ/σ (Grimshaw 1993): for fixed θ the best ξ is
//! `ξ(θ) = mean log(1 + θy)`, leaving a one-dimensional maximisation. Excesses carry weights
//! (a chain bootstrap repeats a chain's exceedances).

/// A GPD fit: shape ξ and scale σ of `P(Y > y) = (1 + ξy/σ)^(−1/ξ)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpdFit {
    /// Shape ξ = 1/α (positive in every fit [`gpd_fit_weighted`] returns).
    pub xi: f64,
    /// Scale σ = ξ/θ > 0, in the excesses' units.
    pub sigma: f64,
}

/// Weighted excesses: `(y, w)` pairs with `y > 0`, plus `zeros` excesses equal to 0 (they
/// count in `n` but add nothing to the sums).
struct Excesses<'a> {
    pairs: &'a [(f64, f64)],
    n: f64,
}

impl Excesses<'_> {
    /// `(ξ(θ), ξ'(θ), ξ''(θ))` in one pass.
    fn xi_derivatives(&self, theta: f64) -> (f64, f64, f64) {
        let (mut s0, mut s1, mut s2) = (0.0, 0.0, 0.0);
        for &(y, w) in self.pairs {
            let z = theta * y;
            let q = y / (1.0 + z);
            s0 += w * z.ln_1p();
            s1 += w * q;
            s2 += w * q * q;
        }
        (s0 / self.n, s1 / self.n, -s2 / self.n)
    }

    /// The profile log-likelihood per excess at θ > 0: `−log(ξ/θ) − ξ − 1`.
    fn profile(&self, theta: f64) -> f64 {
        let s: f64 = self
            .pairs
            .iter()
            .map(|&(y, w)| w * (theta * y).ln_1p())
            .sum();
        let xi = s / self.n;
        -(xi / theta).ln() - xi - 1.0
    }

    /// The fit at θ.
    fn at(&self, theta: f64) -> GpdFit {
        let (xi, _, _) = self.xi_derivatives(theta);
        GpdFit {
            xi,
            sigma: xi / theta,
        }
    }

    /// Newton on `t = ln θ` for the maximum of the profile from `theta`: `None` when it
    /// does not converge within `iterations`, reaches a minimum, or runs to θ → 0 (the
    /// exponential limit, ξ → 0).
    fn newton(&self, mut theta: f64, tiny: f64, iterations: usize) -> Option<f64> {
        for _ in 0..iterations {
            let (xi, d1, d2) = self.xi_derivatives(theta);
            if xi.is_nan() || xi <= 0.0 {
                return None;
            }
            // h(t) = θ·dℓ/dθ per excess = 1 − θξ'(1 + 1/ξ); dh/dt = θ·dh/dθ.
            let k = 1.0 + 1.0 / xi;
            let h = 1.0 - theta * d1 * k;
            let dh = theta * (-d1 * k - theta * d2 * k + theta * d1 * d1 / (xi * xi));
            if !(dh.is_finite() && dh != 0.0) {
                return None;
            }
            let step = (-h / dh).clamp(-1.0, 1.0);
            theta *= step.exp();
            if theta < tiny {
                return None;
            }
            if step.abs() < 1e-12 {
                return (dh < 0.0).then_some(theta);
            }
        }
        None
    }
}

/// The MLE of a GPD on excesses `y > 0` with weights (`n` the total weight, zeros included):
/// `None` when the likelihood's maximum over ξ > 0 lies at ξ → 0 (ξ̂ ≤ 0: no power tail at
/// this threshold). `start` is a θ to begin Newton from (a bootstrap's full-sample θ̂);
/// without it a grid search over θ brackets the maximum first.
pub fn gpd_fit_weighted(pairs: &[(f64, f64)], n: f64, start: Option<f64>) -> Option<GpdFit> {
    if pairs.len() < 2 || n < 3.0 {
        return None;
    }
    let ex = Excesses { pairs, n };
    let mean = pairs.iter().map(|&(y, w)| y * w).sum::<f64>() / n;
    // θ ranges over ξ/σ; for a Pareto tail above u, θ = 1/u ≈ 1/mean excess·(1 − ξ).
    let scale = 1.0 / mean;
    let tiny = scale * 1e-9;
    if let Some(theta) = start
        && let Some(t) = ex.newton(theta, tiny, 60)
    {
        return Some(ex.at(t));
    }
    // Grid over ln θ from θ = 10⁻⁸/ȳ to 10⁸/ȳ, then golden section around the best point.
    let (lo, hi) = ((tiny * 10.0).ln(), (scale * 1e8).ln());
    let points = 65;
    let t_at = |i: usize| lo + (hi - lo) * i as f64 / (points - 1) as f64;
    let values: Vec<f64> = (0..points).map(|i| ex.profile(t_at(i).exp())).collect();
    let best = (0..points)
        .max_by(|&a, &b| values[a].total_cmp(&values[b]))
        .expect("a non-empty grid");
    if best == 0 {
        // Still rising as θ → 0: ξ → 0 from above, or below 0.
        return None;
    }
    let (mut a, mut b) = (t_at(best - 1), t_at((best + 1).min(points - 1)));
    let g = 0.5 * (5f64.sqrt() - 1.0);
    let f = |t: f64| ex.profile(t.exp());
    let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..80 {
        if fc > fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    let t = 0.5 * (a + b);
    let theta = ex.newton(t.exp(), tiny, 60).unwrap_or(t.exp());
    let fit = ex.at(theta);
    (fit.xi > 0.0 && theta > tiny * 10.0).then_some(fit)
}

/// α = 1/ξ of a bootstrap resample by two Newton steps from `start`, the full sample's θ̂
/// (rescaled to the resample's threshold): a k-step bootstrap (Andrews 2002, Econometrica
/// 70:119), first-order equivalent to refitting in full at a fraction of the cost. +∞
/// where the steps run to ξ ≤ 0 (an unbounded α).
pub fn gpd_bootstrap_alpha(pairs: &[(f64, f64)], n: f64, start: f64) -> f64 {
    if pairs.len() < 2 {
        return f64::NAN;
    }
    let ex = Excesses { pairs, n };
    let mut theta = start;
    for _ in 0..2 {
        let (xi, d1, d2) = ex.xi_derivatives(theta);
        if xi.is_nan() || xi <= 0.0 {
            return f64::INFINITY;
        }
        let k = 1.0 + 1.0 / xi;
        let h = 1.0 - theta * d1 * k;
        let dh = theta * (-d1 * k - theta * d2 * k + theta * d1 * d1 / (xi * xi));
        if !(dh.is_finite() && dh < 0.0) {
            break;
        }
        theta *= (-h / dh).clamp(-1.0, 1.0).exp();
    }
    let (xi, _, _) = ex.xi_derivatives(theta);
    if xi > 0.0 { 1.0 / xi } else { f64::INFINITY }
}

/// [`gpd_fit_weighted`] on unweighted excesses (every `y ≥ 0`).
pub fn gpd_fit(excesses: &[f64]) -> Option<GpdFit> {
    let pairs: Vec<(f64, f64)> = excesses
        .iter()
        .filter(|&&y| y > 0.0)
        .map(|&y| (y, 1.0))
        .collect();
    gpd_fit_weighted(&pairs, excesses.len() as f64, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream;
    use rand::RngExt;

    /// GPD(ξ, σ) samples by inversion.
    fn gpd_samples(xi: f64, sigma: f64, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = stream(seed, "gpd-test", 0);
        (0..n)
            .map(|_| {
                let u: f64 = rng.random();
                sigma * ((1.0 - u).powf(-xi) - 1.0) / xi
            })
            .collect()
    }

    fn log_likelihood(y: &[f64], fit: GpdFit) -> f64 {
        y.iter()
            .map(|&y| -fit.sigma.ln() - (1.0 + 1.0 / fit.xi) * (fit.xi * y / fit.sigma).ln_1p())
            .sum()
    }

    #[test]
    fn the_fit_recovers_the_shape_and_is_the_likelihood_maximum() {
        for (xi, sigma) in [(0.5, 1.0), (1.0 / 1.5, 3.0), (0.25, 0.2)] {
            let y = gpd_samples(xi, sigma, 200_000, 1);
            let fit = gpd_fit(&y).expect("a heavy tail");
            assert!((fit.xi - xi).abs() < 0.02, "{fit:?} vs ξ = {xi}");
            assert!(
                (fit.sigma / sigma - 1.0).abs() < 0.03,
                "{fit:?} vs σ = {sigma}"
            );
            let best = log_likelihood(&y, fit);
            for (dx, ds) in [(1e-3, 0.0), (-1e-3, 0.0), (0.0, 1e-3), (0.0, -1e-3)] {
                let moved = GpdFit {
                    xi: fit.xi + dx,
                    sigma: fit.sigma * (1.0 + ds),
                };
                assert!(log_likelihood(&y, moved) < best, "{moved:?} beats {fit:?}");
            }
        }
    }

    #[test]
    fn newton_from_a_start_reaches_the_same_maximum() {
        let y = gpd_samples(0.6, 2.0, 50_000, 2);
        let pairs: Vec<(f64, f64)> = y.iter().map(|&y| (y, 1.0)).collect();
        let grid = gpd_fit_weighted(&pairs, y.len() as f64, None).unwrap();
        let started = gpd_fit_weighted(&pairs, y.len() as f64, Some(0.1)).unwrap();
        assert!((grid.xi - started.xi).abs() < 1e-9, "{grid:?} {started:?}");
    }

    #[test]
    fn weights_equal_repeated_samples() {
        let y = gpd_samples(0.5, 1.0, 2_000, 3);
        let mut repeated = y.clone();
        repeated.extend_from_slice(&y[..500]);
        let pairs: Vec<(f64, f64)> = y
            .iter()
            .enumerate()
            .map(|(i, &y)| (y, if i < 500 { 2.0 } else { 1.0 }))
            .collect();
        let weighted = gpd_fit_weighted(&pairs, 2_500.0, None).unwrap();
        let plain = gpd_fit(&repeated).unwrap();
        assert!((weighted.xi - plain.xi).abs() < 1e-9);
    }

    #[test]
    fn a_light_tail_has_no_positive_shape() {
        // Uniform excesses: ξ = −1.
        let y: Vec<f64> = (1..=5000).map(|i| i as f64 / 5000.0).collect();
        assert_eq!(gpd_fit(&y), None);
    }
}
