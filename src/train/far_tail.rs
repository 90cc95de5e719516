//! The far tail on the burn engine: ‖w − c‖ of every chain after every post-burn-in step,
//! computed on the device, read back as one number per chain, its exceedances kept. The
//! centre c and the threshold come from the cross-section at the end of burn-in — the
//! same protocol as the reduced engine, so the two can be compared in law.

use crate::config::Resolved;
use crate::tail::far::{Exceedance, ExceedanceStore, Recording, cross_section_threshold};
use crate::tail::{Center, Rows, center_vector};
use burn::tensor::{Device, Tensor, TensorData};

/// The recorder, armed at the end of burn-in.
pub struct FarTailRecorder {
    center: Tensor<2>,
    /// The centre on the host, in f32 (the CPU backends' path).
    center_host: Vec<f32>,
    /// Read the rows back and take the norms on the host: on the eager CPU backends one
    /// copy costs less than the three tensor ops of the norms; on a GPU the norms are
    /// taken there and only one number per chain crosses.
    on_host: bool,
    center_rule: String,
    u_sq: f32,
    bound_sq: f32,
    keep: f64,
    steps: usize,
    store: ExceedanceStore,
    batch: Vec<Exceedance>,
}

impl FarTailRecorder {
    /// Fixes the centre (`config.center` over the chains not diverged; a fixed dataset's
    /// least-squares solution where given) and the threshold that the top `far_tail_keep`
    /// of the chains exceed, from the iterates `rows` `[chains, d]` at the end of burn-in.
    pub fn start(
        config: &Resolved,
        rows: &[f32],
        diverged: &[bool],
        least_squares: Option<&[f64]>,
        device: &Device,
    ) -> Self {
        let d = config.dim;
        let alive: Vec<f64> = rows
            .chunks_exact(d)
            .zip(diverged)
            .filter(|(_, out)| !**out)
            .flat_map(|(row, _)| row.iter().map(|&v| f64::from(v)))
            .collect();
        let center_spec = match (&config.center, least_squares) {
            (Center::LeastSquares, Some(w)) => Center::Vector(w.to_vec()),
            (Center::LeastSquares, None) => Center::Mean,
            (c, _) => c.clone(),
        };
        let center = Rows::new(alive.clone(), d)
            .ok()
            .filter(|r| r.n() > 0)
            .and_then(|r| center_vector(&r, &center_spec).ok())
            .unwrap_or_else(|| vec![0.0; d]);
        let mut r: Vec<f64> = alive
            .chunks_exact(d)
            .map(|row| {
                row.iter()
                    .zip(&center)
                    .map(|(x, c)| (x - c).powi(2))
                    .sum::<f64>()
                    .sqrt()
            })
            .collect();
        let keep = config
            .far_tail()
            .map_or(crate::tail::far::DEFAULT_KEEP, |f| f.keep);
        let threshold = cross_section_threshold(&mut r, keep);
        let host: Vec<f32> = center.iter().map(|&c| c as f32).collect();
        let burn_in = config.burn_in();
        FarTailRecorder {
            center: Tensor::<1>::from_data(TensorData::new(host.clone(), [d]), device)
                .reshape([1, d]),
            center_host: host,
            on_host: config.backend != crate::backend::BackendKind::Wgpu,
            center_rule: format!(
                "c = the {} of the chains at the end of burn-in",
                center_spec.name()
            ),
            u_sq: (threshold * threshold) as f32,
            bound_sq: (config.divergence_norm * config.divergence_norm) as f32,
            keep,
            steps: config.steps - burn_in,
            store: ExceedanceStore::new(
                threshold,
                config
                    .far_tail()
                    .map_or(crate::tail::far::DEFAULT_CAP, |f| f.cap),
            ),
            batch: Vec::new(),
        }
    }

    /// Reads ‖w − c‖² of every chain of `flat` `[chains, d]` after `step` and keeps the
    /// exceedances of the chains not diverged (and within the divergence bound).
    pub fn observe(&mut self, flat: Tensor<2>, step: usize, diverged: &[bool]) {
        let sq: Vec<f32> = if self.on_host {
            let rows: Vec<f32> = flat.into_data().try_into_vec().expect("float32 weights");
            let c = &self.center_host;
            rows.chunks_exact(c.len())
                .map(|row| row.iter().zip(c).map(|(w, c)| (w - c) * (w - c)).sum())
                .collect()
        } else {
            (flat - self.center.clone())
                .powi_scalar(2)
                .sum_dim(1)
                .into_data()
                .try_into_vec::<f32>()
                .expect("float32 weights")
        };
        for (chain, &s) in sq.iter().enumerate() {
            if s > self.u_sq && s.is_finite() && !diverged[chain] && s <= 4.0 * self.bound_sq {
                self.batch.push(Exceedance {
                    value: f64::from(s).sqrt(),
                    chain: chain as u32,
                    step: step as u32,
                });
            }
        }
        if self.batch.len() >= 1 << 14 {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.store.merge(&mut self.batch);
        let u = self.store.threshold();
        self.u_sq = (u * u) as f32;
    }

    /// The recording, the exceedances of chains that diverged dropped.
    pub fn finish(mut self, diverged: &[bool]) -> Recording {
        self.flush();
        let mut kept = self.store.finish();
        kept.exceedances.retain(|e| !diverged[e.chain as usize]);
        let excluded = diverged.iter().filter(|&&d| d).count();
        Recording {
            kept,
            statistic: format!("r = ‖w − c‖ (float32 on the device), {}", self.center_rule),
            center: None,
            keep: self.keep,
            chains: diverged.len() - excluded,
            excluded_chains: excluded,
            steps: self.steps,
        }
    }
}
