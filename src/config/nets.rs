//! The nets' block of a config: the images they train on, the order they visit them, and
//! the shapes of their layers (pure arithmetic on the config, so the per-layer protocol and
//! run.json can name layers without building a net).

use super::{Model, TrainConfig};
use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Where Debian's `dataset-fashion-mnist` puts the files.
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Classes of MNIST-format datasets.
pub const CLASSES: usize = 10;

/// Side of an MNIST-format image (28 × 28 pixels).
pub const SIDE: usize = 28;

/// Pixels of an MNIST-format image.
pub const PIXELS: usize = SIDE * SIDE;

/// Which images a net trains on (`dataset` in a config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DatasetSpec {
    /// Fashion-MNIST from Debian's `dataset-fashion-mnist` (`/usr/share/datasets/fashion-mnist`).
    #[default]
    FashionMnist,
    /// Any folder of MNIST-format IDX files (`{"idx": DIR}`), real MNIST included.
    Idx(PathBuf),
}

impl DatasetSpec {
    /// The folder the files are read from.
    pub fn dir(&self) -> PathBuf {
        match self {
            DatasetSpec::FashionMnist => PathBuf::from(FASHION_MNIST_DIR),
            DatasetSpec::Idx(dir) => dir.clone(),
        }
    }

    /// A short name for reports.
    pub fn name(&self) -> String {
        match self {
            DatasetSpec::FashionMnist => "fashion_mnist".into(),
            DatasetSpec::Idx(dir) => format!("idx:{}", dir.display()),
        }
    }
}

/// The order in which a chain visits the training images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ValueEnum, Default)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Sampling {
    /// A fresh permutation per chain every epoch (PyTorch's `shuffle=True`).
    #[default]
    Shuffle,
    /// The file's order, pass after pass, the same for every chain (GSZ21's loaders, which
    /// do not shuffle): chains then differ only in their initial weights.
    Cyclic,
    /// b independent uniform draws per step (with replacement across steps and in a batch).
    WithReplacement,
}

impl Sampling {
    /// Whether every chain reshuffles its order each epoch.
    pub fn is_shuffle(&self) -> bool {
        *self == Sampling::Shuffle
    }
}

/// The CNN's kernels: `(out channels, in channels, kernel, padding)`.
pub const CONVS: [(usize, usize, usize, usize); 2] = [(6, 1, 5, 2), (16, 6, 5, 0)];
/// The CNN's linear layers after the convolutions (`16·5·5 = 400` inputs).
pub const CNN_FC: [usize; 4] = [400, 120, 84, CLASSES];

/// A layer of a net, as the per-layer protocol names and slices it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerShape {
    /// `fc1`, `conv1`, …: the layer's name in run.json and the reports.
    pub name: String,
    /// `[out, in]` for linear layers, `[out, in·k·k]` for kernels.
    pub shape: [usize; 2],
}

/// Layers of the `fcn` or `cnn` of a config on `pixels`-pixel images.
pub fn layer_shapes(config: &TrainConfig, pixels: usize) -> Vec<LayerShape> {
    let linear = |name: String, out, fan_in| LayerShape {
        name,
        shape: [out, fan_in],
    };
    match config.model {
        Model::Fcn => {
            let width = config.net_width();
            (0..config.depth)
                .map(|l| {
                    let fan_in = if l == 0 { pixels } else { width };
                    let out = if l + 1 == config.depth {
                        CLASSES
                    } else {
                        width
                    };
                    linear(format!("fc{}", l + 1), out, fan_in)
                })
                .collect()
        }
        Model::Cnn => {
            let mut layers: Vec<LayerShape> = CONVS
                .iter()
                .enumerate()
                .map(|(l, &(o, i, k, _))| linear(format!("conv{}", l + 1), o, i * k * k))
                .collect();
            layers.extend(
                CNN_FC
                    .windows(2)
                    .enumerate()
                    .map(|(l, w)| linear(format!("fc{}", l + 1), w[1], w[0])),
            );
            layers
        }
        _ => vec![],
    }
}
