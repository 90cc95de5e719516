//! Claim 2 — the gate's tail index depends on d, b and η unlike linear regression and
//! larger nets: α̂ against η/b with both theory curves, the gate against linear regression
//! at the same predicted α, the d and b effects at a fixed predicted α (seeds as
//! replicates), and the nets of docs/networks on the same axis.

use super::cells::{CellResult, fkey};
use super::plot::{Chart, Figure, Point, Series};
use super::replicates::{Combined, FarTail, MeasuredError, Verdict, combine, half, verdict};
use crate::config::{Algorithm, Labels, Model};
use crate::theory::{gate_tail_index, linear_tail_index};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The palette index of a batch size: one colour per b in every figure.
pub fn b_color(b: usize) -> usize {
    match b {
        1 => 0,
        2 => 4,
        5 => 1,
        10 => 2,
        20 => 3,
        _ => 5,
    }
}

/// An arm of the study: the gate under one algorithm, or the linear control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Arm {
    GateSgd,
    GateKm,
    Linear,
}

impl Arm {
    fn of(c: &CellResult) -> Option<Arm> {
        let cfg = c.config();
        match (cfg.model, cfg.algorithm) {
            (Model::ReluGate, Algorithm::Sgd) => Some(Arm::GateSgd),
            (Model::ReluGate, Algorithm::Km) => Some(Arm::GateKm),
            (Model::Linear, Algorithm::Sgd) => Some(Arm::Linear),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Arm::GateSgd => "gate SGD",
            Arm::GateKm => "gate KM",
            Arm::Linear => "linear",
        }
    }
}

/// (arm, d, b, target α in nanounits) → the seeds' cells.
pub type Placed<'a> = BTreeMap<(Arm, usize, usize, i64), Vec<&'a CellResult>>;

/// The realizable σ > 0 cells whose η the theory placed (`alpha_target` > 0), by arm.
pub fn placed<'a>(cells: &[&'a CellResult]) -> Placed<'a> {
    let mut out: Placed = BTreeMap::new();
    for &c in cells {
        let cfg = c.config();
        let Some(arm) = Arm::of(c) else { continue };
        let Some(target) = cfg.alpha_target.filter(|&t| t > 0.0) else {
            continue;
        };
        if cfg.labels != Labels::Realizable || cfg.label_noise <= 0.0 || !cfg.checkpoints.is_empty()
        {
            continue;
        }
        out.entry((arm, cfg.dim, cfg.batch, fkey(target)))
            .or_default()
            .push(c);
    }
    for v in out.values_mut() {
        v.sort_by_key(|c| c.config().seed);
    }
    out
}

/// A cell's estimate and the half-width of its interval.
type Value<'v> = &'v dyn Fn(&CellResult) -> Option<(f64, Option<f64>)>;

/// The headline α̂ and its interval's half-width.
fn headline(c: &CellResult) -> Option<(f64, Option<f64>)> {
    Some((c.alpha()?, half(c.run.summary.tail.alpha_ci)))
}

/// The seeds' values (seeds without one or with lost chains left out).
fn seeds(cells: &[&CellResult], value: Value) -> Vec<(u64, f64, Option<f64>)> {
    cells
        .iter()
        .filter(|c| !c.lost_chains())
        .filter_map(|c| {
            let (a, h) = value(c)?;
            Some((c.config().seed, a, h))
        })
        .collect()
}

/// A − B over the seeds both have.
fn difference(a: &[&CellResult], b: &[&CellResult], value: Value) -> Option<Combined> {
    let (a, b) = (seeds(a, value), seeds(b, value));
    let pairs: Vec<(f64, Option<f64>)> = a
        .iter()
        .filter_map(|&(s, x, h)| {
            let &(_, y, g) = b.iter().find(|v| v.0 == s)?;
            Some((x - y, h.zip(g).map(|(h, g)| h.hypot(g))))
        })
        .collect();
    combine(&pairs)
}

