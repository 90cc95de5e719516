//! `tailgate train`: one run from a config file and flags into a new folder.

use crate::cli::TrainArgs;
use std::path::PathBuf;
use tailgate::config::{Engine, Resolved, TrainConfig};
use tailgate::error::Result;
use tailgate::io::{Progress, progress_bar};
use tailgate::run::train_into;

/// The config that `args` describe: the file (if any) with the flags on top, resolved.
pub fn resolve_config(args: &TrainArgs) -> Result<Resolved> {
    let base = match &args.config {
        Some(path) => TrainConfig::from_json_file(path)?,
        None => match args.model {
            Some(m) if m.is_net() => TrainConfig::net_defaults(m),
            _ => TrainConfig::default(),
        },
    };
    args.apply(base).resolve()
}

/// `tailgate train`: validates everything, trains, writes the outputs atomically; returns
/// the run's one-line summary and its folder.
pub fn run(args: &TrainArgs) -> Result<String> {
    let config = resolve_config(args)?;
    let target = args.out.clone().unwrap_or_else(default_out);
    let progress = match config.engine {
        Engine::Burn => progress_bar(
            config.steps as u64,
            "steps, {per_sec}, eta {eta} {msg}",
            args.quiet,
        ),
        Engine::Reduced => progress_bar(
            config.chains as u64,
            "chains, {per_sec}, eta {eta}",
            args.quiet,
        ),
    };
    let done = train_into(&config, &target, &Progress::new(progress.clone()))?;
    progress.finish_and_clear();
    if done.diverged_chains() > 0 {
        eprintln!(
            "warning: {} of {} chains diverged; they are excluded from α",
            done.diverged_chains(),
            config.chains
        );
    }
    Ok(format!(
        "{}; wrote {}",
        done.record.headline(),
        done.dir.display()
    ))
}

/// `runs/run-<unix seconds>`: a fresh folder per run when `--out` is not given.
fn default_out() -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    PathBuf::from(format!("runs/run-{secs}"))
}
