//! The flags of every subcommand but `train`. Every flag is documented where it is defined.

use clap::{Args, ValueEnum};
use std::path::PathBuf;
use tailgate::backend::BackendKind;
pub use tailgate::estimate::{CenterChoice, EstimatorChoice, GridChoice};

/// Flags of `tailgate far-tail-coverage`.
#[derive(Debug, Args)]
pub struct FarTailCoverageArgs {
    /// JSON study: `name`, `seed`, `resamples` (chain bootstrap), and `cases`, each with
    /// `name`, `replicates` and `source`: {"kesten": {"alpha", "s", "chains", "steps",
    /// "burn_in"}} or {"reduced": {a linear train config with its far tail on}} (see
    /// configs/validation/far_tail.json).
    #[arg(long, value_name = "FILE.json")]
    pub config: PathBuf,
    /// Output folder (replaced if it holds an earlier far-tail study): far_tail.json,
    /// replicates.csv, summary.csv, far_tail.md.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Flags of `tailgate coverage`.
#[derive(Debug, Args)]
pub struct CoverageArgs {
    /// JSON study: `name`, `seed`, `level`, `subsamples`, `k_resamples`, and `cases`, each
    /// with `name`, `source` ({"pareto": {"alpha": A}}, {"stable": {"alpha": A}},
    /// {"student_t": {"nu": N}} or {"reduced": {train config}}), `n` (sizes),
    /// `replicates` and `estimators` (see configs/validation/coverage.json).
    #[arg(long, value_name = "FILE.json")]
    pub config: PathBuf,
    /// Output folder (replaced if it holds an earlier coverage study): coverage.json,
    /// replicates.csv, summary.csv, coverage.md.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum TheoryModel {
    /// y = w*·x + σξ, x ~ N(0, I): α solves log E‖(I − (η/b) Σ xᵢxᵢᵀ) e₁‖^α = 0.
    Linear,
    /// The ReLU gate, SGD and KM alike (any bounded labels, x ~ N(0, I)): the asymptotic
    /// prediction, α solves log E‖(I − (η/b) Σ 1{w·xᵢ > 0} xᵢxᵢᵀ) e₁‖^α = 0.
    ReluGate,
}

/// Flags of `tailgate theory`.
#[derive(Debug, Args)]
pub struct TheoryArgs {
    /// The model whose theory is wanted: `linear` (GSZ21's theorem) or `relu_gate` (the
    /// asymptotic prediction of docs/theory.md §4.3).
    #[arg(long, value_enum, default_value = "linear")]
    pub model: TheoryModel,
    /// Input dimension d.
    #[arg(long, value_name = "D")]
    pub dim: usize,
    /// Mini-batch size b.
    #[arg(long, value_name = "B")]
    pub batch: usize,
    /// Step size η > 0.
    #[arg(
        long,
        value_name = "ETA",
        allow_negative_numbers = true,
        required_unless_present = "alpha",
        conflicts_with = "alpha"
    )]
    pub eta: Option<f64>,
    /// Instead of --eta: the step size whose predicted tail index is A (0 = the edge of
    /// divergence), solved for this model and (d, b).
    #[arg(long, value_name = "A", allow_negative_numbers = true)]
    pub alpha: Option<f64>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

