//! `tailgate sweep`: a study's cells into one folder (shards, Slurm arrays, resume).

use crate::cli::SweepArgs;
use crate::error::{Error, Result};
use crate::study::{Shard, Study};
use crate::sweep::{SweepOutcome, run_sweep};

/// `tailgate sweep`: the shard from --shard, else from Slurm's array variables, else all.
pub fn run(args: &SweepArgs) -> Result<String> {
    let mut study = Study::from_json_file(&args.config)?;
    if let Some(backend) = args.backend {
        study.base.backend = backend;
    }
    let shard = match &args.shard {
        Some(text) => Shard::parse(text)?,
        None => Shard::from_slurm_env(|k| std::env::var(k).ok())?.unwrap_or(Shard::ALL),
    };
    if args.jobs == 0 {
        return Err(Error::config("jobs", "must be at least 1"));
    }
    let outcome = run_sweep(&study, &args.out, shard, args.jobs, args.quiet)?;
    finish(&outcome, args, shard)
}

fn finish(outcome: &SweepOutcome, args: &SweepArgs, shard: Shard) -> Result<String> {
    let summary = format!(
        "shard {shard}: {} cells, {} trained now, {} already finished, {} failed; results in {}",
        outcome.total,
        outcome.trained,
        outcome.skipped,
        outcome.failed.len(),
        args.out.display()
    );
    if outcome.failed.is_empty() {
        Ok(summary)
    } else {
        let list: Vec<String> = outcome
            .failed
            .iter()
            .map(|(id, e)| format!("  {id}: {e}"))
            .collect();
        Err(Error::Sweep(format!("{summary}\n{}", list.join("\n"))))
    }
}
