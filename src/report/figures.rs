//! The findings' small-multiples figures: one per question, panels for d × b or per arm,
//! every arm (SGD, KM, linear regression, the theories, the MLP's layers) overlaid.

use super::cells::fkey;
use super::compare::Comparison;
use super::findings::{Arm, Obs};
use super::plot::{Chart, Figure, Point, Series};
use std::collections::{BTreeMap, BTreeSet};

/// The α axis of every findings panel: light tails above it are clipped.
const ALPHA_RANGE: (f64, f64) = (0.0, 5.0);

/// Mean α (and mean interval) per x over the observations of one panel.
fn mean_points<'a>(obs: impl Iterator<Item = &'a Obs>, x: impl Fn(&Obs) -> f64) -> Vec<Point> {
    let mut by: BTreeMap<i64, (f64, Vec<f64>)> = BTreeMap::new();
    for o in obs {
        if let Some(a) = o.alpha {
            by.entry(fkey(x(o))).or_insert((x(o), vec![])).1.push(a);
        }
    }
    by.into_values()
        .map(|(x, v)| (x, v.iter().sum::<f64>() / v.len() as f64, None))
        .collect()
}

/// Palette index and marker fill of an arm, by its name.
fn style(name: &str) -> (usize, bool) {
    match name {
        n if n.ends_with("SGD") && n.starts_with("gate") => (0, true),
        n if n.ends_with("KM") => (1, true),
        "gate theory" => (7, false),
        n if n.starts_with("linear") && n.ends_with("theory") => (8, false),
        n if n.starts_with("linear") => (2, true),
        _ => (4, true),
    }
}

/// α against κ, a panel per (d, b), for the arms of one gate setup with linear regression
/// overlaid; `None` when the setup has no α at all.
pub fn alpha_vs_kappa(setup: &str, arms: &[&Arm]) -> Option<Figure> {
    let cells: BTreeSet<(usize, usize)> = arms
        .iter()
        .flat_map(|a| a.obs.iter().map(|o| (o.d, o.b)))
        .collect();
    let ds: BTreeSet<usize> = cells.iter().map(|c| c.0).collect();
    let bs: BTreeSet<usize> = cells.iter().map(|c| c.1).collect();
    let kappas: Vec<f64> = arms
        .iter()
        .flat_map(|a| a.obs.iter().map(Obs::kappa))
        .collect();
    let lo = kappas.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = kappas.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let pad = 0.04 * (hi - lo).max(1e-3);
    let mut panels = Vec::new();
    let mut any = false;
    for &b in &bs {
        for &d in &ds {
            let series: Vec<Series> = arms
                .iter()
                .filter_map(|arm| {
                    let points =
                        mean_points(arm.obs.iter().filter(|o| o.d == d && o.b == b), Obs::kappa);
                    let (color, filled) = style(&arm.name);
                    (!points.is_empty()).then(|| Series {
                        label: if panels.is_empty() {
                            arm.name.clone()
                        } else {
                            String::new()
                        },
                        points,
                        line: true,
                        color,
                        filled,
                    })
                })
                .collect();
            any |= !series.is_empty();
            panels.push(Chart {
                title: format!("d = {d}, b = {b}"),
                x_label: "κ".into(),
                y_label: "α".into(),
                series,
                h_line: Some(2.0),
                y_range: Some(ALPHA_RANGE),
                x_range: Some((lo - pad, hi + pad)),
            });
        }
    }
    any.then(|| Figure {
        title: format!(
            "Tail index vs κ = η(d + b + 1)/b, {setup} (mean over seeds; columns d, rows b)"
        ),
        panels,
        cols: ds.len(),
    })
}

/// α against η/b, a panel per arm (GSZ21's observation for large nets: α falls as η/b grows).
pub fn alpha_vs_eta_over_b(arms: &[&Arm]) -> Option<Figure> {
    let panels: Vec<Chart> = arms
        .iter()
        .filter(|a| a.obs.iter().any(|o| o.alpha.is_some()))
        .map(|arm| {
            let by_b: BTreeSet<usize> = arm.obs.iter().map(|o| o.b).collect();
            Chart {
                title: format!("{}, {}", arm.name, arm.setup),
                x_label: "log10 η/b".into(),
                y_label: "α".into(),
                series: by_b
                    .iter()
                    .enumerate()
                    .map(|(i, &b)| Series {
                        label: format!("b={b}"),
                        points: mean_points(arm.obs.iter().filter(|o| o.b == b), |o| {
                            (o.eta / o.b as f64).log10()
                        }),
                        line: false,
                        color: i,
                        filled: true,
                    })
                    .collect(),
                h_line: Some(2.0),
                y_range: Some(ALPHA_RANGE),
                x_range: None,
            }
        })
        .collect();
    (!panels.is_empty()).then(|| Figure {
        title: "Tail index vs η/b (mean over seeds), every arm".into(),
        cols: panels.len().min(4),
        panels,
    })
}

/// α̂_SGD − α̂_KM with its paired interval against κ, a panel per (setup, d), a series per b.
pub fn sgd_minus_km(comparisons: &[(String, &Comparison)]) -> Option<Figure> {
    let mut panels = Vec::new();
    let mut cols = 1;
    for (setup, cmp) in comparisons {
        let ds: BTreeSet<usize> = cmp.pairs.iter().map(|p| p.sgd.config().dim).collect();
        cols = cols.max(ds.len());
        for d in ds {
            let pairs: Vec<_> = cmp
                .pairs
                .iter()
                .filter(|p| p.sgd.config().dim == d)
                .collect();
            let bs: BTreeSet<usize> = pairs.iter().map(|p| p.sgd.config().batch).collect();
            let series = bs
                .iter()
                .enumerate()
                .map(|(i, &b)| {
                    let mut by: BTreeMap<i64, Vec<Point>> = BTreeMap::new();
                    for p in pairs.iter().filter(|p| p.sgd.config().batch == b) {
                        let k = crate::study::kappa(p.sgd.config());
                        by.entry(fkey(k)).or_default().push((
                            k,
                            p.diff(),
                            p.ci.as_ref().map(|c| (c.lo, c.hi)),
                        ));
                    }
                    Series {
                        label: if panels.is_empty() {
                            format!("b={b}")
                        } else {
                            String::new()
                        },
                        points: by.into_values().map(|v| average(&v)).collect(),
                        line: true,
                        color: i,
                        filled: true,
                    }
                })
                .collect();
            panels.push(Chart {
                title: format!("{setup}, d = {d}"),
                x_label: "κ".into(),
                y_label: "α SGD − α KM (estimates)".into(),
                series,
                h_line: Some(0.0),
                y_range: Some((-1.0, 1.0)),
                x_range: None,
            });
        }
    }
    (!panels.is_empty()).then(|| Figure {
        title: "SGD − KM: paired difference of the estimated α with its 95 % interval (mean over seeds)".into(),
        panels,
        cols,
    })
}

/// Mean point and mean interval (when every point has one) over seeds.
fn average(v: &[Point]) -> Point {
    let n = v.len() as f64;
    let y = v.iter().map(|p| p.1).sum::<f64>() / n;
    let ci = v.iter().all(|p| p.2.is_some()).then(|| {
        (
            v.iter().filter_map(|p| p.2).map(|c| c.0).sum::<f64>() / n,
            v.iter().filter_map(|p| p.2).map(|c| c.1).sum::<f64>() / n,
        )
    });
    (v[0].0, y, ci)
}
