use crate::backend::make_device;
use crate::cli::TrainArgs;
use crate::config::{Engine, Model, TrainConfig};
use crate::error::{Error, Result};
use crate::io::{NpyStream, StagedDir, write_npy};
use crate::reduced::{self, EstimationRows, MATERIALISE_LIMIT, Reduced, RowMaker, Which};
use crate::summary::{
    EstimateSettings, LayerSummary, TailSummary, layer_summaries, summarize, summarize_from,
};
use crate::tail::Center;
use crate::theory::{TailTheory, gate_tail_index, linear_tail_index};
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
    /// The GSZ21 theory's α for the `linear` model; the asymptotic prediction for the gate
    /// on fresh isotropic data without momentum or weight decay (`null` otherwise).
    pub theory: Option<TailTheory>,
    /// Per-layer tail indices of the `mlp` model (`null` otherwise).
    pub layers: Option<Vec<LayerSummary>>,
    /// What a reduced-engine run wrote and estimated from (absent for burn runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reduced: Option<ReducedOutputs>,
}

/// `summary.reduced` of a reduced-engine run.
#[derive(Debug, Serialize)]
pub struct ReducedOutputs {
    /// What the coordinate files hold.
    pub coordinates: &'static str,
    /// Whether final.npy and average.npy were written (chains·d ≤ 10⁸).
    pub rows_written: bool,
    /// The rows every estimate in this summary was computed from.
    pub estimated_from: String,
    pub estimated_row_width: usize,
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
    let progress = match config.engine {
        Engine::Burn => progress_bar(
            config.steps as u64,
            "steps, {per_sec}, eta {eta}",
            args.quiet,
        ),
        Engine::Reduced => progress_bar(
            config.chains as u64,
            "chains, {per_sec}, eta {eta}",
            args.quiet,
        ),
    };
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
    if config.engine == Engine::Reduced {
        let out = StagedDir::create(target)?;
        let run = reduced::simulate(config, progress)?;
        write_reduced_outputs(&out, config, &run)?;
        return Ok(Finished {
            dir: out.commit()?,
            diverged_chains: run.diverged.iter().filter(|&&d| d).count(),
        });
    }
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
            theory: theory(config)?,
            reduced: None,
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

/// The theory's α where there is one: the linear model, and the gate on fresh isotropic
/// Gaussian data with plain steps (the mixture's inputs are not isotropic; momentum and
/// weight decay change M).
fn theory(config: &TrainConfig) -> Result<Option<TailTheory>> {
    let (d, b, eta) = (config.dim, config.batch, config.eta);
    Ok(match config.model {
        Model::Linear => Some(linear_tail_index(d, b, eta)?),
        Model::ReluGate
            if config.dataset_size.is_none()
                && config.labels != crate::config::Labels::Mixture
                && config.momentum == 0.0
                && config.weight_decay == 0.0 =>
        {
            Some(gate_tail_index(d, b, eta)?)
        }
        Model::ReluGate | Model::Mlp => None,
    })
}

/// Chains per slab of final.npy / average.npy written at a time (bounded memory).
const ROW_SLAB: usize = 1 << 16;

/// A reduced run's files: its coordinates, the rows when they are of reasonable size, and
/// run.json with estimates from the rows [`EstimationRows`] chooses.
fn write_reduced_outputs(out: &StagedDir, config: &TrainConfig, run: &Reduced) -> Result<()> {
    let (chains, d) = (config.chains, config.dim);
    write_npy(&out.path("coords.npy"), &[chains, 2], &run.coords)?;
    write_npy(&out.path("average_coords.npy"), &[chains, 3], &run.average)?;
    write_npy(&out.path("diverged.npy"), &[chains], &run.diverged)?;
    let maker = RowMaker::new(run, config.seed);
    let rows_written = chains.saturating_mul(d) <= MATERIALISE_LIMIT;
    if rows_written {
        let mut fin = NpyStream::create(&out.path("final.npy"), &[chains, d])?;
        let mut avg = NpyStream::create(&out.path("average.npy"), &[chains, d])?;
        for start in (0..chains).step_by(ROW_SLAB) {
            let (f, a) = maker.full_f32(start..(start + ROW_SLAB).min(chains));
            fin.push(&f)?;
            avg.push(&a)?;
        }
        fin.finish()?;
        avg.finish()?;
    }
    let rows = EstimationRows::for_run(chains, d);
    let settings = EstimateSettings {
        seed: config.seed,
        center: config.center.clone(),
        ..EstimateSettings::default()
    };
    let diverged_chains = run.diverged.iter().filter(|&&d| d).count();
    let mut tail = summarize_from(
        &|| maker.estimation(rows, Which::Final),
        &|| maker.estimation(rows, Which::Average),
        diverged_chains,
        &settings,
    );
    tail.center = config.center.name();
    let record = RunRecord {
        config,
        teacher: &run.teacher,
        least_squares: None,
        versions: Versions {
            tailgate: env!("CARGO_PKG_VERSION"),
            burn: BURN_VERSION,
            backend: "none (reduced engine)",
            device: format!("CPU, {} threads", rayon::current_num_threads()),
        },
        summary: RunSummary {
            finite_chains: chains - diverged_chains,
            wall_seconds: run.wall_seconds,
            chain_steps_per_second: (chains * config.steps) as f64 / run.wall_seconds,
            tail,
            theory: theory(config)?,
            layers: None,
            reduced: Some(ReducedOutputs {
                coordinates: "coords.npy [chains, 2] = (a, c) of the final w = a·w* + c·u; \
                              average_coords.npy [chains, 3] = (m0, m1, m2) of the running mean \
                              m0·w* + m1·u + m2·v (u, v orthonormal in w*⊥, uniformly random per chain)",
                rows_written,
                estimated_from: rows.describe(),
                estimated_row_width: rows.width(d),
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
