//! The flags of `tailgate train`: each one overrides the same field of `--config`.

use clap::{Args, ValueEnum};
use std::path::PathBuf;
use tailgate::backend::BackendKind;
use tailgate::config::{
    Algorithm, DataRng, DatasetSpec, Engine, Labels, Model, NoiseLaw, Sampling, Teacher,
    TrainConfig,
};

/// Flags of `tailgate train`; each one overrides the same field of `--config`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// JSON run config (fields as in run.json's `config`); flags below override it.
    #[arg(long, value_name = "FILE.json")]
    pub config: Option<PathBuf>,
    /// Simulator: `burn` (the reference trainer, every model and option) or `reduced` (the
    /// exact two-number chain for Gaussian inputs, O(b) per chain-step whatever d is; the
    /// gate and the linear model on fresh data, no momentum, no --record-every; refused
    /// otherwise with the key that prevents it) [default: burn].
    #[arg(long, value_enum)]
    pub engine: Option<Engine>,
    /// What is trained: `relu_gate` (y = max(0, w·x)), `linear` (y = w·x, the
    /// linear-regression control; realizable labels become w*·x + σξ), `mlp` (a ReLU MLP
    /// student on the gate's teacher data; see --depth, --hidden), or a classifier on real
    /// images (--dataset): `fcn` (GSZ21's fully connected net, --depth, --width) or `cnn`
    /// (LeNet-5-style). Without --config, `fcn`/`cnn` default to 4 chains, b = 10,
    /// η = 0.05 and 2000 steps [default: relu_gate].
    #[arg(long, value_enum)]
    pub model: Option<Model>,
    /// Update rule: `sgd` (gradient of ½(y − ReLU(w·x))²) or `km` (Karmakar–Mukherjee).
    #[arg(long, value_enum)]
    pub algorithm: Option<Algorithm>,
    /// Tensor backend: `flex` (CPU, default), `ndarray` (CPU), `wgpu` (GPU; needs --features wgpu).
    #[arg(long, value_enum)]
    pub backend: Option<BackendKind>,
    /// Number of independent chains trained together [default: 1600].
    #[arg(long, value_name = "R")]
    pub chains: Option<usize>,
    /// Input dimension d [default: 10].
    #[arg(long, value_name = "D")]
    pub dim: Option<usize>,
    /// Mini-batch size b [default: 1].
    #[arg(long, value_name = "B")]
    pub batch: Option<usize>,
    /// Step size η > 0 [default: 0.05].
    #[arg(long, value_name = "ETA", allow_negative_numbers = true)]
    pub eta: Option<f64>,
    /// Place η by the theory instead: the step size whose predicted tail index is ALPHA
    /// (`relu_gate`: the gate's asymptotic prediction; `linear`: GSZ21's theory); 0 = the
    /// edge of divergence. Overrides --eta; run.json keeps both.
    #[arg(
        long,
        value_name = "ALPHA",
        conflicts_with = "eta",
        allow_negative_numbers = true
    )]
    pub alpha_target: Option<f64>,
    /// Number of iterations K [default: 2000].
    #[arg(long, value_name = "K")]
    pub steps: Option<usize>,
    /// Reduced engine: steps after which every chain's (a, c) is recorded
    /// (checkpoints.npy) and α̂ estimated again (run.json `summary.checkpoints`): α̂
    /// against steps, to see whether the run is stationary. Comma-separated, increasing.
    #[arg(long, value_name = "K1,K2,…", value_delimiter = ',')]
    pub checkpoints: Option<Vec<usize>>,
    /// Seed of every random stream (teacher, initial weights, data) [default: 0].
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Label model: realizable, binary01, binary_pm1 or mixture [default: realizable].
    #[arg(long, value_enum)]
    pub labels: Option<Labels>,
    /// σ ≥ 0: Gaussian noise added to each label [default: 1]. σ = 0 on realizable data
    /// has no stationary spread (the run reports `converged_to_floor`).
    #[arg(long, value_name = "SIGMA", allow_negative_numbers = true)]
    pub label_noise: Option<f64>,
    /// The law of the label noise ξ: `normal` or `cauchy` (z₁/z₂, heavy-tailed of index
    /// 1; not with --data-rng philox) [default: normal].
    #[arg(long, value_enum)]
    pub noise_law: Option<NoiseLaw>,
    /// MLP only: number of weight layers (≥ 2) [default: 3].
    #[arg(long, value_name = "L")]
    pub depth: Option<usize>,
    /// MLP only: width of the hidden layers [default: 32].
    #[arg(long, value_name = "H")]
    pub hidden: Option<usize>,
    /// fcn/cnn: the images, `fashion_mnist` (Debian's `dataset-fashion-mnist`, read from
    /// /usr/share/datasets/fashion-mnist) [default: fashion_mnist].
    #[arg(long, value_enum, conflicts_with = "data_dir")]
    pub dataset: Option<DatasetName>,
    /// fcn/cnn: a folder of MNIST-format IDX files (train-images-idx3-ubyte[.gz],
    /// train-labels-idx1-ubyte[.gz], t10k-…), e.g. real MNIST.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// fcn only: units of every hidden layer [default: 128].
    #[arg(long, value_name = "H")]
    pub width: Option<usize>,
    /// fcn/cnn: each chain's order over the training images: `shuffle` (a fresh
    /// permutation per chain every epoch), `cyclic` (the file's order, GSZ21's loaders) or
    /// `with_replacement` [default: shuffle].
    #[arg(long, value_enum)]
    pub sampling: Option<Sampling>,
    /// fcn/cnn: the last steps whose weights are averaged for the per-layer α
    /// [default: min(1000, steps/2)].
    #[arg(long, value_name = "K")]
    pub late_window: Option<usize>,
    /// fcn/cnn: steps between points of the training curves (loss and accuracy on 1000
    /// training images, per chain) [default: steps/20].
    #[arg(long, value_name = "N")]
    pub log_every: Option<usize>,
    /// Train on one fixed dataset of N points (b distinct points per chain and step)
    /// instead of fresh data [default: online].
    #[arg(long, value_name = "N")]
    pub dataset_size: Option<usize>,
    /// Data generator: `xoshiro` (per-chain streams drawn on host threads; fastest on a
    /// CPU) or `philox` (counter-based Philox4x32-10 with Box–Muller normals; with
    /// `--backend wgpu` drawn on the GPU, no upload per step) [default: xoshiro].
    #[arg(long, value_enum)]
    pub data_rng: Option<DataRng>,
    /// Teacher w*: `random` (seeded unit vector) or `e1` [default: random].
    #[arg(long, value_enum)]
    pub teacher: Option<Teacher>,
    /// Heavy-ball momentum μ ∈ [0, 1) of burn's SGD, for either algorithm [default: 0].
    #[arg(long, value_name = "MU")]
    pub momentum: Option<f64>,
    /// L2 weight decay of burn's SGD, for either algorithm [default: 0].
    #[arg(long, value_name = "LAMBDA")]
    pub weight_decay: Option<f64>,
    /// Steps before the running average (average.npy) starts [default: steps/2].
    #[arg(long, value_name = "K0")]
    pub burn_in: Option<usize>,
    /// Write snapshots to iterates.npy every N steps after `record_from` (0 = none).
    #[arg(long, value_name = "N")]
    pub record_every: Option<usize>,
    /// Record the far tail: after burn-in, every step's ‖w − centre‖ of every chain is
    /// compared with a threshold fixed from the chains at the end of burn-in, and each
    /// exceedance kept (far_tail.npy [kept, 3]: value, chain, step), read in run.json's
    /// `summary.far_tail` as a ladder of exceedance fractions 10⁻³ … 10⁻⁷ of the chains ×
    /// steps time samples (Hill with a chain bootstrap, extremal index, GPD) [default: true
    /// for relu_gate and linear with ≥ 1000 steps after the burn-in].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub far_tail: Option<bool>,
    /// The fraction of the chains at the end of burn-in above the recording threshold, in
    /// (0, 1); lower keeps fewer, larger exceedances [default: 0.002, twice the 10⁻³ rung].
    #[arg(long, value_name = "FRACTION")]
    pub far_tail_keep: Option<f64>,
    /// At most N exceedances are kept (16 bytes each in memory); past it the threshold is
    /// raised, the smaller ones dropped, and run.json says so [default: 20000000].
    #[arg(long, value_name = "N")]
    pub far_tail_cap: Option<usize>,
    /// No α̂ (`null` with the reason) from fewer surviving chains than this [default: 300].
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub min_samples: Option<usize>,
    /// Output folder (must not exist; written atomically) [default: runs/run-<unix time>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

