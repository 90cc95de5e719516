//! One interface over the across-sample estimators, and [`ESTIMATORS`], the one list that
//! names them: the trainer's run summary, `tailgate estimate`, the coverage study and the
//! Python package all iterate it, so an estimator added there appears everywhere.
//!
//! ```
//! use tailgate_tail::{ESTIMATORS, EstimatorSettings, Rows, Sample, sample_symmetric_stable};
//!
//! // |x| of 20 000 symmetric 1.5-stable draws: every estimator's point answer.
//! let x: Vec<f64> = sample_symmetric_stable(1.5, 20_000, 7);
//! let rows = Rows::scalars(x).unwrap();
//! let norms = rows.norms();
//! let sample = Sample::whole(&rows, &norms);
//! // No goodness-of-fit resamples: the power law's point answer alone.
//! let settings = EstimatorSettings { gof_resamples: 0, ..EstimatorSettings::default() };
//! for estimator in ESTIMATORS {
//!     let answer = estimator.estimate(&sample, &settings).unwrap();
//!     if let Some(alpha) = answer.alpha {
//!         assert!((alpha - 1.5).abs() < 0.5, "{}: {alpha}", estimator.name());
//!     }
//! }
//! ```

use super::{
    BlockAlpha, BlockGrid, Center, KChoice, PowerLawOptions, Rows, SubsampleCi, TailError,
    subsample_scalar_ci,
};

/// What an estimator reads of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// The magnitudes: |x| of scalars, ‖x − c‖ of rows (order statistics of the norms).
    Norms,
    /// The centred rows themselves (the Mohammadi estimator's block sums of vectors).
    Rows,
}

/// Every setting an estimator of [`ESTIMATORS`] reads; each reads only its own.
#[derive(Debug, Clone, PartialEq)]
pub struct EstimatorSettings {
    /// Upper order statistics for Hill, moments and Pickands; `None`: chosen by the data
    /// (the double bootstrap, or Pickands' stability rule).
    pub k: Option<usize>,
    /// Resamples per stage of the double bootstraps that choose k.
    pub k_resamples: usize,
    /// The Mohammadi estimator's block sizes.
    pub grid: BlockGrid,
    /// The centring each half-sample of the Mohammadi interval is given anew.
    pub center: Center,
    /// Synthetic samples of the power-law goodness-of-fit test (0: no p-value).
    pub gof_resamples: usize,
    /// The power-law fit's candidate thresholds.
    pub powerlaw: PowerLawOptions,
    /// The seed of every resampling (k's bootstrap, the goodness of fit, the interval).
    pub seed: u64,
}

impl Default for EstimatorSettings {
    /// The defaults of `tailgate estimate` and of a run's summary.
    fn default() -> Self {
        EstimatorSettings {
            k: None,
            k_resamples: 50,
            grid: BlockGrid::Network,
            center: Center::None,
            gof_resamples: 100,
            powerlaw: PowerLawOptions::default(),
            seed: 0,
        }
    }
}

impl EstimatorSettings {
    /// The k rule these settings ask for.
    pub fn k_choice(&self) -> KChoice {
        match self.k {
            Some(k) => KChoice::Fixed(k),
            None => KChoice::DoubleBootstrap {
                resamples: self.k_resamples,
                seed: self.seed,
            },
        }
    }
}

/// A sample to estimate on: the first `n` of the centred rows, and their norms (computed
/// once and shared by every estimator).
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    centered: &'a Rows,
    norms: &'a [f64],
    n: usize,
}

impl<'a> Sample<'a> {
    /// All of `centered`, with `norms` its rows' norms (in row order: the bootstraps
    /// resample by index, so the order fixes their draws).
    pub fn whole(centered: &'a Rows, norms: &'a [f64]) -> Self {
        Sample::prefix(centered, norms, centered.n())
    }

    /// The first `n` rows of `centered` (read in place, not copied).
    pub fn prefix(centered: &'a Rows, norms: &'a [f64], n: usize) -> Self {
        let n = n.min(centered.n()).min(norms.len());
        Sample {
            centered,
            norms: &norms[..n],
            n,
        }
    }

