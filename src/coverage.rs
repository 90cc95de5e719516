//! The estimators' error and interval coverage, measured: many independent samples of a
//! known tail index (Pareto, α-stable, Student t, or reduced-engine runs whose theory gives
//! α), every estimator with its interval on each, and per (case, n, estimator) the mean,
//! spread, error against the truth, and how often the interval covers the truth and the
//! estimator's own mean over the replicates.

use crate::config::{Engine, TrainConfig};
use crate::error::{Error, Result};
use crate::estimate::{CenterChoice, EstimateOptions, EstimatorChoice, estimate};
use crate::io::Progress;
use crate::reduced::{self, EstimationRows, RowMaker, Which};
use crate::summary::HEADLINE;
use crate::tail::{ESTIMATORS, Rows, sample_symmetric_stable, stream};
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// A coverage study (`configs/validation/coverage.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverageConfig {
    /// The study's name.
    pub name: String,
    /// Base seed: each sample's seed is drawn from a stream keyed by it, the case, n and the replicate.
    pub seed: u64,
    /// Nominal level of every interval.
    #[serde(default = "default_level")]
    pub level: f64,
    /// Half-sample subsamples of every interval.
    pub subsamples: usize,
    /// Resamples per stage of the double bootstraps choosing k.
    pub k_resamples: usize,
    /// The laws measured.
    pub cases: Vec<Case>,
}

fn default_level() -> f64 {
    0.95
}

/// Samples of one law at several sizes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// The case's name in the tables.
    pub name: String,
    /// Where the samples come from, and so the true α.
    pub source: Source,
    /// Sample sizes (chains for a run).
    pub n: Vec<usize>,
    /// Independent samples per size.
    pub replicates: usize,
    /// Estimators to run (`all` for every one).
    #[serde(default = "all_estimators")]
    pub estimators: Vec<String>,
}

fn all_estimators() -> Vec<String> {
    vec!["all".into()]
}

/// Where a case's samples come from, and so its true α.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    /// ±X with P(X > x) = x^−α, x ≥ 1, and a random sign: symmetric, so that the block
    /// estimator (which needs a centred law) applies uncentred.
    Pareto {
        /// The tail index α of |X|.
        alpha: f64,
    },
    /// Symmetric α-stable (Chambers–Mallows–Stuck), α ∈ (0, 2).
    Stable {
        /// The stability index, which is the tail index; in (0, 2).
        alpha: f64,
    },
    /// Student t with ν degrees of freedom (tail index ν).
    StudentT {
        /// Degrees of freedom ν, which is the tail index.
        nu: f64,
    },
    /// Final rows of a reduced-engine run (centred on their mean), truth the theory's α
    /// (linear control, or the gate's prediction); `chains` and `seed` are set per sample.
    Reduced(Box<TrainConfig>),
}

impl Source {
    /// The true tail index of the case's samples.
    pub fn truth(&self) -> Result<Option<f64>> {
        Ok(match self {
            Source::Pareto { alpha } | Source::Stable { alpha } => Some(*alpha),
            Source::StudentT { nu } => Some(*nu),
            Source::Reduced(config) => crate::run::theory(config)?.and_then(|t| t.alpha),
        })
    }

