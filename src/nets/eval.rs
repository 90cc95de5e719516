//! Loss and accuracy of every chain's net on a set of images (no gradients).

use super::{Net, chain_losses};
use crate::data::idx::ImageSet;
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

/// Images per forward pass of an evaluation (bounded memory: chains × chunk × pixels).
const CHUNK: usize = 1000;

/// Per-chain cross-entropy and accuracy on a set of images (`null` in JSON, NaN here, for
/// a diverged chain).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Per chain: mean cross-entropy over the images.
    #[serde(deserialize_with = "nan_for_null")]
    pub loss: Vec<f64>,
    /// Per chain: fraction of the images classified correctly, in [0, 1].
    #[serde(deserialize_with = "nan_for_null")]
    pub accuracy: Vec<f64>,
}

impl Scores {
    /// The scores with those of `diverged` chains replaced by NaN.
    pub fn without(mut self, diverged: &[bool]) -> Self {
        for (c, _) in diverged.iter().enumerate().filter(|(_, d)| **d) {
            self.loss[c] = f64::NAN;
            self.accuracy[c] = f64::NAN;
        }
        self
    }
}

/// The middle of the finite values (the upper one of an even count), `None` if there are
/// none: the chains' summary in run lines, progress bars and reports.
pub fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

/// JSON writes a non-finite f64 as `null`; read it back as NaN.
pub fn nan_for_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    let v: Vec<Option<f64>> = Vec::deserialize(d)?;
    Ok(v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
}

/// Every chain's mean loss and accuracy on the first `limit` images of `set` (all of them
/// when `limit` is `None`); `net` is a plain (non-autodiff) module.
pub fn evaluate(net: &Net, set: &ImageSet, limit: Option<usize>, device: &Device) -> Scores {
    let chains = net.fc[0].val().dims()[0];
    let n = limit.unwrap_or(set.len()).min(set.len());
    let mut loss = vec![0.0f64; chains];
    let mut correct = vec![0.0f64; chains];
    let p = set.pixels;
    let mut start = 0;
    while start < n {
        let m = CHUNK.min(n - start);
        let x = Tensor::<3>::from_data(
            TensorData::new(set.images[start * p..(start + m) * p].to_vec(), [1, m, p]),
            device,
        )
        .repeat_dim(0, chains);
        let labels: Vec<f32> = set.labels[start..start + m]
            .iter()
            .map(|&l| l as f32)
            .collect();
        let y =
            Tensor::<2>::from_data(TensorData::new(labels, [1, m]), device).repeat_dim(0, chains);
        let logits = net.forward(x);
        let hits = logits
            .clone()
            .argmax(2)
            .float()
            .reshape([chains, m])
            .equal(y.clone())
            .float()
            .sum_dim(1);
        let l = chain_losses(logits, y).mul_scalar(m as f64);
        for (acc, v) in loss.iter_mut().zip(host(l)) {
            *acc += v;
        }
        for (acc, v) in correct.iter_mut().zip(host(hits.reshape([chains]))) {
            *acc += v;
        }
        start += m;
    }
    let n = n.max(1) as f64;
    Scores {
        loss: loss.into_iter().map(|v| v / n).collect(),
        accuracy: correct.into_iter().map(|v| v / n).collect(),
    }
}

fn host(t: Tensor<1>) -> Vec<f64> {
    t.into_data()
        .try_into_vec::<f32>()
        .expect("float32 values")
        .into_iter()
        .map(f64::from)
        .collect()
}
