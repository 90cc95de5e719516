//! Every tail estimator on one sample, with its subsampling interval: what `tailgate
//! estimate` prints and Python's `tailgate.estimate` returns (one code path for both).

use crate::tail::{
    Answer, BlockAlpha, BlockGrid, Center, ESTIMATORS, Estimator, EstimatorSettings,
    IntervalSettings, Needs, PowerLawOptions, Resampled, Rows, Sample, SubsampleCi, TailError,
    center_rows,
};
use clap::ValueEnum;
use clap::builder::PossibleValue;
use serde::Serialize;
use std::sync::LazyLock;

/// Which estimators to run: one of [`tail::ESTIMATORS`] (its index there), or all of them.
/// Its `--estimator` values and their help are [`tail::ESTIMATORS`]' names and lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EstimatorChoice {
    /// `ESTIMATORS[i]`.
    One(usize),
    /// Every estimator, in the registry's order.
    All,
}

static CHOICES: LazyLock<Vec<EstimatorChoice>> = LazyLock::new(|| {
    (0..ESTIMATORS.len())
        .map(EstimatorChoice::One)
        .chain([EstimatorChoice::All])
        .collect()
});

impl EstimatorChoice {
    /// The choice of the estimator named `name` (`all` for all), in any case.
    pub fn named(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("all") {
            return Some(EstimatorChoice::All);
        }
        ESTIMATORS
            .iter()
            .position(|e| e.name().eq_ignore_ascii_case(name))
            .map(EstimatorChoice::One)
    }

    /// The estimators chosen, in the registry's order.
    pub fn estimators(self) -> Vec<&'static dyn Estimator> {
        match self {
            EstimatorChoice::One(i) => vec![ESTIMATORS[i]],
            EstimatorChoice::All => ESTIMATORS.to_vec(),
        }
    }

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            EstimatorChoice::One(i) => ESTIMATORS[i].name(),
            EstimatorChoice::All => "all",
        }
    }
}

impl ValueEnum for EstimatorChoice {
    fn value_variants<'a>() -> &'a [Self] {
        &CHOICES
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match *self {
            EstimatorChoice::One(i) => {
                PossibleValue::new(ESTIMATORS[i].name()).help(ESTIMATORS[i].about())
            }
            EstimatorChoice::All => PossibleValue::new("all").help(format!(
                "All {}, in that order",
                match ESTIMATORS.len() {
                    5 => "five".to_string(),
                    n => n.to_string(),
                }
            )),
        })
    }
}

/// How the rows are centred before their norms are taken (`--center`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CenterChoice {
    /// Use the rows as they are.
    None,
    /// Subtract the mean row (the stationary mean of across-chain samples).
    Mean,
    /// Subtract the coordinate-wise median.
    Median,
}

/// Mohammadi's block-size grid (`--grid`), where no explicit block sizes are given.
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
    /// Which estimators to run.
    pub estimator: EstimatorChoice,
    /// Mohammadi block sizes; overrides `grid`.
    pub block_sizes: Option<Vec<usize>>,
    /// Mohammadi's block-size grid, where `block_sizes` is not given.
    pub grid: GridChoice,
    /// Upper order statistics for Hill, moments and Pickands (default: chosen by the data).
    pub k: Option<usize>,
    /// How the rows are centred before their norms are taken.
    pub center: CenterChoice,
    /// Every coordinate of a row is its own scalar sample.
    pub pooled: bool,
    /// Level of the interval, in (0, 1).
    pub ci: f64,
    /// Half-sample subsamples for the interval (0: no interval).
    pub subsamples: usize,
    /// Seed of every resampling: the double bootstraps choosing k, the goodness of fit, the interval.
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
            estimator: EstimatorChoice::named("mohammadi").expect("mohammadi is registered"),
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
        self.estimator.estimators().len()
    }

    /// The estimators' settings these options give.
    pub fn settings(&self) -> EstimatorSettings {
        EstimatorSettings {
            k: self.k,
            k_resamples: self.k_resamples,
            grid: match (&self.block_sizes, self.grid) {
                (Some(sizes), _) => BlockGrid::Explicit(sizes.clone()),
                (None, GridChoice::Network) => BlockGrid::Network,
                (None, GridChoice::Synthetic) => BlockGrid::Synthetic,
                (None, GridChoice::Sqrt) => BlockGrid::Sqrt,
            },
            center: self.center.center(),
            gof_resamples: self.gof_resamples,
            powerlaw: self.powerlaw,
            seed: self.seed,
        }
    }
}

