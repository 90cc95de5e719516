//! `tailgate report`: the report of a sweep folder.

use crate::cli::ReportArgs;
use tailgate::error::Result;
use tailgate::report::{ReportOptions, write_report};

/// `tailgate report`: summary.csv, plots and report.md of a sweep folder.
pub fn run(args: &ReportArgs) -> Result<String> {
    let options = ReportOptions {
        cells: args.cells.clone(),
        resamples: args.subsamples,
        seed: args.seed,
        networks: args.networks.clone(),
    };
    let out = write_report(&args.dir, args.out.as_deref(), &options)?;
    Ok(format!(
        "report of {} of {} cells: {} files in {}",
        out.cells_done,
        out.cells_total,
        out.files.len(),
        out.dir.display()
    ))
}
