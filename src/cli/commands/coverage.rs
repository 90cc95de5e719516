//! `tailgate coverage`: the estimators' measured error and interval coverage, written as
//! CSV tables and a markdown page into one folder.

use crate::cli::CoverageArgs;
use std::time::Instant;
use tailgate::coverage::{self, CoverageConfig};
use tailgate::error::{Error, Result};
use tailgate::io::{Progress, StagedDir, progress_bar, read_json, write_json};

/// `tailgate coverage`: runs the study of `--config` into `--out`.
pub fn run(args: &CoverageArgs) -> Result<String> {
    let config: CoverageConfig = read_json(&args.config)?;
    coverage::check(&config)?;
    let out = StagedDir::create_replacing(&args.out, "coverage.json")?;
    let progress = Progress::new(progress_bar(
        coverage::samples(&config),
        "samples, eta {eta}",
        args.quiet,
    ));
    let start = Instant::now();
    let replicates = coverage::run(&config, &progress)?;
    progress.bar().finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();
    let cells = coverage::summarize(&replicates);
    write_json(&out.path("coverage.json"), &config)?;
    write_csv(&out.path("replicates.csv"), &replicates)?;
    write_csv(&out.path("summary.csv"), &cells)?;
    let md = format!(
        "# Estimator error and interval coverage: `{}`\n\n\
         Made by `tailgate coverage --config {} --out {}` in {seconds:.0} s on {} threads \
         (tailgate {}). Each row: one law and sample size, one estimator, over independent \
         samples; the interval is the {:.0} % symmetric half-sample subsampling interval \
         ({} subsamples). \"covers truth\" is the fraction of intervals that contain the true \
         α (it shows the bias), \"covers own mean\" the fraction that contain the estimator's \
         mean over the replicates (a check of the interval's width against the replicate \
         spread; it says nothing about bias). Statistics are over the replicates with an α̂. \
         Per-sample values in \
         `replicates.csv`, this table in `summary.csv`.\n\n{}",
        config.name,
        args.config.display(),
        args.out.display(),
        rayon::current_num_threads(),
        env!("CARGO_PKG_VERSION"),
        100.0 * config.level,
        config.subsamples,
        coverage::markdown_table(&cells)
    );
    std::fs::write(out.path("coverage.md"), md)
        .map_err(|e| Error::io(out.path("coverage.md"), e))?;
    let dir = out.commit()?;
    Ok(format!(
        "{} samples, {} table rows in {seconds:.0} s; wrote {}",
        coverage::samples(&config),
        cells.len(),
        dir.display()
    ))
}

pub(crate) fn write_csv<T: serde::Serialize>(path: &std::path::Path, rows: &[T]) -> Result<()> {
    let mut w = csv::Writer::from_path(path).map_err(|e| Error::Input {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    for r in rows {
        w.serialize(r).map_err(|e| Error::Input {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    }
    w.flush().map_err(|e| Error::io(path, e))
}
