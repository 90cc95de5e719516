//! Data setups and label models, generated from seeded streams so the same seed gives the
//! same x and y on every backend (docs/theory.md §2.2): on the host, or for `philox` data on the
//! device (`device`), from a generator the host reproduces.

use crate::config::{DataRng, Labels, Resolved, Teacher, TrainConfig};
use burn::tensor::{Device, Tensor, TensorData};
use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::StandardNormal;
use rayon::prelude::*;

mod device;
pub mod gamma;
pub mod idx;
pub mod images;
mod labels;
pub mod normal;
pub mod philox;

pub use device::DeviceSource;
use labels::LabelModel;
pub use labels::{dot, label};

/// One mini-batch per chain, on the host: `x` is `[chains, b, d]`, `y` is `[chains, b]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Inputs, `[chains, b, d]` row-major.
    pub x: Vec<f32>,
    /// Labels, `[chains, b]` row-major.
    pub y: Vec<f32>,
    /// Chains, the first dimension.
    pub chains: usize,
    /// Samples per chain, b.
    pub batch: usize,
    /// Input dimension d.
    pub dim: usize,
}

impl Batch {
    /// Uploads the batch to `device` as `(x [chains, b, d], y [chains, b])`; the host
    /// buffers move into the tensors uncopied where the backend allows.
    pub fn into_device(self, device: &Device) -> (Tensor<3>, Tensor<2>) {
        let x = TensorData::new(self.x, [self.chains, self.batch, self.dim]);
        let y = TensorData::new(self.y, [self.chains, self.batch]);
        (Tensor::from_data(x, device), Tensor::from_data(y, device))
    }
}

/// Independent streams derived from one seed (splitmix64 of seed and stream id).
pub(crate) fn stream(seed: u64, stream: u64, index: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(stream_seed(seed, stream, index))
}

/// The generator seed of [`stream`]`(seed, stream, index)`.
pub(crate) fn stream_seed(seed: u64, stream: u64, index: u64) -> u64 {
    let mut z = seed
        ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ index.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const TEACHER_STREAM: u64 = 1;
const INIT_STREAM: u64 = 2;
const DATA_STREAM: u64 = 3;
const DATASET_STREAM: u64 = 4;
/// The reduced engine's draws of chain c (its initial point, then every step).
pub(crate) const REDUCED_STREAM: u64 = 5;
/// The reduced engine's frame of chain c: the directions that turn its coordinates into a
/// d-dimensional row.
pub(crate) const FRAME_STREAM: u64 = 6;
/// Layer ℓ of an MLP initialises from stream `MLP_INIT_STREAM + ℓ`.
const MLP_INIT_STREAM: u64 = 100;

/// A fixed dataset: `x` is `[n, d]`, `y` is `[n]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Inputs, `[n, d]` row-major.
    pub x: Vec<f32>,
    /// Labels, `[n]`.
    pub y: Vec<f32>,
    /// Input dimension d.
    pub dim: usize,
}

impl Dataset {
    /// Points in the dataset, n.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether the dataset has no points.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// The least-squares solution `argmin_w Σ (w·xᵢ − yᵢ)²`, by Cholesky on the normal
    /// equations in f64; `None` when `XᵀX` is singular.
    pub fn least_squares(&self) -> Option<Vec<f64>> {
        let d = self.dim;
        let mut a = vec![0.0f64; d * d];
        let mut rhs = vec![0.0f64; d];
        for (row, &y) in self.x.chunks_exact(d).zip(&self.y) {
            for i in 0..d {
                let xi = f64::from(row[i]);
                rhs[i] += xi * f64::from(y);
                for j in 0..=i {
                    a[i * d + j] += xi * f64::from(row[j]);
                }
            }
        }
        // In-place Cholesky: a = L Lᵀ, L in the lower triangle.
        for j in 0..d {
            let mut diag = a[j * d + j];
            for k in 0..j {
                diag -= a[j * d + k] * a[j * d + k];
            }
            if diag <= 0.0 || !diag.is_finite() {
                return None;
            }
            let l = diag.sqrt();
            a[j * d + j] = l;
            for i in j + 1..d {
                let mut v = a[i * d + j];
                for k in 0..j {
                    v -= a[i * d + k] * a[j * d + k];
                }
                a[i * d + j] = v / l;
            }
        }
        let mut z = rhs;
        for i in 0..d {
            for k in 0..i {
                z[i] -= a[i * d + k] * z[k];
            }
            z[i] /= a[i * d + i];
        }
        for i in (0..d).rev() {
            for k in i + 1..d {
                z[i] -= a[k * d + i] * z[k];
            }
            z[i] /= a[i * d + i];
        }
        Some(z)
    }
}