/// Flags of `tailgate sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Study file: `name`, `base` (run config keys) and `grid` (lists of model, algorithm,
    /// labels, label_noise, dim, batch, eta, kappa, alpha_target or gate_alpha_target, seed,
    /// chains, steps, checkpoints, init; or an array of such grids), and optionally `length`
    /// (burn-in and steps from the theory's tilted drift).
    #[arg(long, value_name = "STUDY.json")]
    pub config: PathBuf,
    /// Sweep folder: created, or resumed when it holds this study (cells/<id>/ per run).
    #[arg(long, value_name = "DIR", required_unless_present = "plan")]
    pub out: Option<PathBuf>,
    /// Print the resolved cells (one tab-separated line each: id, model, algorithm, d, b,
    /// η, chains, burn-in, steps, init, seed) and the total chain-steps, and run nothing.
    #[arg(long)]
    pub plan: bool,
    /// Cells trained in parallel.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub jobs: usize,
    /// Run only shard I of N (cells whose index mod N is I, 0 ≤ I < N). Default: from
    /// SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT when set, else every cell.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Backend for every cell, overriding the study's `base.backend` (changes cell ids).
    #[arg(long, value_enum)]
    pub backend: Option<BackendKind>,
    /// Seconds after which a claimed cell whose worker stopped heartbeating (killed,
    /// node lost) is taken over by another worker. Keep it well above the clock skew
    /// between machines sharing the folder.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    pub lease: u64,
    /// Retrain cells that an earlier run recorded as failed (`failed/<id>.json`); by
    /// default they are left alone and listed.
    #[arg(long)]
    pub retry_failed: bool,
    /// No progress bar and no per-cell lines.
    #[arg(long)]
    pub quiet: bool,
}

/// Flags of `tailgate slurm`.
#[derive(Debug, Args)]
pub struct SlurmArgs {
    /// Study file, as for `sweep --config`.
    pub study: PathBuf,
    /// Sweep folder on storage every node shares (created and bound to the study now).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Array tasks (workers, or shards with --fixed-shards) [default: min(cells, 100)].
    #[arg(long, value_name = "N")]
    pub shards: Option<usize>,
    /// Cells each task trains in parallel (`sweep --jobs`); also sets --cpus-per-task.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub jobs: usize,
    /// CPU cores per task.
    #[arg(long, default_value_t = 2, value_name = "C")]
    pub cpus_per_task: usize,
    /// Wall-time limit per task, as Slurm reads it.
    #[arg(long, default_value = "04:00:00", value_name = "HH:MM:SS")]
    pub time: String,
    /// Memory per task, as Slurm reads it.
    #[arg(long, default_value = "4G")]
    pub mem: String,
    /// Partition to submit to (none: the cluster's default).
    #[arg(long)]
    pub partition: Option<String>,
    /// One fixed shard per array task (`SLURM_ARRAY_TASK_ID` of the array) instead of the
    /// default, where every task pulls unclaimed cells from the whole study until none
    /// is left (balanced when cell costs differ by 100×).
    #[arg(long)]
    pub fixed_shards: bool,
    /// The tailgate binary the tasks run [default: this binary's absolute path].
    #[arg(long, value_name = "PATH")]
    pub binary: Option<PathBuf>,
    /// Where to write the script [default: DIR/sweep.sbatch].
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
}

/// Flags of `tailgate report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Sweep folder (all shards write into the same folder).
    pub dir: PathBuf,
    /// Report folder [default: DIR/report]; an earlier report there is replaced.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Cells (ids, comma-separated) whose survival function and Hill plot are drawn
    /// [default: per setup and algorithm, the cell with the smallest α̂].
    #[arg(long, value_delimiter = ',', value_name = "ID,ID,…")]
    pub cells: Vec<String>,
    /// Half-sample subsamples of the per-seed SGD − KM difference intervals in details.md
    /// (0 = none).
    #[arg(long, default_value_t = 100, value_name = "B", alias = "bootstrap")]
    pub subsamples: usize,
    /// Seed of those subsamples.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// A `networks.csv` of an earlier report (e.g. docs/networks/gsz21_fashion/networks.csv):
    /// the nets' per-layer α̂ drawn beside the gate's on the η/b axis of claim 2.
    #[arg(long, value_name = "FILE.csv")]
    pub networks: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable lines.
    Table,
    /// One JSON object per estimator (an array for --estimator all).
    Json,
}

