//! The values a config's fields choose among: algorithm, model, labels, teacher, noise law,
//! initial point, data generator, engine.

use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// Which update rule trains the gate (docs/theory.md §2.3).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ValueEnum, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// Mini-batch SGD on ½(y − ReLU(w·x))², through autodiff and burn's SGD.
    #[default]
    Sgd,
    /// Karmakar–Mukherjee: w ← w + (η/b) Σ (y − ReLU(w·x)) x (no ReLU′ factor).
    Km,
}

/// What is trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ValueEnum, Default)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Model {
    /// The ReLU gate f_w(x) = max(0, w·x).
    #[default]
    ReluGate,
    /// Linear regression f_w(x) = w·x, the control with a theory (GSZ21): `realizable`
    /// labels are then y = w*·x + σξ, and `tailgate theory` gives its α.
    Linear,
    /// A ReLU MLP student (`depth` weight layers of width `hidden`, no biases, scalar
    /// output) on the same teacher data, trained by burn's SGD through autodiff; `km`
    /// replaces ReLU′ by 1 in the backward pass (a documented extension).
    Mlp,
    /// GSZ21's fully connected classifier on real images (`dataset`): `depth` weight
    /// layers of `width` units, no biases, ReLU, cross-entropy over 10 classes.
    Fcn,
    /// A LeNet-5-style convolutional classifier on real images (shapes in `nets`).
    Cnn,
}

impl Model {
    /// The name used in configs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Model::ReluGate => "relu_gate",
            Model::Linear => "linear",
            Model::Mlp => "mlp",
            Model::Fcn => "fcn",
            Model::Cnn => "cnn",
        }
    }

    /// A classifier trained on real images (`fcn`, `cnn`).
    pub fn is_net(self) -> bool {
        matches!(self, Model::Fcn | Model::Cnn)
    }
}

/// How labels are made from the teacher `w*` (plus `label_noise`·ξ in every case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ValueEnum, Default)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Labels {
    /// y = ReLU(w*·x).
    #[default]
    Realizable,
    /// y = 1{w*·x > 0} ∈ {0, 1}.
    Binary01,
    /// y = sign(w*·x) ∈ {−1, +1}.
    BinaryPm1,
    /// Two Gaussians: class s = ±1, x ~ N(s·μ·w*, I), y = 1{s > 0}.
    Mixture,
}

/// The teacher direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ValueEnum, Default)]
#[serde(rename_all = "snake_case")]
pub enum Teacher {
    /// A seeded uniformly random unit vector.
    #[default]
    Random,
    /// The first basis vector e₁.
    E1,
}

/// The law of the label noise ξ.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ValueEnum, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum NoiseLaw {
    /// ξ ~ N(0, 1).
    #[default]
    Normal,
    /// ξ = z₁/z₂ of two independent standard normals: standard Cauchy, Student t with
    /// ν = 1 — a heavy-tailed additive part of tail index 1 (Grey 1994: the iterates' index
    /// is then min(α*, 1)).
    Cauchy,
}

impl NoiseLaw {
    /// The default law (left out of serialized configs, so older cell ids stay).
    pub fn is_normal(&self) -> bool {
        *self == NoiseLaw::Normal
    }

    /// The name used in configs and reports.
    pub fn name(self) -> &'static str {
        match self {
            NoiseLaw::Normal => "normal",
            NoiseLaw::Cauchy => "cauchy",
        }
    }
}

/// The initial iterate of every chain.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ValueEnum, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// w₀ ~ N(0, init_std² I), independent per chain.
    #[default]
    Normal,
    /// w₀ = 0 (SGD never moves from there: refused for `sgd`).
    Zeros,
    /// A wide, heavy-tailed start: w₀ = init_std·P·u, u uniform on the unit sphere, P
    /// Pareto with tail index 1 truncated to [1, 1000] (P(P > x) ∝ 1/x − 1/1000): heavier
    /// than every stationary tail studied here, so it meets the stationary law from above.
    Pareto,
}

/// The largest radius factor of [`Init::Pareto`].
pub const PARETO_INIT_MAX: f64 = 1000.0;

/// P of [`Init::Pareto`] from a uniform u ∈ [0, 1): the inverse of its distribution.
pub fn pareto_init_radius(u: f64) -> f64 {
    1.0 / (1.0 - u * (1.0 - 1.0 / PARETO_INIT_MAX))
}

impl Init {
    /// The name used in configs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Init::Normal => "normal",
            Init::Zeros => "zeros",
            Init::Pareto => "pareto",
        }
    }
}

impl Algorithm {
    /// The name used in configs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sgd => "sgd",
            Algorithm::Km => "km",
        }
    }
}

impl Labels {
    /// The name used in configs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Labels::Realizable => "realizable",
            Labels::Binary01 => "binary01",
            Labels::BinaryPm1 => "binary_pm1",
            Labels::Mixture => "mixture",
        }
    }
}

/// The generator of the training data (the teacher and initial weights always come from
/// seeded host streams).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ValueEnum, Default)]
#[serde(rename_all = "snake_case")]
pub enum DataRng {
    /// One xoshiro256++ stream per chain with a ziggurat normal, drawn on host threads and
    /// uploaded: the fastest on a CPU.
    #[default]
    Xoshiro,
    /// Philox4x32-10, counter-based, with Box–Muller normals: a chain's data at a step
    /// depend only on (seed, step, chain), so the wgpu backend draws them on the GPU with
    /// no upload (CPU backends draw the same numbers on host threads).
    Philox,
}

/// Which simulator runs the chains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ValueEnum, Default)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// burn's trainer on full d-dimensional iterates: the reference, and the only engine
    /// for the MLP, fixed datasets, momentum and recorded iterates.
    #[default]
    Burn,
    /// The exact reduced chain for fresh Gaussian inputs (docs/theory.md §3): two numbers per
    /// chain, O(b) per chain-step whatever d is; the gate and the linear control only.
    Reduced,
}

impl Engine {
    /// The name used in configs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Burn => "burn",
            Engine::Reduced => "reduced",
        }
    }

    /// `burn`, the default, is left out of a serialised config, so that the configs (and
    /// the cell ids hashed from them) of runs made before the key existed stay the same.
    pub fn is_burn(&self) -> bool {
        *self == Engine::Burn
    }
}