/// The fixed dataset of an offline run (`dataset_size`), drawn with the run's label model.
pub fn dataset(config: &TrainConfig, teacher: &[f32]) -> Option<Dataset> {
    let n = config.dataset_size?;
    let d = config.dim;
    let mut x = vec![0.0f32; n * d];
    let mut y = vec![0.0f32; n];
    let model = LabelModel::new(config, teacher.to_vec());
    x.par_chunks_mut(d)
        .zip(y.par_iter_mut())
        .enumerate()
        .for_each(|(i, (xi, yi))| {
            let mut rng = stream(config.seed, DATASET_STREAM, i as u64);
            *yi = model.draw(&mut rng, xi);
        });
    Some(Dataset { x, y, dim: d })
}

/// The teacher `w*`: a seeded random unit vector, or `e₁`.
pub fn teacher(config: &TrainConfig) -> Vec<f32> {
    let d = config.dim;
    match config.teacher {
        Teacher::E1 => (0..d).map(|i| if i == 0 { 1.0 } else { 0.0 }).collect(),
        Teacher::Random => {
            let mut rng = stream(config.seed, TEACHER_STREAM, 0);
            let v: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
            let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
            v.iter().map(|a| (a / norm) as f32).collect()
        }
    }
}

/// Initial weights `[chains, d]`, row-major; each chain from its own stream.
pub fn initial_weights(config: &Resolved) -> Vec<f32> {
    let (chains, d) = (config.chains, config.dim);
    match config.init {
        crate::config::Init::Zeros => vec![0.0; chains * d],
        crate::config::Init::Normal | crate::config::Init::Pareto => {
            let std = config.init_std();
            let pareto = config.init == crate::config::Init::Pareto;
            let mut w = vec![0.0f32; chains * d];
            w.par_chunks_mut(d).enumerate().for_each(|(c, row)| {
                let mut rng = stream(config.seed, INIT_STREAM, c as u64);
                let g: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
                // A normal vector's direction is uniform; the Pareto radius replaces its norm.
                let scale = if pareto {
                    let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
                    std * crate::config::pareto_init_radius(rng.random::<f64>()) / norm
                } else {
                    std
                };
                for (v, x) in row.iter_mut().zip(&g) {
                    *v = (scale * x) as f32;
                }
            });
            w
        }
    }
}

/// Initial MLP layers `[chains, out, in]`, entries N(0, 1/fan_in), each chain and layer
/// from its own stream.
pub fn initial_mlp_weights(config: &TrainConfig) -> Vec<(Vec<f32>, [usize; 3])> {
    let chains = config.chains;
    config
        .layer_shapes()
        .into_iter()
        .enumerate()
        .map(|(l, [out, fan_in])| {
            let std = 1.0 / (fan_in as f64).sqrt();
            let size = out * fan_in;
            let mut w = vec![0.0f32; chains * size];
            w.par_chunks_mut(size).enumerate().for_each(|(c, row)| {
                let mut rng = stream(config.seed, MLP_INIT_STREAM + l as u64, c as u64);
                for v in row {
                    *v = (std * rng.sample::<f64, _>(StandardNormal)) as f32;
                }
            });
            (w, [chains, out, fan_in])
        })
        .collect()
}

/// Floats per batch from which drawing uses the thread pool (64 KiB; W's batch is 160 000
/// floats, a one-chain batch 100).
pub const LARGE_BATCH: usize = 16_384;

