//! Every estimator on a run's centred final rows (`summary.estimates`), and the same
//! estimators on nested subsets of the chains (`summary.convergence`): whether an α̂ has
//! settled with the sample size, or is still moving.

use super::EstimateSettings;
use crate::tail::{self, KChoice, Rows, TailError, scaled_k, subsample_scalar_ci};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One estimator's answer in `summary.estimates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// A finite positive number, or `null` with `reason` (ξ ≤ 0, undefined, failed).
    pub alpha: Option<f64>,
    /// Symmetric half-sample subsampling interval around `alpha` (the order-statistic
    /// estimators at the `k` chosen on the whole sample, scaled to the half).
    pub ci: Option<[f64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k_rule: Option<String>,
    /// The extreme-value index of moments and Pickands (α = 1/ξ where ξ > 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xi: Option<f64>,
    /// Power law: threshold, samples at or above it, KS distance, goodness-of-fit p-value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xmin: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_tail: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ks: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Estimate {
    fn empty() -> Self {
        Estimate {
            alpha: None,
            ci: None,
            k: None,
            k_rule: None,
            xi: None,
            xmin: None,
            n_tail: None,
            ks: None,
            p_value: None,
            reason: None,
        }
    }

    /// An estimate without interval, or the reason there is none.
    pub fn from_result(alpha: Result<f64, TailError>) -> Self {
        match alpha {
            Ok(a) => Estimate {
                alpha: Some(a),
                ..Estimate::empty()
            },
            Err(e) => Estimate::failed(e),
        }
    }

    fn failed(e: TailError) -> Self {
        Estimate {
            reason: Some(e.to_string()),
            ..Estimate::empty()
        }
    }
}

/// α̂ of every estimator on the first `chains` kept chains (no intervals).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubsetAlphas {
    pub chains: usize,
    #[serde(default)]
    pub powerlaw: Option<f64>,
    pub mohammadi: Option<f64>,
    pub hill: Option<f64>,
    pub moments: Option<f64>,
    pub pickands: Option<f64>,
}

/// Fractions of the chains in `summary.convergence` below the whole sample (nested: each
/// subset is a prefix; the chains are independent, so a prefix is a random subset).
const SUBSETS: [usize; 3] = [64, 16, 4];

/// An order-statistic estimate: α (NaN where ξ ≤ 0), ξ where there is one, k, k's rule.
type Chosen = (f64, Option<f64>, usize, String);

/// The order-statistic estimators on magnitudes: the k rule and the statistic at a k.
type Choose = fn(&[f64], KChoice) -> Result<Chosen, TailError>;
/// The statistic at a fixed k, reordering its (subsampled) magnitudes in place.
type AtK = fn(&mut [f64], usize) -> Result<f64, TailError>;

fn hill_choose(x: &[f64], c: KChoice) -> Result<Chosen, TailError> {
    let h = tail::hill(x, c)?;
    Ok((h.alpha, None, h.k, h.k_rule))
}

fn from_xi(e: tail::XiEstimate) -> Chosen {
    (e.alpha.unwrap_or(f64::NAN), Some(e.xi), e.k, e.k_rule)
}

fn moments_choose(x: &[f64], c: KChoice) -> Result<Chosen, TailError> {
    tail::moments(x, c).map(from_xi)
}

fn pickands_choose(x: &[f64], c: KChoice) -> Result<Chosen, TailError> {
    tail::pickands(x, c).map(from_xi)
}

const ORDER_ESTIMATORS: [(&str, Choose, AtK); 3] = [
    ("hill", hill_choose, tail::hill_alpha_in_place),
    ("moments", moments_choose, tail::moments_alpha_in_place),
    ("pickands", pickands_choose, tail::pickands_alpha_in_place),
];