/// The comparisons of claim 2 as a table: the gate against linear regression at the same
/// (d, b, predicted α), and each arm's d and b effects at a fixed predicted α; with the
/// counts of verdicts in one sentence.
pub fn effects(placed: &Placed, error: &MeasuredError, far: &FarTail) -> (String, String) {
    let far_value = |c: &CellResult| far.get(c).map(|(a, h)| (a, Some(h)));
    let mut rows = Vec::new();
    let mut push =
        |what: String, target: i64, a: &[&CellResult], b: &[&CellResult], names: (&str, &str)| {
            let alpha = target as f64 / 1e9;
            let margin = error.margin(Some(alpha));
            let word = |c: &Option<Combined>| match c.as_ref().map(|c| verdict(c, margin)) {
                Some(Verdict::Equivalent) => "equivalent".to_string(),
                Some(Verdict::AHeavier) => format!("**{} heavier**", names.0),
                Some(Verdict::BHeavier) => format!("**{} heavier**", names.1),
                Some(Verdict::Undecided) => "undecided".into(),
                None => "no α̂".into(),
            };
            let (c, h) = (difference(a, b, &headline), difference(a, b, &far_value));
            let (w, hw) = (word(&c), word(&h));
            rows.push((what, alpha, c, margin, w, h, hw));
        };
    for (&(arm, d, b, t), gate) in placed {
        if arm == Arm::Linear {
            continue;
        }
        if let Some(lin) = placed.get(&(Arm::Linear, d, b, t)) {
            push(
                format!("{} − linear, d = {d}, b = {b}", arm.name()),
                t,
                gate,
                lin,
                ("gate", "linear"),
            );
        }
    }
    for (&(arm, d, b, t), cells) in placed {
        for (&(arm2, d2, b2, t2), other) in placed {
            if arm2 != arm || t2 != t || (d2, b2) <= (d, b) || (d2 != d && b2 != b) {
                continue;
            }
            let what = if d2 != d {
                format!("{}: d = {d2} − d = {d} (b = {b})", arm.name())
            } else {
                format!("{}: b = {b2} − b = {b} (d = {d})", arm.name())
            };
            let larger = if d2 != d { "larger d" } else { "larger b" };
            let smaller = if d2 != d { "smaller d" } else { "smaller b" };
            push(what, t, other, cells, (larger, smaller));
        }
    }
    let tally = tally(&rows);
    let mut s = String::from(
        "| comparison | predicted α | difference [95 %] (seeds) | margin δ | verdict | far tail: Hill k = 1000 difference [95 %] | its verdict |\n|---|---:|---|---:|---|---|---|\n",
    );
    let show = |c: &Option<Combined>| {
        c.map_or("—".into(), |c| {
            format!("{:+.3} [{:+.3}, {:+.3}] ({})", c.mean, c.lo, c.hi, c.n)
        })
    };
    for (what, alpha, c, margin, word, h, hw) in &rows {
        let _ = writeln!(
            s,
            "| {what} | {alpha:.1} | {} | {margin:.3} | {word} | {} | {hw} |",
            show(c),
            show(h)
        );
    }
    s.push('\n');
    (s, tally)
}

/// One comparison: what, predicted α, the headline difference, δ, its verdict, the far-tail
/// difference and its verdict.
type Row = (
    String,
    f64,
    Option<Combined>,
    f64,
    String,
    Option<Combined>,
    String,
);

