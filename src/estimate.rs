//! Every tail estimator on one sample, with its bootstrap interval: what `tailgate
//! estimate` prints and Python's `tailgate.estimate` returns (one code path for both).

use crate::tail::{
    self, BlockAlpha, BlockGrid, Center, KChoice, Rows, TailError, bootstrap_ci, center_in_place,
    center_rows, mohammadi_median,
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
    /// All four, in that order.
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
    /// Level of the bootstrap interval, in (0, 1).
    pub ci: f64,
    /// Bootstrap resamples (0: no interval).
    pub bootstrap: usize,
    pub seed: u64,
}

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
            bootstrap: 200,
            seed: 0,
        }
    }
}

impl EstimateOptions {
    /// How many estimators `estimator` stands for (the progress bar's length per resample).
    pub fn estimators(&self) -> usize {
        match self.estimator {
            EstimatorChoice::All => 4,
            _ => 1,
        }
    }
}

/// One estimator's answer, as printed by `tailgate estimate --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct EstimateReport {
    pub estimator: &'static str,
    /// `null` where the estimate has no finite α (moments or Pickands with ξ ≤ 0).
    pub alpha: Option<f64>,
    /// Moments and Pickands: the extreme-value index ξ (α = 1/ξ where ξ > 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xi: Option<f64>,
    /// Mohammadi: the estimate at each block size (the reported `alpha` is their median).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_block_size: Option<Vec<BlockAlpha>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grid: Option<String>,
    /// Hill: the number of upper order statistics used, and how it was chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k_rule: Option<String>,
    pub ci: Option<Ci>,
    pub n: usize,
    pub dim: usize,
    pub center: &'static str,
    pub pooled: bool,
}

/// A percentile bootstrap interval.
#[derive(Debug, Clone, Serialize)]
pub struct Ci {
    pub level: f64,
    pub lo: f64,
    pub hi: f64,
    pub resamples: usize,
}

/// The reports on `rows`, one per estimator `options` asks for; `on_resample` is called
/// once per bootstrap resample of each estimator (a progress bar's tick).
pub fn estimate(
    rows: Rows,
    options: &EstimateOptions,
    on_resample: &(dyn Fn() + Sync),
) -> Result<Vec<EstimateReport>, TailError> {
    let rows = if options.pooled { rows.pooled() } else { rows };
    if rows.n() < 2 {
        return Err(TailError::TooFewRows {
            needed: 2,
            got: rows.n(),
        });
    }
    let center = options.center.center();
    let grid = match (&options.block_sizes, options.grid) {
        (Some(sizes), _) => BlockGrid::Explicit(sizes.clone()),
        (None, GridChoice::Network) => BlockGrid::Network,
        (None, GridChoice::Synthetic) => BlockGrid::Synthetic,
        (None, GridChoice::Sqrt) => BlockGrid::Sqrt,
    };
    let centered = center_rows(&rows, &center)?;
    let base = |estimator| EstimateReport {
        estimator,
        alpha: None,
        xi: None,
        per_block_size: None,
        grid: None,
        k: None,
        k_rule: None,
        ci: None,
        n: rows.n(),
        dim: rows.dim(),
        center: center.name(),
        pooled: options.pooled,
    };
    let ci = |stat: &(dyn Fn(&Rows) -> Result<f64, TailError> + Sync)| {
        if options.bootstrap == 0 {
            return Ok(None);
        }
        let ci = bootstrap_ci(&rows, options.bootstrap, options.ci, options.seed, |r| {
            let value = stat(&center_in_place(r, &center)?);
            on_resample();
            value
        })?;
        Ok::<_, TailError>(Some(Ci {
            level: ci.level,
            lo: ci.lo,
            hi: ci.hi,
            resamples: ci.resamples,
        }))
    };
    let norms = centered.norms();
    let wants = |which| options.estimator == which || options.estimator == EstimatorChoice::All;
    let k_choice = || match options.k {
        Some(k) => KChoice::Fixed(k),
        None => KChoice::DoubleBootstrap {
            resamples: 50,
            seed: options.seed,
        },
    };
    let mut reports = Vec::new();
    if wants(EstimatorChoice::Mohammadi) {
        let est = mohammadi_median(&centered, &grid)?;
        let stat = |r: &Rows| mohammadi_median(r, &grid).map(|e| e.alpha);
        reports.push(EstimateReport {
            alpha: Some(est.alpha),
            per_block_size: Some(est.per_block_size),
            grid: Some(est.grid),
            ci: ci(&stat)?,
            ..base("mohammadi")
        });
    }
    if wants(EstimatorChoice::Hill) {
        let est = tail::hill(&norms, k_choice())?;
        let k = est.k;
        let stat = |r: &Rows| tail::hill_alpha(&r.norms(), k);
        reports.push(EstimateReport {
            alpha: Some(est.alpha),
            k: Some(est.k),
            k_rule: Some(est.k_rule),
            ci: ci(&stat)?,
            ..base("hill")
        });
    }
    type AlphaAtK = fn(&[f64], usize) -> Result<f64, TailError>;
    type XiChoose = fn(&[f64], KChoice) -> Result<tail::XiEstimate, TailError>;
    let order_estimators: [(EstimatorChoice, &'static str, XiChoose, AlphaAtK); 2] = [
        (
            EstimatorChoice::Moments,
            "moments",
            tail::moments,
            tail::moments_alpha,
        ),
        (
            EstimatorChoice::Pickands,
            "pickands",
            tail::pickands,
            tail::pickands_alpha,
        ),
    ];
    for (which, name, estimate, alpha_at) in order_estimators {
        if !wants(which) {
            continue;
        }
        let est = estimate(&norms, k_choice())?;
        let k = est.k;
        // Resamples with ξ ≤ 0 have no α: they count as failed resamples.
        let stat = |r: &Rows| alpha_at(&r.norms(), k);
        reports.push(EstimateReport {
            alpha: est.alpha,
            xi: Some(est.xi),
            k: Some(est.k),
            k_rule: Some(est.k_rule),
            ci: ci(&stat)?,
            ..base(name)
        });
    }
    Ok(reports)
}