impl TrainArgs {
    /// The config file (or the defaults) with every given flag applied, not yet resolved.
    pub fn apply(&self, mut c: TrainConfig) -> TrainConfig {
        macro_rules! set {
            ($($f:ident),*) => { $( if let Some(v) = self.$f.clone() { c.$f = v; } )* };
        }
        set!(
            engine,
            model,
            algorithm,
            backend,
            chains,
            dim,
            batch,
            eta,
            steps,
            seed,
            labels,
            label_noise,
            noise_law,
            data_rng,
            teacher,
            momentum,
            weight_decay,
            record_every,
            checkpoints,
            depth,
            hidden,
            min_samples
        );
        if self.burn_in.is_some() {
            c.burn_in = self.burn_in;
        }
        if self.alpha_target.is_some() {
            c.alpha_target = self.alpha_target;
        }
        for (field, value) in [(&mut c.far_tail_cap, self.far_tail_cap)] {
            if value.is_some() {
                *field = value;
            }
        }
        if self.far_tail.is_some() {
            c.far_tail = self.far_tail;
        }
        if self.far_tail_keep.is_some() {
            c.far_tail_keep = self.far_tail_keep;
        }
        if self.dataset_size.is_some() {
            c.dataset_size = self.dataset_size;
        }
        if let Some(DatasetName::FashionMnist) = self.dataset {
            c.dataset = Some(DatasetSpec::FashionMnist);
        }
        if let Some(dir) = &self.data_dir {
            c.dataset = Some(DatasetSpec::Idx(dir.clone()));
        }
        for (field, value) in [
            (&mut c.width, self.width),
            (&mut c.late_window, self.late_window),
            (&mut c.log_every, self.log_every),
        ] {
            if value.is_some() {
                *field = value;
            }
        }
        if let Some(s) = self.sampling {
            c.sampling = s;
        }
        c
    }
}

/// Datasets known by name (`--dataset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum DatasetName {
    /// Fashion-MNIST (Debian's `dataset-fashion-mnist`).
    FashionMnist,
}