/// Normals a `philox` sample takes: d for x, then (after all b inputs of the batch) one
/// for the label noise and one for the mixture class of each sample.
pub fn philox_normals(batch: usize, dim: usize) -> usize {
    batch * (dim + 2)
}

/// The per-chain data streams and the label model: draws fresh batches every step.
pub struct DataSource {
    streams: Streams,
    model: LabelModel,
    batch: usize,
    dim: usize,
    /// Offline runs draw their batches from here.
    dataset: Option<std::sync::Arc<Dataset>>,
}

/// Where a chain's next batch comes from.
enum Streams {
    /// One generator per chain, advanced by every draw.
    Xoshiro(Vec<Xoshiro256PlusPlus>),
    /// Batch `drawn` of chain `c` is a function of `(seed, drawn, c)` alone.
    Philox {
        seed: u64,
        chains: usize,
        drawn: u32,
    },
}

impl DataSource {
    /// Fresh data for every chain of `config` (its seed, batch, dimension and generator), labelled against `teacher`.
    pub fn new(config: &TrainConfig, teacher: Vec<f32>) -> Self {
        let streams = match config.data_rng {
            DataRng::Xoshiro => Streams::Xoshiro(
                (0..config.chains)
                    .map(|c| stream(config.seed, DATA_STREAM, c as u64))
                    .collect(),
            ),
            DataRng::Philox => Streams::Philox {
                seed: config.seed,
                chains: config.chains,
                drawn: 0,
            },
        };
        DataSource {
            streams,
            model: LabelModel::new(config, teacher),
            batch: config.batch,
            dim: config.dim,
            dataset: None,
        }
    }

    /// Draws every batch from `dataset` (b distinct points per chain and step).
    pub fn with_dataset(mut self, dataset: Option<Dataset>) -> Self {
        self.dataset = dataset.map(std::sync::Arc::new);
        self
    }

    /// Whether a batch is big enough (≥ [`LARGE_BATCH`] floats) to be worth other threads:
    /// drawn in parallel, and ahead of the step by the training loop.
    pub fn is_large(&self) -> bool {
        self.chains() * self.batch * self.dim >= LARGE_BATCH
    }

    fn chains(&self) -> usize {
        match &self.streams {
            Streams::Xoshiro(rngs) => rngs.len(),
            Streams::Philox { chains, .. } => *chains,
        }
    }

    /// The next batch of every chain. Large batches fill chains in parallel, each from its
    /// own stream, so the numbers do not depend on the thread count.
    pub fn next_batch(&mut self) -> Batch {
        let (b, d) = (self.batch, self.dim);
        let chains = self.chains();
        let large = self.is_large();
        let mut x = vec![0.0f32; chains * b * d];
        let mut y = vec![0.0f32; chains * b];
        match &mut self.streams {
            Streams::Xoshiro(rngs) => fill_xoshiro(
                rngs,
                &self.model,
                self.dataset.as_deref(),
                large,
                b,
                &mut x,
                &mut y,
            ),
            Streams::Philox { seed, drawn, .. } => {
                fill_philox(*seed, *drawn, &self.model, large, b, &mut x, &mut y);
                *drawn += 1;
            }
        }
        Batch {
            x,
            y,
            chains,
            batch: b,
            dim: d,
        }
    }
}

/// Every chain's batch from its own xoshiro stream: fresh samples, or b distinct points of
/// `dataset`.
fn fill_xoshiro(
    rngs: &mut [Xoshiro256PlusPlus],
    model: &LabelModel,
    dataset: Option<&Dataset>,
    large: bool,
    b: usize,
    x: &mut [f32],
    y: &mut [f32],
) {
    let d = x.len() / y.len();
    let chain = |((rng, xc), yc): ((&mut Xoshiro256PlusPlus, &mut [f32]), &mut [f32])| match dataset
    {
        Some(data) => {
            let picks = rand::seq::index::sample(rng, data.len(), b);
            for ((i, xi), yi) in picks.iter().zip(xc.chunks_exact_mut(d)).zip(yc) {
                xi.copy_from_slice(&data.x[i * d..(i + 1) * d]);
                *yi = data.y[i];
            }
        }
        None => draw_rows(model, rng, xc, yc),
    };
    if large {
        rngs.par_iter_mut()
            .zip(x.par_chunks_mut(b * d))
            .zip(y.par_chunks_mut(b))
            .for_each(chain);
    } else {
        // Handing a few hundred floats to the thread pool costs more than drawing them.
        rngs.iter_mut()
            .zip(x.chunks_mut(b * d))
            .zip(y.chunks_mut(b))
            .for_each(chain);
    }
}

