//! `tailgate far-tail-coverage`: the far-tail ladder's error and coverage on known answers,
//! written as CSV tables and a markdown page into one folder.

use super::coverage::write_csv;
use crate::cli::FarTailCoverageArgs;
use std::time::Instant;
use tailgate::error::{Error, Result};
use tailgate::far_coverage::{self, FarCoverageConfig, RULES};
use tailgate::io::{Progress, StagedDir, progress_bar, read_json, write_json};

/// Runs the study of `--config` into `--out`.
pub fn run(args: &FarTailCoverageArgs) -> Result<String> {
    let config: FarCoverageConfig = read_json(&args.config)?;
    far_coverage::check(&config)?;
    let out = StagedDir::create_replacing(&args.out, "far_tail.json")?;
    let progress = Progress::new(progress_bar(
        far_coverage::samples(&config),
        "replicates, eta {eta}",
        args.quiet,
    ));
    let start = Instant::now();
    let replicates = far_coverage::run(&config, &progress)?;
    progress.bar().finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let cells = far_coverage::summarize(&replicates);
    write_json(&out.path("far_tail.json"), &config)?;
    write_csv(&out.path("replicates.csv"), &replicates)?;
    write_csv(&out.path("summary.csv"), &cells)?;
    let rules: Vec<String> = RULES
        .iter()
        .map(|(c, h)| {
            format!("`headline ≥{c}/{h}`: the deepest rung with ≥ {c} clusters from ≥ {h} chains")
        })
        .collect();
    let md = format!(
        "# Far-tail ladder: error and interval coverage (`{}`)\n\n\
         Made by `tailgate far-tail-coverage --config {} --out {}` in {seconds:.0} s on {} \
         threads (tailgate {}). Each row: one law, one rung of the ladder (an exceedance \
         fraction of chains × steps) or one headline rule, over independent seeds. Hill and \
         GPD intervals are 95 % percentile intervals of a chain bootstrap ({} resamples; a \
         GPD interval with no upper end is unbounded). \"coverage\" is the fraction of \
         intervals containing the true α. Rules: {}. Per-replicate values in \
         `replicates.csv`, this table in `summary.csv`.\n\n{}",
        config.name,
        args.config.display(),
        args.out.display(),
        rayon::current_num_threads(),
        env!("CARGO_PKG_VERSION"),
        config.resamples,
        rules.join("; "),
        far_coverage::markdown_table(&cells)
    );
    std::fs::write(out.path("far_tail.md"), md)
        .map_err(|e| Error::io(out.path("far_tail.md"), e))?;
    let dir = out.commit()?;
    Ok(format!(
        "{} replicates, {} table rows in {seconds:.0} s; wrote {}",
        far_coverage::samples(&config),
        cells.len(),
        dir.display()
    ))
}
