//! `tailgate report`: merges the finished cells of a sweep folder (any number of shards)
//! into `summary.csv`, plots (PNG and SVG), `report.md` (the findings, a few pages) and
//! `details.md` (per setup and per cell).
//!
//! Reading the cells is [`cells`]; the findings are [`stationarity`], [`claim1`],
//! [`phase`] and [`claim2`] over seeds as replicates ([`replicates`]); the per-setup
//! detail is [`compare`] and [`markdown`]; this file puts the two documents together.

mod cells;
mod charts;
mod claim1;
mod claim2;
mod compare;
mod convergence;
mod csv;
mod details;
mod far_study;
mod far_tail;
mod findings;
mod markdown;
mod nets_axis;
mod networks;
mod phase;
mod plot;
mod replicates;
mod stationarity;

pub(crate) use cells::{CellResult, load_cells};
pub use compare::alpha_difference_ci;
pub use csv::{CsvRow, write_csv};
pub use far_tail::plot_far_tail;
pub use plot::draw;
pub use replicates::verdict;

use crate::error::{Error, Result};
use crate::io::{StagedDir, write_json};
use cells::Setup;
use replicates::MeasuredError;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Options of a report.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Cells whose survival function and Hill plot are drawn; empty = per setup and
    /// algorithm, the cell with the heaviest tail (smallest α̂).
    pub cells: Vec<String>,
    /// Subsamples of the per-seed SGD − KM difference intervals (details.md).
    pub resamples: usize,
    /// Seed of those subsamples.
    pub seed: u64,
    /// A networks.csv whose per-layer α̂ join claim 2's η/b figure.
    pub networks: Option<PathBuf>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            cells: vec![],
            resamples: 100,
            seed: 0,
            networks: None,
        }
    }
}

/// What was written.
#[derive(Debug)]
pub struct ReportOutcome {
    /// The report's folder.
    pub dir: PathBuf,
    /// Cells of the sweep that had finished.
    pub cells_done: usize,
    /// Cells in the study.
    pub cells_total: usize,
    /// Every file written, in the folder.
    pub files: Vec<PathBuf>,
}

/// Writes the report of the sweep folder `dir` into `out` (default `dir/report`),
/// replacing an earlier report there.
pub fn write_report(
    dir: &Path,
    out: Option<&Path>,
    options: &ReportOptions,
) -> Result<ReportOutcome> {
    let (record, cells) = load_cells(dir)?;
    for id in &options.cells {
        if !cells.iter().any(|c| &c.id == id) {
            return Err(Error::config(
                "cells",
                format!("`{id}` is not a finished cell of {}", dir.display()),
            ));
        }
    }
    let nets_csv = match &options.networks {
        Some(p) => Some(nets_axis::read(p)?),
        None => None,
    };
    let target = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.join("report"));
    let staged = StagedDir::create_replacing(&target, "report.json")?;
    let mut files = Vec::new();

    let csv_path = staged.path("summary.csv");
    write_csv(&csv_path, &cells)?;
    files.push(csv_path);
    let done = cells.len();
    let total = record.cells.len();
    // The nets on real images have their own section; the rest is about the gate's arms.
    let (nets, cells): (Vec<CellResult>, Vec<CellResult>) =
        cells.into_iter().partition(|c| c.config().model.is_net());
    let all: Vec<&CellResult> = cells.iter().collect();
    let error = MeasuredError::of(&all);
    let far = replicates::FarTail::of(&all)?;

    let mut md = String::new();
    let _ = writeln!(md, "# Study `{}`\n", record.study.name);
    if far_study::applies(&cells) {
        let far = far_study::far_report(&record, &cells, &staged, &mut files)?;
        md.push_str(&far.body);
        md.push_str(
            "## Appendix\n\nPer cell, every estimator: `summary.csv`; the final-iterate \
             survival functions and Hill plots per setup: [details.md](details.md).\n",
        );
        let findings_path = staged.path("findings.md");
        std::fs::write(&findings_path, format!("{}\n", far.findings))
            .map_err(|e| Error::io(&findings_path, e))?;
        files.push(findings_path);
        return finish(
            dir, &record, &cells, &nets, options, staged, files, md, done, total,
        );
    }
    md.push_str(&findings::header(dir, done, total, &all, &nets, &error));
    let mut body = String::new();
    let findings = findings::findings(
        &all,
        &error,
        &far,
        nets_csv.as_deref(),
        &staged,
        &mut body,
        &mut files,
    )?;
    md.push_str(&findings);
    md.push_str(&body);
    md.push_str(&findings::networks_section(&nets, &staged, &mut files)?);
    md.push_str(
        "## Appendix\n\nPer setup (survival functions, Hill plots, every per-seed SGD − KM \
         pair, the cells without an α̂) and per cell: [details.md](details.md). One row per \
         cell with every estimator: `summary.csv`.\n",
    );
    finish(
        dir, &record, &cells, &nets, options, staged, files, md, done, total,
    )
}

/// Writes details.md, report.md and report.json and commits the staged folder.
#[allow(clippy::too_many_arguments)]
fn finish(
    dir: &Path,
    record: &crate::sweep::StudyRecord,
    cells: &[CellResult],
    nets: &[CellResult],
    options: &ReportOptions,
    staged: StagedDir,
    mut files: Vec<PathBuf>,
    md: String,
    done: usize,
    total: usize,
) -> Result<ReportOutcome> {
    let mut details = format!("# Study `{}`: details\n\n", record.study.name);
    details.push_str(&details::details_body(
        dir, record, cells, nets, options, &staged, &mut files,
    )?);
    let md_path = staged.path("report.md");
    std::fs::write(&md_path, md).map_err(|e| Error::io(&md_path, e))?;
    files.push(md_path);
    let details_path = staged.path("details.md");
    std::fs::write(&details_path, details).map_err(|e| Error::io(&details_path, e))?;
    files.push(details_path);
    let options_path = staged.path("report.json");
    write_json(
        &options_path,
        &serde_json::json!({
            "sweep": dir,
            "cells_done": done,
            "cells_total": total,
            "survival_cells": options.cells,
            "difference_resamples": options.resamples,
            "seed": options.seed,
            "networks": options.networks,
        }),
    )?;
    let staging_root = staged.path("");
    let dir_out = staged.commit()?;
    let files = files
        .into_iter()
        .map(|f| dir_out.join(f.strip_prefix(&staging_root).unwrap_or(&f)))
        .collect();
    Ok(ReportOutcome {
        dir: dir_out,
        cells_done: done,
        cells_total: total,
        files,
    })
}
