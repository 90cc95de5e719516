use crate::backend::make_device;
use crate::cli::TrainArgs;
use crate::config::{Model, TrainConfig};
use crate::error::{Error, Result};
use crate::io::{StagedDir, write_npy};
use crate::summary::{EstimateSettings, LayerSummary, TailSummary, layer_summaries, summarize};
use crate::tail::Center;
use crate::theory::{LinearTheory, linear_tail_index};
use crate::train::{Trained, train};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// `run.json`: the resolved config, the teacher, versions and the summary.
#[derive(Debug, Serialize)]
pub struct RunRecord<'a> {
    pub config: &'a TrainConfig,
    pub teacher: &'a [f32],
    /// The least-squares solution of the fixed dataset (offline linear runs).
    pub least_squares: Option<&'a [f64]>,
    pub versions: Versions,
    pub summary: RunSummary,
}

#[derive(Debug, Serialize)]
pub struct Versions {
    pub tailgate: &'static str,
    pub burn: &'static str,
    pub backend: &'static str,
    pub device: String,
}

#[derive(Debug, Serialize)]
pub struct RunSummary {
    pub finite_chains: usize,
    pub wall_seconds: f64,
    pub chain_steps_per_second: f64,
    #[serde(flatten)]
    pub tail: TailSummary,
    /// The GSZ21 theory's α for the `linear` model (`null` otherwise).
    pub theory: Option<LinearTheory>,
    /// Per-layer tail indices of the `mlp` model (`null` otherwise).
    pub layers: Option<Vec<LayerSummary>>,
}

/// The burn release this crate is pinned to (`=0.22.1` in Cargo.toml).
pub const BURN_VERSION: &str = "0.22.1";

/// The config that `args` describe: the file (if any) with the flags on top, resolved.
pub fn resolve_config(args: &TrainArgs) -> Result<TrainConfig> {
    let base = match &args.config {
        Some(path) => TrainConfig::from_json_file(path)?,
        None => TrainConfig::default(),
    };
    args.apply(base).resolve()
}

/// `tailgate train`: validates everything, trains, writes the outputs atomically.
pub fn run(args: &TrainArgs) -> Result<PathBuf> {
    let config = resolve_config(args)?;
    let target = args.out.clone().unwrap_or_else(default_out);
    let progress = progress_bar(
        config.steps as u64,
        "steps, {per_sec}, eta {eta}",
        args.quiet,
    );
    let done = train_into(&config, &target, &progress)?;
    progress.finish_and_clear();
    if done.diverged_chains > 0 {
        eprintln!(
            "warning: {} of {} chains diverged; they are excluded from α",
            done.diverged_chains, config.chains
        );
    }
    Ok(done.dir)
}

/// A finished run folder.
#[derive(Debug)]
pub struct Finished {
    pub dir: PathBuf,
    pub diverged_chains: usize,
}

/// Trains a resolved `config` into the new folder `target` (built aside, renamed at the
/// end): the one path from a config to a run folder, for `train` and for sweep cells.
pub fn train_into(config: &TrainConfig, target: &Path, progress: &ProgressBar) -> Result<Finished> {
    let device = make_device(config.backend)?;
    let out = StagedDir::create(target)?;
    let iterates = out.path("iterates.npy");
    let trained = train(config, &device, Some(&iterates), progress)?;
    write_outputs(&out, config, &trained, format!("{device:?}"))?;
    Ok(Finished {
        dir: out.commit()?,
        diverged_chains: trained.diverged.iter().filter(|&&d| d).count(),
    })
}

/// `runs/run-<unix seconds>`: a fresh folder per run when `--out` is not given.
fn default_out() -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    PathBuf::from(format!("runs/run-{secs}"))
}

/// A bar over `len` units whose counter reads `{pos}/{len}` followed by `counter`
/// (indicatif template syntax); hidden when `quiet`.
pub(crate) fn progress_bar(len: u64, counter: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {counter}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

fn write_outputs(
    out: &StagedDir,
    config: &TrainConfig,
    trained: &Trained,
    device: String,
) -> Result<()> {
    let shape = [config.chains, config.params_per_chain()];
    write_npy(&out.path("final.npy"), &shape, &trained.final_weights)?;
    write_npy(&out.path("average.npy"), &shape, &trained.average_weights)?;
    write_npy(
        &out.path("diverged.npy"),
        &[config.chains],
        &trained.diverged,
    )?;
    let center = match (&config.center, &trained.least_squares) {
        (Center::LeastSquares, Some(w)) => Center::Vector(w.clone()),
        (Center::LeastSquares, None) => {
            return Err(Error::config(
                "center",
                "`least_squares`: the dataset's XᵀX is singular; no unique solution",
            ));
        }
        (c, _) => c.clone(),
    };
    let settings = EstimateSettings {
        seed: config.seed,
        center,
        ..EstimateSettings::default()
    };
    let mut tail = summarize(
        &trained.final_weights,
        &trained.average_weights,
        config.params_per_chain(),
        &trained.diverged,
        &settings,
    );
    tail.center = config.center.name();
    let record = RunRecord {
        config,
        teacher: &trained.teacher,
        least_squares: trained.least_squares.as_deref(),
        versions: Versions {
            tailgate: env!("CARGO_PKG_VERSION"),
            burn: BURN_VERSION,
            backend: config.backend.name(),
            device,
        },
        summary: RunSummary {
            finite_chains: trained.diverged.iter().filter(|&&d| !d).count(),
            wall_seconds: trained.wall_seconds,
            chain_steps_per_second: (config.chains * config.steps) as f64 / trained.wall_seconds,
            tail,
            theory: match config.model {
                Model::Linear => Some(linear_tail_index(config.dim, config.batch, config.eta)?),
                Model::ReluGate | Model::Mlp => None,
            },
            layers: (config.model == Model::Mlp).then(|| {
                layer_summaries(
                    &trained.final_weights,
                    &trained.average_weights,
                    &trained.diverged,
                    &config.layer_shapes(),
                    &settings,
                )
            }),
        },
    };
    write_json(&out.path("run.json"), &record)
}

/// Pretty JSON with a trailing newline.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| Error::Json {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    text.push('\n');
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}
