//! The two update rules behind one interface, so the training loop never branches on the
//! algorithm. Both end in burn's `ModuleOptimizer` (SGD with optional momentum and weight
//! decay): SGD feeds it the autodiff gradient, Karmakar–Mukherjee a pseudo-gradient.

mod km;
mod mlp;
mod net;
mod sgd;

pub use km::KarmakarMukherjee;
pub use mlp::MlpSgd;
pub use net::{NetMasks, NetSgd};
pub use sgd::Sgd;

use crate::config::{Algorithm, TrainConfig};
use crate::model::ReluGate;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, ModuleOptimizer, SgdConfig};
use burn::tensor::{Bool, Tensor};

/// One step of a training algorithm on the gate.
pub trait GateOptimizer {
    /// The direction `g` with `w ← w − η g` for plain steps, `[chains, d]`, on the
    /// non-autodiff device, from the batch `x [chains, b, d]`, `y [chains, b]`.
    fn direction(&self, model: &ReluGate, x: Tensor<3>, y: Tensor<2>) -> Tensor<2>;

    /// Whether the batch must live on the autodiff device (a gradient through the tape)
    /// rather than the plain one.
    fn on_tape(&self) -> bool;

    /// burn's optimizer that turns directions into steps.
    fn optimizer(&mut self) -> &mut ModuleOptimizer;

    /// `w ← optimizer(w, g)` with the rows of `frozen` chains left exactly where they are.
    fn step(
        &mut self,
        model: ReluGate,
        (x, y): (Tensor<3>, Tensor<2>),
        eta: f64,
        frozen: Option<&Tensor<2, Bool>>,
    ) -> ReluGate {
        let mut g = self.direction(&model, x, y);
        if let Some(mask) = frozen {
            g = g.mask_fill(mask.clone(), 0.0);
        }
        let mut grads = GradientsParams::new();
        grads.register(model.weight.id, g);
        self.optimizer().step(eta, model, grads)
    }
}

/// `Σ_chains ½·mean_i (prediction_i − y_i)²` for `[chains, b]` predictions: summing over
/// chains gives every chain exactly its own gradient. One sum scaled by ½/b (not a mean
/// per chain, then a sum): two tape nodes fewer, the same gradient `r_i / b`.
pub fn half_mse(prediction: Tensor<2>, y: Tensor<2>) -> Tensor<1> {
    let b = prediction.dims()[1];
    (prediction - y)
        .powi_scalar(2)
        .sum()
        .mul_scalar(0.5 / b as f64)
}

/// burn's SGD configured from the run config (momentum and weight decay when set).
pub fn burn_sgd(config: &TrainConfig) -> ModuleOptimizer {
    let mut sgd = SgdConfig::new();
    if config.momentum > 0.0 {
        // Plain heavy ball, v ← μ v + g: burn's default dampening (0.1) would scale g.
        let momentum = MomentumConfig::new()
            .with_momentum(config.momentum)
            .with_dampening(0.0);
        sgd = sgd.with_momentum(Some(momentum));
    }
    if config.weight_decay > 0.0 {
        sgd = sgd.with_weight_decay(Some(WeightDecayConfig::new(config.weight_decay as f32)));
    }
    sgd.init()
}

/// The optimizer that `config.algorithm` names.
pub fn for_config(config: &TrainConfig) -> Box<dyn GateOptimizer> {
    match config.algorithm {
        Algorithm::Sgd => Box::new(Sgd::new(burn_sgd(config))),
        Algorithm::Km => Box::new(KarmakarMukherjee::new(burn_sgd(config))),
    }
}