/// Hill, moments and Pickands on the norms of the centred rows, each at its data-driven k,
/// with a subsampling interval at that k (scaled to the half-sample).
pub fn order_estimates(norms: &[f64], settings: &EstimateSettings) -> BTreeMap<String, Estimate> {
    let boot = KChoice::DoubleBootstrap {
        resamples: settings.k_resamples,
        seed: settings.seed,
    };
    ORDER_ESTIMATORS
        .iter()
        .map(|&(name, choose, at_k)| {
            let estimate = match choose(norms, boot) {
                Ok((alpha, xi, k, k_rule)) => {
                    let alpha = (alpha.is_finite() && alpha > 0.0).then_some(alpha);
                    Estimate {
                        alpha,
                        ci: alpha.and_then(|a| {
                            subsample_scalar_ci(
                                norms,
                                a,
                                settings.subsamples,
                                settings.ci_level,
                                settings.seed,
                                |r, f| at_k(r, scaled_k(k, f, r.len())),
                            )
                            .ok()
                            .map(|ci| [ci.lo, ci.hi])
                        }),
                        k: Some(k),
                        k_rule: Some(k_rule),
                        xi,
                        reason: alpha
                            .is_none()
                            .then(|| "ξ ≤ 0: no finite tail index".to_string()),
                        ..Estimate::empty()
                    }
                }
                Err(e) => Estimate::failed(e),
            };
            (name.to_string(), estimate)
        })
        .collect()
}

/// The power-law fit on the norms, with its goodness-of-fit p-value and its subsampling
/// interval (each half-sample refitted in full, threshold included).
pub fn powerlaw_estimate(norms: &[f64], settings: &EstimateSettings) -> Estimate {
    let opts = settings.powerlaw;
    let fit = match tail::powerlaw_fit(norms, &opts) {
        Ok(f) => f,
        Err(e) => return Estimate::failed(e),
    };
    let p_value = (settings.gof_resamples > 0)
        .then(|| tail::powerlaw_gof(norms, &fit, settings.gof_resamples, settings.seed, &opts))
        .and_then(Result::ok)
        .map(|g| g.p_value);
    let ci = subsample_scalar_ci(
        norms,
        fit.alpha,
        settings.subsamples,
        settings.ci_level,
        settings.seed,
        |r, _| tail::powerlaw_alpha_in_place(r, &opts),
    )
    .ok()
    .map(|ci| [ci.lo, ci.hi]);
    Estimate {
        alpha: Some(fit.alpha),
        ci,
        xmin: Some(fit.xmin),
        n_tail: Some(fit.n_tail),
        ks: Some(fit.ks),
        p_value,
        ..Estimate::empty()
    }
}

/// Every estimator (point estimates, data-driven k) on the first N/64, N/16 and N/4 of the
/// centred rows (centred on the whole sample's centre), then the whole sample's `full`;
/// subsets below `min_samples` have no estimates.
pub fn convergence(
    centered: &Rows,
    norms: &[f64],
    settings: &EstimateSettings,
    full: &BTreeMap<String, Estimate>,
) -> Vec<SubsetAlphas> {
    let boot = KChoice::DoubleBootstrap {
        resamples: settings.k_resamples,
        seed: settings.seed,
    };
    let n = centered.n();
    let min = settings.min_samples.max(4);
    SUBSETS
        .iter()
        .map(|&fraction| n / fraction)
        .filter(|&m| m >= min)
        .map(|m| {
            let x = &norms[..m];
            let order = |choose: Choose| {
                choose(x, boot)
                    .ok()
                    .map(|e| e.0)
                    .filter(|a| a.is_finite() && *a > 0.0)
            };
            SubsetAlphas {
                chains: m,
                powerlaw: tail::powerlaw_fit(x, &settings.powerlaw)
                    .ok()
                    .map(|f| f.alpha),
                mohammadi: tail::mohammadi_median_prefix(centered, m, &settings.grid)
                    .ok()
                    .map(|e| e.alpha),
                hill: order(hill_choose),
                moments: order(moments_choose),
                pickands: order(pickands_choose),
            }
        })
        .chain(std::iter::once(SubsetAlphas {
            chains: n,
            powerlaw: full.get("powerlaw").and_then(|e| e.alpha),
            mohammadi: full.get("mohammadi").and_then(|e| e.alpha),
            hill: full.get("hill").and_then(|e| e.alpha),
            moments: full.get("moments").and_then(|e| e.alpha),
            pickands: full.get("pickands").and_then(|e| e.alpha),
        }))
        .collect()
}