    /// The rows' norms.
    pub fn norms(&self) -> &'a [f64] {
        self.norms
    }

    /// The centred rows, of which the first [`Sample::n`] are the sample.
    pub fn centered(&self) -> &'a Rows {
        self.centered
    }

    /// Rows in the sample.
    pub fn n(&self) -> usize {
        self.n
    }
}

/// One estimator's point answer: α̂ and what the estimator says of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answer {
    /// A finite positive number, or `None` with `reason` (no finite tail index).
    pub alpha: Option<f64>,
    /// Why `alpha` is `None`.
    pub reason: Option<String>,
    /// Moments and Pickands: the extreme-value index ξ (α = 1/ξ where ξ > 0).
    pub xi: Option<f64>,
    /// Order-statistic estimators: the upper order statistics used.
    pub k: Option<usize>,
    /// How `k` was chosen (`fixed`, `double_bootstrap`, `stability`).
    pub k_rule: Option<String>,
    /// Mohammadi: α̂ at each block size (`alpha` is their median).
    pub per_block_size: Option<Vec<BlockAlpha>>,
    /// Mohammadi: the block-size grid's name.
    pub grid: Option<String>,
    /// Power law: the threshold.
    pub xmin: Option<f64>,
    /// Power law: samples at or above `xmin`.
    pub n_tail: Option<usize>,
    /// Power law: the Kolmogorov–Smirnov distance at `xmin`.
    pub ks: Option<f64>,
    /// Power law: the goodness-of-fit p-value (`None` without resamples).
    pub p_value: Option<f64>,
}

impl Answer {
    /// An answer of α̂ alone, `None` (with a reason) unless finite and positive.
    pub fn alpha(alpha: f64) -> Self {
        if alpha.is_finite() && alpha > 0.0 {
            Answer {
                alpha: Some(alpha),
                ..Answer::default()
            }
        } else {
            Answer {
                reason: Some(format!("α̂ = {alpha} is not a positive number")),
                ..Answer::default()
            }
        }
    }
}

/// What an interval resamples: the norms, or the uncentred rows with the centring each
/// half-sample is given anew (the Mohammadi interval).
#[derive(Debug, Clone, Copy)]
pub enum Resampled<'a> {
    /// The sample's norms.
    Norms(&'a [f64]),
    /// The sample's rows before centring.
    Rows(&'a Rows),
}

/// How an interval is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IntervalSettings {
    /// Level, in (0, 1).
    pub level: f64,
    /// Half-sample subsamples (≥ 2).
    pub subsamples: usize,
}

/// A tail-index estimator of [`ESTIMATORS`].
pub trait Estimator: Sync {
    /// The name in `--estimator`, run.json and summary.csv: lower case, no spaces.
    fn name(&self) -> &'static str;
    /// One line for `--help` and the docs.
    fn about(&self) -> &'static str;
    /// What it reads of a sample.
    fn needs(&self) -> Needs;
    /// The point answer on `sample`.
    fn estimate(
        &self,
        sample: &Sample<'_>,
        settings: &EstimatorSettings,
    ) -> Result<Answer, TailError>;
    /// Whether the interval reruns the statistic at the whole sample's k (it leaves out
    /// the k rule's variability) rather than the whole estimator.
    fn interval_at_fixed_k(&self) -> bool {
        false
    }
    /// The statistic on one half-sample of magnitudes (reordered in place), given the
    /// whole sample's answer and the fraction of the sample the half is. Estimators that
    /// need rows answer through [`Estimator::interval`] instead.
    fn statistic(
        &self,
        _magnitudes: &mut [f64],
        _fraction: f64,
        _answer: &Answer,
        _settings: &EstimatorSettings,
    ) -> Result<f64, TailError> {
        Err(TailError::Invalid(format!(
            "{} has no statistic on magnitudes",
            self.name()
        )))
    }
    /// The symmetric half-sample subsampling interval around `answer.alpha`; `on_resample`
    /// is called once per subsample (a progress bar's tick).
    fn interval(
        &self,
        answer: &Answer,
        resampled: Resampled<'_>,
        settings: &EstimatorSettings,
        interval: IntervalSettings,
        on_resample: &(dyn Fn() + Sync),
    ) -> Result<SubsampleCi, TailError> {
        let alpha = answer
            .alpha
            .ok_or_else(|| TailError::Undefined("no α̂ to put an interval around".into()))?;
        let Resampled::Norms(norms) = resampled else {
            return Err(TailError::Invalid(format!(
                "{}'s interval resamples norms, not rows",
                self.name()
            )));
        };
        subsample_scalar_ci(
            norms,
            alpha,
            interval.subsamples,
            interval.level,
            settings.seed,
            |x, fraction| {
                let value = self.statistic(x, fraction, answer, settings);
                on_resample();
                value
            },
        )
    }
}

