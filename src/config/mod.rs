//! The run configuration: data, defaults in one place, validated before anything runs.

mod checks;
mod choices;
mod engines;
mod nets;
mod resolved;

pub use choices::*;
pub use engines::*;
pub use nets::*;
pub use resolved::{EstimationSettings, FarTailSettings, NetSettings, Resolved};

use crate::backend::BackendKind;
use crate::error::{Error, Result};
use crate::tail::Center;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Everything that determines a training run. Written, fully resolved, into `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// `burn` (the reference trainer) or `reduced` (the exact two-number chain of
    /// docs/theory.md §3 for the gate and the linear control on fresh Gaussian data).
    #[serde(skip_serializing_if = "Engine::is_burn")]
    pub engine: Engine,
    /// What is trained: the gate, the linear control, the MLP, or a net on images.
    pub model: Model,
    /// The update rule: SGD or Karmakar–Mukherjee.
    pub algorithm: Algorithm,
    /// burn's backend for the burn engine: `ndarray`, `flex` or `wgpu`.
    pub backend: BackendKind,
    /// Independent chains trained in lockstep.
    pub chains: usize,
    /// Input dimension d.
    pub dim: usize,
    /// Mini-batch size b.
    pub batch: usize,
    /// Step size η.
    pub eta: f64,
    /// Iterations K.
    pub steps: usize,
    /// The run's seed: every random stream is derived from it.
    pub seed: u64,
    /// How a sample's label is made from its input.
    pub labels: Labels,
    /// σ: the scale of the noise added to every label (the standard deviation when the
    /// law is normal).
    pub label_noise: f64,
    /// The law of the label noise ξ (σ·ξ is added): `normal` or `cauchy`.
    #[serde(default, skip_serializing_if = "NoiseLaw::is_normal")]
    pub noise_law: NoiseLaw,
    /// The teacher direction w*.
    pub teacher: Teacher,
    /// The law of the initial point w₀.
    pub init: Init,
    /// Standard deviation of each coordinate of w₀ (default 1/√d).
    pub init_std: Option<f64>,
    /// μ of the `mixture` labels.
    pub mixture_separation: f64,
    /// MLP: number of weight layers (≥ 2).
    pub depth: usize,
    /// MLP: width of every hidden layer.
    pub hidden: usize,
    /// n: train on one fixed dataset of n points (shared by all chains; each step a chain
    /// draws b distinct points) instead of fresh data; `null` = online.
    pub dataset_size: Option<usize>,
    /// Generator of the fresh data: `xoshiro` (host) or `philox` (counter-based; drawn on
    /// the device with wgpu).
    pub data_rng: DataRng,
    /// Heavy-ball momentum μ of burn's SGD (both algorithms): v ← μ v + g, w ← w − η v;
    /// 0 = plain steps.
    pub momentum: f64,
    /// L2 weight decay of burn's SGD (both algorithms).
    pub weight_decay: f64,
    /// Steps before the running average starts (default K/2).
    pub burn_in: Option<usize>,
    /// Write `iterates.npy` every this many steps after `record_from`; 0 = not at all.
    pub record_every: usize,
    /// First step of the recording window (default `burn_in`).
    pub record_from: Option<usize>,
    /// A chain whose ‖w‖ exceeds this, or turns non-finite, has diverged.
    pub divergence_norm: f64,
    /// Steps between divergence checks (each check reads ‖w‖ back from the device).
    pub check_every: usize,
    /// Centre of the final rows for the run's α: `mean` (the across-chain mean), `median`
    /// (robust where α < 1 and the mean does not exist), `none`, `{"vector": [...]}`, or
    /// `least_squares` (the minimiser of the fixed dataset; linear model only).
    pub center: Center,
    /// Fewer estimated (surviving, finite) chains than this: no α̂, `null` with the reason.
    /// Left out of a serialised config at its default, so earlier cell ids stay the same.
    #[serde(skip_serializing_if = "is_default_min_samples")]
    pub min_samples: usize,
    /// Nets: the images (`"fashion_mnist"` or `{"idx": DIR}`; default Fashion-MNIST).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<DatasetSpec>,
    /// `fcn`: units per hidden layer (default 128).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<usize>,
    /// Nets: each chain's order over the training images.
    #[serde(skip_serializing_if = "Sampling::is_shuffle")]
    pub sampling: Sampling,
    /// Nets: the last steps whose iterates are averaged for the per-layer protocol
    /// (default min(1000, steps/2)); `burn_in` is then `steps − late_window`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_window: Option<usize>,
    /// Nets: steps between evaluations of the training curves (default steps/20).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_every: Option<usize>,
    /// Reduced engine: steps after which every chain's `(a, c)` is recorded
    /// (`checkpoints.npy`) and the tail estimated again (`summary.checkpoints`): α̂
    /// against steps, the stationarity check. Increasing, each in `1..=steps`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checkpoints: Vec<usize>,
    /// The tail index the theory predicts at this cell's η: set, η is solved from the
    /// gate's prediction (`relu_gate`) or the linear theory (`linear`) for this α when the
    /// config is resolved; 0 = the edge of divergence (E log‖M e₁‖ = 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha_target: Option<f64>,
    /// Half-sample subsamples of every interval of the run's estimates (default 200).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subsamples: Option<usize>,
    /// Synthetic samples of the power-law fit's goodness-of-fit p-value (default 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gof_resamples: Option<usize>,
    /// Record the far tail (every post-burn-in step's exceedances of ‖w − centre‖:
    /// far_tail.npy, `summary.far_tail`); default on for the gate and the linear model
    /// whenever at least 1000 steps follow the burn-in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub far_tail: Option<bool>,
    /// The fraction of the chains at the end of burn-in above the far tail's recording
    /// threshold (default 0.002: twice the shallowest rung, 10⁻³).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub far_tail_keep: Option<f64>,
    /// At most this many exceedances are kept (16 bytes each; default 2·10⁷, 320 MB):
    /// past it the threshold is raised and run.json says so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub far_tail_cap: Option<usize>,
}

/// Units per hidden layer of the `fcn` where `width` is not given.
pub const FCN_WIDTH: usize = 128;

/// Post-burn-in steps from which the far tail is recorded by default.
pub const FAR_TAIL_MIN_STEPS: usize = 1000;

/// Checkpoints × chains a run may record (16 bytes each: 400 MB).
pub const MAX_CHECKPOINT_PAIRS: usize = 25_000_000;

fn is_default_min_samples(n: &usize) -> bool {
    *n == crate::estimate::MIN_SAMPLES
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            engine: Engine::Burn,
            model: Model::ReluGate,
            algorithm: Algorithm::Sgd,
            backend: BackendKind::Flex,
            chains: 1600,
            dim: 10,
            batch: 1,
            eta: 0.05,
            steps: 2000,
            seed: 0,
            labels: Labels::Realizable,
            label_noise: 1.0,
            noise_law: NoiseLaw::Normal,
            teacher: Teacher::Random,
            init: Init::Normal,
            init_std: None,
            mixture_separation: 1.0,
            depth: 3,
            hidden: 32,
            dataset_size: None,
            data_rng: DataRng::Xoshiro,
            momentum: 0.0,
            weight_decay: 0.0,
            burn_in: None,
            record_every: 0,
            record_from: None,
            divergence_norm: 1e6,
            check_every: 10,
            center: Center::Mean,
            min_samples: crate::estimate::MIN_SAMPLES,
            dataset: None,
            width: None,
            sampling: Sampling::Shuffle,
            late_window: None,
            log_every: None,
            checkpoints: vec![],
            alpha_target: None,
            subsamples: None,
            gof_resamples: None,
            far_tail: None,
            far_tail_keep: None,
            far_tail_cap: None,
        }
    }
}

impl TrainConfig {
    /// `train --model fcn|cnn` without a config file: a few nets at a GSZ21-like batch and
    /// step size, long enough for ~80 % test accuracy on Fashion-MNIST.
    pub fn net_defaults(model: Model) -> Self {
        TrainConfig {
            model,
            chains: 4,
            batch: 10,
            eta: 0.05,
            steps: 2000,
            ..TrainConfig::default()
        }
    }

    /// Reads a JSON config; unknown fields and malformed JSON are errors naming the file,
    /// line and column.
    pub fn from_json_file(path: &Path) -> Result<Self> {
        crate::io::read_json(path)
    }

    /// Fills the defaults that depend on other fields and checks every value: the one
    /// way to a [`Resolved`] config, which is what the engines take.
    pub fn resolve(self) -> Result<Resolved> {
        Resolved::new(self)
    }

    /// The resolution: the serialised defaults filled (run.json records them), then checked.
    fn fill_and_check(mut self) -> Result<Self> {
        if self.model.is_net() {
            self.dim = PIXELS;
            self.dataset.get_or_insert(DatasetSpec::FashionMnist);
            if self.model == Model::Fcn {
                self.width.get_or_insert(FCN_WIDTH);
            }
            let window = *self.late_window.get_or_insert(1000.min(self.steps / 2));
            if window == 0 || window >= self.steps {
                return Err(Error::config(
                    "late_window",
                    format!("must lie in 1..steps = {}", self.steps),
                ));
            }
            if self.burn_in.is_some_and(|b| b != self.steps - window) {
                return Err(Error::config(
                    "burn_in",
                    "is `steps − late_window` for nets; set `late_window` instead",
                ));
            }
            self.burn_in = Some(self.steps - window);
            self.log_every.get_or_insert((self.steps / 20).max(1));
        }
        self.burn_in.get_or_insert(self.steps / 2);
        let burn_in = self.burn_in.unwrap_or_default();
        self.record_from.get_or_insert(burn_in);
        self.init_std
            .get_or_insert(1.0 / (self.dim.max(1) as f64).sqrt());
        if let Some(target) = self.alpha_target {
            self.eta = self.eta_for_target(target)?;
        }
        self.validate()?;
        self.validate_checkpoints()?;
        Ok(self)
    }

    /// Units of the fcn's hidden layers.
    pub fn net_width(&self) -> usize {
        self.width.unwrap_or(FCN_WIDTH)
    }

    /// Weight shapes `[out, in]` of the trained model, layer by layer.
    pub fn layer_shapes(&self) -> Vec<[usize; 2]> {
        match self.model {
            Model::Fcn | Model::Cnn => layer_shapes(self, PIXELS)
                .into_iter()
                .map(|l| l.shape)
                .collect(),
            Model::ReluGate | Model::Linear => vec![[1, self.dim]],
            Model::Mlp => (0..self.depth)
                .map(|l| {
                    let fan_in = if l == 0 { self.dim } else { self.hidden };
                    let out = if l + 1 == self.depth { 1 } else { self.hidden };
                    [out, fan_in]
                })
                .collect(),
        }
    }

    /// Parameters per chain: the width of the rows in final.npy and iterates.npy.
    pub fn params_per_chain(&self) -> usize {
        self.layer_shapes().iter().map(|[o, i]| o * i).sum()
    }
}
