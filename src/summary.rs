//! The tail index of a finished run (docs/theory.md §6.1, across-chains protocol): estimators
//! applied to the final and averaged rows, with diverged and collapsed runs reported as
//! such instead of as an α.

mod checkpoints;
mod estimates;
mod layers;

pub use checkpoints::CheckpointSummary;
pub use estimates::{Estimate, SubsetAlphas};
pub use layers::{NetLayerSummary, net_layer_summaries};

use crate::estimate::{GOF_RESAMPLES, K_RESAMPLES, MIN_SAMPLES, SUBSAMPLES};
use crate::tail::{
    self, BlockGrid, Center, EstimatorSettings, IntervalSettings, Needs, PowerLawOptions, Rows,
    Sample, center_in_place, center_rows, mohammadi_median, mohammadi_subsample_ci,
    quantile_sorted,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Estimation settings used on training runs.
#[derive(Debug, Clone)]
pub struct EstimateSettings {
    /// Centre subtracted from the final rows before their norms are taken (default the across-chain mean).
    pub center: Center,
    /// Mohammadi's block-size grid (default `network`).
    pub grid: BlockGrid,
    /// Level of every interval, in (0, 1) (default 0.95).
    pub ci_level: f64,
    /// Half-sample subsamples of every interval.
    pub subsamples: usize,
    /// Seed of every resampling (intervals, k's double bootstraps, the goodness of fit).
    pub seed: u64,
    /// Fewer estimated chains than this: no α̂.
    pub min_samples: usize,
    /// Resamples per stage of the double bootstraps that choose k.
    pub k_resamples: usize,
    /// Synthetic samples of the power-law goodness-of-fit p-value.
    pub gof_resamples: usize,
    /// Which thresholds the power-law fit searches.
    pub powerlaw: PowerLawOptions,
}

impl Default for EstimateSettings {
    fn default() -> Self {
        EstimateSettings {
            center: Center::Mean,
            grid: BlockGrid::Network,
            ci_level: 0.95,
            subsamples: SUBSAMPLES,
            seed: 0,
            min_samples: MIN_SAMPLES,
            k_resamples: K_RESAMPLES,
            gof_resamples: GOF_RESAMPLES,
            powerlaw: PowerLawOptions::default(),
        }
    }
}

impl EstimateSettings {
    /// The estimators' settings on a run: k chosen by the data.
    pub fn estimators(&self) -> EstimatorSettings {
        EstimatorSettings {
            k: None,
            k_resamples: self.k_resamples,
            grid: self.grid.clone(),
            center: self.center.clone(),
            gof_resamples: self.gof_resamples,
            powerlaw: self.powerlaw,
            seed: self.seed,
        }
    }
}

/// The headline estimator's name in run.json (`summary.estimator`).
pub const HEADLINE: &str = "powerlaw";

/// The registered estimators' names, the headline first (the reports' column order).
pub fn headline_first() -> Vec<&'static str> {
    let rest = crate::tail::ESTIMATORS.iter().map(|e| e.name());
    std::iter::once(HEADLINE)
        .chain(rest.filter(|&n| n != HEADLINE))
        .collect()
}

/// Spread below this fraction of max(1, ‖centre‖) means the chains collapsed onto one
/// point: float32 rounding, not a stationary law (docs/theory.md §7.1, §7.5).
const FLOOR_RELATIVE_SPREAD: f64 = 1e-5;

/// What a run's chains did, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Every chain finite and spread out: `alpha` describes the stationary law.
    Ok,
    /// Some chains diverged: `alpha` is of the survivors only (`from_survivors`), biased
    /// light: the chains that left were those whose norms grew largest.
    PartiallyDiverged,
    /// Every chain diverged: no `alpha`.
    Diverged,
    /// The chains collapsed onto one point: no `alpha`.
    ConvergedToFloor,
}

impl RunStatus {
    /// The word run.json and summary.csv use.
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::PartiallyDiverged => "partially_diverged",
            RunStatus::Diverged => "diverged",
            RunStatus::ConvergedToFloor => "converged_to_floor",
        }
    }
}

