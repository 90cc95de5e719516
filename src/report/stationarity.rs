//! Stationarity, measured: α̂ against steps for the cells that recorded checkpoints (the
//! reduced engine's `summary.checkpoints`), and whether each had stopped moving.

use super::cells::CellResult;
use super::claim2::b_color;
use super::plot::{Chart, Figure, Series};
use crate::summary::CheckpointSummary;
use std::fmt::Write as _;

/// The cells with an α̂-against-steps series.
pub fn series<'a>(cells: &[&'a CellResult]) -> Vec<&'a CellResult> {
    cells
        .iter()
        .copied()
        .filter(|c| c.run.summary.checkpoints.len() >= 2)
        .collect()
}

/// The series has settled: the intervals of its last two checkpoints overlap.
fn flat(points: &[CheckpointSummary]) -> Option<bool> {
    let [.., a, b] = points else { return None };
    let ([lo1, hi1], [lo2, hi2]) = (a.alpha_ci?, b.alpha_ci?);
    Some(lo1 <= hi2 && lo2 <= hi1)
}

fn label(c: &CellResult) -> String {
    let cfg = c.config();
    let alg = if cfg.model == crate::config::Model::Linear {
        "linear".into()
    } else {
        format!("gate {}", cfg.algorithm.name().to_uppercase())
    };
    format!(
        "{alg}, {} σ = {}, d = {}, b = {}",
        cfg.labels.name(),
        cfg.label_noise,
        cfg.dim,
        cfg.batch
    )
}

/// One table per list of checkpoints, a row per cell: α̂ with its interval at every
/// checkpoint, the theory and the verdict.
pub fn table(cells: &[&CellResult]) -> String {
    let mut by_steps: std::collections::BTreeMap<Vec<usize>, Vec<&CellResult>> = Default::default();
    for &c in cells {
        let steps = c.run.summary.checkpoints.iter().map(|p| p.step).collect();
        by_steps.entry(steps).or_default().push(c);
    }
    by_steps.values().map(|g| one_table(g)).collect()
}

/// The rows of cells that share their checkpoints.
fn one_table(cells: &[&CellResult]) -> String {
    let Some(first) = cells.first() else {
        return String::new();
    };
    let steps: Vec<usize> = first
        .run
        .summary
        .checkpoints
        .iter()
        .map(|c| c.step)
        .collect();
    let mut s = String::from("| arm | theory α |");
    for k in &steps {
        let _ = write!(s, " α̂ at {k} |");
    }
    s.push_str(" Mohammadi at first → last | settled |\n|---|---:|");
    s.push_str(&"---|".repeat(steps.len() + 2));
    s.push('\n');
    for c in cells {
        let pts = &c.run.summary.checkpoints;
        let _ = write!(
            s,
            "| {} | {} |",
            label(c),
            c.theory_alpha().map_or("—".into(), |t| format!("{t:.2}"))
        );
        for p in pts {
            let v = match (p.alpha, p.alpha_ci) {
                (Some(a), Some([lo, hi])) => format!("{a:.2} [{lo:.2}, {hi:.2}]"),
                (Some(a), None) => format!("{a:.2}"),
                (None, _) => "—".into(),
            };
            let lost = if p.diverged_chains > 0 {
                format!(" ({} lost)", p.diverged_chains)
            } else {
                String::new()
            };
            let _ = write!(s, " {v}{lost} |");
        }
        let m = |p: Option<&CheckpointSummary>| {
            p.and_then(|p| p.alpha_mohammadi)
                .map_or("—".into(), |m| format!("{m:.2}"))
        };
        let settled = match flat(pts) {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        let _ = writeln!(s, " {} → {} | {settled} |", m(pts.first()), m(pts.last()));
    }
    s.push('\n');
    s
}

/// α̂ against log10 steps, a panel per setup and algorithm, a line per (d, b).
pub fn figure(cells: &[&CellResult]) -> Option<Figure> {
    let mut panels: Vec<Chart> = Vec::new();
    let mut titles: Vec<String> = cells
        .iter()
        .map(|c| label(c).split(", d =").next().unwrap_or("").to_string())
        .collect();
    // One panel per arm, in the order the arms first appear.
    let mut seen = std::collections::HashSet::new();
    titles.retain(|t| seen.insert(t.clone()));
    for title in titles {
        let series: Vec<Series> = cells
            .iter()
            .filter(|c| label(c).starts_with(&format!("{title}, d =")))
            .map(|c| {
                let cfg = c.config();
                Series {
                    label: format!("d = {}, b = {}", cfg.dim, cfg.batch),
                    points: c
                        .run
                        .summary
                        .checkpoints
                        .iter()
                        .filter_map(|p| {
                            let a = p.alpha?;
                            Some(((p.step as f64).log10(), a, p.alpha_ci.map(|[l, h]| (l, h))))
                        })
                        .collect(),
                    line: true,
                    color: b_color(cfg.batch),
                    filled: cfg.dim <= 10,
                }
            })
            .collect();
        let theory = cells
            .iter()
            .find(|c| label(c).starts_with(&format!("{title}, d =")))
            .and_then(|c| c.theory_alpha());
        panels.push(Chart {
            title,
            x_label: "log10 steps".into(),
            y_label: "α̂ (line: predicted α)".into(),
            series,
            h_line: theory,
            y_range: None,
            x_range: None,
        });
    }
    (!panels.is_empty()).then(|| Figure {
        title: "Stationarity: α̂ (power-law fit, 95 % interval) against steps".into(),
        cols: panels.len().min(3),
        panels,
    })
}

/// One sentence: how many series settled, and where the last α̂ sits against the theory.
pub fn summary(cells: &[&CellResult]) -> String {
    let settled = cells
        .iter()
        .filter(|c| flat(&c.run.summary.checkpoints) == Some(true))
        .count();
    let mut steps: Vec<usize> = cells
        .iter()
        .flat_map(|c| c.run.summary.checkpoints.iter().map(|p| p.step))
        .collect();
    steps.sort_unstable();
    steps.dedup();
    let gaps: Vec<String> = cells
        .iter()
        .filter_map(|c| {
            let last = c.run.summary.checkpoints.last()?.alpha?;
            Some(format!(
                "{} {last:.2} vs {:.2}",
                label(c),
                c.theory_alpha()?
            ))
        })
        .collect();
    format!(
        "{} series recorded at steps {:?}; in {settled} the intervals of the last two \
         checkpoints overlap (settled). Last α̂ against the predicted α: {}.",
        cells.len(),
        steps,
        gaps.join("; ")
    )
}
