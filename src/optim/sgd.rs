//! Mini-batch SGD on the gate: burn's optimizer on the autodiff gradient of the squared loss.

use super::{GateOptimizer, half_mse};
use crate::model::ReluGate;
use burn::optim::ModuleOptimizer;
use burn::tensor::Tensor;

/// Mini-batch SGD on `½ (y − ReLU(w·x))²`, gradient by autodiff.
pub struct Sgd {
    optim: ModuleOptimizer,
}

impl Sgd {
    /// SGD stepping with `optim`.
    pub fn new(optim: ModuleOptimizer) -> Self {
        Sgd { optim }
    }
}

impl GateOptimizer for Sgd {
    /// `∇ Σ_chains ½·mean_i (ReLU(w·x_i) − y_i)²`: summing over chains gives each chain
    /// exactly its own gradient `(1/b) Σ_i (ReLU(w·x_i) − y_i) 1{w·x_i > 0} x_i`.
    fn direction(&self, model: &ReluGate, x: Tensor<3>, y: Tensor<2>) -> Tensor<2> {
        let grads = half_mse(model.forward(x), y).backward();
        model
            .weight
            .val()
            .grad(&grads)
            .expect("the gate weight is a tracked autodiff parameter")
    }

    fn on_tape(&self) -> bool {
        true
    }

    fn optimizer(&mut self) -> &mut ModuleOptimizer {
        &mut self.optim
    }
}