/// The tail-index part of `run.json`'s `summary`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TailSummary {
    /// What the chains did, in one word.
    pub status: RunStatus,
    /// The headline α̂: the power-law fit (minimum-KS threshold, MLE above it) on the norms
    /// of the centred final rows; a finite positive number, or `null` with `alpha_reason`.
    pub alpha: Option<f64>,
    /// Why `alpha` is `null`, where it is.
    pub alpha_reason: Option<String>,
    /// Its symmetric half-sample subsampling interval (contains `alpha`).
    pub alpha_ci: Option<[f64; 2]>,
    /// The level of `alpha_ci` and `alpha_mohammadi_ci` (0.95 by default).
    pub alpha_ci_level: f64,
    /// The Mohammadi block estimator (the field's protocol; ≤ 2 by construction: any light
    /// tail reads ≈ 2) and its interval.
    #[serde(default)]
    pub alpha_mohammadi: Option<f64>,
    /// `alpha_mohammadi`'s symmetric half-sample subsampling interval; `null` with it.
    #[serde(default)]
    pub alpha_mohammadi_ci: Option<[f64; 2]>,
    /// Mohammadi's estimate at each block size (its median is `alpha_mohammadi`).
    #[serde(default)]
    pub alpha_per_block_size: Vec<tail::BlockAlpha>,
    /// The headline estimator on the running-average rows.
    pub alpha_average: Option<f64>,
    /// Hill's α̂ on the norms at a data-driven k.
    pub hill_alpha: Option<f64>,
    /// The k (upper order statistics) behind `hill_alpha`; `null` with it.
    pub hill_k: Option<usize>,
    /// How the sample was taken: `across_chains_final_iterate` (one final row per chain).
    pub protocol: String,
    /// The centre's name (`mean`, `median`, `none`, `vector`, `least_squares`).
    pub center: String,
    /// The headline estimator's name ([`HEADLINE`]).
    pub estimator: String,
    /// Mohammadi's block-size grid, by name.
    pub block_grid: String,
    /// Chains the estimate used (finite, not diverged).
    pub estimated_chains: usize,
    /// Chains that diverged (crossed `divergence_norm` or went non-finite), left out of every estimate.
    pub diverged_chains: usize,
    /// Some chains diverged: every α̂ here is of the survivors, `surviving_fraction` of
    /// the chains, and biased light (the heaviest chains are the ones that left).
    #[serde(default)]
    pub from_survivors: bool,
    /// Estimated chains over all chains, in [0, 1] (1 when none diverged, 0 when all did).
    #[serde(default)]
    pub surviving_fraction: f64,
    /// No α̂ from fewer estimated chains than this.
    #[serde(default)]
    pub min_samples: usize,
    /// The chains collapsed onto one point (spread below 10⁻⁵·max(1, ‖centre‖)): status `converged_to_floor`, no α̂.
    pub converged_to_floor: bool,
    /// Quantiles 5/25/50/75/95/100 % of ‖w − centre‖ over the estimated chains.
    pub norm_quantiles: Option<[f64; 6]>,
    /// Every estimator on the centred final rows, each with its interval: `powerlaw`
    /// (= `alpha`, with `xmin`, `n_tail`, `ks`, `p_value`), `mohammadi`, and `hill`,
    /// `moments`, `pickands` on the norms at a data-driven k.
    #[serde(default)]
    pub estimates: BTreeMap<String, Estimate>,
    /// α̂ of every estimator on the first N/64, N/16, N/4 and all of the chains: whether the
    /// estimates have settled with the number of chains.
    #[serde(default)]
    pub convergence: Vec<SubsetAlphas>,
}

/// The rows (of `width` values) of chains that did not diverge and are finite, in f64.
pub(crate) fn kept_rows<T: Copy + Into<f64>>(
    data: &[T],
    width: usize,
    diverged: &[bool],
) -> Vec<f64> {
    data.chunks_exact(width)
        .zip(diverged)
        .filter(|(row, d)| !**d && row.iter().all(|&v| v.into().is_finite()))
        .flat_map(|(row, _)| row.iter().map(|&v| v.into()))
        .collect()
}

/// Estimates the tail index of the final rows (and of the averaged rows).
pub fn summarize(
    final_rows: &[f32],
    average_rows: &[f32],
    dim: usize,
    diverged: &[bool],
    settings: &EstimateSettings,
) -> TailSummary {
    let keep = |data: &[f32]| Rows::new(kept_rows(data, dim, diverged), dim).ok();
    let diverged_chains = diverged.iter().filter(|&&d| d).count();
    summarize_from(
        &|| keep(final_rows),
        &|| keep(average_rows),
        diverged_chains,
        settings,
    )
}

