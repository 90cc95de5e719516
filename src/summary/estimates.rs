//! Every estimator on a run's centred final rows (`summary.estimates`), and the same
//! estimators on nested subsets of the chains (`summary.convergence`): whether an α̂ has
//! settled with the sample size, or is still moving (science.md §8).

use crate::tail::{self, BlockGrid, KChoice, Rows, TailError, bootstrap_scalar_ci};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One estimator's answer in `summary.estimates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// `null` when the estimator gives no finite α (ξ ≤ 0) or failed (see `reason`).
    pub alpha: Option<f64>,
    /// Percentile bootstrap interval over chains (the order-statistic estimators at the
    /// `k` chosen on the whole sample).
    pub ci: Option<[f64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k_rule: Option<String>,
    /// The extreme-value index of moments and Pickands (α = 1/ξ where ξ > 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xi: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Estimate {
    /// Mohammadi's entry: the run's `alpha` and `alpha_ci`.
    pub fn mohammadi(alpha: f64, ci: Option<[f64; 2]>) -> Self {
        Estimate {
            alpha: Some(alpha),
            ci,
            k: None,
            k_rule: None,
            xi: None,
            reason: None,
        }
    }

    fn failed(e: TailError) -> Self {
        Estimate {
            alpha: None,
            ci: None,
            k: None,
            k_rule: None,
            xi: None,
            reason: Some(e.to_string()),
        }
    }
}

/// α̂ of every estimator on the first `chains` kept chains (no intervals).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubsetAlphas {
    pub chains: usize,
    pub mohammadi: Option<f64>,
    pub hill: Option<f64>,
    pub moments: Option<f64>,
    pub pickands: Option<f64>,
}

/// Resamples of the double bootstraps that choose k (as for Hill in every run).
const K_RESAMPLES: usize = 50;
/// Fractions of the chains in `summary.convergence` below the whole sample (nested: each
/// subset is a prefix; the chains are independent, so a prefix is a random subset).
const SUBSETS: [usize; 3] = [64, 16, 4];

/// An order-statistic estimate: α (NaN where ξ ≤ 0), ξ where there is one, k, k's rule.
type Chosen = (f64, Option<f64>, usize, String);

/// The order-statistic estimators on magnitudes: the k rule and the statistic at a k.
type Choose = fn(&[f64], KChoice) -> Result<Chosen, TailError>;
/// The statistic at a fixed k, reordering its (resampled) magnitudes in place.
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
/// with a bootstrap interval at that k; Mohammadi's entry is added by the caller.
pub fn order_estimates(
    norms: &[f64],
    resamples: usize,
    level: f64,
    seed: u64,
) -> BTreeMap<String, Estimate> {
    let boot = KChoice::DoubleBootstrap {
        resamples: K_RESAMPLES,
        seed,
    };
    ORDER_ESTIMATORS
        .iter()
        .map(|&(name, choose, at_k)| {
            let estimate = match choose(norms, boot) {
                Ok((alpha, xi, k, k_rule)) => Estimate {
                    alpha: alpha.is_finite().then_some(alpha),
                    ci: bootstrap_scalar_ci(norms, resamples, level, seed, |r| at_k(r, k))
                        .ok()
                        .map(|ci| [ci.lo, ci.hi]),
                    k: Some(k),
                    k_rule: Some(k_rule),
                    xi,
                    reason: (!alpha.is_finite()).then(|| "ξ ≤ 0: no finite tail index".to_string()),
                },
                Err(e) => Estimate::failed(e),
            };
            (name.to_string(), estimate)
        })
        .collect()
}

/// Every estimator (point estimates, data-driven k) on the first N/64, N/16 and N/4 of the
/// centred rows (centred on the whole sample's centre), then the whole sample's `full`.
pub fn convergence(
    centered: &Rows,
    norms: &[f64],
    grid: &BlockGrid,
    seed: u64,
    full: &BTreeMap<String, Estimate>,
) -> Vec<SubsetAlphas> {
    let boot = KChoice::DoubleBootstrap {
        resamples: K_RESAMPLES,
        seed,
    };
    let n = centered.n();
    SUBSETS
        .iter()
        .map(|&fraction| n / fraction)
        .filter(|&m| m >= 2)
        .map(|m| {
            let x = &norms[..m];
            let order =
                |choose: Choose| choose(x, boot).ok().map(|e| e.0).filter(|a| a.is_finite());
            SubsetAlphas {
                chains: m,
                mohammadi: tail::mohammadi_median_prefix(centered, m, grid)
                    .ok()
                    .map(|e| e.alpha),
                hill: order(hill_choose),
                moments: order(moments_choose),
                pickands: order(pickands_choose),
            }
        })
        .chain(std::iter::once(SubsetAlphas {
            chains: n,
            mohammadi: full.get("mohammadi").and_then(|e| e.alpha),
            hill: full.get("hill").and_then(|e| e.alpha),
            moments: full.get("moments").and_then(|e| e.alpha),
            pickands: full.get("pickands").and_then(|e| e.alpha),
        }))
        .collect()
}
