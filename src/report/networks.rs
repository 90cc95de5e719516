//! "Larger nets on real data": GSZ21's per-layer α of the `fcn`/`cnn` cells against η/b,
//! a curve per b and algorithm, test accuracy beside it, Kendall's τ per layer, and
//! `networks.csv` (one row per cell and layer).

use super::cells::CellResult;
use super::compare::kendall;
use super::plot::{Chart, Figure, Series};
use crate::config::Algorithm;
use crate::error::{Error, Result};
use crate::io::{read_npy_mask, write_atomically};
use crate::nets::eval::median;
use crate::run::NetSummary;
use crate::summary::NetLayerSummary;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

/// What a panel plots of a cell: y and the bar around it.
type Value<'a> = dyn Fn(&NetCell) -> Option<(f64, Option<(f64, f64)>)> + 'a;

/// Which α̂ of a layer a τ table reads.
type LayerAlpha = fn(&NetLayerSummary) -> Option<f64>;

/// A net cell with its per-layer record.
struct NetCell<'a> {
    cell: &'a CellResult,
    net: Option<&'a NetSummary>,
}

impl NetCell<'_> {
    fn eta_over_b(&self) -> f64 {
        let c = self.cell.config();
        c.eta / c.batch as f64
    }

    /// Every chain diverged, or some did (the α̂ is then of the survivors).
    fn diverged(&self) -> bool {
        self.cell.run.summary.tail.diverged_chains > 0
    }
}

/// The median test accuracy over the chains that did not diverge (`diverged.npy`: runs
/// written before diverged chains' scores became `null` kept a number for them).
fn test_accuracy(cell: &CellResult) -> Option<f64> {
    let net = cell.run.summary.net.as_ref()?;
    let chains = cell.config().chains;
    let diverged = read_npy_mask(&cell.dir.join("diverged.npy"), chains).ok()?;
    let accuracy = &net.outcome.test.accuracy;
    median(
        accuracy
            .iter()
            .zip(&diverged)
            .filter(|(_, d)| !**d)
            .map(|(a, _)| *a),
    )
}

/// The net cells of a report, by model name.
pub(super) fn net_cells(cells: &[CellResult]) -> BTreeMap<&'static str, Vec<&CellResult>> {
    let mut out: BTreeMap<&'static str, Vec<&CellResult>> = BTreeMap::new();
    for c in cells.iter().filter(|c| c.config().model.is_net()) {
        out.entry(c.config().model.name()).or_default().push(c);
    }
    out
}

/// One row of `networks.csv`.
#[derive(Serialize)]
struct LayerRow<'a> {
    cell: &'a str,
    model: &'static str,
    algorithm: &'static str,
    b: usize,
    eta: f64,
    eta_over_b: f64,
    seed: u64,
    chains: usize,
    steps: usize,
    late_window: usize,
    status: &'static str,
    diverged_chains: usize,
    layer: String,
    samples: usize,
    alpha: Option<f64>,
    alpha_lo: Option<f64>,
    alpha_hi: Option<f64>,
    /// Min and max over the chains of each chain's own late-window α̂.
    alpha_chain_min: Option<f64>,
    alpha_chain_max: Option<f64>,
    alpha_mohammadi: Option<f64>,
    powerlaw_p_value: Option<f64>,
    hill_alpha: Option<f64>,
    moments_alpha: Option<f64>,
    test_accuracy: Option<f64>,
}

fn chain_range(alphas: &[Option<f64>]) -> Option<(f64, f64)> {
    let v: Vec<f64> = alphas.iter().flatten().copied().collect();
    (!v.is_empty()).then(|| {
        (
            v.iter().copied().fold(f64::INFINITY, f64::min),
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        )
    })
}

