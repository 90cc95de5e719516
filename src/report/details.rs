//! `details.md`, the report's appendix: per setup the tail charts, the per-seed SGD − KM
//! pairs, the trends and the cells without an α̂; the estimators against the number of
//! chains; every cell; the cells not finished or failed.

use super::cells::{CellResult, Setup, StepAxis};
use super::charts::{embed, heaviest_per_algorithm, tail_charts};
use super::{ReportOptions, compare, convergence, markdown};
use crate::error::Result;
use crate::io::StagedDir;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The appendix: per setup the tail charts, the per-seed SGD − KM pairs, the trends and
/// the cells without an α̂; the estimators against the number of chains; every cell.
pub(super) fn details_body(
    dir: &Path,
    record: &crate::sweep::StudyRecord,
    cells: &[CellResult],
    nets: &[CellResult],
    options: &ReportOptions,
    staged: &StagedDir,
    files: &mut Vec<PathBuf>,
) -> Result<String> {
    let mut md = String::new();
    let axis = StepAxis {
        kappa: record.study.grids().iter().all(|g| g.kappa.is_some()),
    };
    let mut setups: BTreeMap<Setup, Vec<&CellResult>> = BTreeMap::new();
    for c in cells {
        setups.entry(c.setup()).or_default().push(c);
    }
    for (setup, group) in &setups {
        let comparison = compare::compare_algorithms(group, options.resamples, options.seed)?;
        let _ = writeln!(md, "## {}\n", setup.title());
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
                embed(&chart, &stem, &mut md, files)?;
            }
        }
        md.push_str(&markdown::comparison(&comparison));
        md.push_str(&markdown::trends(&compare::trends(group, axis)));
        md.push_str(&markdown::unestimated(group));
    }
    let by_chains = convergence::groups(cells);
    if !by_chains.is_empty() {
        md.push_str("## Estimators against the number of chains\n\n");
        md.push_str(&convergence::distances(&by_chains));
        for (i, group) in by_chains.iter().enumerate() {
            let chart = convergence::chart(group);
            embed(
                &chart,
                &staged.path(&format!("chains_{i:02}")),
                &mut md,
                files,
            )?;
            md.push_str(&convergence::table(group));
        }
    }
    if !cells.is_empty() {
        md.push_str("## Cells\n\n");
        md.push_str(&markdown::cell_table(cells));
    }
    let missing: Vec<&String> = record
        .cells
        .iter()
        .filter(|id| !cells.iter().chain(nets).any(|c| &c.id == *id))
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
    md.push_str(&failed_cells(dir, &missing));
    Ok(md)
}

/// The unfinished cells that a sweep recorded as failed (`failed/<id>.json`), with errors.
fn failed_cells(dir: &Path, missing: &[&String]) -> String {
    let mut s = String::new();
    for id in missing {
        let path = crate::sweep::failure_path(dir, id);
        let Ok(record) = crate::io::read_json::<serde_json::Value>(&path) else {
            continue;
        };
        let error = record["error"].as_str().unwrap_or("(no message)");
        let _ = writeln!(s, "- `{id}`: {error}");
    }
    if s.is_empty() {
        return s;
    }
    format!(
        "Failed cells (recorded in `failed/`; `tailgate sweep --retry-failed` retrains them):\n\n{s}\n"
    )
}
