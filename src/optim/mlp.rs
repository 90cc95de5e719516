//! SGD for the MLP student: burn's optimizer on the autodiff gradient of the squared loss.

use super::half_mse;
use crate::model::Mlp;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Bool, Tensor};

/// burn's SGD on the MLP student: the autodiff gradient of
/// `Σ_chains ½·mean_i (f(x_i) − y_i)²` (straight-through ReLU for the KM-style variant).
pub struct MlpSgd {
    optim: ModuleOptimizer,
}

impl MlpSgd {
    /// SGD stepping with `optim`.
    pub fn new(optim: ModuleOptimizer) -> Self {
        MlpSgd { optim }
    }

    /// One step on the batch `x [chains, b, d]`, `y [chains, b]` (on the autodiff device);
    /// layers of `frozen` chains (per-layer masks) stay where they are.
    pub fn step(
        &mut self,
        model: Mlp,
        (x, y): (Tensor<3>, Tensor<2>),
        eta: f64,
        frozen: Option<&[Tensor<3, Bool>]>,
    ) -> Mlp {
        let grads = half_mse(model.forward(x), y).backward();
        let mut params = GradientsParams::new();
        for (l, w) in model.layers.iter().enumerate() {
            let mut g = w
                .val()
                .grad(&grads)
                .expect("MLP weights are tracked autodiff parameters");
            if let Some(masks) = frozen {
                g = g.mask_fill(masks[l].clone(), 0.0);
            }
            params.register(w.id, g);
        }
        self.optim.step(eta, model, params)
    }
}
