//! `philox` data drawn where the step runs: the generator and the label model in tensor
//! ops, so a GPU run uploads nothing per step. The numbers are [`super::DataSource`]'s for
//! the same config (the words exactly, the normals and labels to float rounding).

use super::philox::DevicePhilox;
use super::philox_normals;
use crate::config::{Labels, Model, TrainConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};

/// Fresh `philox` batches of every chain, on a device.
pub struct DeviceSource {
    generator: DevicePhilox,
    /// `w*` as `[1, 1, d]`, broadcast over chains and samples.
    teacher: Tensor<3>,
    labels: Labels,
    linear: bool,
    noise: f64,
    separation: f64,
    chains: usize,
    batch: usize,
    dim: usize,
    drawn: u32,
}

impl DeviceSource {
    /// The data of `config` (online, `philox`) with teacher `teacher`, drawn on `device`.
    pub fn new(config: &TrainConfig, teacher: &[f32], device: &Device) -> Self {
        let (b, d) = (config.batch, config.dim);
        DeviceSource {
            generator: DevicePhilox::new(config.seed, config.chains, philox_normals(b, d), device),
            teacher: Tensor::from_data(TensorData::new(teacher.to_vec(), [1, 1, d]), device),
            labels: config.labels,
            linear: config.model == Model::Linear,
            noise: config.label_noise,
            separation: config.mixture_separation,
            chains: config.chains,
            batch: b,
            dim: d,
            drawn: 0,
        }
    }

    /// The next batch: `x [chains, b, d]`, `y [chains, b]`.
    pub fn next_batch(&mut self) -> (Tensor<3>, Tensor<2>) {
        let (r, b, d) = (self.chains, self.batch, self.dim);
        let z = self.generator.normals(self.drawn);
        self.drawn += 1;
        let mut x = z.clone().slice([0..r, 0..b * d]).reshape([r, b, d]);
        let eps = z.clone().slice([0..r, b * d..b * d + b]);
        let clean = match self.labels {
            Labels::Mixture => {
                let positive = z
                    .slice([0..r, b * d + b..b * d + 2 * b])
                    .greater_elem(0.0)
                    .float();
                let shift = positive.clone().mul_scalar(2.0).sub_scalar(1.0);
                x = x + shift.unsqueeze_dim::<3>(2).mul_scalar(self.separation)
                    * self.teacher.clone();
                positive
            }
            labels => {
                let pre = (x.clone() * self.teacher.clone())
                    .sum_dim(2)
                    .squeeze_dim::<2>(2);
                match labels {
                    Labels::Realizable if self.linear => pre,
                    Labels::Realizable => relu(pre),
                    Labels::Binary01 => pre.greater_elem(0.0).float(),
                    _ => pre
                        .greater_elem(0.0)
                        .float()
                        .mul_scalar(2.0)
                        .sub_scalar(1.0),
                }
            }
        };
        let y = if self.noise > 0.0 {
            clean + eps.mul_scalar(self.noise)
        } else {
            clean
        };
        (x, y)
    }
}
