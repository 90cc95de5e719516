//! The one path from a resolved config to a finished run folder, for `train` and for
//! sweep cells: trains with the engine the config names, writes the arrays and `run.json`
//! under a staging folder, renames it into place.

use super::{
    FINAL_ITERATE_ESTIMAND, NetSummary, ReducedOutputs, RunRecord, RunSummary, Versions,
    resolve_center, write_far_tail,
};
use crate::backend::make_device;
use crate::config::{Engine, Labels, Model, Resolved, TrainConfig};
use crate::error::Result;
use crate::io::{NpyStream, Progress, StagedDir, write_json, write_npy};
use crate::reduced::{self, EstimationRows, MATERIALISE_LIMIT, Reduced, RowMaker, Which};
use crate::summary::{
    CheckpointSummary, EstimateSettings, layer_summaries, net_layer_summaries, summarize,
    summarize_from,
};
use crate::theory::{TailTheory, gate_tail_index, linear_tail_index};
use crate::train::{Trained, train};
use std::path::{Path, PathBuf};

/// A finished run folder and the record written into it.
#[derive(Debug)]
pub struct Finished {
    /// The run folder, renamed into place.
    pub dir: PathBuf,
    /// The `run.json` written into it.
    pub record: RunRecord,
}

impl Finished {
    /// Chains that diverged, left out of every estimate.
    pub fn diverged_chains(&self) -> usize {
        self.record.summary.tail.diverged_chains
    }
}

/// Trains a resolved `config` into the new folder `target` (built aside, renamed at the
/// end): the one path from a config to a run folder, for `train` and for sweep cells.
pub fn train_into(config: &Resolved, target: &Path, progress: &Progress) -> Result<Finished> {
    if config.engine == Engine::Reduced {
        let out = StagedDir::create(target)?;
        let run = reduced::simulate(config, progress)?;
        let record = write_reduced_outputs(&out, config, &run)?;
        return Ok(Finished {
            dir: out.commit()?,
            record,
        });
    }
    let device = make_device(config.backend)?;
    let out = StagedDir::create(target)?;
    let iterates = out.path("iterates.npy");
    let trained = train(config, &device, Some(&iterates), progress)?;
    let record = write_outputs(&out, config, &trained, format!("{device:?}"))?;
    Ok(Finished {
        dir: out.commit()?,
        record,
    })
}

