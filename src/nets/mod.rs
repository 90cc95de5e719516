//! Classifier nets on real images (GSZ21's protocol): a fully connected net and a
//! LeNet-5-style CNN, every chain an independent net, batched in one burn `Module`.
//!
//! Shapes (no biases anywhere, as GSZ21's fully connected net; ReLU between layers):
//! - `fcn`: 784 → width → … → width → 10 (`depth` weight layers).
//! - `cnn`: conv 1→6 (5×5, padding 2) → ReLU → max-pool 2 → conv 6→16 (5×5) → ReLU →
//!   max-pool 2 → 400 → 120 → 84 → 10. Chains are the groups of grouped convolutions.

pub mod eval;

use crate::config::{CONVS, Model, TrainConfig};
pub use crate::config::{LayerShape, layer_shapes};
use burn::module::{Module, Param};
use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::module::{conv2d, max_pool2d};
use burn::tensor::ops::{ConvOptions, MaxPoolOptions};
use burn::tensor::{Device, Tensor, TensorData};
use rand::RngExt;
use rayon::prelude::*;

/// `chains` nets trained in lockstep: kernels `[chains·out, in, k, k]` (grouped by chain),
/// linear weights `[chains, out, in]`.
#[derive(Module, Debug)]
pub struct Net {
    /// The kernels `[chains·out, in, k, k]`, one entry per convolution (none for `fcn`).
    pub conv: Vec<Param<Tensor<4>>>,
    /// The linear weights `[chains, out, in]`, from the input side.
    pub fc: Vec<Param<Tensor<3>>>,
    /// The KM extension: ReLU forward, derivative 1 backward (`z + (ReLU(z) − z).detach()`).
    #[module(skip)]
    pub straight_through: bool,
    /// Image side (28 for MNIST-format data).
    #[module(skip)]
    pub side: usize,
}

/// Initial weights of every layer, `U(±1/√fan_in)` (PyTorch's default for `Linear` and
/// `Conv2d` without bias), each chain and layer from its own seeded stream.
pub fn initial_weights(config: &TrainConfig, pixels: usize) -> Vec<Vec<f32>> {
    let chains = config.chains;
    layer_shapes(config, pixels)
        .iter()
        .enumerate()
        .map(|(l, s)| {
            let [out, fan_in] = s.shape;
            let bound = 1.0 / (fan_in as f64).sqrt();
            let size = out * fan_in;
            let mut w = vec![0.0f32; chains * size];
            w.par_chunks_mut(size).enumerate().for_each(|(c, row)| {
                let mut rng =
                    crate::data::stream(config.seed, NET_INIT_STREAM + l as u64, c as u64);
                for v in row {
                    *v = rng.random_range(-bound..bound) as f32;
                }
            });
            w
        })
        .collect()
}

/// Layer ℓ of a net initialises from stream `NET_INIT_STREAM + ℓ`.
const NET_INIT_STREAM: u64 = 200;

impl Net {
    /// The net of `config` from host weights (as [`initial_weights`] lays them out).
    pub fn from_weights(
        config: &TrainConfig,
        weights: Vec<Vec<f32>>,
        side: usize,
        device: &Device,
    ) -> Self {
        let chains = config.chains;
        let shapes = layer_shapes(config, side * side);
        let convs = if config.model == Model::Cnn {
            CONVS.len()
        } else {
            0
        };
        let mut conv = Vec::new();
        let mut fc = Vec::new();
        for (l, (w, s)) in weights.into_iter().zip(&shapes).enumerate() {
            let [out, fan_in] = s.shape;
            if l < convs {
                let (_, i, k, _) = CONVS[l];
                let t = TensorData::new(w, [chains * out, i, k, k]);
                conv.push(Param::from_tensor(Tensor::<4>::from_data(t, device)));
            } else {
                let t = TensorData::new(w, [chains, out, fan_in]);
                fc.push(Param::from_tensor(Tensor::<3>::from_data(t, device)));
            }
        }
        Net {
            conv,
            fc,
            straight_through: false,
            side,
        }
    }

    fn chains(&self) -> usize {
        self.fc[0].val().dims()[0]
    }

    fn activation<const D: usize>(&self, z: Tensor<D>) -> Tensor<D> {
        if self.straight_through {
            z.clone() + (relu(z.clone()) - z).detach()
        } else {
            relu(z)
        }
    }

    /// Logits `[chains, b, 10]` of images `x [chains, b, pixels]` (chain c's own batch).
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let chains = self.chains();
        let [_, b, _] = x.dims();
        let mut h = x;
        if !self.conv.is_empty() {
            // Chains become channels: one grouped convolution runs every chain's kernels.
            let s = self.side;
            let mut z = h.swap_dims(0, 1).reshape([b, chains, s, s]);
            for (w, &(_, _, _, pad)) in self.conv.iter().zip(&CONVS) {
                let options = ConvOptions::new([1, 1], [pad, pad], [1, 1], chains);
                z = conv2d(z, w.val(), None, options);
                z = max_pool2d(self.activation(z), MaxPoolOptions::new([2, 2]));
            }
            let [_, channels, hh, ww] = z.dims();
            h = z
                .reshape([b, chains, channels / chains * hh * ww])
                .swap_dims(0, 1);
        }
        let last = self.fc.len() - 1;
        for (l, w) in self.fc.iter().enumerate() {
            let z = h.matmul(w.val().swap_dims(1, 2));
            h = if l == last { z } else { self.activation(z) };
        }
        h
    }

    /// Every chain's weights as one row `[chains, P]`, layer by layer (kernels first).
    pub fn flat(&self) -> Tensor<2> {
        let chains = self.chains();
        let mut rows: Vec<Tensor<2>> = self
            .conv
            .iter()
            .map(|w| {
                let n = w.val().dims().iter().product::<usize>() / chains;
                w.val().reshape([chains, n])
            })
            .collect();
        rows.extend(self.fc.iter().map(|w| {
            let [c, o, i] = w.val().dims();
            w.val().reshape([c, o * i])
        }));
        Tensor::cat(rows, 1)
    }
}

/// Cross-entropy of each chain's batch, `[chains]`: −mean_i log softmax(z_i)[y_i].
pub fn chain_losses(logits: Tensor<3>, labels: Tensor<2>) -> Tensor<1> {
    let [c, b, k] = logits.dims();
    let picked = log_softmax(logits, 2) * labels.one_hot::<3>(k);
    picked
        .sum_dim(2)
        .sum_dim(1)
        .reshape([c])
        .mul_scalar(-1.0 / b as f64)
}

/// The training objective: the chains' cross-entropies summed, so that each chain's
/// gradient is its own.
pub fn loss(logits: Tensor<3>, labels: Tensor<2>) -> Tensor<1> {
    chain_losses(logits, labels).sum()
}
