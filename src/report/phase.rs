//! Realizable labels without noise have no spread-out stationary law (w* is a fixed
//! point): what the chains do there — converge onto w*, keep a spread, or diverge — over
//! (d, b, κ), a phase diagram rather than a tail index.

use super::cells::{CellResult, fkey};
use crate::config::{Algorithm, Labels, Model};
use crate::study::kappa;
use crate::summary::RunStatus;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// The gate's realizable σ = 0 cells.
pub fn cells<'a>(cells: &[&'a CellResult]) -> Vec<&'a CellResult> {
    cells
        .iter()
        .copied()
        .filter(|c| {
            let cfg = c.config();
            cfg.model == Model::ReluGate
                && cfg.labels == Labels::Realizable
                && cfg.label_noise == 0.0
        })
        .collect()
}

/// One letter per outcome: C converged onto one point, S a spread (an α̂ exists),
/// P partially diverged, D diverged.
fn code(c: &CellResult) -> String {
    let s = &c.run.summary.tail;
    match s.status {
        RunStatus::ConvergedToFloor => "C".into(),
        RunStatus::Ok => "S".into(),
        RunStatus::PartiallyDiverged => {
            format!("P{:.0}%", 100.0 * (1.0 - s.surviving_fraction))
        }
        RunStatus::Diverged => "D".into(),
    }
}

/// Rows (d, b), columns κ, entries `SGD / KM`.
pub fn table(cells: &[&CellResult]) -> String {
    let kappas: BTreeSet<i64> = cells.iter().map(|c| fkey(kappa(c.config()))).collect();
    let mut grid: BTreeMap<(usize, usize), BTreeMap<i64, [String; 2]>> = BTreeMap::new();
    for c in cells {
        let cfg = c.config();
        let slot = grid
            .entry((cfg.dim, cfg.batch))
            .or_default()
            .entry(fkey(kappa(cfg)))
            .or_default();
        slot[usize::from(cfg.algorithm == Algorithm::Km)] = code(c);
    }
    let mut s = String::from("| d | b |");
    for k in &kappas {
        let _ = write!(s, " κ = {} |", *k as f64 / 1e9);
    }
    s.push_str("\n|---:|---:|");
    s.push_str(&"---|".repeat(kappas.len()));
    s.push('\n');
    for ((d, b), row) in &grid {
        let _ = write!(s, "| {d} | {b} |");
        for k in &kappas {
            let [sgd, km] = row.get(k).cloned().unwrap_or_default();
            let _ = write!(s, " {sgd} / {km} |");
        }
        s.push('\n');
    }
    s.push('\n');
    s
}

/// Cells at the edge of divergence (`alpha_target: 0`): how many chains left, and the
/// survivors' α̂ (biased light: the heaviest chains are the ones that left).
pub fn edge_table(cells: &[&CellResult]) -> String {
    let mut s = String::from(
        "At the step size where the theory's log-norm walk has zero drift, chains are not \
         stationary: they leave the bound one by one. `α̂` is of the survivors.\n\n\
         | arm | d | b | η | seed | diverged chains | α̂ of the survivors |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for c in cells {
        let cfg = c.config();
        let t = &c.run.summary.tail;
        let _ = writeln!(
            s,
            "| {} {} | {} | {} | {:.4} | {} | {} of {} | {} |",
            cfg.model.name(),
            cfg.algorithm.name(),
            cfg.dim,
            cfg.batch,
            cfg.eta,
            cfg.seed,
            t.diverged_chains,
            cfg.chains,
            c.alpha().map_or("—".into(), |a| format!("{a:.3}"))
        );
    }
    s.push('\n');
    s
}