    /// Sample `replicate` of size `n` under `seed`: rows to estimate from, and the centring.
    fn sample(&self, n: usize, seed: u64) -> Result<(Rows, CenterChoice)> {
        let mut rng = stream(seed, "coverage_sample", 0);
        let scalars =
            |v: Vec<f64>| Rows::scalars(v).map_err(|e| Error::config("cases", e.to_string()));
        match self {
            Source::Pareto { alpha } => scalars(
                (0..n)
                    .map(|_| {
                        let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
                        sign * (1.0 - rng.random::<f64>()).powf(-1.0 / alpha)
                    })
                    .collect(),
            )
            .map(|r| (r, CenterChoice::None)),
            Source::Stable { alpha } => scalars(sample_symmetric_stable(*alpha, n, rng.next_u64()))
                .map(|r| (r, CenterChoice::None)),
            Source::StudentT { nu } => {
                let normal = rand_distr::StandardNormal;
                let chi2 = rand_distr::ChiSquared::new(*nu)
                    .map_err(|e| Error::config("cases.source.student_t.nu", e.to_string()))?;
                scalars(
                    (0..n)
                        .map(|_| {
                            let z: f64 = rng.sample(normal);
                            let q: f64 = rng.sample(chi2);
                            z / (q / nu).sqrt()
                        })
                        .collect(),
                )
                .map(|r| (r, CenterChoice::None))
            }
            Source::Reduced(config) => {
                let config = TrainConfig {
                    engine: Engine::Reduced,
                    chains: n,
                    seed,
                    ..(**config).clone()
                }
                .resolve()?;
                let run = reduced::simulate(&config, &Progress::hidden())?;
                let rows = RowMaker::new(&run, seed)
                    .estimation(EstimationRows::for_run(n, config.dim), Which::Final)
                    .ok_or_else(|| Error::config("cases", "every chain diverged"))?;
                Ok((rows, CenterChoice::Mean))
            }
        }
    }
}

/// One estimator on one sample.
#[derive(Debug, Clone, Serialize)]
pub struct Replicate {
    /// The case's name.
    pub case: String,
    /// Sample size (chains for a run).
    pub n: usize,
    /// The replicate's index at this size (0-based).
    pub replicate: usize,
    /// The estimator's registered name.
    pub estimator: String,
    /// The case's true α; empty where the theory gives none.
    pub truth: Option<f64>,
    /// The estimate; empty where the estimator gave none (see `reason`).
    pub alpha: Option<f64>,
    /// Lower end of the estimator's subsampling interval at the study's `level`.
    pub lo: Option<f64>,
    /// Upper end of the estimator's subsampling interval.
    pub hi: Option<f64>,
    /// Samples the estimate used (a run's surviving chains).
    pub samples: usize,
    /// Why there is no α̂, where there is none.
    pub reason: Option<String>,
}

