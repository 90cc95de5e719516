//! `tailgate sweep`: a study's cells into one folder (shards, Slurm arrays, resume).

use crate::cli::SweepArgs;
use tailgate::error::{Error, Result};
use tailgate::study::{Shard, Study};
use tailgate::sweep::{Pool, SweepOutcome, run_pool};

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
    if args.plan {
        return plan(&study, shard);
    }
    let out = args
        .out
        .as_deref()
        .expect("clap requires --out without --plan");
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
    let outcome = run_pool(&study, out, shard, args.jobs, args.quiet, pool)?;
    finish(&outcome, out, shard)
}

fn finish(outcome: &SweepOutcome, out: &std::path::Path, shard: Shard) -> Result<String> {
    let mut summary = format!(
        "shard {shard}: {} cells, {} trained now, {} already finished, {} finished by other \
         workers, {} failed; results in {}",
        outcome.total,
        outcome.trained,
        outcome.skipped,
        outcome.by_others,
        outcome.failed.len(),
        out.display()
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

/// `--plan`: the shard's cells as resolved, and what they cost in chain-steps.
fn plan(study: &Study, shard: Shard) -> Result<String> {
    let cells = study.cells()?;
    let mut lines =
        vec!["id\tmodel\talgorithm\td\tb\teta\tchains\tburn_in\tsteps\tinit\tseed".to_string()];
    let mut total: u128 = 0;
    for cell in shard.select(&cells) {
        let c = &cell.config;
        total += (c.chains as u128) * (c.steps as u128) * (c.batch as u128);
        lines.push(format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{:?}\t{}",
            cell.id,
            c.model.name(),
            c.algorithm.name(),
            c.dim,
            c.batch,
            c.eta,
            c.chains,
            c.burn_in.unwrap_or_default(),
            c.steps,
            c.init,
            c.seed
        ));
    }
    lines.push(format!(
        "{} cells; {total} chain-steps × b (the reduced engine's cost is about proportional)",
        lines.len() - 1
    ));
    Ok(lines.join("\n"))
}
