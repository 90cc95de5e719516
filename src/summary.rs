//! The tail index of a finished run (science.md §4, across-chains protocol): estimators
//! applied to the final and averaged rows, with diverged and collapsed runs reported as
//! such instead of as an α.

mod estimates;

pub use estimates::{Estimate, SubsetAlphas};

use crate::tail::{
    self, BlockGrid, Center, Rows, center_in_place, center_rows, mohammadi_bootstrap_ci,
    mohammadi_median, quantile_sorted,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Estimation settings used on training runs.
#[derive(Debug, Clone)]
pub struct EstimateSettings {
    pub center: Center,
    pub grid: BlockGrid,
    pub ci_level: f64,
    pub resamples: usize,
    pub seed: u64,
}

impl Default for EstimateSettings {
    fn default() -> Self {
        EstimateSettings {
            center: Center::Mean,
            grid: BlockGrid::Network,
            ci_level: 0.95,
            resamples: 200,
            seed: 0,
        }
    }
}

/// Spread below this fraction of max(1, ‖centre‖) means the chains collapsed onto one
/// point: float32 rounding, not a stationary law (science.md trap 1, trap 5).
const FLOOR_RELATIVE_SPREAD: f64 = 1e-5;

/// What a run's chains did, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Every chain finite and spread out: `alpha` describes the stationary law.
    Ok,
    /// Some chains diverged: `alpha` is of the survivors only; near the divergence step
    /// size it is biased (science.md trap 3).
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
    pub status: RunStatus,
    /// Mohammadi median on the centred final rows; `null` when not estimable (see `alpha_reason`).
    pub alpha: Option<f64>,
    pub alpha_reason: Option<String>,
    pub alpha_ci: Option<[f64; 2]>,
    pub alpha_ci_level: f64,
    #[serde(default)]
    pub alpha_per_block_size: Vec<tail::BlockAlpha>,
    /// The same estimator on the running-average rows.
    pub alpha_average: Option<f64>,
    pub hill_alpha: Option<f64>,
    pub hill_k: Option<usize>,
    pub protocol: String,
    pub center: String,
    pub estimator: String,
    pub block_grid: String,
    /// Chains the estimate used (finite, not diverged).
    pub estimated_chains: usize,
    pub diverged_chains: usize,
    pub converged_to_floor: bool,
    /// Quantiles 5/25/50/75/95/100 % of ‖w − centre‖ over the estimated chains.
    pub norm_quantiles: Option<[f64; 6]>,
    /// Every estimator on the centred final rows: `mohammadi` (= `alpha`), and `hill`,
    /// `moments`, `pickands` on their norms at a data-driven k, each with its interval.
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
        alpha_per_block_size: vec![],
        alpha_average: None,
        hill_alpha: None,
        hill_k: None,
        protocol: "across_chains_final_iterate".into(),
        center: settings.center.name().into(),
        estimator: "mohammadi_median".into(),
        block_grid: settings.grid.name().into(),
        estimated_chains: 0,
        diverged_chains,
        converged_to_floor: false,
        norm_quantiles: None,
        estimates: BTreeMap::new(),
        convergence: vec![],
    };
    let rows = match final_rows() {
        Some(r) if r.n() >= 2 => r,
        _ => {
            s.status = RunStatus::Diverged;
            s.alpha_reason = Some("every chain diverged".into());
            return s;
        }
    };
    s.estimated_chains = rows.n();
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
    if median <= FLOOR_RELATIVE_SPREAD * centre_norm.max(1.0) {
        s.converged_to_floor = true;
        s.status = RunStatus::ConvergedToFloor;
        s.alpha_reason = Some(
            "converged: the chains collapsed onto one point (no label noise?); no stationary spread to measure"
                .into(),
        );
        return s;
    }
    match mohammadi_median(&centered, &settings.grid) {
        Ok(est) => {
            s.alpha = Some(est.alpha);
            s.alpha_per_block_size = est.per_block_size;
        }
        Err(e) => {
            s.alpha_reason = Some(e.to_string());
            return s;
        }
    }
    // Unsorted norms: the double bootstraps resample by index, so order fixes their draws.
    let mut estimates =
        estimates::order_estimates(&norms, settings.resamples, settings.ci_level, settings.seed);
    let alpha = s.alpha.expect("set above");
    estimates.insert("mohammadi".into(), Estimate::mohammadi(alpha, None));
    s.convergence =
        estimates::convergence(&centered, &norms, &settings.grid, settings.seed, &estimates);
    // One copy of a large sample at a time: the bootstrap builds the rows again.
    drop(centered);
    drop(norms);
    // The bootstrap resamples the uncentred rows (each resample is centred on its own).
    s.alpha_ci = final_rows()
        .and_then(|rows| {
            mohammadi_bootstrap_ci(
                &rows,
                &settings.center,
                &settings.grid,
                settings.resamples,
                settings.ci_level,
                settings.seed,
            )
            .ok()
        })
        .map(|ci| [ci.lo, ci.hi]);
    estimates.insert("mohammadi".into(), Estimate::mohammadi(alpha, s.alpha_ci));
    if let Some(hill) = estimates.get("hill") {
        s.hill_alpha = hill.alpha;
        s.hill_k = hill.alpha.and(hill.k);
    }
    s.estimates = estimates;
    s.alpha_average = average_rows()
        .and_then(|r| center_in_place(r, &settings.center).ok())
        .and_then(|r| mohammadi_median(&r, &settings.grid).ok())
        .map(|e| e.alpha);
    s
}

/// The tail index of one layer of an MLP (`summary.layers` in run.json).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerSummary {
    pub layer: usize,
    /// `[out, in]`.
    pub shape: [usize; 2],
    /// Across chains: Mohammadi median on the layer's centred final rows (one row of
    /// out·in values per chain, diverged chains excluded).
    pub alpha: Option<f64>,
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
        let across = Rows::new(slice(&finals), size).ok().filter(|r| r.n() >= 2);
        let alpha = across
            .as_ref()
            .and_then(|r| center_rows(r, &center).ok())
            .and_then(|r| mohammadi_median(&r, &grid).ok())
            .map(|e| e.alpha);
        let alpha_ci = across.as_ref().filter(|_| alpha.is_some()).and_then(|r| {
            mohammadi_bootstrap_ci(
                r,
                &center,
                &grid,
                settings.resamples,
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
