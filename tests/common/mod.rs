#![allow(dead_code)]
//! Helpers shared by the integration tests.

pub mod cli;
pub mod golden;
pub mod ks;
pub mod normal_law;

use tailgate::backend::make_device;
use tailgate::config::TrainConfig;
use tailgate::io::Progress;
use tailgate::train::{Trained, train};

/// A small resolved config.
pub fn small(chains: usize, dim: usize, steps: usize) -> TrainConfig {
    TrainConfig {
        chains,
        dim,
        steps,
        ..TrainConfig::default()
    }
    .resolve()
    .unwrap()
    .into_config()
}

/// Trains `config` (resolved here) on its backend.
pub fn run(config: &TrainConfig) -> Trained {
    let config = config.clone().resolve().unwrap();
    let device = make_device(config.backend).unwrap();
    train(&config, &device, None, &Progress::hidden()).unwrap()
}

/// The tail summary of a run with default estimation settings.
pub fn summary(run: &Trained, config: &TrainConfig) -> tailgate::summary::TailSummary {
    tailgate::summary::summarize(
        &run.final_weights,
        &run.average_weights,
        config.dim,
        &run.diverged,
        &Default::default(),
    )
}

/// Asserts that a finished process exited 0, showing its stderr otherwise.
pub fn assert_success(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A run folder's `run.json`.
pub fn run_json(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("run.json")).unwrap()).unwrap()
}
