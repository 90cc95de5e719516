//! The report's figures: α̂ against the step size, d and η/b per setup, and the survival
//! function and Hill plot of the heaviest cells; each drawn as PNG and SVG and linked.

use super::cells::{CellResult, Setup, StepAxis, centred_norms, fkey, group_by, short};
use super::plot::{Chart, Point, Series, draw};
use crate::config::Algorithm;
use crate::error::Result;
use crate::tail;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Draws `chart` as `<stem>.png` and `<stem>.svg` and links both from the markdown.
pub(super) fn embed(
    chart: &Chart,
    stem: &Path,
    md: &mut String,
    files: &mut Vec<PathBuf>,
) -> Result<()> {
    let [png, svg] = draw(chart, stem)?;
    let _ = writeln!(
        md,
        "![{}]({}) ([svg]({}))\n",
        chart.title,
        file_name(&png),
        file_name(&svg)
    );
    files.push(png);
    files.push(svg);
    Ok(())
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub(super) fn alg_color(alg: Algorithm, shade: usize) -> usize {
    // SGD: blue, green, purple, …; KM: red, orange, brown, …
    const SGD: [usize; 5] = [0, 2, 4, 9, 7];
    const KM: [usize; 5] = [1, 3, 5, 6, 8];
    match alg {
        Algorithm::Sgd => SGD[shade % SGD.len()],
        Algorithm::Km => KM[shade % KM.len()],
    }
}

/// Mean α̂ and mean interval over the seeds of one point.
fn point(cells: &[&CellResult], x: f64) -> Option<Point> {
    let alphas: Vec<f64> = cells.iter().filter_map(|c| c.alpha()).collect();
    if alphas.is_empty() {
        return None;
    }
    let n = alphas.len() as f64;
    let cis: Vec<[f64; 2]> = cells
        .iter()
        .filter(|c| c.alpha().is_some())
        .filter_map(|c| c.run.summary.tail.alpha_ci)
        .collect();
    let ci = (cis.len() == alphas.len()).then(|| {
        let m = cis.len() as f64;
        (
            cis.iter().map(|c| c[0]).sum::<f64>() / m,
            cis.iter().map(|c| c[1]).sum::<f64>() / m,
        )
    });
    Some((x, alphas.iter().sum::<f64>() / n, ci))
}

/// Series per (algorithm, b) of α̂ against `x`, one point per x (mean over seeds).
fn series_by_alg_b(cells: &[&CellResult], x: impl Fn(&CellResult) -> f64) -> Vec<Series> {
    let batches: Vec<usize> = group_by(cells, |c| c.config().batch).into_keys().collect();
    let mut out = Vec::new();
    // The gate's theory is one value for SGD and KM: drawn once per b.
    let mut theory_drawn = std::collections::BTreeSet::new();
    for ((alg, b), group) in group_by(cells, |c| (c.config().algorithm.name(), c.config().batch)) {
        let shade = batches.iter().position(|&v| v == b).unwrap_or(0);
        let points: Vec<_> = group_by(&group, |c| fkey(x(c)))
            .into_values()
            .filter_map(|g| point(&g, x(g[0])))
            .collect();
        if points.is_empty() {
            continue;
        }
        out.push(Series {
            label: format!("{alg} b={b}"),
            points,
            line: true,
            color: alg_color(group[0].config().algorithm, shade),
            filled: group[0].config().algorithm == Algorithm::Sgd,
        });
        let theory: Vec<Point> = group_by(&group, |c| fkey(x(c)))
            .into_values()
            .filter_map(|g| {
                let t = g[0].run.summary.theory.as_ref()?.alpha?;
                Some((x(g[0]), t, None))
            })
            .collect();
        if !theory.is_empty() && theory_drawn.insert(b) {
            out.push(Series {
                label: format!("theory b={b}"),
                points: theory,
                line: true,
                color: 7 + shade,
                filled: false,
            });
        }
    }
    out
}

pub(super) fn setup_charts(
    setup: Setup,
    group: &[&CellResult],
    axis: StepAxis,
) -> Vec<(String, Chart)> {
    let mut charts = Vec::new();
    let dims = group_by(group, |c| c.config().dim);
    for (d, cells) in &dims {
        charts.push((
            format!("alpha_vs_{}_{}_d{d}", axis.slug(), setup.slug()),
            Chart {
                title: format!("Tail index vs {}, {}, d = {d}", axis.slug(), setup.title()),
                x_label: axis.label().into(),
                y_label: "α, Mohammadi estimate (95 % CI)".into(),
                series: series_by_alg_b(cells, |c| axis.of(c)),
                h_line: Some(2.0),
                y_range: None,
            },
        ));
    }
    if dims.len() > 1 {
        for (_, cells) in group_by(group, |c| fkey(axis.of(c))) {
            let x = axis.of(cells[0]);
            charts.push((
                format!("alpha_vs_d_{}_{}{}", setup.slug(), axis.slug(), fmt_slug(x)),
                Chart {
                    title: format!(
                        "Tail index vs d, {}, {} = {x:.3}",
                        setup.title(),
                        axis.slug()
                    ),
                    x_label: "d".into(),
                    y_label: "α, Mohammadi estimate (95 % CI)".into(),
                    series: series_by_alg_b(&cells, |c| c.config().dim as f64),
                    h_line: Some(2.0),
                    y_range: None,
                },
            ));
        }
    }
    let scatter = group_by(group, |c| c.config().algorithm.name())
        .into_values()
        .map(|cells| Series {
            label: cells[0].config().algorithm.name().to_string(),
            points: cells
                .iter()
                .filter_map(|c| {
                    let cfg = c.config();
                    point(&[c], cfg.eta / cfg.batch as f64)
                })
                .collect(),
            line: false,
            color: alg_color(cells[0].config().algorithm, 0),
            filled: true,
        })
        .collect();
    charts.push((
        format!("alpha_vs_eta_over_b_{}", setup.slug()),
        Chart {
            title: format!("Tail index vs η/b, {}", setup.title()),
            x_label: "η / b".into(),
            y_label: "α, Mohammadi estimate (95 % CI)".into(),
            series: scatter,
            h_line: Some(2.0),
            y_range: None,
        },
    ));
    charts
}

/// `0.25` → `0p25`.
fn fmt_slug(v: f64) -> String {
    format!("{v:.3}")
        .trim_end_matches('0')
        .trim_end_matches('.')
        .replace('.', "p")
}

pub(super) fn heaviest_per_algorithm<'a>(group: &[&'a CellResult]) -> Vec<&'a CellResult> {
    let mut best: BTreeMap<&'static str, &CellResult> = BTreeMap::new();
    for c in group {
        let Some(a) = c.alpha() else { continue };
        let e = best.entry(c.config().algorithm.name()).or_insert(c);
        if a < e.alpha().unwrap_or(f64::INFINITY) {
            *e = c;
        }
    }
    best.into_values().collect()
}

