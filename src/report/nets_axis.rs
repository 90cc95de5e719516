//! The nets of an earlier report (`networks.csv`) on claim 2's η/b axis beside the gate
//! and linear regression of this study: one colour per b, the same in every figure.

use super::cells::CellResult;
use super::claim2::{Arm, b_color};
use super::plot::{Chart, Figure, Point, Series};
use super::replicates::combine;
use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The columns of a networks.csv row this figure uses.
#[derive(Debug, Clone, Deserialize)]
pub struct NetRow {
    pub model: String,
    pub algorithm: String,
    pub b: usize,
    pub eta_over_b: f64,
    pub layer: String,
    pub alpha: Option<f64>,
    pub alpha_lo: Option<f64>,
    pub alpha_hi: Option<f64>,
    pub test_accuracy: Option<f64>,
}

/// Reads a networks.csv; a malformed file is refused naming it.
pub fn read(path: &Path) -> Result<Vec<NetRow>> {
    let bad = |message: String| Error::Input {
        path: path.to_path_buf(),
        message,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    reader
        .deserialize()
        .map(|r| r.map_err(|e| bad(format!("not a networks.csv row: {e}"))))
        .collect()
}

/// Test accuracy below this: the net did not learn; its weights say little about SGD's
/// stationary law near a solution (drawn hollow).
const LEARNED: f64 = 0.8;

/// α̂ against log10 η/b: a panel with this study's gate and linear cells (mean over seeds),
/// and one per layer of each SGD net.
pub fn figure(placed: &super::claim2::Placed, rows: &[NetRow]) -> Option<Figure> {
    let mut panels = Vec::new();
    let mut by_b: BTreeMap<(Arm, usize), Vec<Point>> = BTreeMap::new();
    for ((arm, _, b, _), cells) in placed {
        let v: Vec<(f64, Option<f64>)> = cells
            .iter()
            .filter(|c| !c.lost_chains())
            .filter_map(|c: &&CellResult| {
                Some((
                    c.alpha()?,
                    super::replicates::half(c.run.summary.tail.alpha_ci),
                ))
            })
            .collect();
        if let Some(m) = combine(&v) {
            let x = (cells[0].config().eta / *b as f64).log10();
            by_b.entry((*arm, *b))
                .or_default()
                .push((x, m.mean, Some((m.lo, m.hi))));
        }
    }
    let series: Vec<Series> = by_b
        .into_iter()
        .map(|((arm, b), points)| Series {
            label: format!("{} b={b}", arm.name()),
            points,
            line: false,
            color: b_color(b),
            filled: arm != Arm::GateKm,
        })
        .collect();
    panels.push(Chart {
        title: "gate and linear (this study)".into(),
        x_label: "log10 η/b".into(),
        y_label: "α̂".into(),
        series,
        h_line: Some(2.0),
        y_range: Some((0.0, 12.0)),
        x_range: None,
    });
    let mut layers: BTreeMap<(String, String), Vec<&NetRow>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.algorithm == "sgd") {
        layers
            .entry((r.model.clone(), r.layer.clone()))
            .or_default()
            .push(r);
    }
    for ((model, layer), rows) in layers {
        let mut by_b: BTreeMap<(usize, bool), Vec<Point>> = BTreeMap::new();
        for r in rows {
            let Some(a) = r.alpha else { continue };
            let learned = r.test_accuracy.is_some_and(|t| t >= LEARNED);
            by_b.entry((r.b, learned)).or_default().push((
                r.eta_over_b.log10(),
                a,
                r.alpha_lo.zip(r.alpha_hi),
            ));
        }
        panels.push(Chart {
            title: format!("{model} {layer} (SGD, Fashion-MNIST)"),
            x_label: "log10 η/b".into(),
            y_label: "α̂".into(),
            series: by_b
                .into_iter()
                .map(|((b, learned), points)| Series {
                    label: format!("b={b}{}", if learned { "" } else { ", test acc. < 0.8" }),
                    points,
                    line: false,
                    color: b_color(b),
                    filled: learned,
                })
                .collect(),
            h_line: Some(2.0),
            y_range: Some((0.0, 12.0)),
            x_range: None,
        });
    }
    let xs = panels
        .iter()
        .flat_map(|p| p.series.iter().flat_map(|s| s.points.iter().map(|q| q.0)));
    let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
        (l.min(x), h.max(x))
    });
    for p in &mut panels {
        p.x_range = lo.is_finite().then_some((lo - 0.1, hi + 0.1));
    }
    (panels.len() > 1).then(|| Figure {
        title: "α̂ (power-law fit) against η/b: the gate, linear regression and GSZ21's nets".into(),
        cols: panels.len().min(4),
        panels,
    })
}

/// Kendall's τ of α̂ against η/b for each series of one kind: the gate's and linear
/// regression's per (d, b) in this study, and each SGD net layer's per b over the nets that
/// learned; one sentence.
pub fn trends(placed: &super::claim2::Placed, rows: &[NetRow]) -> String {
    let tau = |pts: &[(f64, f64)]| {
        let n = pts.len() as f64;
        (pts.len() >= 3).then(|| super::compare::kendall(pts) as f64 / (n * (n - 1.0) / 2.0))
    };
    let mut study: BTreeMap<(Arm, usize, usize), Vec<(f64, f64)>> = BTreeMap::new();
    for ((arm, d, b, _), cells) in placed {
        let v: Vec<f64> = cells
            .iter()
            .filter(|c| !c.lost_chains())
            .filter_map(|c| c.alpha())
            .collect();
        if !v.is_empty() {
            let x = cells[0].config().eta / *b as f64;
            study
                .entry((*arm, *d, *b))
                .or_default()
                .push((x, v.iter().sum::<f64>() / v.len() as f64));
        }
    }
    let mut parts: Vec<String> = study
        .iter()
        .filter_map(|((arm, d, b), pts)| {
            Some(format!(
                "{} d = {d}, b = {b}: τ = {:+.2}",
                arm.name(),
                tau(pts)?
            ))
        })
        .collect();
    let mut nets: BTreeMap<(String, String, usize), Vec<(f64, f64)>> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.algorithm == "sgd" && r.test_accuracy.is_some_and(|t| t >= LEARNED))
    {
        if let Some(a) = r.alpha {
            nets.entry((r.model.clone(), r.layer.clone(), r.b))
                .or_default()
                .push((r.eta_over_b, a));
        }
    }
    parts.extend(nets.iter().filter_map(|((m, l, b), pts)| {
        Some(format!(
            "{m} {l} b = {b}: τ = {:+.2} ({} nets)",
            tau(pts)?,
            pts.len()
        ))
    }));
    format!(
        "Kendall τ of α̂ against η/b (−1: α̂ falls whenever η/b grows; nets with test \
         accuracy ≥ {LEARNED}): {}.",
        parts.join("; ")
    )
}