/// [`summarize`] of rows that `final_rows` and `average_rows` build on demand (the kept
/// chains only): each is built when needed and dropped after, so at most one copy of a
/// large sample is in memory at a time (the reduced engine's 10⁷-row runs).
pub fn summarize_from(
    final_rows: &dyn Fn() -> Option<Rows>,
    average_rows: &dyn Fn() -> Option<Rows>,
    diverged_chains: usize,
    settings: &EstimateSettings,
) -> TailSummary {
    let mut s = TailSummary {
        status: if diverged_chains > 0 {
            RunStatus::PartiallyDiverged
        } else {
            RunStatus::Ok
        },
        alpha: None,
        alpha_reason: None,
        alpha_ci: None,
        alpha_ci_level: settings.ci_level,
        alpha_mohammadi: None,
        alpha_mohammadi_ci: None,
        alpha_per_block_size: vec![],
        alpha_average: None,
        hill_alpha: None,
        hill_k: None,
        protocol: "across_chains_final_iterate".into(),
        center: settings.center.name().into(),
        estimator: HEADLINE.into(),
        block_grid: settings.grid.name().into(),
        estimated_chains: 0,
        diverged_chains,
        from_survivors: diverged_chains > 0,
        surviving_fraction: 1.0,
        min_samples: settings.min_samples,
        converged_to_floor: false,
        norm_quantiles: None,
        estimates: BTreeMap::new(),
        convergence: vec![],
    };
    let rows = match final_rows() {
        Some(r) if r.n() >= 1 => r,
        _ => {
            s.status = RunStatus::Diverged;
            s.surviving_fraction = 0.0;
            s.alpha_reason = Some("every chain diverged".into());
            return s;
        }
    };
    s.estimated_chains = rows.n();
    s.surviving_fraction = rows.n() as f64 / (rows.n() + diverged_chains) as f64;
    let centre = match tail::center_vector(&rows, &settings.center) {
        Ok(c) => c,
        Err(e) => {
            s.alpha_reason = Some(e.to_string());
            return s;
        }
    };
    let centre_norm = centre.iter().map(|v| v * v).sum::<f64>().sqrt();
    let centered = tail::center_in_place(rows, &Center::Vector(centre))
        .expect("the centre vector has the rows' dimension");
    let norms = centered.norms();
    let mut sorted = norms.clone();
    sorted.sort_by(f64::total_cmp);
    s.norm_quantiles =
        Some([0.05, 0.25, 0.5, 0.75, 0.95, 1.0].map(|q| quantile_sorted(&sorted, q)));
    let median = quantile_sorted(&sorted, 0.5);
    drop(sorted);
    if centered.n() >= 2 && median <= FLOOR_RELATIVE_SPREAD * centre_norm.max(1.0) {
        s.converged_to_floor = true;
        s.status = RunStatus::ConvergedToFloor;
        s.alpha_reason = Some(
            "converged: the chains collapsed onto one point (no label noise?); no stationary spread to measure"
                .into(),
        );
        return s;
    }
    if centered.n() < settings.min_samples.max(4) {
        let e = tail::TailError::BelowMinSamples {
            got: centered.n(),
            min: settings.min_samples.max(4),
        };
        s.alpha_reason = Some(e.to_string());
        s.estimates
            .insert(HEADLINE.into(), Estimate::from_result(Err(e)));
        return s;
    }
    // Unsorted norms: the double bootstraps resample by index, so order fixes their draws.
    let estimator_settings = settings.estimators();
    let interval = IntervalSettings {
        level: settings.ci_level,
        subsamples: settings.subsamples,
    };
    let answers = estimates::answers(&Sample::whole(&centered, &norms), &estimator_settings);
    let mut estimates = estimates::norm_estimates(&answers, &norms, &estimator_settings, interval);
    s.convergence = estimates::convergence(
        &centered,
        &norms,
        &estimator_settings,
        settings.min_samples,
        &estimates,
    );
    // One copy of a large sample at a time: the row intervals read the rows again
    // (uncentred: each half-sample is centred on its own).
    drop(centered);
    drop(norms);
    if answers
        .iter()
        .any(|(e, a)| e.needs() == Needs::Rows && a.as_ref().is_ok_and(|a| a.alpha.is_some()))
        && let Some(rows) = final_rows()
    {
        estimates::with_row_intervals(
            &mut estimates,
            &answers,
            &rows,
            &estimator_settings,
            interval,
        );
    }
    if let Some(mohammadi) = estimates.get("mohammadi") {
        s.alpha_mohammadi = mohammadi.alpha;
        s.alpha_mohammadi_ci = mohammadi.alpha.and(mohammadi.ci);
    }
    if let Some((_, Ok(answer))) = answers.iter().find(|(e, _)| e.name() == "mohammadi") {
        s.alpha_per_block_size = answer.per_block_size.clone().unwrap_or_default();
    }
    if let Some(hill) = estimates.get("hill") {
        s.hill_alpha = hill.alpha;
        s.hill_k = hill.alpha.and(hill.k);
    }
    let headline = &estimates[HEADLINE];
    s.alpha = headline.alpha;
    s.alpha_ci = headline.ci;
    if s.alpha.is_none() {
        s.alpha_reason = headline.reason.clone();
    }
    s.estimates = estimates;
    s.alpha_average = average_rows()
        .and_then(|r| center_in_place(r, &settings.center).ok())
        .and_then(|r| tail::powerlaw_fit(&r.norms(), &settings.powerlaw).ok())
        .map(|f| f.alpha);
    s
}

