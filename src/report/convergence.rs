//! Estimators against the number of chains, with the theory: for every group of cells that
//! differ only in `chains` (and `seed`), α̂ of every estimator at each
//! sample size beside the theory's α, as a chart and a table, and the distances from the
//! theory summarised per estimator and sample size (the validation study's question).

use super::cells::CellResult;
use super::plot::{Chart, Point, Series};
use crate::config::TrainConfig;
use crate::summary::headline_first;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Cells that share everything but `chains` and `seed`.
fn group_key(cfg: &TrainConfig) -> String {
    let mut c = cfg.clone();
    c.chains = 0;
    c.seed = 0;
    serde_json::to_string(&c).unwrap_or_default()
}

/// A group's description: model, algorithm, labels, σ, d, b, η.
fn describe(cfg: &TrainConfig) -> String {
    format!(
        "{} {} {} σ={} d={} b={} η={}",
        cfg.model.name(),
        cfg.algorithm.name(),
        cfg.labels.name(),
        cfg.label_noise,
        cfg.dim,
        cfg.batch,
        cfg.eta
    )
}

/// The groups with at least two sample sizes, each sorted by chains.
pub fn groups(cells: &[CellResult]) -> Vec<Vec<&CellResult>> {
    let mut by: BTreeMap<String, Vec<&CellResult>> = BTreeMap::new();
    for c in cells {
        by.entry(group_key(c.config())).or_default().push(c);
    }
    by.into_values()
        .filter_map(|mut g| {
            g.sort_by_key(|c| (c.config().chains, c.config().seed));
            let sizes: std::collections::BTreeSet<usize> =
                g.iter().map(|c| c.config().chains).collect();
            (sizes.len() >= 2).then_some(g)
        })
        .collect()
}

fn estimate(c: &CellResult, name: &str) -> Option<(f64, Option<[f64; 2]>)> {
    let e = c.run.summary.tail.estimates.get(name)?;
    Some((e.alpha?, e.ci))
}

/// One chart per group: α̂ of each estimator against log₁₀(chains), and the theory line.
pub fn chart(group: &[&CellResult]) -> Chart {
    let x = |c: &CellResult| (c.config().chains as f64).log10();
    let mut series: Vec<Series> = headline_first()
        .into_iter()
        .enumerate()
        .map(|(i, name)| Series {
            label: name.to_string(),
            points: group
                .iter()
                .filter_map(|c| {
                    let (a, ci) = estimate(c, name)?;
                    Some((x(c), a, ci.map(|[lo, hi]| (lo, hi))))
                })
                .collect(),
            line: true,
            color: 2 * i,
            filled: true,
        })
        .collect();
    let theory: Vec<Point> = group
        .iter()
        .filter_map(|c| Some((x(c), c.theory_alpha()?, None)))
        .collect();
    if !theory.is_empty() {
        series.push(Series {
            label: "theory".into(),
            points: theory,
            line: true,
            color: 7,
            filled: false,
        });
    }
    Chart {
        title: format!("α̂ vs chains, {}", describe(group[0].config())),
        x_label: "log10(chains)".into(),
        y_label: "α̂ (95 % CI)".into(),
        series,
        h_line: Some(2.0),
        y_range: None,
        x_range: None,
    }
}

/// The group's table: one row per cell, α̂ [CI] of each estimator and its distance from
/// the theory.
pub fn table(group: &[&CellResult]) -> String {
    let names = headline_first();
    let mut md = format!(
        "**{}**: theory α = {}\n\n| chains | seed | {} |\n| --- | --- |{}\n",
        describe(group[0].config()),
        group[0]
            .theory_alpha()
            .map_or("none".into(), |t| format!("{t:.4}")),
        names.join(" | "),
        " --- |".repeat(names.len())
    );
    for c in group {
        let t = c.theory_alpha();
        let cells: Vec<String> = names
            .iter()
            .map(|name| match (estimate(c, name), t) {
                (Some((a, ci)), t) => {
                    let ci = ci.map_or(String::new(), |[lo, hi]| format!(" [{lo:.3}, {hi:.3}]"));
                    let d = t.map_or(String::new(), |t| format!(" (Δ {:+.3})", a - t));
                    format!("{a:.3}{ci}{d}")
                }
                (None, _) => "—".into(),
            })
            .collect();
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            c.config().chains,
            c.config().seed,
            cells.join(" | ")
        );
    }
    md.push('\n');
    md
}

/// Mean and largest |α̂ − theory| per estimator, model and number of chains over every group
/// with a theory root, as a markdown table (rows: model and chains; columns: estimators).
pub fn distances(groups: &[Vec<&CellResult>]) -> String {
    let names = headline_first();
    let mut by: BTreeMap<(&str, usize), BTreeMap<&str, Vec<f64>>> = BTreeMap::new();
    for g in groups {
        for c in g {
            let Some(t) = c.theory_alpha() else { continue };
            for &name in &names {
                if let Some((a, _)) = estimate(c, name) {
                    by.entry((c.config().model.name(), c.config().chains))
                        .or_default()
                        .entry(name)
                        .or_default()
                        .push((a - t).abs());
                }
            }
        }
    }
    if by.is_empty() {
        return String::new();
    }
    let mut md = format!(
        "Distance |α̂ − theory|, mean (largest) over the cells with a theory root:\n\n| model | chains | {} |\n| --- | --- |{}\n",
        names.join(" | "),
        " --- |".repeat(names.len())
    );
    for ((model, chains), per) in &by {
        let cells: Vec<String> = names
            .iter()
            .map(|name| match per.get(name) {
                Some(v) if !v.is_empty() => {
                    let mean = v.iter().sum::<f64>() / v.len() as f64;
                    let max = v.iter().copied().fold(0.0, f64::max);
                    format!("{mean:.3} ({max:.3}; {} cells)", v.len())
                }
                _ => "—".into(),
            })
            .collect();
        let _ = writeln!(md, "| {model} | {chains} | {} |", cells.join(" | "));
    }
    md.push('\n');
    md
}