pub(super) fn tail_charts(setup: Setup, chosen: &[&CellResult]) -> Result<(Chart, Chart)> {
    let mut survival = Vec::new();
    let mut hill = Vec::new();
    for (i, c) in chosen.iter().enumerate() {
        let mut norms = centred_norms(c)?;
        norms.retain(|v| *v > 0.0);
        norms.sort_by(|a, b| b.total_cmp(a));
        let n = norms.len() as f64;
        let label = format!("{} {}", c.config().algorithm.name(), short(c));
        let color = alg_color(c.config().algorithm, i / 2);
        survival.push(Series {
            label: label.clone(),
            points: norms
                .iter()
                .enumerate()
                .map(|(j, r)| (r.log10(), ((j + 1) as f64 / n).log10(), None))
                .collect(),
            line: true,
            color,
            filled: true,
        });
        let k_max = (norms.len() / 2).max(1);
        hill.push(Series {
            label,
            points: tail::hill_plot(&norms, k_max)
                .into_iter()
                .map(|(k, a)| (k as f64, a, None))
                .collect(),
            line: true,
            color,
            filled: true,
        });
    }
    Ok((
        Chart {
            title: format!("Survival of ‖w − centre‖, {}", setup.title()),
            x_label: "log10 ‖w − centre‖".into(),
            y_label: "log10 P(‖w − centre‖ > r)".into(),
            series: survival,
            h_line: None,
            y_range: None,
        },
        Chart {
            title: format!("Hill plot, {}", setup.title()),
            x_label: "k (upper order statistics)".into(),
            y_label: "Hill estimate of α at k".into(),
            series: hill,
            h_line: Some(2.0),
            y_range: None,
        },
    ))
}