/// Fresh inputs and labels for the rows of `x` (one per label in `y`) from one chain's
/// stream. Also compiled for AVX2 and BMI2, chosen at run time: this is the hot loop of a
/// CPU run (the ziggurat and the teacher's dot product, inlined here), the same
/// operations in the same order on either path (no FMA contraction), so the same numbers.
#[multiversion::multiversion(targets("x86_64+avx2+bmi1+bmi2+lzcnt+popcnt"))]
fn draw_rows(model: &LabelModel, rng: &mut Xoshiro256PlusPlus, x: &mut [f32], y: &mut [f32]) {
    let d = x.len() / y.len();
    for (xi, yi) in x.chunks_exact_mut(d).zip(y.iter_mut()) {
        *yi = model.draw(rng, xi);
    }
}

/// Every chain's batch number `step` of the `philox` stream, laid out as
/// [`philox_normals`] says.
fn fill_philox(
    seed: u64,
    step: u32,
    model: &LabelModel,
    large: bool,
    b: usize,
    x: &mut [f32],
    y: &mut [f32],
) {
    let d = x.len() / y.len();
    let count = philox_normals(b, d);
    let chain = |z: &mut Vec<f32>, (c, (xc, yc)): (usize, (&mut [f32], &mut [f32]))| {
        philox::host_normals(seed, step, c as u32, count, z);
        xc.copy_from_slice(&z[..b * d]);
        for (i, (xi, yi)) in xc.chunks_exact_mut(d).zip(yc).enumerate() {
            let positive = (model.labels == Labels::Mixture).then(|| z[b * d + b + i] > 0.0);
            *yi = model.clean(xi, positive) + model.noise * z[b * d + i];
        }
    };
    let scratch = || vec![0.0f32; 4 * philox::blocks(count)];
    if large {
        x.par_chunks_mut(b * d)
            .zip(y.par_chunks_mut(b))
            .enumerate()
            .for_each_init(scratch, chain);
    } else {
        let mut z = scratch();
        x.chunks_mut(b * d)
            .zip(y.chunks_mut(b))
            .enumerate()
            .for_each(|item| chain(&mut z, item));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `draw_rows` runs its AVX2 build where the CPU has one; it must give the bits that
    /// the same draws give in this function, compiled for the baseline target.
    #[test]
    fn dispatched_rows_match_the_baseline_build() {
        let teacher: Vec<f32> = (0..100)
            .map(|j| ((j * 7 % 13) as f32 - 6.0) / 10.0)
            .collect();
        for (labels, noise, cauchy) in [
            (Labels::Realizable, 1.0, false),
            (Labels::Realizable, 1.0, true),
            (Labels::Binary01, 0.0, false),
            (Labels::Mixture, 0.5, false),
        ] {
            let model = LabelModel {
                teacher: teacher.clone(),
                labels,
                linear: false,
                noise,
                cauchy,
                separation: 1.5,
            };
            let (mut x, mut y) = (vec![0.0f32; 64 * 100], vec![0.0f32; 64]);
            draw_rows(&model, &mut stream(3, DATA_STREAM, 1), &mut x, &mut y);
            let mut rng = stream(3, DATA_STREAM, 1);
            for (row, &label) in x.chunks_exact(100).zip(&y) {
                let mut expected = [0.0f32; 100];
                let expected_label = model.draw(&mut rng, &mut expected);
                assert_eq!(label.to_bits(), expected_label.to_bits(), "{labels:?}");
                assert!(
                    row.iter()
                        .zip(&expected)
                        .all(|(a, b)| a.to_bits() == b.to_bits())
                );
            }
        }
    }
}
