//! The front of the final-iterate study's report: the header (what the study is), the
//! computed findings, and the nets' section.

use super::charts::embed_figure;
use super::replicates::{MIN_MARGIN, MeasuredError};
use super::{
    CellResult, Setup, claim1, claim2, nets_axis, networks, phase, replicates, stationarity,
};
use crate::config::{Labels, Model};
use crate::error::Result;
use crate::io::StagedDir;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Distinct values, sorted, joined.
pub(super) fn values<T: Ord + std::fmt::Display>(v: impl Iterator<Item = T>) -> String {
    let set: BTreeSet<T> = v.collect();
    set.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the study is: cells, chains, steps, seeds, the estimator and its measured error.
pub(super) fn header(
    dir: &Path,
    done: usize,
    total: usize,
    cells: &[&CellResult],
    nets: &[CellResult],
    error: &MeasuredError,
) -> String {
    let mut md = format!(
        "{done} of {total} cells finished (folder `{}`); tailgate {}. Every number below is \
         computed from the cells' `run.json` (one row each in `summary.csv`).\n\n",
        dir.display(),
        env!("CARGO_PKG_VERSION")
    );
    if cells.is_empty() {
        return md;
    }
    let _ = writeln!(
        md,
        "- **Runs**: {} gate and linear cells; seeds {} (independent replicates: no stream is \
         shared between seeds). Per kind of cell (chains × steps):",
        cells.len(),
        values(cells.iter().map(|c| c.config().seed)),
    );
    let mut kinds: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in cells {
        let cfg = c.config();
        let kind = if !cfg.checkpoints.is_empty() {
            "stationarity arm".to_string()
        } else if cfg.labels == Labels::Realizable && cfg.label_noise == 0.0 {
            "realizable σ = 0 (phase diagram)".to_string()
        } else if cfg.alpha_target == Some(0.0) {
            "edge of divergence".to_string()
        } else {
            format!(
                "{} {} σ = {}",
                cfg.model.name(),
                cfg.labels.name(),
                cfg.label_noise
            )
        };
        kinds.entry(kind).or_default().insert(format!(
            "{} × {} (b = {})",
            cfg.chains, cfg.steps, cfg.batch
        ));
    }
    for (kind, sizes) in &kinds {
        let _ = writeln!(
            md,
            "  {kind}: {};",
            sizes.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    md.push_str(
        "- **Theory α**: for `linear` GSZ21's exact tail index; for the gate the asymptotic \
         prediction (the same for SGD and KM, equal to linear's at b = 1; a prediction, not a \
         theorem, and for σ = 0 binary labels only a reference for placing η).\n",
    );
    if !nets.is_empty() {
        let _ = writeln!(md, "- **Nets**: {} cells (section at the end).", nets.len());
    }
    md.push_str(
        "- **Estimator**: α̂ is the power-law fit (threshold by minimum Kolmogorov–Smirnov \
         distance, maximum likelihood above it) on ‖w − mean‖ of the final iterates across \
         chains, with a 95 % half-sample subsampling interval; Mohammadi's block estimator \
         (≤ 2 by construction: it reads every light tail as ≈ 2) is reported beside it as \
         the field's protocol and as a measure of the bulk. Their error and the intervals' \
         coverage on laws of known α are measured in the project's `docs/validation/`.\n",
    );
    if !error.by_alpha.is_empty() {
        md.push_str(
            "- **Measured error in this study** (the linear control, whose theory is exact; \
             every d, b and seed; the margin δ of every comparison is this RMSE at the \
             nearest α, at least ",
        );
        let _ = write!(md, "{MIN_MARGIN}):");
        for (k, (n, bias, rmse)) in &error.by_alpha {
            let _ = write!(
                md,
                " α = {:.2}: bias {bias:+.3}, RMSE {rmse:.3} ({n} cells);",
                *k as f64 / 1e9
            );
        }
        md.pop();
        md.push_str(".\n");
    }
    md.push('\n');
    md
}

/// The study's sections (into `body`) and the findings that open the report (returned):
/// one sentence per question, each computed from the section it summarises.
pub(super) fn findings(
    cells: &[&CellResult],
    error: &MeasuredError,
    far: &replicates::FarTail,
    nets_csv: Option<&[nets_axis::NetRow]>,
    staged: &StagedDir,
    body: &mut String,
    files: &mut Vec<PathBuf>,
) -> Result<String> {
    let mut top = String::from("## Findings\n\n");
    if cells.is_empty() {
        return Ok(String::new());
    }
    // Stationarity.
    let series = stationarity::series(cells);
    if !series.is_empty() {
        body.push_str(
            "## Stationarity: α̂ against steps\n\nThe same chains estimated again at each \
             checkpoint (one seed). *Settled*: the intervals of the last two checkpoints \
             overlap — a lenient test where an interval is wide; read the drift beside it.\n\n",
        );
        if let Some(fig) = stationarity::figure(&series) {
            embed_figure(&fig, &staged.path("stationarity"), body, files)?;
        }
        body.push_str(&stationarity::table(&series));
        let _ = writeln!(
            top,
            "- **Stationarity**: {}",
            stationarity::summary(&series)
        );
    }
    // Claim 1: realizable σ > 0 (KM's proof), binary01 apart.
    let in_claim1 = |c: &&CellResult| {
        let cfg = c.config();
        cfg.checkpoints.is_empty()
            && cfg.alpha_target != Some(0.0)
            && cfg.model == Model::ReluGate
            && !(cfg.labels == Labels::Realizable && cfg.label_noise == 0.0)
    };
    let mut setups: BTreeMap<Setup, Vec<&CellResult>> = BTreeMap::new();
    for c in cells.iter().copied().filter(in_claim1) {
        setups.entry(c.setup()).or_default().push(c);
    }
    let groups: Vec<(Setup, Vec<claim1::PairGroup>)> = setups
        .iter()
        .map(|(s, g)| (*s, claim1::pair_groups(g, error, far)))
        .filter(|(_, g)| !g.is_empty())
        .collect();
    if !groups.is_empty() {
        body.push_str(
            "## Claim 1 — SGD and KM have similar tails where KM provably converges\n\n\
             Per (d, b, η): the seeds' α̂_SGD − α̂_KM (SGD and KM with one seed draw the same \
             data), combined over seeds; the interval is the wider of the seeds' t interval \
             and their own intervals propagated. **Verdict** (the one rule of this report): \
             *equivalent* when the interval lies inside ±δ, *SGD heavier* / *KM heavier* when \
             it excludes 0 beyond the margin, *undecided* otherwise. δ is the estimator's \
             measured error (header). The bulk columns are not part of the verdict.\n\n",
        );
        let claim_cells: Vec<&&CellResult> = setups.values().flatten().collect();
        let p_values: Vec<f64> = claim_cells
            .iter()
            .filter_map(|c| c.run.summary.tail.estimates.get("powerlaw")?.p_value)
            .collect();
        let _ = writeln!(
            body,
            "The power law itself: its goodness-of-fit p-value (semi-parametric bootstrap) is \
             below 0.1 — the power law is rejected above its threshold — in {} of the {} gate \
             cells of this section with a p-value; there α̂ describes the range the fit \
             selected (often tens of % of the chains), not an asymptotic tail. The far-tail \
             column is Hill's estimator at k = 1000 (the largest 1 % of ‖w − mean‖), with its \
             asymptotic interval 1.96·α̂/√k per seed, combined the same way: it shows whether \
             a verdict survives a change to the far tail.\n",
            p_values.iter().filter(|&&p| p < 0.1).count(),
            p_values.len()
        );
        let proof: Vec<(String, &[claim1::PairGroup])> = groups
            .iter()
            .map(|(s, g)| (s.title(), g.as_slice()))
            .collect();
        if let Some(fig) = claim1::figure(&proof) {
            embed_figure(&fig, &staged.path("claim1_sgd_minus_km"), body, files)?;
        }
        for (setup, g) in &groups {
            let inside = setup.labels == "realizable" && setup.noise_millis > 0;
            let _ = writeln!(
                body,
                "### {}{}\n\n{}.\n",
                setup.title(),
                if inside {
                    " (inside KM's convergence proof)"
                } else {
                    " (outside KM's convergence proof)"
                },
                claim1::tally(g)
            );
            body.push_str(&claim1::table(g));
            let _ = writeln!(
                top,
                "- **Claim 1, {}{}**: {}.",
                setup.title(),
                if inside { "" } else { " (outside the proof)" },
                claim1::tally(g)
            );
        }
    }
    let edge: Vec<&CellResult> = cells
        .iter()
        .copied()
        .filter(|c| c.config().alpha_target == Some(0.0))
        .collect();
    if !edge.is_empty() {
        body.push_str("### The edge of divergence (E log‖M e₁‖ = 0)\n\n");
        body.push_str(&phase::edge_table(&edge));
    }
    let phase_cells = phase::cells(cells);
    if !phase_cells.is_empty() {
        body.push_str(
            "### Realizable labels without noise: a phase diagram, not a tail index\n\n\
             w* is a fixed point of both algorithms, so there is no spread-out stationary law \
             to measure. Per (d, b) and κ = η(d + b + 1)/b, `SGD / KM`: **C** the chains \
             collapsed onto one point, **S** a spread remains, **P**x% partially diverged, \
             **D** every chain diverged.\n\n",
        );
        body.push_str(&phase::table(&phase_cells));
    }
    // Claim 2.
    let placed = claim2::placed(cells);
    if !placed.is_empty() {
        body.push_str(
            "## Claim 2 — the gate's α against d, b and η, linear regression and larger nets\n\n\
             Cells whose η the theory placed at a predicted α (realizable, σ = 1). \
             Differences are over seeds, as in claim 1, with the same verdict rule.\n\n",
        );
        if let Some(fig) = claim2::alpha_vs_eta_over_b(&placed) {
            embed_figure(
                &fig,
                &staged.path("claim2_alpha_vs_eta_over_b"),
                body,
                files,
            )?;
        }
        let (table, tally) = claim2::effects(&placed, error, far);
        body.push_str(&table);
        let _ = writeln!(top, "- **Claim 2**: {tally}");
        if let Some(rows) = nets_csv {
            let trends = nets_axis::trends(&placed, rows);
            let _ = writeln!(
                top,
                "- **Claim 2 against the nets**: Kendall τ of α̂ against η/b per series, in the \
                 claim 2 section (the gate's series have 4 points each over a narrow η/b \
                 range chosen by the theory, so their τ is largely set by the design)."
            );
            let _ = writeln!(body, "{trends}\n");
        }
        if let Some(rows) = nets_csv
            && let Some(fig) = nets_axis::figure(&placed, rows)
        {
            body.push_str(
                "On one axis with GSZ21's fully connected nets on Fashion-MNIST (their \
                 per-layer late-window protocol, α̂ the same power-law fit as here; \
                 `docs/networks/`), colour = b as everywhere, hollow = the net did not learn \
                 (test accuracy < 0.8):\n\n",
            );
            embed_figure(&fig, &staged.path("claim2_with_nets"), body, files)?;
        }
    }
    top.push('\n');
    Ok(top)
}

/// `## Larger nets on real data`: GSZ21's per-layer protocol, one figure and one τ table
/// per model, and `networks.csv`.
pub(super) fn networks_section(
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
