//! GSZ21's per-layer protocol for the nets on real images: each weight averaged over the
//! late window, minus its layer's mean, the coordinates pooled as scalars; every estimator
//! on the pool, the headline on each chain alone (the replicate spread), and across chains
//! where there are enough of them.

use super::estimates::{self, Estimate};
use super::{EstimateSettings, HEADLINE, kept_rows};
use crate::nets::LayerShape;
use crate::tail::{self, Center, IntervalSettings, Rows, Sample, TailError, center_in_place};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The tail index of one layer of a net (`summary.net.layers` in run.json).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetLayerSummary {
    /// The layer's index, from the input side (0-based).
    pub layer: usize,
    /// `fc1`, `conv1`, …
    pub name: String,
    /// `[out, in]` (`[out, in·k·k]` for kernels).
    pub shape: [usize; 2],
    /// Late-window scalars pooled over the surviving chains.
    pub samples: usize,
    /// The headline (power-law fit on |w̄ − mean|) of the pooled late-window scalars.
    pub alpha: Option<f64>,
    /// `alpha`'s symmetric half-sample subsampling interval; `null` with it.
    pub alpha_ci: Option<[f64; 2]>,
    /// Why `alpha` is `null`, where it is.
    pub alpha_reason: Option<String>,
    /// Mohammadi's block estimator on the pool (GSZ21's estimator; ≤ 2 by construction).
    pub alpha_mohammadi: Option<f64>,
    /// The headline on each chain's own late-window scalars (`null` for a diverged chain
    /// or a layer with fewer than `min_samples` weights): the replicate spread.
    pub alpha_per_chain: Vec<Option<f64>>,
    /// Every estimator on the pool.
    pub estimates: BTreeMap<String, Estimate>,
    /// The headline across chains: final weights centred on their across-chain mean, the
    /// norms of the rows (needs `min_samples` surviving chains).
    pub across_chains: Estimate,
}

/// The per-layer protocol on flattened rows `[chains, P]` (layers in `layers` order).
pub fn net_layer_summaries(
    final_rows: &[f32],
    average_rows: &[f32],
    diverged: &[bool],
    layers: &[LayerShape],
    settings: &EstimateSettings,
) -> Vec<NetLayerSummary> {
    let width: usize = layers.iter().map(|l| l.shape[0] * l.shape[1]).sum();
    let min = settings.min_samples.max(4);
    let finals = kept_rows(final_rows, width, diverged);
    let estimator_settings = settings.estimators();
    let interval = IntervalSettings {
        level: settings.ci_level,
        subsamples: settings.subsamples,
    };
    let mut offset = 0;
    let mut out = Vec::new();
    for (
        layer,
        LayerShape {
            name,
            shape: [o, i],
        },
    ) in layers.iter().enumerate()
    {
        let size = o * i;
        // Each chain's late-window weights of this layer, minus their mean (GSZ21).
        let per_chain: Vec<Option<Vec<f64>>> = average_rows
            .chunks_exact(width)
            .zip(diverged)
            .map(|(row, &d)| {
                let w: Vec<f64> = row[offset..offset + size]
                    .iter()
                    .map(|&v| v as f64)
                    .collect();
                (!d && w.iter().all(|v| v.is_finite())).then(|| {
                    let mean = w.iter().sum::<f64>() / size as f64;
                    w.iter().map(|v| v - mean).collect()
                })
            })
            .collect();
        let pooled: Vec<f64> = per_chain.iter().flatten().flatten().copied().collect();
        let alpha_per_chain = per_chain
            .iter()
            .map(|w| {
                w.as_ref()
                    .filter(|w| w.len() >= min)
                    .and_then(|w| tail::powerlaw_fit(&magnitudes(w), &settings.powerlaw).ok())
                    .map(|f| f.alpha)
            })
            .collect();
        let samples = pooled.len();
        let mut estimates = BTreeMap::new();
        let mut alpha_mohammadi = None;
        if samples >= min {
            let mags = magnitudes(&pooled);
            // Every estimator on the pool; Mohammadi's interval (it resamples rows) is not
            // drawn on a pool of correlated coordinates.
            match Rows::scalars(pooled) {
                Ok(rows) => {
                    let answers =
                        estimates::answers(&Sample::whole(&rows, &mags), &estimator_settings);
                    estimates =
                        estimates::norm_estimates(&answers, &mags, &estimator_settings, interval);
                    alpha_mohammadi = estimates.get("mohammadi").and_then(|e| e.alpha);
                }
                Err(e) => {
                    estimates.insert(HEADLINE.into(), Estimate::from_result(Err(e)));
                }
            }
        } else {
            let e = TailError::BelowMinSamples { got: samples, min };
            estimates.insert(HEADLINE.into(), Estimate::from_result(Err(e)));
        }
        let across: Vec<f64> = finals
            .chunks_exact(width)
            .flat_map(|r| r[offset..offset + size].iter().copied())
            .collect();
        let chains = across.len() / size.max(1);
        let across_chains = if chains >= min {
            Rows::new(across, size)
                .and_then(|r| center_in_place(r, &Center::Mean))
                .map(|r| {
                    let norms = r.norms();
                    estimates::headline(&Sample::whole(&r, &norms), &estimator_settings, interval)
                })
                .unwrap_or_else(|e| Estimate::from_result(Err(e)))
        } else {
            Estimate::from_result(Err(TailError::BelowMinSamples { got: chains, min }))
        };
        let headline = &estimates[HEADLINE];
        out.push(NetLayerSummary {
            layer,
            name: name.clone(),
            shape: [*o, *i],
            samples,
            alpha: headline.alpha,
            alpha_ci: headline.ci,
            alpha_reason: headline.reason.clone(),
            alpha_mohammadi,
            alpha_per_chain,
            estimates,
            across_chains,
        });
        offset += size;
    }
    out
}

fn magnitudes(x: &[f64]) -> Vec<f64> {
    x.iter().map(|v| v.abs()).collect()
}