/// Writes `networks.csv` (one row per net cell and layer).
pub(super) fn write_csv(path: &Path, cells: &[&CellResult]) -> Result<()> {
    let fail = |e: csv::Error| Error::Input {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    write_atomically(path, |tmp| {
        let mut w = csv::Writer::from_path(tmp).map_err(fail)?;
        for c in cells {
            let Some(net) = c.run.summary.net.as_ref() else {
                continue;
            };
            let config = c.config();
            // Read once per cell: it opens diverged.npy.
            let accuracy = test_accuracy(c);
            for l in &net.layers {
                let range = chain_range(&l.alpha_per_chain);
                let est = |name: &str| l.estimates.get(name).and_then(|e| e.alpha);
                w.serialize(LayerRow {
                    cell: &c.id,
                    model: config.model.name(),
                    algorithm: config.algorithm.name(),
                    b: config.batch,
                    eta: config.eta,
                    eta_over_b: config.eta / config.batch as f64,
                    seed: config.seed,
                    chains: config.chains,
                    steps: config.steps,
                    late_window: config.late_window.unwrap_or_default(),
                    status: c.run.summary.tail.status.name(),
                    diverged_chains: c.run.summary.tail.diverged_chains,
                    layer: l.name.clone(),
                    samples: l.samples,
                    alpha: l.alpha,
                    alpha_lo: l.alpha_ci.map(|c| c[0]),
                    alpha_hi: l.alpha_ci.map(|c| c[1]),
                    alpha_chain_min: range.map(|r| r.0),
                    alpha_chain_max: range.map(|r| r.1),
                    alpha_mohammadi: l.alpha_mohammadi,
                    powerlaw_p_value: l.estimates.get("powerlaw").and_then(|e| e.p_value),
                    hill_alpha: est("hill"),
                    moments_alpha: est("moments"),
                    test_accuracy: accuracy,
                })
                .map_err(fail)?;
            }
        }
        w.flush().map_err(|e| Error::io(tmp, e))
    })
}

/// Colour index of a batch size: the same b, the same colour, in every panel.
fn color_of(batches: &BTreeSet<usize>, b: usize) -> usize {
    batches.iter().position(|&x| x == b).unwrap_or(0) * 2
}

/// The per-layer figure of one model: a panel per layer (α̂ against log10 η/b, a line per
/// b and algorithm, bars = the chains' own α̂ range) and a panel of test accuracy.
pub(super) fn figure(model: &str, cells: &[&CellResult]) -> Option<Figure> {
    let nets: Vec<NetCell> = cells
        .iter()
        .map(|c| NetCell {
            cell: c,
            net: c.run.summary.net.as_ref(),
        })
        .collect();
    let layers: Vec<String> = nets
        .iter()
        .find_map(|n| n.net)
        .map(|n| n.layers.iter().map(|l| l.name.clone()).collect())?;
    let batches: BTreeSet<usize> = nets.iter().map(|n| n.cell.config().batch).collect();
    let keys: BTreeSet<(Algorithm, usize)> = nets
        .iter()
        .map(|n| (n.cell.config().algorithm, n.cell.config().batch))
        .collect();
    let series = |value: &Value| {
        keys.iter()
            .map(|&(alg, b)| {
                let mut points: Vec<_> = nets
                    .iter()
                    .filter(|n| n.cell.config().algorithm == alg && n.cell.config().batch == b)
                    .filter(|n| !n.diverged())
                    .filter_map(|n| value(n).map(|(y, bar)| (n.eta_over_b().log10(), y, bar)))
                    .collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                Series {
                    label: format!("{} b = {b}", alg.name().to_uppercase()),
                    points,
                    line: true,
                    color: color_of(&batches, b) + usize::from(alg == Algorithm::Km),
                    filled: alg == Algorithm::Sgd,
                }
            })
            .collect::<Vec<_>>()
    };
    let mut panels: Vec<Chart> = layers
        .iter()
        .enumerate()
        .map(|(i, name)| Chart {
            title: format!("{model} {name}"),
            x_label: "log10(η/b)".into(),
            y_label: "α̂ (late window, power law)".into(),
            series: series(&|n| {
                let l = n.net?.layers.get(i)?;
                Some((l.alpha?, chain_range(&l.alpha_per_chain)))
            }),
            h_line: Some(2.0),
            y_range: None,
            x_range: None,
        })
        .collect();
    panels.push(Chart {
        title: format!("{model} test accuracy"),
        x_label: "log10(η/b)".into(),
        y_label: "test accuracy (median of chains)".into(),
        series: series(&|n| test_accuracy(n.cell).map(|a| (a, None))),
        h_line: None,
        y_range: Some((0.0, 1.0)),
        x_range: None,
    });
    Some(Figure {
        title: format!("{model}: per-layer α̂ against η/b (bars: the chains' own α̂)"),
        cols: 2,
        panels,
    })
}

/// Kendall's τ of α̂ against η/b per layer, per algorithm and b; the diverged cells.
pub(super) fn tables(cells: &[&CellResult]) -> String {
    let mut md = String::new();
    let Some(layers) = cells
        .iter()
        .find_map(|c| c.run.summary.net.as_ref())
        .map(|n| n.layers.iter().map(|l| l.name.clone()).collect::<Vec<_>>())
    else {
        return md;
    };
    let keys: BTreeSet<(Algorithm, usize)> = cells
        .iter()
        .map(|c| (c.config().algorithm, c.config().batch))
        .collect();
    let estimators: [(&str, LayerAlpha); 2] = [
        ("the power-law fit (headline)", |l| l.alpha),
        (
            "Mohammadi (GSZ21's estimator, ≤ 2 by construction)",
            |l| l.alpha_mohammadi,
        ),
    ];
    for (what, alpha) in estimators {
        let _ = writeln!(
            md,
            "Kendall's τ of α̂ ({what}) against η/b over the cells where no chain diverged (n cells; −1: α̂ falls monotonically as η/b grows):\n"
        );
        tau_table(&mut md, cells, &layers, &keys, alpha);
    }
    let diverged: Vec<String> = cells
        .iter()
        .filter(|c| c.run.summary.tail.diverged_chains > 0)
        .map(|c| {
            let cfg = c.config();
            format!(
                "{} b = {} η = {} ({} of {} chains)",
                cfg.algorithm.name().to_uppercase(),
                cfg.batch,
                cfg.eta,
                c.run.summary.tail.diverged_chains,
                cfg.chains
            )
        })
        .collect();
    if diverged.is_empty() {
        md.push_str("No cell diverged.\n\n");
    } else {
        let _ = writeln!(
            md,
            "Cells where chains diverged (not plotted): {}.\n",
            diverged.join("; ")
        );
    }
    md
}

/// One τ table: a row per layer, a column per (algorithm, b).
fn tau_table(
    md: &mut String,
    cells: &[&CellResult],
    layers: &[String],
    keys: &BTreeSet<(Algorithm, usize)>,
    alpha: LayerAlpha,
) {
    let _ = write!(md, "| layer |");
    for (alg, b) in keys {
        let _ = write!(md, " {} b = {b} |", alg.name().to_uppercase());
    }
    md.push_str("\n|---|");
    md.push_str(&"---|".repeat(keys.len()));
    md.push('\n');
    for (i, name) in layers.iter().enumerate() {
        let _ = write!(md, "| {name} |");
        for &(alg, b) in keys {
            let points: Vec<(f64, f64)> = cells
                .iter()
                .filter(|c| c.config().algorithm == alg && c.config().batch == b)
                .filter(|c| c.run.summary.tail.diverged_chains == 0)
                .filter_map(|c| {
                    let a = alpha(c.run.summary.net.as_ref()?.layers.get(i)?)?;
                    Some((c.config().eta / b as f64, a))
                })
                .collect();
            let n = points.len();
            if n < 3 {
                let _ = write!(md, " – (n = {n}) |");
            } else {
                let tau = kendall(&points) as f64 / (n * (n - 1) / 2) as f64;
                let _ = write!(md, " {tau:+.2} (n = {n}) |");
            }
        }
        md.push('\n');
    }
    md.push('\n');
}
