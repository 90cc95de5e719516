//! The far-tail ladder's error and interval coverage, measured where the truth is exact:
//! Kesten recursions (α = −2μ/s²) and reduced-engine runs of the linear control (GSZ21's
//! theory), many seeds each; per (case, rung) and for the headline under several rules
//! the bias, RMSE and how often the 95 % chain-bootstrap interval covers the truth.

use crate::config::{Model, TrainConfig};
use crate::error::{Error, Result};
use crate::io::Progress;
use crate::tail::far::{
    DEFAULT_CAP, DEFAULT_KEEP, FarTail, Kesten, LadderOptions, TimeSamples, ladder,
};
use serde::{Deserialize, Serialize};

/// A far-tail coverage study (`configs/validation/far_tail.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FarCoverageConfig {
    /// The study's name.
    pub name: String,
    /// Base seed: replicate r of case i runs with `seed + 1000·i + r`.
    pub seed: u64,
    /// Chain-bootstrap resamples of every interval.
    pub resamples: usize,
    /// The laws measured.
    pub cases: Vec<FarCase>,
}

/// One law, many seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FarCase {
    /// The case's name in the tables.
    pub name: String,
    /// Where its time samples come from, and so its true α.
    pub source: FarSource,
    /// Independent replicates (seeds) of the case; at least 1.
    pub replicates: usize,
}

/// Where a case's time samples come from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FarSource {
    /// A Kesten recursion of index `alpha`, spread `s`, on `chains` × `steps` after `burn_in`.
    Kesten {
        /// The true tail index α (> 0).
        alpha: f64,
        /// Spread s > 0 of the log-multiplier, whose mean is μ = −α·s²/2.
        s: f64,
        /// Independent chains N.
        chains: usize,
        /// Steps T per chain recorded after burn-in (> 0).
        steps: usize,
        /// Steps each chain runs from X₀ = 0 before recording.
        burn_in: usize,
    },
    /// A reduced-engine run of the linear model (its far tail recorded); α from the theory.
    Reduced(Box<TrainConfig>),
}

/// The headline rules compared: (minimum clusters, minimum chains).
pub const RULES: [(f64, usize); 4] = [(100.0, 20), (200.0, 50), (400.0, 50), (1000.0, 100)];

/// One replicate's reading of one rung (or the headline under a rule).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FarReplicate {
    /// The case's name.
    pub case: String,
    /// The true α of the case.
    pub truth: f64,
    /// The replicate's index within its case (0-based).
    pub replicate: usize,
    /// `1e-3` …, or `headline ≥C/H` (the rule's clusters and chains).
    pub rung: String,
    /// The rung's exceedance fraction p; empty for a headline rule no rung satisfies.
    pub fraction: Option<f64>,
    /// Hill's α̂ above the rung's threshold; empty where there is no rung.
    pub hill: Option<f64>,
    /// Lower end of Hill's chain-bootstrap percentile interval.
    pub hill_lo: Option<f64>,
    /// Upper end of Hill's chain-bootstrap percentile interval.
    pub hill_hi: Option<f64>,
    /// 1/ξ̂ of the generalised Pareto MLE on the rung's excesses; empty where ξ̂ ≤ 0 or there is no rung.
    pub gpd_alpha: Option<f64>,
    /// Lower end of the GPD α̂'s chain-bootstrap interval.
    pub gpd_lo: Option<f64>,
    /// Upper end of the GPD α̂'s interval; empty where it is unbounded.
    pub gpd_hi: Option<f64>,
    /// Independent clusters (extremal index × exceedances) at the rung.
    pub clusters: Option<f64>,
    /// Distinct chains among the rung's exceedances.
    pub chains: Option<usize>,
}

/// Error and coverage of one (case, rung) over its replicates.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FarCell {
    /// The case's name.
    pub case: String,
    /// The true α of the case.
    pub truth: f64,
    /// `1e-3` …, or `headline ≥C/H`, as in [`FarReplicate::rung`].
    pub rung: String,
    /// Replicates with an estimate, of all.
    pub estimated: usize,
    /// Replicates of the case (with an estimate or not).
    pub replicates: usize,
    /// Mean of Hill's α̂ over the replicates with one.
    pub hill_mean: Option<f64>,
    /// `hill_mean` − truth.
    pub hill_bias: Option<f64>,
    /// Root-mean-square error of Hill's α̂ against the truth.
    pub hill_rmse: Option<f64>,
    /// Fraction of intervals that contain the truth.
    pub hill_coverage: Option<f64>,
    /// Mean GPD α̂ minus the truth, over the replicates with one.
    pub gpd_bias: Option<f64>,
    /// Root-mean-square error of the GPD α̂ against the truth.
    pub gpd_rmse: Option<f64>,
    /// Fraction of GPD intervals that contain the truth (a missing upper end counts as unbounded).
    pub gpd_coverage: Option<f64>,
    /// Mean clusters behind the rung over the replicates.
    pub clusters_mean: Option<f64>,
    /// Mean distinct chains behind the rung over the replicates.
    pub chains_mean: Option<f64>,
}