/// Flags of `tailgate analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The checkpoint: `.safetensors` (PyTorch's `save_file`, Hugging Face), `.npz`
    /// (`np.savez`, stored or compressed) or one `.npy`. Float tensors of any shape
    /// (F64, F32, F16, BF16); integer and bool tensors are listed as skipped.
    pub checkpoint: PathBuf,
    /// `table` (one line per tensor and its verdict), `json` (an array of objects) or
    /// `csv` (one row per tensor, for pandas).
    #[arg(long, value_enum, default_value_t = AnalyzeFormat::Table)]
    pub format: AnalyzeFormat,
    /// Write the output here (atomically) instead of to stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The centre taken off every weight before |w − centre|: `median` (robust where the
    /// mean does not exist), `mean` or `none`.
    #[arg(long, value_enum, default_value_t = CenterChoice::Median)]
    pub center: CenterChoice,
    /// Tensors with fewer elements are listed, not estimated.
    #[arg(long, default_value_t = tailgate::estimate::MIN_SAMPLES)]
    pub min_elements: usize,
    /// Half-sample subsamples of every interval (0: no intervals).
    #[arg(long, default_value_t = 100)]
    pub subsamples: usize,
    /// Synthetic samples of the power-law goodness-of-fit test; with 0 the fit is reported
    /// as unchecked, never as a tail index that survived a test.
    #[arg(long, default_value_t = 50)]
    pub gof_resamples: usize,
    /// Level of every interval, in (0, 1).
    #[arg(long, default_value_t = 0.95)]
    pub ci: f64,
    /// Seed of every resampling (the same seed gives the same bytes).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Output of `tailgate analyze`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnalyzeFormat {
    /// One line per tensor: name, shape, α or "no tail index", and the verdict.
    Table,
    /// A JSON array, one object per tensor.
    Json,
    /// CSV, one row per tensor (the Hill ladder as columns).
    Csv,
}

