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
mod figures;
mod findings;
mod markdown;
mod networks;
mod plot;

pub use cells::{CellResult, centred_norms, kept_rows, load_cells};
pub use compare::{Comparison, PairDiff, Trend, alpha_difference_ci, kendall};
pub use csv::{CsvRow, write_csv};
pub use findings::{Arm, AxisEffect, Claim1, Obs, Thresholds};
pub use plot::{Chart, Figure, Point, Series, draw, draw_figure};

use crate::error::{Error, Result};
use crate::io::{StagedDir, write_json};
use cells::{Setup, StepAxis};
use charts::{embed, embed_figure, heaviest_per_algorithm, tail_charts};
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
    let done = cells.len();
    // The nets on real images have their own section; the rest is about the gate's arms.
    let (nets, cells): (Vec<CellResult>, Vec<CellResult>) =
        cells.into_iter().partition(|c| c.config().model.is_net());

    let axis = StepAxis {
        kappa: record.study.grids().iter().all(|g| g.kappa.is_some()),
    };
    let mut md = String::new();
    let total = record.cells.len();
    let _ = writeln!(md, "# Study `{}`\n", record.study.name);
    let _ = writeln!(
        md,
        "{done} of {total} cells finished (folder `{}`); tailgate {}. Every number below \
         comes from `summary.csv`, `networks.csv` (nets) and the cells' `run.json`.\n",
        dir.display(),
        env!("CARGO_PKG_VERSION")
    );
    if !cells.is_empty() {
        md.push_str(
            "α̂ is the power-law fit (threshold by minimum Kolmogorov–Smirnov distance, maximum \
             likelihood above it) on the norms of the centred final iterates across chains, with \
             a 95 % half-sample subsampling interval; the Mohammadi block estimator (≤ 2 by \
             construction) is in `summary.csv` as `alpha_mohammadi`. Cells that diverged, \
             collapsed or kept fewer than `min_samples` chains have no α̂ and are listed, not \
             plotted.\n\n",
        );
    }
    md.push_str(&networks_section(&nets, &staged, &mut files)?);
    let mut setups: BTreeMap<Setup, Vec<&CellResult>> = BTreeMap::new();
    for c in &cells {
        setups.entry(c.setup()).or_default().push(c);
    }
    let mut comparisons = Vec::new();
    for (setup, group) in &setups {
        let cmp = compare::compare_algorithms(group, options.resamples, options.seed)?;
        comparisons.push((setup.title(), cmp));
    }
    if !cells.is_empty() {
        md.push_str(&findings_section(
            &cells,
            &comparisons,
            &staged,
            &mut files,
        )?);
    }
    for ((setup, group), (_, comparison)) in setups.iter().zip(&comparisons) {
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
                embed(&chart, &stem, &mut md, &mut files)?;
            }
        }
        md.push_str(&markdown::comparison(comparison));
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
    if !cells.is_empty() {
        md.push_str("## Cells\n\n");
        md.push_str(&markdown::cell_table(&cells));
    }
    let missing: Vec<&String> = record
        .cells
        .iter()
        .filter(|id| !cells.iter().chain(&nets).any(|c| &c.id == *id))
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
    let md_path = staged.path("report.md");
    std::fs::write(&md_path, md).map_err(|e| Error::io(&md_path, e))?;
    files.push(md_path);
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

