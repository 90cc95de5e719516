//! Every estimator on a run's centred final rows (`summary.estimates`), and the same
//! estimators on nested subsets of the chains (`summary.convergence`): whether an α̂ has
//! settled with the sample size, or is still moving.

use crate::tail::{
    Answer, ESTIMATORS, Estimator, EstimatorSettings, IntervalSettings, Needs, Resampled, Rows,
    Sample, TailError,
};
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
    /// Hill, moments, Pickands: the upper order statistics used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<usize>,
    /// How `k` was chosen: `fixed`, `double_bootstrap` or `stability`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k_rule: Option<String>,
    /// The extreme-value index of moments and Pickands (α = 1/ξ where ξ > 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xi: Option<f64>,
    /// Power law: threshold, samples at or above it, KS distance, goodness-of-fit p-value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xmin: Option<f64>,
    /// Power law: samples at or above `xmin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_tail: Option<usize>,
    /// Power law: the Kolmogorov–Smirnov distance at `xmin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ks: Option<f64>,
    /// Power law: the goodness-of-fit p-value (`null` without resamples).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// Why `alpha` is `null`, where it is.
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

/// α̂ of every estimator on the first `chains` kept chains (no intervals), by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubsetAlphas {
    /// The number of kept chains in the subset (a prefix of them).
    pub chains: usize,
    /// One entry per estimator of [`ESTIMATORS`] (`null`: no α̂ on this subset).
    #[serde(flatten)]
    pub alphas: BTreeMap<String, Option<f64>>,
}

/// Fractions of the chains in `summary.convergence` below the whole sample (nested: each
/// subset is a prefix; the chains are independent, so a prefix is a random subset).
const SUBSETS: [usize; 3] = [64, 16, 4];

impl Estimate {
    /// A run's record of an answer and its interval.
    fn of(answer: Answer, ci: Option<[f64; 2]>) -> Self {
        Estimate {
            alpha: answer.alpha,
            ci,
            k: answer.k,
            k_rule: answer.k_rule,
            xi: answer.xi,
            xmin: answer.xmin,
            n_tail: answer.n_tail,
            ks: answer.ks,
            p_value: answer.p_value,
            reason: answer.reason,
        }
    }
}

/// The point answers of every estimator on the sample, by name (failures as errors).
pub fn answers(
    sample: &Sample<'_>,
    settings: &EstimatorSettings,
) -> Vec<(&'static dyn Estimator, Result<Answer, TailError>)> {
    ESTIMATORS
        .iter()
        .map(|&e| (e, e.estimate(sample, settings)))
        .collect()
}

/// The run's record of every answer: those that resample norms with their interval now,
/// those that resample rows without (the caller adds theirs once the centred copy is
/// dropped, [`with_row_intervals`]).
pub fn norm_estimates(
    answers: &[(&'static dyn Estimator, Result<Answer, TailError>)],
    norms: &[f64],
    settings: &EstimatorSettings,
    interval: IntervalSettings,
) -> BTreeMap<String, Estimate> {
    answers
        .iter()
        .map(|(e, answer)| {
            let record = with_norm_interval(*e, answer.clone(), norms, settings, interval);
            (e.name().to_string(), record)
        })
        .collect()
}

/// The record of one answer, with its interval if it resamples norms.
fn with_norm_interval(
    e: &dyn Estimator,
    answer: Result<Answer, TailError>,
    norms: &[f64],
    settings: &EstimatorSettings,
    interval: IntervalSettings,
) -> Estimate {
    match answer {
        Ok(a) => {
            let ci = (e.needs() == Needs::Norms && a.alpha.is_some())
                .then(|| e.interval(&a, Resampled::Norms(norms), settings, interval, &|| {}))
                .and_then(Result::ok)
                .map(|ci| [ci.lo, ci.hi]);
            Estimate::of(a, ci)
        }
        Err(err) => Estimate::failed(err),
    }
}

/// The headline estimator alone on `sample`, with its interval.
pub fn headline(
    sample: &Sample<'_>,
    settings: &EstimatorSettings,
    interval: IntervalSettings,
) -> Estimate {
    let e = crate::tail::estimator(super::HEADLINE).expect("the headline is registered");
    with_norm_interval(
        e,
        e.estimate(sample, settings),
        sample.norms(),
        settings,
        interval,
    )
}

/// Adds the intervals of the estimators that resample rows, on the uncentred rows.
pub fn with_row_intervals(
    estimates: &mut BTreeMap<String, Estimate>,
    answers: &[(&'static dyn Estimator, Result<Answer, TailError>)],
    rows: &Rows,
    settings: &EstimatorSettings,
    interval: IntervalSettings,
) {
    for (e, answer) in answers {
        let Ok(a) = answer else { continue };
        if e.needs() != Needs::Rows || a.alpha.is_none() {
            continue;
        }
        let ci = e
            .interval(a, Resampled::Rows(rows), settings, interval, &|| {})
            .ok()
            .map(|ci| [ci.lo, ci.hi]);
        if let Some(record) = estimates.get_mut(e.name()) {
            record.ci = ci;
        }
    }
}

/// Every estimator (point estimates, data-driven k, no goodness of fit) on the first N/64,
/// N/16 and N/4 of the centred rows (centred on the whole sample's centre), then the whole
/// sample's `full`; subsets below `min_samples` have no estimates.
pub fn convergence(
    centered: &Rows,
    norms: &[f64],
    settings: &EstimatorSettings,
    min_samples: usize,
    full: &BTreeMap<String, Estimate>,
) -> Vec<SubsetAlphas> {
    let point = EstimatorSettings {
        gof_resamples: 0,
        ..settings.clone()
    };
    let n = centered.n();
    let min = min_samples.max(4);
    SUBSETS
        .iter()
        .map(|&fraction| n / fraction)
        .filter(|&m| m >= min)
        .map(|m| {
            let sample = Sample::prefix(centered, norms, m);
            SubsetAlphas {
                chains: m,
                alphas: ESTIMATORS
                    .iter()
                    .map(|e| {
                        let alpha = e.estimate(&sample, &point).ok().and_then(|a| a.alpha);
                        (e.name().to_string(), alpha)
                    })
                    .collect(),
            }
        })
        .chain(std::iter::once(SubsetAlphas {
            chains: n,
            alphas: ESTIMATORS
                .iter()
                .map(|e| {
                    (
                        e.name().to_string(),
                        full.get(e.name()).and_then(|r| r.alpha),
                    )
                })
                .collect(),
        }))
        .collect()
}