/// Checks a study before anything runs: known sources, sizes that fit, a theory for runs.
pub fn check(config: &FarCoverageConfig) -> Result<()> {
    for (i, case) in config.cases.iter().enumerate() {
        let field = || format!("cases[{i}] ({})", case.name);
        if case.replicates == 0 {
            return Err(Error::Input {
                path: field().into(),
                message: "replicates must be at least 1".into(),
            });
        }
        match &case.source {
            FarSource::Kesten {
                alpha, s, steps, ..
            } => {
                if !(*alpha > 0.0 && *s > 0.0 && *steps > 0) {
                    return Err(Error::Input {
                        path: field().into(),
                        message: "kesten needs alpha > 0, s > 0, steps > 0".into(),
                    });
                }
            }
            FarSource::Reduced(c) => {
                let c = (**c).clone().resolve()?;
                if c.model != Model::Linear || c.far_tail().is_none() {
                    return Err(Error::Input {
                        path: field().into(),
                        message: "a reduced case is a `linear` run with its far tail on".into(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Replicates the study holds.
pub fn samples(config: &FarCoverageConfig) -> u64 {
    config.cases.iter().map(|c| c.replicates as u64).sum()
}

/// Runs every replicate of every case; `progress` counts replicates.
pub fn run(config: &FarCoverageConfig, progress: &Progress) -> Result<Vec<FarReplicate>> {
    let mut out = Vec::new();
    for (i, case) in config.cases.iter().enumerate() {
        for r in 0..case.replicates {
            let seed = config.seed + 1000 * i as u64 + r as u64;
            let (far, truth) = replicate(&case.source, seed, config.resamples)?;
            out.extend(rows_of(&case.name, truth, r, &far));
            progress.inc(1);
            progress.check()?;
        }
    }
    Ok(out)
}

/// One replicate's ladder and the true α.
fn replicate(source: &FarSource, seed: u64, resamples: usize) -> Result<(FarTail, f64)> {
    let options = LadderOptions {
        resamples,
        seed,
        ..LadderOptions::default()
    };
    match source {
        FarSource::Kesten {
            alpha,
            s,
            chains,
            steps,
            burn_in,
        } => {
            let k = Kesten {
                alpha: *alpha,
                s: *s,
            };
            let kept = k.record(*chains, *burn_in, *steps, DEFAULT_KEEP, DEFAULT_CAP, seed);
            let samples = TimeSamples {
                exceedances: &kept.exceedances,
                threshold: kept.threshold,
                chains: *chains,
                steps: *steps,
            };
            Ok((ladder(&samples, &options), *alpha))
        }
        FarSource::Reduced(c) => {
            let config = TrainConfig {
                seed,
                ..(**c).clone()
            }
            .resolve()?;
            let truth = crate::run::theory(&config)?
                .and_then(|t| t.alpha)
                .ok_or_else(|| Error::config("eta", "the theory gives no finite α here"))?;
            let run = crate::reduced::simulate(&config, &Progress::hidden())?;
            let rec = run.far_tail.expect("far tail on, checked");
            let samples = TimeSamples {
                exceedances: &rec.kept.exceedances,
                threshold: rec.kept.threshold,
                chains: rec.chains,
                steps: rec.steps,
            };
            Ok((ladder(&samples, &options), truth))
        }
    }
}

/// A ladder as rows: one per rung, and one per headline rule.
fn rows_of(case: &str, truth: f64, replicate: usize, far: &FarTail) -> Vec<FarReplicate> {
    let base = |rung: String| FarReplicate {
        case: case.into(),
        truth,
        replicate,
        rung,
        fraction: None,
        hill: None,
        hill_lo: None,
        hill_hi: None,
        gpd_alpha: None,
        gpd_lo: None,
        gpd_hi: None,
        clusters: None,
        chains: None,
    };
    let of = |rung: String, r: &crate::tail::far::Rung| FarReplicate {
        fraction: Some(r.fraction),
        hill: Some(r.hill),
        hill_lo: r.hill_lo,
        hill_hi: r.hill_hi,
        gpd_alpha: r.gpd_alpha,
        gpd_lo: r.gpd_lo,
        gpd_hi: r.gpd_hi,
        clusters: Some(r.clusters),
        chains: Some(r.chains),
        ..base(rung)
    };
    let mut rows: Vec<FarReplicate> = far
        .ladder
        .iter()
        .map(|r| of(format!("{:e}", r.fraction), r))
        .collect();
    for (c, h) in RULES {
        let name = format!("headline ≥{c}/{h}");
        let chosen = far
            .ladder
            .iter()
            .rev()
            .find(|r| r.clusters >= c && r.chains >= h);
        rows.push(match chosen {
            Some(r) => of(name, r),
            None => base(name),
        });
    }
    rows
}

/// Per (case, rung): error and coverage over the replicates.
pub fn summarize(rows: &[FarReplicate]) -> Vec<FarCell> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for r in rows {
        let key = (r.case.clone(), r.rung.clone());
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.into_iter()
        .map(|(case, rung)| {
            let cell: Vec<&FarReplicate> = rows
                .iter()
                .filter(|r| r.case == case && r.rung == rung)
                .collect();
            let truth = cell[0].truth;
            let replicates = cell.iter().map(|r| r.replicate).max().unwrap_or(0) + 1;
            let hill: Vec<&&FarReplicate> = cell.iter().filter(|r| r.hill.is_some()).collect();
            let stats = |pick: &dyn Fn(&FarReplicate) -> Option<f64>| {
                let v: Vec<f64> = cell.iter().filter_map(|r| pick(r)).collect();
                if v.is_empty() {
                    return (None, None, None);
                }
                let mean = v.iter().sum::<f64>() / v.len() as f64;
                let rmse =
                    (v.iter().map(|x| (x - truth).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
                (Some(mean), Some(mean - truth), Some(rmse))
            };
            // `open_hi`: a missing upper end is an unbounded interval (GPD), not a missing one.
            let cover = |lo: &dyn Fn(&FarReplicate) -> Option<f64>,
                         hi: &dyn Fn(&FarReplicate) -> Option<f64>,
                         point: &dyn Fn(&FarReplicate) -> Option<f64>,
                         open_hi: bool| {
                let with: Vec<&&FarReplicate> =
                    cell.iter().filter(|r| point(r).is_some()).collect();
                if with.is_empty() {
                    return None;
                }
                let hits = with
                    .iter()
                    .filter(|r| {
                        lo(r).is_some_and(|l| l <= truth)
                            && match hi(r) {
                                Some(h) => truth <= h,
                                None => open_hi,
                            }
                    })
                    .count();
                Some(hits as f64 / with.len() as f64)
            };
            let (hill_mean, hill_bias, hill_rmse) = stats(&|r| r.hill);
            let (_, gpd_bias, gpd_rmse) = stats(&|r| r.gpd_alpha);
            let mean_of =
                |v: Vec<f64>| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
            FarCell {
                truth,
                estimated: hill.len(),
                replicates,
                hill_mean,
                hill_bias,
                hill_rmse,
                hill_coverage: cover(&|r| r.hill_lo, &|r| r.hill_hi, &|r| r.hill, false),
                gpd_bias,
                gpd_rmse,
                gpd_coverage: cover(&|r| r.gpd_lo, &|r| r.gpd_hi, &|r| r.gpd_alpha, true),
                clusters_mean: mean_of(cell.iter().filter_map(|r| r.clusters).collect()),
                chains_mean: mean_of(
                    cell.iter()
                        .filter_map(|r| r.chains.map(|c| c as f64))
                        .collect(),
                ),
                case,
                rung,
            }
        })
        .collect()
}

/// The summary as a markdown table.
pub fn markdown_table(cells: &[FarCell]) -> String {
    let f = |x: Option<f64>, d: usize| x.map_or("–".into(), |v| format!("{v:.d$}"));
    let mut out = String::from(
        "| case | α | rung | with α̂ | Hill mean | bias | RMSE | coverage | GPD bias | GPD RMSE | GPD coverage | clusters | chains |\n\
         | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for c in cells {
        out += &format!(
            "| {} | {:.3} | {} | {}/{} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            c.case,
            c.truth,
            c.rung,
            c.estimated,
            c.replicates,
            f(c.hill_mean, 3),
            f(c.hill_bias, 3),
            f(c.hill_rmse, 3),
            f(c.hill_coverage, 2),
            f(c.gpd_bias, 3),
            f(c.gpd_rmse, 3),
            f(c.gpd_coverage, 2),
            f(c.clusters_mean, 0),
            f(c.chains_mean, 0),
        );
    }
    out
}