/// Every estimator a case names, `all` expanded (headline first).
fn expand(names: &[String]) -> Result<Vec<EstimatorChoice>> {
    let mut out = Vec::new();
    for name in names {
        let choice = EstimatorChoice::named(name).ok_or_else(|| {
            Error::config("cases.estimators", format!("unknown estimator `{name}`"))
        })?;
        match choice {
            EstimatorChoice::All => {
                let headline =
                    EstimatorChoice::named(HEADLINE).expect("the headline is registered");
                out.push(headline);
                out.extend(
                    (0..ESTIMATORS.len())
                        .map(EstimatorChoice::One)
                        .filter(|&c| c != headline),
                );
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// One (case, n, estimator) over its replicates.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// The case's name.
    pub case: String,
    /// Sample size (chains for a run).
    pub n: usize,
    /// The estimator's registered name.
    pub estimator: String,
    /// The case's true α; empty where the theory gives none.
    pub truth: Option<f64>,
    /// Replicates run, with an estimate or not.
    pub replicates: usize,
    /// Replicates with an estimate (finite positive α̂).
    pub estimated: usize,
    /// Mean α̂ over the replicates with one.
    pub mean: Option<f64>,
    /// Sample standard deviation of α̂ over the replicates with one (needs two).
    pub sd: Option<f64>,
    /// Mean of |α̂ − truth| and the root mean square error.
    pub mean_abs_error: Option<f64>,
    /// Root-mean-square error of α̂ against the truth.
    pub rmse: Option<f64>,
    /// Fraction of intervals containing the truth, and the estimator's own mean.
    pub covers_truth: Option<f64>,
    /// Fraction of intervals containing the estimator's mean over the replicates (a check of the width against the replicate spread, not of bias).
    pub covers_mean: Option<f64>,
    /// Mean width hi − lo of the intervals.
    pub mean_width: Option<f64>,
}

/// Every replicate of the study, in (case, n, replicate, estimator) order; `progress`
/// counts samples.
pub fn run(config: &CoverageConfig, progress: &Progress) -> Result<Vec<Replicate>> {
    let mut out = Vec::new();
    for case in &config.cases {
        let truth = case.source.truth()?;
        for &n in &case.n {
            for r in 0..case.replicates {
                progress.check()?;
                let seed = stream(
                    config.seed,
                    &format!("coverage/{}/{n}", case.name),
                    r as u64,
                )
                .next_u64();
                let (rows, center) = case.source.sample(n, seed)?;
                for estimator in expand(&case.estimators)? {
                    let options = EstimateOptions {
                        estimator,
                        center,
                        ci: config.level,
                        subsamples: config.subsamples,
                        seed,
                        min_samples: 0,
                        k_resamples: config.k_resamples,
                        gof_resamples: 0,
                        ..EstimateOptions::default()
                    };
                    let name = estimator.name().to_string();
                    // An estimator that fails on a sample (no AMSE minimum, ξ ≤ 0) is a
                    // replicate without α̂: counted, not a reason to stop the study.
                    let (alpha, ci, reason) = match estimate(rows.clone(), &options, &|| {}) {
                        Ok(mut reports) => {
                            let rep = reports.remove(0);
                            (rep.alpha, rep.ci, rep.reason)
                        }
                        Err(e) => (None, None, Some(e.to_string())),
                    };
                    out.push(Replicate {
                        case: case.name.clone(),
                        n,
                        replicate: r,
                        estimator: name,
                        truth,
                        alpha,
                        lo: ci.as_ref().map(|c| c.lo),
                        hi: ci.as_ref().map(|c| c.hi),
                        samples: rows.n(),
                        reason,
                    });
                }
                progress.inc(1);
            }
        }
    }
    Ok(out)
}

/// The replicates summarised per (case, n, estimator), in first-seen order.
pub fn summarize(replicates: &[Replicate]) -> Vec<Cell> {
    let mut keys: Vec<(String, usize, String)> = Vec::new();
    for r in replicates {
        let key = (r.case.clone(), r.n, r.estimator.clone());
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.into_iter()
        .map(|(case, n, estimator)| {
            let reps: Vec<&Replicate> = replicates
                .iter()
                .filter(|r| r.case == case && r.n == n && r.estimator == estimator)
                .collect();
            let truth = reps.first().and_then(|r| r.truth);
            let alphas: Vec<f64> = reps.iter().filter_map(|r| r.alpha).collect();
            let k = alphas.len() as f64;
            let mean = (!alphas.is_empty()).then(|| alphas.iter().sum::<f64>() / k);
            let sd = mean
                .filter(|_| alphas.len() > 1)
                .map(|m| (alphas.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (k - 1.0)).sqrt());
            let errors = |f: fn(f64) -> f64| {
                truth
                    .zip(mean)
                    .map(|(t, _)| alphas.iter().map(|a| f(a - t)).sum::<f64>() / k)
            };
            let intervals: Vec<(f64, f64)> = reps.iter().filter_map(|r| r.lo.zip(r.hi)).collect();
            let covers = |x: Option<f64>| {
                x.filter(|_| !intervals.is_empty()).map(|x| {
                    intervals
                        .iter()
                        .filter(|(lo, hi)| *lo <= x && x <= *hi)
                        .count() as f64
                        / intervals.len() as f64
                })
            };
            Cell {
                truth,
                replicates: reps.len(),
                estimated: alphas.len(),
                mean,
                sd,
                mean_abs_error: errors(f64::abs),
                rmse: errors(|e| e * e).map(f64::sqrt),
                covers_truth: covers(truth),
                covers_mean: covers(mean),
                mean_width: (!intervals.is_empty()).then(|| {
                    intervals.iter().map(|(lo, hi)| hi - lo).sum::<f64>() / intervals.len() as f64
                }),
                case,
                n,
                estimator,
            }
        })
        .collect()
}

/// The summary as a markdown table.
pub fn markdown_table(cells: &[Cell]) -> String {
    let f = |v: Option<f64>, p: usize| v.map_or("–".to_string(), |v| format!("{v:.p$}"));
    let mut s = String::from(
        "| case | n | estimator | truth | replicates (with α̂) | mean α̂ | sd | mean abs. error | RMSE | covers truth | covers own mean | mean width |\n|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for c in cells {
        s += &format!(
            "| {} | {} | {} | {} | {} ({}) | {} | {} | {} | {} | {} | {} | {} |\n",
            c.case,
            c.n,
            c.estimator,
            f(c.truth, 3),
            c.replicates,
            c.estimated,
            f(c.mean, 3),
            f(c.sd, 3),
            f(c.mean_abs_error, 3),
            f(c.rmse, 3),
            f(c.covers_truth, 2),
            f(c.covers_mean, 2),
            f(c.mean_width, 3),
        );
    }
    s
}

/// The estimators a case asks for, checked before any sample is drawn.
pub fn check(config: &CoverageConfig) -> Result<()> {
    if !(config.level > 0.0 && config.level < 1.0) {
        return Err(Error::config(
            "level",
            format!("must lie in (0, 1), got {}", config.level),
        ));
    }
    if config.subsamples < 2 {
        return Err(Error::config("subsamples", "must be at least 2"));
    }
    for case in &config.cases {
        expand(&case.estimators)?;
        if case.n.iter().any(|&n| n < 4) {
            return Err(Error::config("cases.n", "every size must be at least 4"));
        }
        if let Source::Reduced(c) = &case.source {
            reduced::check(&TrainConfig {
                engine: Engine::Reduced,
                ..(**c).clone()
            })?;
        }
        case.source.truth()?;
    }
    Ok(())
}

/// Samples in the study (the progress bar's length).
pub fn samples(config: &CoverageConfig) -> u64 {
    config
        .cases
        .iter()
        .map(|c| (c.n.len() * c.replicates) as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rep(alpha: Option<f64>, lo: f64, hi: f64) -> Replicate {
        Replicate {
            case: "c".into(),
            n: 10,
            replicate: 0,
            estimator: "hill".into(),
            truth: Some(1.5),
            alpha,
            lo: alpha.map(|_| lo),
            hi: alpha.map(|_| hi),
            samples: 10,
            reason: None,
        }
    }

    /// Hand-computed: α̂ 1.4, 1.6, 1.8 (mean 1.6), intervals covering 1.5 twice and the
    /// mean 1.6 three times; the null replicate counts in `replicates` only.
    #[test]
    fn summary_by_hand() {
        let reps = [
            rep(Some(1.4), 1.3, 1.62),
            rep(Some(1.6), 1.45, 1.75),
            rep(Some(1.8), 1.55, 2.05),
            rep(None, 0.0, 0.0),
        ];
        let [c] = summarize(&reps).try_into().unwrap();
        assert_eq!((c.replicates, c.estimated), (4, 3));
        assert!((c.mean.unwrap() - 1.6).abs() < 1e-12);
        assert!((c.sd.unwrap() - 0.2).abs() < 1e-12);
        assert!((c.mean_abs_error.unwrap() - (0.1 + 0.1 + 0.3) / 3.0).abs() < 1e-12);
        assert!((c.rmse.unwrap() - ((0.01 + 0.01 + 0.09) / 3.0f64).sqrt()).abs() < 1e-12);
        assert!((c.covers_truth.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(c.covers_mean, Some(1.0));
        assert!((c.mean_width.unwrap() - (0.32 + 0.3 + 0.5) / 3.0).abs() < 1e-12);
    }
}