fn write_outputs(
    out: &StagedDir,
    config: &Resolved,
    trained: &Trained,
    device: String,
) -> Result<RunRecord> {
    let shape = [config.chains, config.params_per_chain()];
    write_npy(&out.path("final.npy"), &shape, &trained.final_weights)?;
    write_npy(&out.path("average.npy"), &shape, &trained.average_weights)?;
    write_npy(
        &out.path("diverged.npy"),
        &[config.chains],
        &trained.diverged,
    )?;
    let center = resolve_center(&config.center, trained.least_squares.as_deref())?;
    let settings = EstimateSettings {
        seed: config.seed,
        center,
        min_samples: config.min_samples,
        ..estimate_settings(config)
    };
    let mut tail = summarize(
        &trained.final_weights,
        &trained.average_weights,
        config.params_per_chain(),
        &trained.diverged,
        &settings,
    );
    tail.center = config.center.name().into();
    let far_tail = match &trained.far_tail {
        Some(recording) => Some(write_far_tail(out, config, recording)?),
        None => None,
    };
    let record = RunRecord {
        config: config.config().clone(),
        teacher: trained.teacher.clone(),
        least_squares: trained.least_squares.clone(),
        versions: Versions::new(config.backend.name(), device),
        summary: RunSummary {
            finite_chains: trained.diverged.iter().filter(|&&d| !d).count(),
            wall_seconds: trained.wall_seconds,
            chain_steps_per_second: (config.chains * config.steps) as f64 / trained.wall_seconds,
            tail,
            theory: theory(config)?,
            reduced: None,
            checkpoints: vec![],
            alpha_estimand: FINAL_ITERATE_ESTIMAND.into(),
            far_tail,
            net: trained.net.clone().map(|outcome| NetSummary {
                subsamples: NET_SUBSAMPLES,
                gof_resamples: NET_GOF_RESAMPLES,
                layers: net_layer_summaries(
                    &trained.final_weights,
                    &trained.average_weights,
                    &trained.diverged,
                    &crate::nets::layer_shapes(config, crate::data::idx::PIXELS),
                    &EstimateSettings {
                        subsamples: NET_SUBSAMPLES,
                        gof_resamples: NET_GOF_RESAMPLES,
                        ..settings.clone()
                    },
                ),
                outcome,
            }),
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
    write_json(&out.path("run.json"), &record)?;
    Ok(record)
}

/// The theory's tail index for a run's config, where one applies: the linear model, and the
/// gate on fresh isotropic Gaussian data with plain steps (the mixture's inputs are not
/// isotropic; momentum and weight decay change M).
pub fn theory(config: &TrainConfig) -> Result<Option<TailTheory>> {
    let (d, b, eta) = (config.dim, config.batch, config.eta);
    Ok(match config.model {
        Model::Linear => Some(linear_tail_index(d, b, eta)?),
        Model::ReluGate
            if config.dataset_size.is_none()
                && config.labels != Labels::Mixture
                && config.momentum == 0.0
                && config.weight_decay == 0.0 =>
        {
            Some(gate_tail_index(d, b, eta)?)
        }
        Model::ReluGate | Model::Mlp | Model::Fcn | Model::Cnn => None,
    })
}

/// Half-sample subsamples and goodness-of-fit resamples of a net's per-layer estimates:
/// half the defaults, because a layer pools ~10⁵ scalars per chain (fc1 of the fcn:
/// 100 352), where the defaults cost ~20 s per run on 2 cores (BENCHMARKS.md).
pub const NET_SUBSAMPLES: usize = 100;
pub const NET_GOF_RESAMPLES: usize = 50;

/// Chains per slab of final.npy / average.npy written at a time (bounded memory).
const ROW_SLAB: usize = 1 << 16;

/// A reduced run's files: its coordinates, the rows when they are of reasonable size, and
/// run.json with estimates from the rows [`EstimationRows`] chooses.
fn write_reduced_outputs(out: &StagedDir, config: &Resolved, run: &Reduced) -> Result<RunRecord> {
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
        min_samples: config.min_samples,
        ..estimate_settings(config)
    };
    let diverged_chains = run.diverged.iter().filter(|&&d| d).count();
    let mut tail = summarize_from(
        &|| maker.estimation(rows, Which::Final),
        &|| maker.estimation(rows, Which::Average),
        diverged_chains,
        &settings,
    );
    tail.center = config.center.name().into();
    let checkpoints = if config.checkpoints.is_empty() {
        vec![]
    } else {
        let marks = config.checkpoints.len();
        write_npy(
            &out.path("checkpoints.npy"),
            &[chains, marks, 2],
            &run.checkpoints,
        )?;
        checkpoint_summaries(config, run, rows, &settings, &tail)
    };
    let far_tail = match &run.far_tail {
        Some(recording) => Some(write_far_tail(out, config, recording)?),
        None => None,
    };
    let record = RunRecord {
        config: config.config().clone(),
        teacher: run.teacher.clone(),
        least_squares: None,
        versions: Versions::new(
            "none (reduced engine)",
            format!("CPU, {} threads", rayon::current_num_threads()),
        ),
        summary: RunSummary {
            finite_chains: chains - diverged_chains,
            wall_seconds: run.wall_seconds,
            chain_steps_per_second: (chains * config.steps) as f64 / run.wall_seconds,
            tail,
            theory: theory(config)?,
            layers: None,
            net: None,
            reduced: Some(ReducedOutputs {
                coordinates: "coords.npy [chains, 2] = (a, c) of the final w = a·w* + c·u; \
                              checkpoints.npy [chains, checkpoints, 2] = (a, c) after each \
                              step of config.checkpoints (NaN: diverged by then); \
                              average_coords.npy [chains, 3] = (m0, m1, m2) of the running mean \
                              m0·w* + m1·u + m2·v (u, v orthonormal in w*⊥, uniformly random per chain)"
                    .into(),
                rows_written,
                estimated_from: rows.describe(),
                estimated_row_width: rows.width(d),
            }),
            checkpoints,
            alpha_estimand: FINAL_ITERATE_ESTIMAND.into(),
            far_tail,
        },
    };
    write_json(&out.path("run.json"), &record)?;
    Ok(record)
}

/// The run's estimates at each checkpoint, with the run's own settings; a checkpoint at
/// the last step is the run's summary (the same rows, so the same numbers).
fn checkpoint_summaries(
    config: &Resolved,
    run: &Reduced,
    rows: EstimationRows,
    settings: &EstimateSettings,
    last: &crate::summary::TailSummary,
) -> Vec<CheckpointSummary> {
    config
        .checkpoints
        .iter()
        .enumerate()
        .map(|(k, &step)| {
            if step == config.steps {
                return CheckpointSummary::new(step, last);
            }
            let at = run.at_checkpoint(k);
            let maker = RowMaker::new(&at, config.seed);
            let diverged = at.diverged.iter().filter(|&&d| d).count();
            let s = summarize_from(
                &|| maker.estimation(rows, Which::Final),
                &|| None,
                diverged,
                settings,
            );
            CheckpointSummary::new(step, &s)
        })
        .collect()
}

/// The estimation settings a config asks for (defaults where it names none).
fn estimate_settings(config: &Resolved) -> EstimateSettings {
    let e = config.estimation();
    EstimateSettings {
        subsamples: e.subsamples,
        gof_resamples: e.gof_resamples,
        ..EstimateSettings::default()
    }
}