/// One estimator's answer, as printed by `tailgate estimate --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct EstimateReport {
    /// The estimator's registered name.
    pub estimator: &'static str,
    /// A finite positive number, or `null` with `reason` (moments or Pickands with ξ ≤ 0).
    pub alpha: Option<f64>,
    /// Why `alpha` is `null`, where it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Moments and Pickands: the extreme-value index ξ (α = 1/ξ where ξ > 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xi: Option<f64>,
    /// Mohammadi: the estimate at each block size (the reported `alpha` is their median).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_block_size: Option<Vec<BlockAlpha>>,
    /// Mohammadi: the block-size grid's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grid: Option<String>,
    /// Hill, moments, Pickands: the number of upper order statistics used, and its rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<usize>,
    /// How `k` was chosen: `fixed`, `double_bootstrap` or `stability`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k_rule: Option<String>,
    /// Power law: the threshold, the samples at or above it, the KS distance there, and
    /// the goodness-of-fit p-value (`null` without resamples).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xmin: Option<f64>,
    /// Samples at or above `xmin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n_tail: Option<usize>,
    /// The Kolmogorov–Smirnov distance at `xmin`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ks: Option<f64>,
    /// The goodness-of-fit p-value (`null` without resamples).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// The subsampling interval around `alpha`; `null` without subsamples, without an α̂, or where the statistic fails on the halves.
    pub ci: Option<Ci>,
    /// Rows in the sample (after pooling, where `pooled`).
    pub n: usize,
    /// Values per row (1 when pooled).
    pub dim: usize,
    /// The centring applied: `none`, `mean`, `median`, `vector` or `least_squares`.
    pub center: &'static str,
    /// Every coordinate of a row was its own scalar sample.
    pub pooled: bool,
}

/// A symmetric half-sample subsampling interval (`tail::SubsampleCi`).
#[derive(Debug, Clone, Serialize)]
pub struct Ci {
    /// The nominal coverage, in (0, 1).
    pub level: f64,
    /// Lower end.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
    /// Half-sample subsamples behind the interval.
    pub subsamples: usize,
    /// Rows in each subsample.
    pub size: usize,
    /// `half_subsampling` (the whole estimator, threshold or block sizes included, rerun
    /// on each half) or `half_subsampling_at_fixed_k` (Hill, moments, Pickands: the k
    /// chosen on the whole sample, scaled to the half; it leaves out the variability of
    /// the k rule and under-covers where that rule is unstable, docs/validation).
    pub method: &'static str,
}

impl Ci {
    /// The report of an interval, rerun at the whole sample's k or not.
    fn of(c: SubsampleCi, at_fixed_k: bool) -> Self {
        Ci {
            level: c.level,
            lo: c.lo,
            hi: c.hi,
            subsamples: c.subsamples,
            size: c.size,
            method: if at_fixed_k {
                "half_subsampling_at_fixed_k"
            } else {
                "half_subsampling"
            },
        }
    }
}

impl EstimateReport {
    /// The report of one estimator's answer on `rows`.
    fn new(
        estimator: &'static str,
        answer: Answer,
        ci: Option<Ci>,
        rows: &Rows,
        center: &Center,
        pooled: bool,
    ) -> Self {
        EstimateReport {
            estimator,
            alpha: answer.alpha,
            reason: answer.reason,
            xi: answer.xi,
            per_block_size: answer.per_block_size,
            grid: answer.grid,
            k: answer.k,
            k_rule: answer.k_rule,
            xmin: answer.xmin,
            n_tail: answer.n_tail,
            ks: answer.ks,
            p_value: answer.p_value,
            ci,
            n: rows.n(),
            dim: rows.dim(),
            center: center.name(),
            pooled,
        }
    }
}

/// The reports on `rows`, one per estimator `options` asks for; `on_resample` is called
/// once per subsample of each estimator's interval (a progress bar's tick). The first
/// estimator that cannot answer is the error.
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
    let settings = options.settings();
    let centered = center_rows(&rows, &settings.center)?;
    let norms = centered.norms();
    if norms.iter().all(|&v| v == norms[0]) {
        return Err(TailError::Invalid(
            "every sample has the same magnitude (a constant sample): no tail to estimate".into(),
        ));
    }
    let sample = Sample::whole(&centered, &norms);
    let interval = IntervalSettings {
        level: options.ci,
        subsamples: options.subsamples,
    };
    options
        .estimator
        .estimators()
        .into_iter()
        .map(|estimator| {
            let answer = estimator.estimate(&sample, &settings)?;
            // An interval that cannot be had (the statistic fails on the halves) is
            // absent, not a reason to withhold the estimate.
            let ci = (options.subsamples > 0 && answer.alpha.is_some())
                .then(|| {
                    let resampled = match estimator.needs() {
                        Needs::Norms => Resampled::Norms(&norms),
                        Needs::Rows => Resampled::Rows(&rows),
                    };
                    estimator.interval(&answer, resampled, &settings, interval, on_resample)
                })
                .and_then(Result::ok)
                .map(|c| Ci::of(c, estimator.interval_at_fixed_k()));
            Ok(EstimateReport::new(
                estimator.name(),
                answer,
                ci,
                &rows,
                &settings.center,
                options.pooled,
            ))
        })
        .collect()
}