/// `## Findings`: the answers to the paper's two claims, every number computed from the
/// cells, with one small-multiples figure per question.
fn findings_section(
    cells: &[CellResult],
    comparisons: &[(String, Comparison)],
    staged: &StagedDir,
    files: &mut Vec<PathBuf>,
) -> Result<String> {
    let mut md = String::from("## Findings\n\n");
    md.push_str("### Claim 1 — SGD and KM have similar tails where KM converges\n\n");
    let claims: Vec<Claim1> = comparisons
        .iter()
        .map(|(title, cmp)| findings::claim1(title, cmp))
        .collect();
    let text = markdown::claim1(&claims);
    if text.is_empty() {
        md.push_str("No setup has cells of both algorithms.\n\n");
    } else {
        md.push_str(&text);
    }
    let with_pairs: Vec<(String, &Comparison)> = comparisons
        .iter()
        .filter(|(_, c)| !c.pairs.is_empty())
        .map(|(t, c)| (t.clone(), c))
        .collect();
    if let Some(fig) = figures::sgd_minus_km(&with_pairs) {
        embed_figure(&fig, &staged.path("claim1_sgd_minus_km"), &mut md, files)?;
    }
    md.push_str(
        "### Claim 2 — the gate's α depends on d, b and η unlike linear regression and larger nets\n\n",
    );
    let arms = findings::arms(cells);
    if arms.is_empty() {
        md.push_str("No cells.\n\n");
        return Ok(md);
    }
    md.push_str(
        "τ is Kendall's τ of α against the axis over a series with every other axis and the \
         seed fixed, averaged over series (↓ / ↑: series where α falls / rises; Δα: mean change \
         from the smallest to the largest value); theory arms have one value per (d, b, η). \
         Simulated α̂ come from cells where no chain diverged (a partially diverged cell's α̂ \
         is of its survivors); such cells count as diverging. α = 2 marks where the tail \
         becomes heavy (infinite variance).\n\n",
    );
    md.push_str(&markdown::claim2_axes(&arms));
    md.push_str(&markdown::claim2_table(&arms));
    let linear: Vec<&Arm> = arms
        .iter()
        .filter(|a| a.name.starts_with("linear"))
        .collect();
    let gate_theory = arms.iter().find(|a| a.name == "gate theory");
    let mut setups: Vec<&String> = arms
        .iter()
        .filter(|a| a.simulated && a.name.starts_with("gate"))
        .map(|a| &a.setup)
        .collect();
    setups.dedup();
    for (i, setup) in setups.into_iter().enumerate() {
        let mut shown: Vec<&Arm> = arms
            .iter()
            .filter(|a| &a.setup == setup && a.simulated && a.name.starts_with("gate"))
            .collect();
        let gate_alpha = shown
            .iter()
            .any(|a| a.obs.iter().any(|o| o.alpha.is_some()));
        shown.extend(gate_theory);
        shown.extend(linear.iter().copied());
        let _ = writeln!(md, "#### Gate, {setup}, against linear regression\n");
        if !gate_alpha {
            md.push_str(
                "No gate cell of this setup has an α̂ (every cell diverged or collapsed).\n\n",
            );
        } else if let Some(fig) = figures::alpha_vs_kappa(setup, &shown) {
            let stem = staged.path(&format!("claim2_alpha_vs_kappa_{i}"));
            embed_figure(&fig, &stem, &mut md, files)?;
        }
        md.push_str(&markdown::thresholds_table(&shown));
    }
    let all: Vec<&Arm> = arms.iter().filter(|a| a.simulated).collect();
    if let Some(fig) = figures::alpha_vs_eta_over_b(&all) {
        embed_figure(
            &fig,
            &staged.path("claim2_alpha_vs_eta_over_b"),
            &mut md,
            files,
        )?;
    }
    Ok(md)
}

/// `## Larger nets on real data`: GSZ21's per-layer protocol, one figure and one τ table
/// per model, and `networks.csv`.
fn networks_section(
    nets: &[CellResult],
    staged: &StagedDir,
    files: &mut Vec<PathBuf>,
) -> Result<String> {
    let by_model = networks::net_cells(nets);
    if by_model.is_empty() {
        return Ok(String::new());
    }
    let mut md = String::from("## Larger nets on real data\n\n");
    let all: Vec<&CellResult> = nets.iter().collect();
    let csv_path = staged.path("networks.csv");
    networks::write_csv(&csv_path, &all)?;
    files.push(csv_path);
    let first = all[0].config();
    let _ = writeln!(
        md,
        "GSZ21's protocol: each weight averaged over the last `late_window` steps, minus its \
         layer's mean, the coordinates of every chain pooled as scalars; α̂ is the power-law \
         fit on their magnitudes with its 95 % half-sample interval (`networks.csv`), the bars \
         the range of each chain's own α̂ (the chains are independent replicates: their own \
         initial weights and data order). Dataset `{}`, {} chains, {} steps, late window {}; \
         every estimator per layer is in the cells' `run.json` (`summary.net.layers`).\n",
        first
            .dataset
            .as_ref()
            .map_or("fashion_mnist".into(), |d| d.name()),
        first.chains,
        first.steps,
        first.late_window.unwrap_or_default()
    );
    for (model, cells) in &by_model {
        let _ = writeln!(md, "### {model}\n");
        if let Some(fig) = networks::figure(model, cells) {
            embed_figure(
                &fig,
                &staged.path(&format!("networks_{model}")),
                &mut md,
                files,
            )?;
        }
        md.push_str(&networks::tables(cells));
    }
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
