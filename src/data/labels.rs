//! How a sample's label is made from its input (docs/theory.md §2.2): the teacher's
//! pre-activation, the label model, the noise.

use super::normal;
use crate::config::{Labels, TrainConfig};
use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;

/// How a sample's label is made from its input (docs/theory.md §2.2).
pub(super) struct LabelModel {
    pub(super) teacher: Vec<f32>,
    pub(super) labels: Labels,
    /// A linear teacher: realizable labels are `w*·x`.
    pub(super) linear: bool,
    pub(super) noise: f32,
    /// Cauchy noise: ξ = z₁/z₂.
    pub(super) cauchy: bool,
    pub(super) separation: f32,
}

impl LabelModel {
    pub(super) fn new(config: &TrainConfig, teacher: Vec<f32>) -> Self {
        LabelModel {
            teacher,
            labels: config.labels,
            linear: config.model == crate::config::Model::Linear,
            noise: config.label_noise as f32,
            cauchy: config.noise_law == crate::config::NoiseLaw::Cauchy,
            separation: config.mixture_separation as f32,
        }
    }

    /// Fills `x` with one input from `rng` and returns its label (the class and the noise
    /// drawn after the input).
    #[inline(always)]
    pub(super) fn draw(&self, rng: &mut Xoshiro256PlusPlus, x: &mut [f32]) -> f32 {
        normal::fill(rng, x);
        let positive = (self.labels == Labels::Mixture).then(|| rng.random_bool(0.5));
        let clean = self.clean(x, positive);
        if self.noise > 0.0 {
            let z = normal::one(rng);
            let xi = if self.cauchy { z / normal::one(rng) } else { z };
            clean + self.noise * xi
        } else {
            clean
        }
    }

    /// The noiseless label of the input `x` (drawn N(0, I)); for the mixture, `positive` is
    /// the sample's class and `x` is shifted to its mean.
    #[inline(always)]
    pub(super) fn clean(&self, x: &mut [f32], positive: Option<bool>) -> f32 {
        match (self.labels, positive) {
            (Labels::Mixture, Some(positive)) => {
                let shift = if positive {
                    self.separation
                } else {
                    -self.separation
                };
                for (v, t) in x.iter_mut().zip(&self.teacher) {
                    *v += shift * t;
                }
                if positive { 1.0 } else { 0.0 }
            }
            (labels, _) => {
                let z = dot(x, &self.teacher);
                if self.linear && labels == Labels::Realizable {
                    z
                } else {
                    label(labels, z)
                }
            }
        }
    }
}

/// `a·b` in eight interleaved partial sums: one running sum is a chain of dependent adds
/// that cannot use vector registers (it was a fifth of the data thread's time on W).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a8.zip(b8) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// The clean label of a sample whose teacher pre-activation is `z = w*·x`.
pub fn label(labels: Labels, z: f32) -> f32 {
    match labels {
        Labels::Realizable => z.max(0.0),
        Labels::Binary01 | Labels::Mixture => {
            if z > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Labels::BinaryPm1 => {
            if z > 0.0 {
                1.0
            } else {
                -1.0
            }
        }
    }
}