/// The tail index of one layer of an MLP (`summary.layers` in run.json).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerSummary {
    /// The layer's index, from the input side (0-based).
    pub layer: usize,
    /// `[out, in]`.
    pub shape: [usize; 2],
    /// Across chains: Mohammadi median on the layer's centred final rows (one row of
    /// out·in values per chain, diverged chains excluded).
    pub alpha: Option<f64>,
    /// `alpha`'s symmetric half-sample subsampling interval; `null` with it.
    pub alpha_ci: Option<[f64; 2]>,
    /// Late window (GSZ21's networks): each chain's layer weights averaged over the
    /// steps after `burn_in`, minus their mean over coordinates, pooled as scalars.
    pub alpha_late_window: Option<f64>,
}

/// Per-layer tail indices of flattened MLP rows `[chains, P]` (layers in `shapes` order).
pub fn layer_summaries(
    final_rows: &[f32],
    average_rows: &[f32],
    diverged: &[bool],
    shapes: &[[usize; 2]],
    settings: &EstimateSettings,
) -> Vec<LayerSummary> {
    let width: usize = shapes.iter().map(|[o, i]| o * i).sum();
    let finals = kept_rows(final_rows, width, diverged);
    let averages = kept_rows(average_rows, width, diverged);
    let mut offset = 0;
    let mut out = Vec::new();
    for (layer, &[o, i]) in shapes.iter().enumerate() {
        let size = o * i;
        let slice = |rows: &[f64]| -> Vec<f64> {
            rows.chunks_exact(width)
                .flat_map(|r| r[offset..offset + size].iter().copied())
                .collect()
        };
        let center = settings.center.clone();
        let grid = settings.grid.clone();
        let across = Rows::new(slice(&finals), size)
            .ok()
            .filter(|r| r.n() >= settings.min_samples.max(4));
        let alpha = across
            .as_ref()
            .and_then(|r| center_rows(r, &center).ok())
            .and_then(|r| mohammadi_median(&r, &grid).ok())
            .map(|e| e.alpha);
        let alpha_ci = across.as_ref().zip(alpha).and_then(|(r, a)| {
            mohammadi_subsample_ci(
                r,
                &center,
                &grid,
                a,
                settings.subsamples,
                settings.ci_level,
                settings.seed,
            )
            .ok()
            .map(|ci| [ci.lo, ci.hi])
        });
        let late: Vec<f64> = averages
            .chunks_exact(width)
            .flat_map(|r| {
                let w = &r[offset..offset + size];
                let mean = w.iter().sum::<f64>() / size as f64;
                w.iter().map(move |v| v - mean)
            })
            .collect();
        let alpha_late_window = Rows::scalars(late)
            .ok()
            .filter(|r| r.n() >= settings.min_samples.max(4))
            .and_then(|r| mohammadi_median(&r, &grid).ok())
            .map(|e| e.alpha);
        out.push(LayerSummary {
            layer,
            shape: [o, i],
            alpha,
            alpha_ci,
            alpha_late_window,
        });
        offset += size;
    }
    out
}

#[cfg(test)]
mod tests {
    /// The reports' order is the registry's with the headline moved first: every
    /// registered estimator once.
    #[test]
    fn headline_first_is_the_registry_reordered() {
        let names = super::headline_first();
        assert_eq!(names[0], super::HEADLINE);
        assert_eq!(names.len(), crate::tail::ESTIMATORS.len());
        for e in crate::tail::ESTIMATORS {
            assert_eq!(names.iter().filter(|&&n| n == e.name()).count(), 1);
        }
    }
}
