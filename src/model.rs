//! The ReLU gate `f_w(x) = max(0, w·x)`, one row of weights per chain; with `linear` set,
//! the linear-regression control `f_w(x) = w·x` on the same footing.

use burn::module::{Module, Param};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};

/// `chains` independent ReLU gates trained in lockstep: weight `[chains, d]`.
#[derive(Module, Debug)]
pub struct ReluGate {
    pub weight: Param<Tensor<2>>,
    /// Identity instead of ReLU (the `linear` model).
    #[module(skip)]
    pub linear: bool,
}

impl ReluGate {
    /// A gate from row-major host weights `[chains, d]`.
    pub fn from_weights(weights: Vec<f32>, chains: usize, dim: usize, device: &Device) -> Self {
        let w = Tensor::<2>::from_data(TensorData::new(weights, [chains, dim]), device);
        ReluGate {
            weight: Param::from_tensor(w),
            linear: false,
        }
    }

    /// The same weights as a linear model `w·x`.
    pub fn into_linear(mut self, linear: bool) -> Self {
        self.linear = linear;
        self
    }

    /// `w·x` for every chain and sample: `x: [chains, b, d]` → `[chains, b]`.
    pub fn preactivation(&self, x: Tensor<3>) -> Tensor<2> {
        let w = self.weight.val().unsqueeze_dim::<3>(2); // [chains, d, 1]
        x.matmul(w).squeeze_dim::<2>(2)
    }

    /// `ReLU(w·x)` (or `w·x` when linear): `x: [chains, b, d]` → `[chains, b]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let z = self.preactivation(x);
        if self.linear { z } else { relu(z) }
    }

    pub fn chains(&self) -> usize {
        self.weight.val().dims()[0]
    }
}
