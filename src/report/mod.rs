//! `tailgate report`: merges the finished cells of a sweep folder (any number of shards)
//! into `summary.csv`, plots (PNG and SVG) and `report.md`.
//!
//! Reading the cells is [`cells`], the statistics [`compare`] (plain values), the
//! figures [`charts`] and the text [`markdown`]; this file puts one report together.

mod cells;
mod charts;
mod compare;
mod convergence;
mod csv;
mod markdown;
mod plot;

pub use cells::{CellResult, centred_norms, kept_rows, load_cells};
pub use compare::{Comparison, PairDiff, Trend, alpha_difference_ci, kendall};
pub use csv::{CsvRow, write_csv};
pub use plot::{Chart, Point, Series, draw};

use crate::error::{Error, Result};
use crate::io::{StagedDir, write_json};
use cells::{Setup, StepAxis};
use charts::{embed, heaviest_per_algorithm, setup_charts, tail_charts};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Options of a report.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Cells whose survival function and Hill plot are drawn; empty = per setup and
    /// algorithm, the cell with the heaviest tail (smallest α̂).
    pub cells: Vec<String>,
    /// Bootstrap resamples of the SGD − KM difference.
    pub resamples: usize,
    pub seed: u64,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            cells: vec![],
            resamples: 200,
            seed: 0,
        }
    }
}

/// What was written.
#[derive(Debug)]
pub struct ReportOutcome {
    pub dir: PathBuf,
    pub cells_done: usize,
    pub cells_total: usize,
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
    let target = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.join("report"));
    let staged = StagedDir::create_replacing(&target, "report.json")?;
    let mut files = Vec::new();

    let csv_path = staged.path("summary.csv");
    write_csv(&csv_path, &cells)?;
    files.push(csv_path);

    let axis = StepAxis {
        kappa: record.study.grids().iter().all(|g| g.kappa.is_some()),
    };
    let mut md = String::new();
    let total = record.cells.len();
    let _ = writeln!(md, "# Study `{}`\n", record.study.name);
    let _ = writeln!(
        md,
        "{} of {} cells finished (folder `{}`); tailgate {}. Every number below comes from \
         `summary.csv` and the cells' `run.json`; α̂ is the Mohammadi median on the centred \
         final iterates across chains with a 95 % bootstrap interval. Cells that diverged \
         or collapsed have no α̂ and are listed, not plotted.\n",
        cells.len(),
        total,
        dir.display(),
        env!("CARGO_PKG_VERSION")
    );
    let mut setups: BTreeMap<Setup, Vec<&CellResult>> = BTreeMap::new();
    for c in &cells {
        setups.entry(c.setup()).or_default().push(c);
    }
    for (setup, group) in &setups {
        let _ = writeln!(md, "## {}\n", setup.title());
        for (name, chart) in setup_charts(*setup, group, axis) {
            embed(&chart, &staged.path(&name), &mut md, &mut files)?;
        }
        let chosen: Vec<&CellResult> = if options.cells.is_empty() {
            heaviest_per_algorithm(group)
        } else {
            group
                .iter()
                .copied()
                .filter(|c| options.cells.contains(&c.id))
                .collect()
        };
        if !chosen.is_empty() {
            let (survival, hill) = tail_charts(*setup, &chosen)?;
            for (name, chart) in [("survival", survival), ("hill", hill)] {
                let stem = staged.path(&format!("{name}_{}", setup.slug()));
                embed(&chart, &stem, &mut md, &mut files)?;
            }
        }
        let comparison = compare::compare_algorithms(group, options.resamples, options.seed)?;
        md.push_str(&markdown::comparison(&comparison));
        md.push_str(&markdown::trends(&compare::trends(group, axis)));
        md.push_str(&markdown::unestimated(group));
    }
    let by_chains = convergence::groups(&cells);
    if !by_chains.is_empty() {
        md.push_str("## Estimators against the number of chains\n\n");
        md.push_str(&convergence::distances(&by_chains));
        for (i, group) in by_chains.iter().enumerate() {
            let chart = convergence::chart(group);
            embed(
                &chart,
                &staged.path(&format!("chains_{i:02}")),
                &mut md,
                &mut files,
            )?;
            md.push_str(&convergence::table(group));
        }
    }
    md.push_str("## Cells\n\n");
    md.push_str(&markdown::cell_table(&cells));
    let missing: Vec<&String> = record
        .cells
        .iter()
        .filter(|id| !cells.iter().any(|c| &c.id == *id))
        .collect();
    if !missing.is_empty() {
        let _ = writeln!(
            md,
            "\n{} cells not finished yet (rerun `tailgate sweep` to resume): {}\n",
            missing.len(),
            missing
                .iter()
                .take(20)
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
                + if missing.len() > 20 { ", …" } else { "" }
        );
    }
    let md_path = staged.path("report.md");
    std::fs::write(&md_path, md).map_err(|e| Error::io(&md_path, e))?;
    files.push(md_path);
    let options_path = staged.path("report.json");
    write_json(
        &options_path,
        &serde_json::json!({
            "sweep": dir,
            "cells_done": cells.len(),
            "cells_total": total,
            "survival_cells": options.cells,
            "difference_resamples": options.resamples,
            "seed": options.seed,
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
        cells_done: cells.len(),
        cells_total: total,
        files,
    })
}