/// Verdict counts per kind of comparison.
fn tally(rows: &[Row]) -> String {
    let kinds = [
        (" − linear", "gate − linear at the same predicted α"),
        (": d =", "larger d at the same predicted α"),
        (": b =", "larger b at the same predicted α"),
    ];
    let mut parts = Vec::new();
    for (needle, name) in kinds {
        let of: Vec<&String> = rows
            .iter()
            .filter(|r| r.0.contains(needle))
            .map(|r| &r.4)
            .collect();
        if of.is_empty() {
            continue;
        }
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for w in &of {
            *counts.entry(w.trim_matches('*')).or_default() += 1;
        }
        let list: Vec<String> = counts.iter().map(|(w, n)| format!("{w} {n}")).collect();
        let same = rows
            .iter()
            .filter(|r| r.0.contains(needle) && r.4 == r.6 && r.4 != "undecided")
            .count();
        parts.push(format!(
            "{name} ({} rows): {}; the far tail (Hill k = 1000) gives the same decided verdict in {same}",
            of.len(),
            list.join(", ")
        ));
    }
    parts.join("; ") + "."
}

/// Mean α̂ over seeds with its combined interval, at x.
fn point(x: f64, cells: &[&CellResult]) -> Option<Point> {
    let v: Vec<(f64, Option<f64>)> = seeds(cells, &headline).iter().map(|s| (s.1, s.2)).collect();
    combine(&v).map(|c| (x, c.mean, Some((c.lo, c.hi))))
}

/// The theory's α along η in `[lo, hi]` (points where it is finite).
fn theory_curve(gate: bool, d: usize, b: usize, lo: f64, hi: f64) -> Vec<Point> {
    (0..=24)
        .filter_map(|i| {
            let eta = lo + (hi - lo) * i as f64 / 24.0;
            let t = if gate {
                gate_tail_index(d, b, eta)
            } else {
                linear_tail_index(d, b, eta)
            };
            t.ok()?.alpha.map(|a| (eta / b as f64, a, None))
        })
        .collect()
}

/// α̂ against η/b at fixed (d, b): the gate's two algorithms and linear regression (means
/// over seeds with intervals) with the gate's prediction and the linear theory.
pub fn alpha_vs_eta_over_b(placed: &Placed) -> Option<Figure> {
    let mut panels = Vec::new();
    let mut keys: Vec<(usize, usize)> = placed.keys().map(|k| (k.1, k.2)).collect();
    keys.sort();
    keys.dedup();
    for (d, b) in keys {
        let mut series = Vec::new();
        let mut etas = vec![];
        let first = panels.is_empty();
        let label = |l: &str| if first { l.to_string() } else { String::new() };
        for (arm, filled, line) in [
            (Arm::GateSgd, true, false),
            (Arm::GateKm, false, false),
            (Arm::Linear, true, true),
        ] {
            let points: Vec<Point> = placed
                .iter()
                .filter(|(k, _)| k.0 == arm && k.1 == d && k.2 == b)
                .filter_map(|(_, cells)| {
                    let eta = cells[0].config().eta;
                    etas.push(eta);
                    point(eta / b as f64, cells)
                })
                .collect();
            series.push(Series {
                label: label(arm.name()),
                points,
                line,
                color: b_color(b),
                filled,
            });
        }
        let lo = etas.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = etas.iter().copied().fold(0.0, f64::max);
        if !lo.is_finite() {
            continue;
        }
        let (lo, hi) = (lo - 0.1 * (hi - lo), hi);
        for (gate, color, name) in [(true, 7, "gate prediction"), (false, 8, "linear theory")] {
            series.push(Series {
                label: label(name),
                points: theory_curve(gate, d, b, lo, hi),
                line: true,
                color,
                filled: false,
            });
        }
        panels.push(Chart {
            title: format!("d = {d}, b = {b}"),
            x_label: "η/b".into(),
            y_label: "α".into(),
            series,
            h_line: Some(2.0),
            y_range: Some((0.0, 6.0)),
            x_range: None,
        });
    }
    (!panels.is_empty()).then(|| Figure {
        title: "Claim 2: α̂ against η/b at fixed (d, b), realizable σ = 1 (mean over seeds, 95 % intervals) with the theories".into(),
        cols: panels.len().min(3),
        panels,
    })
}
