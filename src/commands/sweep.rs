//! `tailgate sweep`: a study's cells into one folder (shards, Slurm arrays, resume).

use crate::cli::SweepArgs;
use crate::error::{Error, Result};
use crate::study::{Shard, Study};
use crate::sweep::{Pool, SweepOutcome, run_pool};

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
    if args.lease == 0 {
        return Err(Error::config("lease", "must be at least 1 second"));
    }
    let pool = Pool {
        lease: std::time::Duration::from_secs(args.lease),
        retry_failed: args.retry_failed,
    };
    let outcome = run_pool(&study, &args.out, shard, args.jobs, args.quiet, pool)?;
    finish(&outcome, args, shard)
}

fn finish(outcome: &SweepOutcome, args: &SweepArgs, shard: Shard) -> Result<String> {
    let mut summary = format!(
        "shard {shard}: {} cells, {} trained now, {} already finished, {} finished by other \
         workers, {} failed; results in {}",
        outcome.total,
        outcome.trained,
        outcome.skipped,
        outcome.by_others,
        outcome.failed.len(),
        args.out.display()
    );
    if !outcome.failed_before.is_empty() {
        summary.push_str(&format!(
            "\n{} cells failed in an earlier run and were left alone (see failed/*.json; \
             --retry-failed retrains them): {}",
            outcome.failed_before.len(),
            outcome.failed_before.join(", ")
        ));
    }
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