/// Flags of `tailgate estimate`.
#[derive(Debug, Args)]
pub struct EstimateArgs {
    /// Samples: .npy (float32/float64; 1-D = scalars, 2-D [N, d] = rows) or .csv.
    pub file: PathBuf,
    /// Which estimator(s) to report.
    #[arg(long, value_enum, default_value = "mohammadi")]
    pub estimator: EstimatorChoice,
    /// Mohammadi block sizes, comma-separated (each ≥ 2 and ≤ N); overrides --grid.
    #[arg(long, value_delimiter = ',', value_name = "M,M,…")]
    pub block_sizes: Option<Vec<usize>>,
    /// Mohammadi block-size grid when --block-sizes is not given.
    #[arg(long, value_enum, default_value = "network")]
    pub grid: GridChoice,
    /// Hill, moments and Pickands: number of upper order statistics (1 ≤ k < N; Pickands
    /// k ≤ N/4); default: double bootstrap (Pickands: the flattest stretch of its plot).
    #[arg(long, value_name = "K")]
    pub k: Option<usize>,
    /// Centring of the rows before estimation.
    #[arg(long, value_enum, default_value = "none")]
    pub center: CenterChoice,
    /// Treat every coordinate of a 2-D array as its own scalar sample.
    #[arg(long)]
    pub pooled: bool,
    /// Level of the confidence interval, in (0, 1).
    #[arg(long, default_value_t = 0.95, value_name = "LEVEL")]
    pub ci: f64,
    /// Subsamples for the interval (0 = no interval): each estimator is recomputed on B
    /// random halves of the rows drawn without replacement, and the interval is the
    /// estimate ± the `--ci` quantile of |half − whole| (scaled to the whole sample; see
    /// docs/manual/estimators.md, "Intervals"). Each subsample is a pass over half the samples.
    #[arg(long, default_value_t = tailgate::estimate::SUBSAMPLES, value_name = "B", alias = "bootstrap")]
    pub subsamples: usize,
    /// Seed of every resampling (subsamples, double bootstraps, goodness of fit); each is
    /// drawn from a stream hashed from (seed, purpose, index).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Refuse to estimate from fewer samples (rows, or scalars with --pooled) than this.
    #[arg(long, default_value_t = tailgate::estimate::MIN_SAMPLES, value_name = "N", allow_negative_numbers = true)]
    pub min_samples: usize,
    /// Resamples per stage of the double bootstraps that choose Hill's and the moments
    /// estimator's k (the tail-estimation package uses 500; each is a sort of ~n values).
    #[arg(long, default_value_t = tailgate::estimate::K_RESAMPLES, value_name = "R")]
    pub k_resamples: usize,
    /// Power law: synthetic samples of the goodness-of-fit p-value (0 = no p-value); each
    /// is a full refit, about the cost of one subsample at twice its size.
    #[arg(long, default_value_t = tailgate::estimate::GOF_RESAMPLES, value_name = "R")]
    pub gof_resamples: usize,
    /// Power law: the smallest tail a candidate threshold xmin may leave.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub min_tail: usize,
    /// Power law: at most this many candidate thresholds, at tail sizes spaced
    /// geometrically from --min-tail to N (0 = every distinct value: exact, O(N²)).
    #[arg(long, default_value_t = 400, value_name = "C")]
    pub xmin_candidates: usize,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Leave out the rows that this boolean .npy `[N]` marks true (a run's diverged.npy),
    /// as every estimate in run.json does.
    #[arg(long, value_name = "MASK.npy")]
    pub exclude: Option<PathBuf>,
    /// Also write the Hill plot (columns `k,alpha` for k = 1 … min(N − 1, 100000)) to this CSV.
    #[arg(long, value_name = "FILE.csv")]
    pub hill_plot: Option<PathBuf>,
    /// No progress bar for the subsamples (shown on a terminal otherwise).
    #[arg(long)]
    pub quiet: bool,
    /// Read FILE as a time series of a scalar statistic (2-D, [steps, chains]; see
    /// --layout) and report its far tail: every post-burn-in sample above the top --keep
    /// fraction, read on a ladder of exceedance fractions 10⁻³ … 10⁻⁷ of chains × steps
    /// (Hill with a chain-bootstrap interval of --resamples, Ferro–Segers extremal index and
    /// clusters, generalised Pareto MLE) and a headline rung. The values' upper tail is
    /// read as given: pass magnitudes (e.g. ‖w − centre‖). Uses --seed, --ci, --format.
    #[arg(long)]
    pub far_tail: bool,
    /// --far-tail: how FILE is laid out.
    #[arg(long, value_enum, default_value = "steps,chains")]
    pub layout: LayoutChoice,
    /// --far-tail: leading steps of every chain left out (not yet stationary).
    #[arg(long, default_value_t = 0, value_name = "STEPS")]
    pub burn_in: usize,
    /// --far-tail: the fraction of the post-burn-in samples kept, in (0, 1).
    #[arg(long, default_value_t = tailgate::tail::far::DEFAULT_KEEP, value_name = "FRACTION")]
    pub keep: f64,
    /// --far-tail: chain-bootstrap resamples of every interval.
    #[arg(long, default_value_t = 200, value_name = "B")]
    pub resamples: usize,
    /// --far-tail: also write the ladder as JSON (the object `--format json` prints) here.
    #[arg(long, value_name = "FILE.json")]
    pub out: Option<PathBuf>,
}

/// The layout of a time series (`estimate --far-tail`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutChoice {
    /// Rows are steps, columns chains.
    #[value(name = "steps,chains")]
    StepsChains,
    /// Rows are chains, columns steps.
    #[value(name = "chains,steps")]
    ChainsSteps,
}

/// Flags of `tailgate sample-stable`.
#[derive(Debug, Args)]
pub struct SampleStableArgs {
    /// Stability index α in (0, 2].
    #[arg(long, allow_negative_numbers = true)]
    pub alpha: f64,
    /// Number of samples (rows).
    #[arg(long, default_value_t = 100_000)]
    pub n: usize,
    /// Coordinates per row (iid); 1 writes a 1-D array.
    #[arg(long, default_value_t = 1)]
    pub dim: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output file (.npy, float64).
    #[arg(long, value_name = "FILE.npy")]
    pub out: PathBuf,
}
