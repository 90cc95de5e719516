//! The report's figures: α̂ against the step size, d and η/b per setup, and the survival
//! function and Hill plot of the heaviest cells; each drawn as PNG and SVG and linked.

use super::cells::{CellResult, Setup, centred_norms, short};
use super::plot::{Chart, Figure, Series, draw, draw_figure};
use crate::config::Algorithm;
use crate::error::Result;
use crate::tail;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Draws a small-multiples `figure` as `<stem>.png` and `<stem>.svg` and links both.
pub(super) fn embed_figure(
    figure: &Figure,
    stem: &Path,
    md: &mut String,
    files: &mut Vec<PathBuf>,
) -> Result<()> {
    link(&figure.title, draw_figure(figure, stem)?, md, files);
    Ok(())
}

/// Draws `chart` as `<stem>.png` and `<stem>.svg` and links both from the markdown.
pub(super) fn embed(
    chart: &Chart,
    stem: &Path,
    md: &mut String,
    files: &mut Vec<PathBuf>,
) -> Result<()> {
    link(&chart.title, draw(chart, stem)?, md, files);
    Ok(())
}

/// The markdown image of `png` with a link to `svg`; both join the report's files.
fn link(title: &str, [png, svg]: [PathBuf; 2], md: &mut String, files: &mut Vec<PathBuf>) {
    let _ = writeln!(
        md,
        "![{title}]({}) ([svg]({}))\n",
        file_name(&png),
        file_name(&svg)
    );
    files.push(png);
    files.push(svg);
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
            points: thinned(norms.len())
                .map(|j| (norms[j].log10(), ((j + 1) as f64 / n).log10(), None))
                .collect(),
            line: true,
            color,
            filled: true,
        });
        let k_max = (norms.len() / 2).max(1);
        hill.push(Series {
            label,
            points: {
                let plot = tail::hill_plot(&norms, k_max);
                thinned(plot.len())
                    .map(|i| (plot[i].0 as f64, plot[i].1, None))
                    .collect()
            },
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
            x_range: None,
        },
        Chart {
            title: format!("Hill plot, {}", setup.title()),
            x_label: "k (upper order statistics)".into(),
            y_label: "Hill estimate of α at k".into(),
            series: hill,
            h_line: Some(2.0),
            y_range: None,
            x_range: None,
        },
    ))
}

/// Ranks 0, 1, … 199 and then every 1 % further: a curve over 10⁵–10⁶ order statistics
/// drawn with under a thousand points (every point of the far tail, where it matters),
/// so that an SVG stays a few hundred kB.
fn thinned(n: usize) -> impl Iterator<Item = usize> {
    let mut next = 0usize;
    std::iter::from_fn(move || {
        let j = next;
        next = if j < 200 {
            j + 1
        } else {
            (j + j / 100).max(j + 1)
        };
        (j < n).then_some(j)
    })
}
