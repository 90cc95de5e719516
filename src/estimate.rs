//! Every tail estimator on one sample, with its subsampling interval: what `tailgate
//! estimate` prints and Python's `tailgate.estimate` returns (one code path for both).

use crate::tail::{
    self, BlockAlpha, BlockGrid, Center, KChoice, PowerLawOptions, Rows, SubsampleCi, TailError,
    center_rows, mohammadi_median, mohammadi_subsample_ci, scaled_k, subsample_scalar_ci,
};
use clap::ValueEnum;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EstimatorChoice {
    /// Mohammadi–Mohammadpour–Ogata block estimator, median over the block sizes.
    Mohammadi,
    /// Hill on |x| or row norms, at --k or the double-bootstrap k.
    Hill,
    /// Dekkers–Einmahl–de Haan moments estimator on |x| or row norms, at --k or the
    /// double-bootstrap k (Draisma et al. 1999, as the tail-estimation package).
    Moments,
    /// Pickands (1975) on |x| or row norms, at --k (≤ N/4) or the k where the Pickands
    /// plot is flattest.
    Pickands,
    /// Clauset–Shalizi–Newman power-law fit on |x| or row norms: the threshold xmin by
    /// minimum Kolmogorov–Smirnov distance, the MLE tail index above it, and a bootstrap
    /// goodness-of-fit p-value (the headline estimator of `tailgate train`).
    Powerlaw,
    /// All five, in that order.
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CenterChoice {
    /// Use the rows as they are.
    None,
    /// Subtract the mean row (the stationary mean of across-chain samples).
    Mean,
    /// Subtract the coordinate-wise median.
    Median,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GridChoice {
    /// {2, 5, 10, 20, 50, 100, 500, 1000} (GSZ21 networks), sizes above N skipped.
    Network,
    /// {2, 5, 10, 20, 50, 100, 40} (GSZ21 synthetic), sizes above N skipped.
    Synthetic,
    /// The single block size ⌊√N⌋.
    Sqrt,
}

impl CenterChoice {
    /// The estimators' centring rule.
    pub fn center(self) -> Center {
        match self {
            CenterChoice::None => Center::None,
            CenterChoice::Mean => Center::Mean,
            CenterChoice::Median => Center::Median,
        }
    }
}

/// How to estimate: the flags of `tailgate estimate` that are not about files.
#[derive(Debug, Clone, PartialEq)]
pub struct EstimateOptions {
    pub estimator: EstimatorChoice,
    /// Mohammadi block sizes; overrides `grid`.
    pub block_sizes: Option<Vec<usize>>,
    pub grid: GridChoice,
    /// Upper order statistics for Hill, moments and Pickands (default: chosen by the data).
    pub k: Option<usize>,
    pub center: CenterChoice,
    /// Every coordinate of a row is its own scalar sample.
    pub pooled: bool,
    /// Level of the interval, in (0, 1).
    pub ci: f64,
    /// Half-sample subsamples for the interval (0: no interval).
    pub subsamples: usize,
    pub seed: u64,
    /// Fewer samples than this: no estimate (an error naming `min_samples`).
    pub min_samples: usize,
    /// Resamples per stage of the double bootstraps that choose Hill's and moments' k.
    pub k_resamples: usize,
    /// Synthetic samples of the power-law goodness-of-fit test (0: no p-value).
    pub gof_resamples: usize,
    /// The power-law fit's candidate thresholds.
    pub powerlaw: PowerLawOptions,
}

/// The default of `min_samples`: below a few hundred samples no estimator here has an
/// error small enough to report (docs/validation/coverage/coverage.md).
pub const MIN_SAMPLES: usize = 300;
/// The default resamples per stage of the double bootstraps that choose k.
pub const K_RESAMPLES: usize = 50;
/// The default synthetic samples of the goodness-of-fit test.
pub const GOF_RESAMPLES: usize = 100;
/// The default subsamples of an interval.
pub const SUBSAMPLES: usize = 200;

impl Default for EstimateOptions {
    /// The CLI's defaults.
    fn default() -> Self {
        EstimateOptions {
            estimator: EstimatorChoice::Mohammadi,
            block_sizes: None,
            grid: GridChoice::Network,
            k: None,
            center: CenterChoice::None,
            pooled: false,
            ci: 0.95,
            subsamples: SUBSAMPLES,
            seed: 0,
            min_samples: MIN_SAMPLES,
            k_resamples: K_RESAMPLES,
            gof_resamples: GOF_RESAMPLES,
            powerlaw: PowerLawOptions::default(),
        }
    }
}

impl EstimateOptions {
    /// How many estimators `estimator` stands for (the progress bar's length per subsample).
    pub fn estimators(&self) -> usize {
        match self.estimator {
            EstimatorChoice::All => 5,
            _ => 1,
        }
    }
}

/// One estimator's answer, as printed by `tailgate estimate --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct EstimateReport {
    pub estimator: &'static str,
    /// A finite positive number, or `null` with `reason` (moments or Pickands with ξ ≤ 0).
    pub alpha: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Moments and Pickands: the extreme-value index ξ (α = 1/ξ where ξ > 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xi: Option<f64>,
    /// Mohammadi: the estimate at each block size (the reported `alpha` is their median).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_block_size: Option<Vec<BlockAlpha>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grid: Option<String>,
    /// Hill, moments, Pickands: the number of upper order statistics used, and its rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k_rule: Option<String>,
    /// Power law: the threshold, the samples at or above it, the KS distance there, and
    /// the goodness-of-fit p-value (`null` without resamples).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xmin: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_tail: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ks: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    pub ci: Option<Ci>,
    pub n: usize,
    pub dim: usize,
    pub center: &'static str,
    pub pooled: bool,
}

/// A symmetric half-sample subsampling interval (`tail::SubsampleCi`).
#[derive(Debug, Clone, Serialize)]
pub struct Ci {
    pub level: f64,
    pub lo: f64,
    pub hi: f64,
    pub subsamples: usize,
    /// Rows in each subsample.
    pub size: usize,
    /// `half_subsampling` (the whole estimator, threshold or block sizes included, rerun
    /// on each half) or `half_subsampling_at_fixed_k` (Hill, moments, Pickands: the k
    /// chosen on the whole sample, scaled to the half; it leaves out the variability of
    /// the k rule and under-covers where that rule is unstable, docs/validation).
    pub method: &'static str,
}

impl From<SubsampleCi> for Ci {
    fn from(c: SubsampleCi) -> Self {
        Ci {
            level: c.level,
            lo: c.lo,
            hi: c.hi,
            subsamples: c.subsamples,
            size: c.size,
            method: "half_subsampling",
        }
    }
}

/// An interval of an order-statistic estimator at the whole sample's k.
fn at_fixed_k(ci: Option<Ci>) -> Option<Ci> {
    ci.map(|c| Ci {
        method: "half_subsampling_at_fixed_k",
        ..c
    })
}

/// A statistic of (subsampled) magnitudes, given the fraction of the sample they are.
type ScalarStat<'a> = dyn Fn(&mut [f64], f64) -> Result<f64, TailError> + Sync + 'a;

/// The reports on `rows`, one per estimator `options` asks for; `on_resample` is called
/// once per subsample of each estimator's interval (a progress bar's tick).
pub fn estimate(
    rows: Rows,
    options: &EstimateOptions,
    on_resample: &(dyn Fn() + Sync),
) -> Result<Vec<EstimateReport>, TailError> {
    let rows = if options.pooled { rows.pooled() } else { rows };
    if rows.n() < options.min_samples.max(2) {
        return Err(TailError::BelowMinSamples {
            got: rows.n(),
            min: options.min_samples.max(2),
        });
    }
    if !(options.ci > 0.0 && options.ci < 1.0) {
        return Err(TailError::Invalid(format!(
            "confidence level must lie in (0, 1), got {}",
            options.ci
        )));
    }
    if options.subsamples == 1 {
        return Err(TailError::Invalid(
            "an interval needs at least 2 subsamples (0 for none)".into(),
        ));
    }
    let center = options.center.center();
    let grid = match (&options.block_sizes, options.grid) {
        (Some(sizes), _) => BlockGrid::Explicit(sizes.clone()),
        (None, GridChoice::Network) => BlockGrid::Network,
        (None, GridChoice::Synthetic) => BlockGrid::Synthetic,
        (None, GridChoice::Sqrt) => BlockGrid::Sqrt,
    };
    let centered = center_rows(&rows, &center)?;
    let norms = centered.norms();
    if norms.iter().all(|&v| v == norms[0]) {
        return Err(TailError::Invalid(
            "every sample has the same magnitude (a constant sample): no tail to estimate".into(),
        ));
    }
    let base = |estimator| EstimateReport {
        estimator,
        alpha: None,
        reason: None,
        xi: None,
        per_block_size: None,
        grid: None,
        k: None,
        k_rule: None,
        xmin: None,
        n_tail: None,
        ks: None,
        p_value: None,
        ci: None,
        n: rows.n(),
        dim: rows.dim(),
        center: center.name(),
        pooled: options.pooled,
    };
    // The interval of a statistic of the norms, at the estimate; none without subsamples.
    let scalar_ci = |estimate: f64, stat: &ScalarStat<'_>| {
        if options.subsamples == 0 {
            return None;
        }
        let ci = subsample_scalar_ci(
            &norms,
            estimate,
            options.subsamples,
            options.ci,
            options.seed,
            |x, f| {
                let value = stat(x, f);
                on_resample();
                value
            },
        );
        // An interval that cannot be had (the statistic fails on the halves) is absent,
        // not a reason to withhold the estimate.
        ci.ok().map(Into::into)
    };
    let wants = |which| options.estimator == which || options.estimator == EstimatorChoice::All;
    let k_choice = || match options.k {
        Some(k) => KChoice::Fixed(k),
        None => KChoice::DoubleBootstrap {
            resamples: options.k_resamples,
            seed: options.seed,
        },
    };
    let mut reports = Vec::new();
    if wants(EstimatorChoice::Mohammadi) {
        let est = mohammadi_median(&centered, &grid)?;
        let ci = if options.subsamples == 0 {
            None
        } else {
            let ci = mohammadi_subsample_ci(
                &rows,
                &center,
                &grid,
                est.alpha,
                options.subsamples,
                options.ci,
                options.seed,
            );
            (0..options.subsamples).for_each(|_| on_resample());
            ci.ok().map(Into::into)
        };
        reports.push(EstimateReport {
            alpha: Some(est.alpha),
            per_block_size: Some(est.per_block_size),
            grid: Some(est.grid),
            ci,
            ..base("mohammadi")
        });
    }
    if wants(EstimatorChoice::Hill) {
        let est = tail::hill(&norms, k_choice())?;
        let k = est.k;
        let ci = scalar_ci(est.alpha, &|x, f| {
            tail::hill_alpha_in_place(x, scaled_k(k, f, x.len()))
        });
        reports.push(EstimateReport {
            alpha: Some(est.alpha),
            k: Some(est.k),
            k_rule: Some(est.k_rule),
            ci: at_fixed_k(ci),
            ..base("hill")
        });
    }
    type AlphaAtK = fn(&mut [f64], usize) -> Result<f64, TailError>;
    type XiChoose = fn(&[f64], KChoice) -> Result<tail::XiEstimate, TailError>;
    let order_estimators: [(EstimatorChoice, &'static str, XiChoose, AlphaAtK); 2] = [
        (
            EstimatorChoice::Moments,
            "moments",
            tail::moments,
            tail::moments_alpha_in_place,
        ),
        (
            EstimatorChoice::Pickands,
            "pickands",
            tail::pickands,
            tail::pickands_alpha_in_place,
        ),
    ];
    for (which, name, estimate, alpha_at) in order_estimators {
        if !wants(which) {
            continue;
        }
        let est = estimate(&norms, k_choice())?;
        let k = est.k;
        // Subsamples with ξ ≤ 0 have no α: they count as failed.
        let ci = match est.alpha {
            Some(a) => scalar_ci(a, &|x, f| alpha_at(x, scaled_k(k, f, x.len()))),
            None => None,
        };
        reports.push(EstimateReport {
            alpha: est.alpha,
            reason: est
                .alpha
                .is_none()
                .then(|| format!("ξ = {:.4} ≤ 0: no finite tail index", est.xi)),
            xi: Some(est.xi),
            k: Some(est.k),
            k_rule: Some(est.k_rule),
            ci: at_fixed_k(ci),
            ..base(name)
        });
    }
    if wants(EstimatorChoice::Powerlaw) {
        let fit = tail::powerlaw_fit(&norms, &options.powerlaw)?;
        let p_value = if options.gof_resamples == 0 {
            None
        } else {
            Some(
                tail::powerlaw_gof(
                    &norms,
                    &fit,
                    options.gof_resamples,
                    options.seed,
                    &options.powerlaw,
                )?
                .p_value,
            )
        };
        let opts = options.powerlaw;
        let ci = scalar_ci(fit.alpha, &|x, _| tail::powerlaw_alpha_in_place(x, &opts));
        reports.push(EstimateReport {
            alpha: Some(fit.alpha),
            xmin: Some(fit.xmin),
            n_tail: Some(fit.n_tail),
            ks: Some(fit.ks),
            p_value,
            ci,
            ..base("powerlaw")
        });
    }
    Ok(reports)
}
