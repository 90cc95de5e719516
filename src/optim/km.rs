//! The Karmakar–Mukherjee rule: a pseudo-gradient computed without a tape, stepped by burn's optimizer.

use super::GateOptimizer;
use crate::model::ReluGate;
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::tensor::Tensor;

/// The Karmakar–Mukherjee non-gradient rule (a mini-batch GLM-Tron, arXiv 2005.04211):
/// `w ← w + (η/b) Σ_i (y_i − ReLU(w·x_i)) x_i`. Not the gradient of any loss, so no
/// autodiff tape: the pseudo-gradient is computed on the plain device and stepped by
/// burn's optimizer like a gradient.
pub struct KarmakarMukherjee {
    optim: ModuleOptimizer,
}

impl KarmakarMukherjee {
    /// The rule, its pseudo-gradient stepped by `optim` as if it were a gradient.
    pub fn new(optim: ModuleOptimizer) -> Self {
        KarmakarMukherjee { optim }
    }
}

impl GateOptimizer for KarmakarMukherjee {
    /// `g = (1/b) Σ_i (ReLU(w·x_i) − y_i) x_i`, batched over chains.
    fn direction(&self, model: &ReluGate, x: Tensor<3>, y: Tensor<2>) -> Tensor<2> {
        let plain = model.valid();
        let b = x.dims()[1];
        let residual = plain.forward(x.clone()) - y; // [chains, b]
        if b == 1 {
            // One sample: the direction is r·x itself (see `ReluGate::preactivation`).
            let [chains, _, d] = x.dims();
            return (x * residual.unsqueeze_dim::<3>(2)).reshape([chains, d]);
        }
        residual
            .unsqueeze_dim::<3>(1) // [chains, 1, b]
            .matmul(x) // [chains, 1, d]
            .squeeze_dim::<2>(1)
            .div_scalar(b as f64)
    }

    fn on_tape(&self) -> bool {
        false
    }

    fn optimizer(&mut self) -> &mut ModuleOptimizer {
        &mut self.optim
    }
}