/// Every across-sample estimator, in the order `--estimator all` reports them. Adding an
/// estimator: implement [`Estimator`] in its own file and add it here.
pub static ESTIMATORS: [&dyn Estimator; 5] = [
    &super::mohammadi::Mohammadi,
    &super::hill::Hill,
    &super::extreme::Moments,
    &super::extreme::Pickands,
    &super::powerlaw::PowerLaw,
];

/// The estimator of [`ESTIMATORS`] with this name.
pub fn estimator(name: &str) -> Option<&'static dyn Estimator> {
    ESTIMATORS.iter().copied().find(|e| e.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample_symmetric_stable;

    #[test]
    fn names_are_unique_lower_case_words() {
        for (i, e) in ESTIMATORS.iter().enumerate() {
            assert!(
                e.name().chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{}",
                e.name()
            );
            assert!(!e.about().is_empty());
            assert!(ESTIMATORS[..i].iter().all(|o| o.name() != e.name()));
            assert_eq!(estimator(e.name()).unwrap().name(), e.name());
        }
        assert!(estimator("all").is_none());
    }

    #[test]
    fn every_estimator_reads_a_stable_law_and_covers_it() {
        let rows = Rows::scalars(sample_symmetric_stable(1.2, 20_000, 3)).unwrap();
        let norms = rows.norms();
        let settings = EstimatorSettings {
            gof_resamples: 10,
            ..EstimatorSettings::default()
        };
        let sample = Sample::whole(&rows, &norms);
        for e in ESTIMATORS {
            let answer = e.estimate(&sample, &settings).unwrap();
            let alpha = answer.alpha.unwrap();
            assert!((alpha - 1.2).abs() < 0.35, "{}: {alpha}", e.name());
            let resampled = match e.needs() {
                Needs::Norms => Resampled::Norms(&norms),
                Needs::Rows => Resampled::Rows(&rows),
            };
            let ticks = std::sync::atomic::AtomicUsize::new(0);
            let ci = e
                .interval(
                    &answer,
                    resampled,
                    &settings,
                    IntervalSettings {
                        level: 0.9,
                        subsamples: 20,
                    },
                    &|| {
                        ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    },
                )
                .unwrap();
            assert!(ci.lo <= alpha && alpha <= ci.hi, "{}: {ci:?}", e.name());
            assert_eq!(ticks.into_inner(), 20, "{}", e.name());
        }
    }

    #[test]
    fn a_prefix_is_the_first_rows() {
        let rows = Rows::scalars(sample_symmetric_stable(1.5, 4000, 5)).unwrap();
        let norms = rows.norms();
        let settings = EstimatorSettings::default();
        let head = Rows::scalars(rows.as_slice()[..1000].to_vec()).unwrap();
        let head_norms = head.norms();
        for e in ESTIMATORS {
            let a = e
                .estimate(&Sample::prefix(&rows, &norms, 1000), &settings)
                .unwrap();
            let b = e
                .estimate(&Sample::whole(&head, &head_norms), &settings)
                .unwrap();
            assert_eq!(a, b, "{}", e.name());
        }
    }
}
