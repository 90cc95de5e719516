//! The ReLU gate `f_w(x) = max(0, w·x)`, one row of weights per chain; with `linear` set,
//! the linear-regression control `f_w(x) = w·x` on the same footing.

use burn::module::{Module, Param};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};

/// `chains` independent ReLU gates trained in lockstep: weight `[chains, d]`.
#[derive(Module, Debug)]
pub struct ReluGate {
    /// The weights `[chains, d]`, one row w per chain.
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
        if x.dims()[1] == 1 {
            // One sample per chain: a product and a row sum beat 1 × d × 1 matmuls per chain
            // (BENCHMARKS.md); for b > 1 the batched matmul is faster.
            let w = self.weight.val().unsqueeze_dim::<3>(1); // [chains, 1, d]
            return (x * w).sum_dim(2).squeeze_dim::<2>(2);
        }
        let w = self.weight.val().unsqueeze_dim::<3>(2); // [chains, d, 1]
        x.matmul(w).squeeze_dim::<2>(2)
    }

    /// `ReLU(w·x)` (or `w·x` when linear): `x: [chains, b, d]` → `[chains, b]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let z = self.preactivation(x);
        if self.linear { z } else { relu(z) }
    }

    /// Chains, the first dimension of `weight`.
    pub fn chains(&self) -> usize {
        self.weight.val().dims()[0]
    }
}

/// A multilayer perceptron student per chain: `depth` weight layers, ReLU between them,
/// no biases, scalar output; layer ℓ has weight `[chains, out, in]`, applied by batched
/// matmuls (no per-chain loops).
#[derive(Module, Debug)]
pub struct Mlp {
    /// The weight layers from the input side, each `[chains, out, in]`.
    pub layers: Vec<Param<Tensor<3>>>,
    /// The Karmakar–Mukherjee-style variant: ReLU forward, derivative 1 backward
    /// (`z + (ReLU(z) − z).detach()`): a documented extension, not a known algorithm.
    #[module(skip)]
    pub straight_through: bool,
}

impl Mlp {
    /// Layers from row-major host weights, each `[chains, out, in]`.
    pub fn from_weights(layers: Vec<(Vec<f32>, [usize; 3])>, device: &Device) -> Self {
        Mlp {
            layers: layers
                .into_iter()
                .map(|(w, shape)| {
                    Param::from_tensor(Tensor::<3>::from_data(TensorData::new(w, shape), device))
                })
                .collect(),
            straight_through: false,
        }
    }

    /// `x: [chains, b, d]` → `[chains, b]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        let mut h = x;
        for (l, w) in self.layers.iter().enumerate() {
            let z = h.matmul(w.val().swap_dims(1, 2)); // [chains, b, out]
            h = if l == last {
                z
            } else if self.straight_through {
                z.clone() + (relu(z.clone()) - z).detach()
            } else {
                relu(z)
            };
        }
        h.squeeze_dim::<2>(2)
    }

    /// Every chain's parameters as one row, `[chains, P]` (layer by layer, row-major).
    pub fn flat(&self) -> Tensor<2> {
        let rows: Vec<Tensor<2>> = self
            .layers
            .iter()
            .map(|w| {
                let [c, o, i] = w.val().dims();
                w.val().reshape([c, o * i])
            })
            .collect();
        Tensor::cat(rows, 1)
    }
}
