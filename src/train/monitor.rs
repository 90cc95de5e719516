//! What the training loop keeps beside the chains: the divergence monitor (which chains left
//! the bound, frozen so they feed no NaNs) and the running average of the iterates.

use super::to_host;
use crate::config::Resolved;
use burn::tensor::{Device, Tensor};

/// Finds chains whose norm left the bound or turned non-finite, reports them on stderr,
/// and keeps them frozen so they cannot feed NaNs into anything shared.
pub(super) struct DivergenceMonitor {
    pub(super) bound: f32,
    /// The plain device, where the optimizers' directions live (and so the masks).
    pub(super) device: Device,
    pub(super) diverged: Vec<bool>,
    /// Chains in `diverged` (read every step, so kept rather than counted).
    pub(super) count: usize,
}

impl DivergenceMonitor {
    pub(super) fn new(config: &Resolved, device: &Device) -> Self {
        DivergenceMonitor {
            bound: config.divergence_norm as f32,
            device: device.clone(),
            diverged: vec![false; config.chains],
            count: 0,
        }
    }

    pub(super) fn check(
        &mut self,
        flat: Tensor<2>,
        step: usize,
        progress: &indicatif::ProgressBar,
    ) {
        let sq = to_host(flat.powi_scalar(2).sum_dim(1));
        let within = |s: f32| s.is_finite() && s.sqrt() <= self.bound;
        let fresh: Vec<usize> = sq
            .iter()
            .enumerate()
            .filter(|&(c, &s)| !self.diverged[c] && !within(s))
            .map(|(c, _)| c)
            .collect();
        if fresh.is_empty() {
            return;
        }
        for &c in &fresh {
            self.diverged[c] = true;
        }
        self.count += fresh.len();
        // Only beside a visible bar: sweeps and --quiet report the final count instead.
        if !progress.is_hidden() {
            let total = self.count;
            let shown: Vec<String> = fresh.iter().take(8).map(|c| c.to_string()).collect();
            progress.suspend(|| {
                eprintln!(
                    "warning: step {step}: {} chain(s) diverged (‖w‖ > {} or non-finite): {}{}; \
                     {total} of {} diverged so far, now frozen",
                    fresh.len(),
                    self.bound,
                    shown.join(", "),
                    if fresh.len() > 8 { ", …" } else { "" },
                    self.diverged.len()
                )
            });
        }
    }
}

/// The running mean of the iterates, accumulated on the device.
pub(super) struct RunningAverage {
    /// Always `Some` between calls; taken during `add` so that the sum is the only owner
    /// of its buffer and the backend adds in place (a clone would allocate every step).
    pub(super) sum: Option<Tensor<2>>,
    pub(super) count: usize,
}

impl RunningAverage {
    pub(super) fn new(chains: usize, dim: usize, device: &Device) -> Self {
        RunningAverage {
            sum: Some(Tensor::zeros([chains, dim], device)),
            count: 0,
        }
    }

    pub(super) fn add(&mut self, flat: Tensor<2>) {
        self.sum = self.sum.take().map(|sum| sum + flat);
        self.count += 1;
    }

    pub(super) fn mean(self) -> Vec<f32> {
        let sum = self
            .sum
            .expect("the running sum is put back after every add");
        to_host(sum.div_scalar(self.count.max(1) as f64))
    }
}
