//! `tailgate report`: merges the finished cells of a sweep folder (any number of shards)
//! into `summary.csv`, plots (PNG and SVG) and `report.md`.

mod convergence;
mod plot;

pub use plot::{Chart, Point, Series, draw};

use crate::commands::train::write_json;
use crate::config::{Algorithm, TrainConfig};
use crate::error::{Error, Result};
use crate::io::{StagedDir, read_npy_f64, read_npy_mask, write_atomically};
use crate::study::{cell_id, kappa};
use crate::sweep::{cell_dir, read_record};
use crate::tail::{self, Center, Rows, bootstrap_diff_ci, center_rows, mohammadi_median};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The part of a cell's `run.json` a report reads.
#[derive(Debug, Clone, Deserialize)]
pub struct CellRun {
    pub config: TrainConfig,
    pub summary: CellSummary,
    #[serde(default)]
    pub least_squares: Option<Vec<f64>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CellSummary {
    pub status: String,
    pub alpha: Option<f64>,
    pub alpha_ci: Option<[f64; 2]>,
    pub alpha_average: Option<f64>,
    pub hill_alpha: Option<f64>,
    pub hill_k: Option<usize>,
    pub diverged_chains: usize,
    pub finite_chains: usize,
    pub converged_to_floor: bool,
    pub wall_seconds: f64,
    #[serde(default)]
    pub theory: Option<TheoryIn>,
    /// Every estimator's α̂ (absent in runs made before tailgate 0.3).
    #[serde(default)]
    pub estimates: BTreeMap<String, EstimateIn>,
}

/// One estimator's entry of `summary.estimates`.
#[derive(Debug, Clone, Deserialize)]
pub struct EstimateIn {
    pub alpha: Option<f64>,
    pub ci: Option<[f64; 2]>,
}

/// The theory's part of a linear cell's summary.
#[derive(Debug, Clone, Deserialize)]
pub struct TheoryIn {
    pub alpha: Option<f64>,
    pub diverges: bool,
    #[serde(default)]
    pub light_tail: bool,
}

/// A finished cell.
#[derive(Debug, Clone)]
pub struct CellResult {
    pub id: String,
    pub dir: PathBuf,
    pub run: CellRun,
}

impl CellResult {
    fn config(&self) -> &TrainConfig {
        &self.run.config
    }

    /// The centre the run's summary used (`least_squares` resolved from run.json).
    fn center(&self) -> Center {
        match (&self.config().center, &self.run.least_squares) {
            (Center::LeastSquares, Some(w)) => Center::Vector(w.clone()),
            (c, _) => c.clone(),
        }
    }

    /// α̂ when the cell has one worth plotting (not diverged, not collapsed).
    fn alpha(&self) -> Option<f64> {
        match self.run.summary.status.as_str() {
            "ok" | "partially_diverged" => self.run.summary.alpha,
            _ => None,
        }
    }

    fn setup(&self) -> Setup {
        Setup {
            model: self.config().model.name(),
            labels: self.config().labels.name(),
            noise_millis: (self.config().label_noise * 1000.0).round() as i64,
        }
    }
}

/// Cells compared together: one label model and noise level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Setup {
    model: &'static str,
    labels: &'static str,
    noise_millis: i64,
}

impl Setup {
    fn title(&self) -> String {
        let model = match self.model {
            "relu_gate" => String::new(),
            m => format!("{m} model, "),
        };
        format!(
            "{model}{}, σ = {}",
            self.labels,
            self.noise_millis as f64 / 1000.0
        )
    }
    fn slug(&self) -> String {
        let model = match self.model {
            "relu_gate" => String::new(),
            m => format!("{m}_"),
        };
        format!(
            "{model}{}_s{}",
            self.labels,
            (self.noise_millis as f64 / 1000.0)
                .to_string()
                .replace('.', "p")
        )
    }
}

/// One row of `summary.csv`.
#[derive(Debug, Default, Serialize)]
pub struct CsvRow<'a> {
    pub cell: &'a str,
    pub algorithm: &'static str,
    pub labels: &'static str,
    pub label_noise: f64,
    pub model: &'static str,
    pub d: usize,
    pub b: usize,
    pub eta: f64,
    pub kappa: f64,
    pub seed: u64,
    pub chains: usize,
    pub steps: usize,
    pub status: &'a str,
    pub alpha: Option<f64>,
    pub alpha_lo: Option<f64>,
    pub alpha_hi: Option<f64>,
    pub alpha_average: Option<f64>,
    pub hill_alpha: Option<f64>,
    pub hill_k: Option<usize>,
    pub diverged_chains: usize,
    pub finite_chains: usize,
    pub converged_to_floor: bool,
    /// The GSZ21 theory's α (linear model only; empty where the theory says it diverges).
    pub theory_alpha: Option<f64>,
    pub theory_diverges: Option<bool>,
    /// The theory's root exceeds `theory::ALPHA_MAX` (a light tail).
    pub theory_light_tail: Option<bool>,
    pub wall_seconds: f64,
}

/// Options of a report.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Cells whose survival function and Hill plot are drawn; empty = per setup and
    /// algorithm, the cell with the heaviest tail (smallest α̂).
    pub cells: Vec<String>,
    /// Bootstrap resamples of the SGD − KM difference.
    pub resamples: usize,
    pub seed: u64,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            cells: vec![],
            resamples: 200,
            seed: 0,
        }
    }
}

/// What was written.
#[derive(Debug)]
pub struct ReportOutcome {
    pub dir: PathBuf,
    pub cells_done: usize,
    pub cells_total: usize,
    pub files: Vec<PathBuf>,
}

/// Loads every finished cell of the sweep folder `dir`, in study order.
pub fn load_cells(dir: &Path) -> Result<(crate::sweep::StudyRecord, Vec<CellResult>)> {
    let record = read_record(dir)?;
    let mut cells = Vec::new();
    for id in &record.cells {
        let cdir = cell_dir(dir, id);
        let path = cdir.join("run.json");
        if !path.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let run: CellRun = serde_json::from_str(&text).map_err(|e| Error::Json {
            path: path.clone(),
            message: e.to_string(),
        })?;
        cells.push(CellResult {
            id: id.clone(),
            dir: cdir,
            run,
        });
    }
    Ok((record, cells))
}

/// Writes the report of the sweep folder `dir` into `out` (default `dir/report`),
/// replacing an earlier report there.
pub fn write_report(
    dir: &Path,
    out: Option<&Path>,
    options: &ReportOptions,
) -> Result<ReportOutcome> {
    let (record, cells) = load_cells(dir)?;
    for id in &options.cells {
        if !cells.iter().any(|c| &c.id == id) {
            return Err(Error::config(
                "cells",
                format!("`{id}` is not a finished cell of {}", dir.display()),
            ));
        }
    }
    let target = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.join("report"));
    let staged = StagedDir::create_replacing(&target, "report.json")?;
    let mut files = Vec::new();

    let csv_path = staged.path("summary.csv");
    write_csv(&csv_path, &cells)?;
    files.push(csv_path);

    let axis = StepAxis {
        kappa: record.study.grids().iter().all(|g| g.kappa.is_some()),
    };
    let mut md = String::new();
    let total = record.cells.len();
    let _ = writeln!(md, "# Study `{}`\n", record.study.name);
    let _ = writeln!(
        md,
        "{} of {} cells finished (folder `{}`); tailgate {}. Every number below comes from \
         `summary.csv` and the cells' `run.json`; α̂ is the Mohammadi median on the centred \
         final iterates across chains with a 95 % bootstrap interval. Cells that diverged \
         or collapsed have no α̂ and are listed, not plotted.\n",
        cells.len(),
        total,
        dir.display(),
        env!("CARGO_PKG_VERSION")
    );
    let mut setups: BTreeMap<Setup, Vec<&CellResult>> = BTreeMap::new();
    for c in &cells {
        setups.entry(c.setup()).or_default().push(c);
    }
    for (setup, group) in &setups {
        let _ = writeln!(md, "## {}\n", setup.title());
        for (name, chart) in setup_charts(*setup, group, axis) {
            embed(&chart, &staged.path(&name), &mut md, &mut files)?;
        }
        let chosen: Vec<&CellResult> = if options.cells.is_empty() {
            heaviest_per_algorithm(group)
        } else {
            group
                .iter()
                .copied()
                .filter(|c| options.cells.contains(&c.id))
                .collect()
        };
        if !chosen.is_empty() {
            let (survival, hill) = tail_charts(*setup, &chosen)?;
            for (name, chart) in [("survival", survival), ("hill", hill)] {
                let stem = staged.path(&format!("{name}_{}", setup.slug()));
                embed(&chart, &stem, &mut md, &mut files)?;
            }
        }
        md.push_str(&compare_algorithms(group, options)?);
        md.push_str(&trends(group, axis));
        md.push_str(&unestimated(group));
    }
    let by_chains = convergence::groups(&cells);
    if !by_chains.is_empty() {
        md.push_str("## Estimators against the number of chains\n\n");
        md.push_str(&convergence::distances(&by_chains));
        for (i, group) in by_chains.iter().enumerate() {
            let chart = convergence::chart(group);
            embed(
                &chart,
                &staged.path(&format!("chains_{i:02}")),
                &mut md,
                &mut files,
            )?;
            md.push_str(&convergence::table(group));
        }
    }
    md.push_str("## Cells\n\n");
    md.push_str(&cell_table(&cells));
    let missing: Vec<&String> = record
        .cells
        .iter()
        .filter(|id| !cells.iter().any(|c| &c.id == *id))
        .collect();
    if !missing.is_empty() {
        let _ = writeln!(
            md,
            "\n{} cells not finished yet (rerun `tailgate sweep` to resume): {}\n",
            missing.len(),
            missing
                .iter()
                .take(20)
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
                + if missing.len() > 20 { ", …" } else { "" }
        );
    }
    let md_path = staged.path("report.md");
    std::fs::write(&md_path, md).map_err(|e| Error::io(&md_path, e))?;
    files.push(md_path);
    let options_path = staged.path("report.json");
    write_json(
        &options_path,
        &serde_json::json!({
            "sweep": dir,
            "cells_done": cells.len(),
            "cells_total": total,
            "survival_cells": options.cells,
            "difference_resamples": options.resamples,
            "seed": options.seed,
        }),
    )?;
    let staging_root = staged.path("");
    let dir_out = staged.commit()?;
    let files = files
        .into_iter()
        .map(|f| dir_out.join(f.strip_prefix(&staging_root).unwrap_or(&f)))
        .collect();
    Ok(ReportOutcome {
        dir: dir_out,
        cells_done: cells.len(),
        cells_total: total,
        files,
    })
}

/// Draws `chart` as `<stem>.png` and `<stem>.svg` and links both from the markdown.
fn embed(chart: &Chart, stem: &Path, md: &mut String, files: &mut Vec<PathBuf>) -> Result<()> {
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

/// `summary.csv`: one row per finished cell, empty fields where a value does not exist.
pub fn write_csv(path: &Path, cells: &[CellResult]) -> Result<()> {
    write_atomically(path, |tmp| {
        let mut w = csv::Writer::from_path(tmp).map_err(|e| csv_error(tmp, e))?;
        if cells.is_empty() {
            // The header comes with the first row; without one, pandas and numpy would get an
            // empty file instead of a table with no rows.
            let mut header = csv::Writer::from_writer(vec![]);
            header
                .serialize(CsvRow::default())
                .map_err(|e| csv_error(tmp, e))?;
            let bytes = header
                .into_inner()
                .map_err(|e| Error::io(tmp, e.into_error()))?;
            let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
            w.write_record(line.split(|&b| b == b','))
                .map_err(|e| csv_error(tmp, e))?;
        }
        for c in cells {
            let cfg = c.config();
            let s = &c.run.summary;
            let alpha = c.alpha();
            w.serialize(CsvRow {
                cell: &c.id,
                algorithm: cfg.algorithm.name(),
                labels: cfg.labels.name(),
                label_noise: cfg.label_noise,
                model: cfg.model.name(),
                d: cfg.dim,
                b: cfg.batch,
                eta: cfg.eta,
                kappa: kappa(cfg),
                seed: cfg.seed,
                chains: cfg.chains,
                steps: cfg.steps,
                status: &s.status,
                alpha,
                alpha_lo: alpha.and(s.alpha_ci.map(|c| c[0])),
                alpha_hi: alpha.and(s.alpha_ci.map(|c| c[1])),
                alpha_average: alpha.and(s.alpha_average),
                hill_alpha: alpha.and(s.hill_alpha),
                hill_k: alpha.and(s.hill_k),
                diverged_chains: s.diverged_chains,
                finite_chains: s.finite_chains,
                converged_to_floor: s.converged_to_floor,
                theory_alpha: s.theory.as_ref().and_then(|t| t.alpha),
                theory_diverges: s.theory.as_ref().map(|t| t.diverges),
                theory_light_tail: s.theory.as_ref().map(|t| t.light_tail),
                wall_seconds: s.wall_seconds,
            })
            .map_err(|e| csv_error(tmp, e))?;
        }
        w.flush().map_err(|e| Error::io(tmp, e))
    })
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn alg_color(alg: Algorithm, shade: usize) -> usize {
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
        .filter_map(|c| c.run.summary.alpha_ci)
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

/// Groups cells by a key.
fn group_by<'a, K: Ord>(
    cells: &[&'a CellResult],
    key: impl Fn(&CellResult) -> K,
) -> BTreeMap<K, Vec<&'a CellResult>> {
    let mut map: BTreeMap<K, Vec<&'a CellResult>> = BTreeMap::new();
    for &c in cells {
        map.entry(key(c)).or_default().push(c);
    }
    map
}

/// A step size (or d, b) as an exact, ordered key: nanounits.
fn fkey(v: f64) -> i64 {
    (v * 1e9).round() as i64
}

/// The x-axis of the step-size plots: κ when every grid is on the κ scale, else η.
#[derive(Clone, Copy)]
struct StepAxis {
    kappa: bool,
}

impl StepAxis {
    fn of(&self, c: &CellResult) -> f64 {
        if self.kappa {
            kappa(c.config())
        } else {
            c.config().eta
        }
    }
    fn label(&self) -> &'static str {
        if self.kappa {
            "κ = η(d + b + 1)/b"
        } else {
            "η"
        }
    }
    fn slug(&self) -> &'static str {
        if self.kappa { "kappa" } else { "eta" }
    }
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

fn setup_charts(setup: Setup, group: &[&CellResult], axis: StepAxis) -> Vec<(String, Chart)> {
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

fn heaviest_per_algorithm<'a>(group: &[&'a CellResult]) -> Vec<&'a CellResult> {
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

/// A cell's finite, non-diverged final rows (uncentred, one row of all the chain's
/// parameters), as its summary kept them: the chains flagged in `diverged.npy`, or, in run
/// folders older than that file, the rows past `divergence_norm` (where the trainer froze them).
pub fn kept_rows(cell: &CellResult) -> Result<Rows> {
    let cfg = cell.config();
    let width = cfg.params_per_chain();
    let path = cell.dir.join("final.npy");
    let array = read_npy_f64(&path)?;
    if array.shape != [cfg.chains, width] {
        return Err(Error::Input {
            path,
            message: format!(
                "shape {:?}: the run's config gives [{}, {width}] (chains, parameters per chain)",
                array.shape, cfg.chains
            ),
        });
    }
    let mask_path = cell.dir.join("diverged.npy");
    let diverged = if mask_path.exists() {
        read_npy_mask(&mask_path, cfg.chains)?
    } else {
        array
            .values
            .chunks_exact(width)
            .map(|r| r.iter().map(|v| v * v).sum::<f64>().sqrt() > cfg.divergence_norm)
            .collect()
    };
    let kept = crate::summary::kept_rows(&array.values, width, &diverged);
    Rows::new(kept, width).map_err(|e| Error::Input {
        path,
        message: e.to_string(),
    })
}

/// ‖w − centre‖ of the kept rows, centred as the run's config says.
pub fn centred_norms(cell: &CellResult) -> Result<Vec<f64>> {
    let rows = kept_rows(cell)?;
    Ok(center_rows(&rows, &cell.center())?.norms())
}

fn tail_charts(setup: Setup, chosen: &[&CellResult]) -> Result<(Chart, Chart)> {
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
        },
        Chart {
            title: format!("Hill plot, {}", setup.title()),
            x_label: "k (upper order statistics)".into(),
            y_label: "Hill estimate of α at k".into(),
            series: hill,
            h_line: Some(2.0),
        },
    ))
}

/// `d=10 b=1 η=0.17`
fn short(c: &CellResult) -> String {
    let cfg = c.config();
    format!("d={} b={} η={:.3}", cfg.dim, cfg.batch, cfg.eta)
}

/// SGD against KM on the same (d, b, η, seed, …): the difference of α̂ with a bootstrap CI.
fn compare_algorithms(group: &[&CellResult], options: &ReportOptions) -> Result<String> {
    let by_pair = group_by(group, |c| pair_key(c.config()));
    let mut rows = Vec::new();
    let mut one_sided = Vec::new();
    for cells in by_pair.values() {
        let sgd = cells
            .iter()
            .find(|c| c.config().algorithm == Algorithm::Sgd);
        let km = cells.iter().find(|c| c.config().algorithm == Algorithm::Km);
        let (Some(sgd), Some(km)) = (sgd, km) else {
            continue;
        };
        match (sgd.alpha(), km.alpha()) {
            (Some(a), Some(b)) => {
                let center = sgd.center();
                let stat = |r: Rows| -> std::result::Result<f64, tail::TailError> {
                    Ok(mohammadi_median(
                        &tail::center_in_place(r, &center)?,
                        &tail::BlockGrid::Network,
                    )?
                    .alpha)
                };
                let ci = if options.resamples >= 2 {
                    bootstrap_diff_ci(
                        &kept_rows(sgd)?,
                        &kept_rows(km)?,
                        options.resamples,
                        0.95,
                        options.seed,
                        stat,
                    )
                    .ok()
                } else {
                    None
                };
                rows.push((*sgd, a, b, ci));
            }
            (None, Some(_)) | (Some(_), None) => one_sided.push((*sgd, *km)),
            (None, None) => {}
        }
    }
    if rows.is_empty() && one_sided.is_empty() {
        return Ok(String::new());
    }
    let order = |c: &CellResult| {
        let cfg = c.config();
        (cfg.dim, cfg.batch, fkey(cfg.eta), cfg.seed)
    };
    rows.sort_by_key(|r| order(r.0));
    one_sided.sort_by_key(|p| order(p.0));
    let mut s = String::from("### SGD and KM\n\n");
    let differ: Vec<_> = rows
        .iter()
        .filter(|r| r.3.as_ref().is_some_and(|ci| ci.lo > 0.0 || ci.hi < 0.0))
        .collect();
    let sgd_heavier = differ.iter().filter(|r| r.1 < r.2).count();
    let with_ci = rows.iter().filter(|r| r.3.is_some()).count();
    let _ = writeln!(
        s,
        "{} cell pairs with the same d, b, η and seed have an α̂ for both algorithms. \
         The 95 % bootstrap interval of α̂_SGD − α̂_KM contains 0 (the algorithms agree) \
         in {} of the {with_ci} pairs with an interval and excludes it in {}: SGD has the \
         heavier tail (smaller α̂) in {sgd_heavier} of those, KM in {}. Mean difference \
         α̂_SGD − α̂_KM: {}.\n",
        rows.len(),
        with_ci - differ.len(),
        differ.len(),
        differ.len() - sgd_heavier,
        if rows.is_empty() {
            "—".to_string()
        } else {
            format!(
                "{:+.3}",
                rows.iter().map(|r| r.1 - r.2).sum::<f64>() / rows.len() as f64
            )
        }
    );
    if !one_sided.is_empty() {
        let _ = writeln!(
            s,
            "In {} pairs only one algorithm has an α̂ — the algorithms separate there:\n",
            one_sided.len()
        );
        for (sgd, km) in &one_sided {
            let _ = writeln!(
                s,
                "- {}: SGD {}, KM {}",
                short(sgd),
                describe_alpha(sgd),
                describe_alpha(km)
            );
        }
        s.push('\n');
    }
    if !rows.is_empty() {
        s.push_str("| d | b | η | seed | α̂ SGD | α̂ KM | SGD − KM [95 % CI] | verdict |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for (c, a, b, ci) in &rows {
            let cfg = c.config();
            let (interval, verdict) = match ci {
                Some(ci) if ci.lo > 0.0 || ci.hi < 0.0 => (
                    format!("[{:+.3}, {:+.3}]", ci.lo, ci.hi),
                    if a < b { "SGD heavier" } else { "KM heavier" },
                ),
                Some(ci) => (format!("[{:+.3}, {:+.3}]", ci.lo, ci.hi), "agree"),
                None => ("—".into(), "no interval"),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {:.4} | {} | {a:.3} | {b:.3} | {:+.3} {interval} | {verdict} |",
                cfg.dim,
                cfg.batch,
                cfg.eta,
                cfg.seed,
                a - b
            );
        }
        s.push('\n');
    }
    Ok(s)
}

fn describe_alpha(c: &CellResult) -> String {
    match c.alpha() {
        Some(a) => format!("α̂ = {a:.3}"),
        None => format!(
            "{} ({} of {} chains diverged)",
            c.run.summary.status,
            c.run.summary.diverged_chains,
            c.config().chains
        ),
    }
}

/// Kendall's τ numerator: concordant minus discordant pairs.
fn kendall(points: &[(f64, f64)]) -> i64 {
    let mut t = 0;
    for i in 0..points.len() {
        for j in i + 1..points.len() {
            let dx = points[j].0 - points[i].0;
            let dy = points[j].1 - points[i].1;
            t += (dx.signum() * dy.signum()) as i64;
        }
    }
    t
}

/// How α̂ moves along one axis with the others fixed, per algorithm.
fn trends(group: &[&CellResult], axis: StepAxis) -> String {
    type Key = (usize, usize, i64, u64);
    type Axis = (
        &'static str,
        fn(&CellResult, StepAxis) -> Key,
        fn(&CellResult, StepAxis) -> f64,
    );
    let axes: [Axis; 3] = [
        (
            "the step size (fixed d, b)",
            |c, _| (c.config().dim, c.config().batch, 0, c.config().seed),
            |c, a| a.of(c),
        ),
        (
            "b (fixed d and step scale)",
            |c, a| (c.config().dim, 0, fkey(a.of(c)), c.config().seed),
            |c, _| c.config().batch as f64,
        ),
        (
            "d (fixed b and step scale)",
            |c, a| (0, c.config().batch, fkey(a.of(c)), c.config().seed),
            |c, _| c.config().dim as f64,
        ),
    ];
    let mut s = String::new();
    for (alg, cells) in group_by(group, |c| c.config().algorithm.name()) {
        for (name, key, x) in axes {
            let (mut falls, mut rises, mut flat) = (0, 0, 0);
            for series in group_by(&cells, |c| key(c, axis)).values() {
                let pts: Vec<(f64, f64)> = series
                    .iter()
                    .filter_map(|c| c.alpha().map(|a| (x(c, axis), a)))
                    .collect();
                if pts.len() < 2 {
                    continue;
                }
                match kendall(&pts).signum() {
                    -1 => falls += 1,
                    1 => rises += 1,
                    _ => flat += 1,
                }
            }
            let n = falls + rises + flat;
            if n > 0 {
                let _ = writeln!(
                    s,
                    "- {alg}: as {name} grows, α̂ falls in {falls} of {n} series, rises in {rises}, \
                     neither in {flat} (sign of Kendall's τ over cells with an α̂)."
                );
            }
        }
    }
    if s.is_empty() {
        return s;
    }
    format!("### How α̂ moves\n\n{s}\n")
}

fn unestimated(group: &[&CellResult]) -> String {
    let bad: Vec<&&CellResult> = group.iter().filter(|c| c.alpha().is_none()).collect();
    if bad.is_empty() {
        return String::new();
    }
    let mut s = format!("Cells without an α̂ ({}):\n\n", bad.len());
    for c in bad {
        let _ = writeln!(
            s,
            "- `{}` {} {}: **{}** ({} of {} chains diverged)",
            c.id,
            c.config().algorithm.name(),
            short(c),
            c.run.summary.status,
            c.run.summary.diverged_chains,
            c.config().chains
        );
    }
    s.push('\n');
    s
}

fn cell_table(cells: &[CellResult]) -> String {
    let mut s = String::from(
        "| cell | model | algorithm | labels | σ | d | b | η | κ | seed | status | α̂ [95 % CI] | Hill α̂ (k) | theory α | diverged |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for c in cells {
        let cfg = c.config();
        let sm = &c.run.summary;
        let alpha = match (c.alpha(), sm.alpha_ci) {
            (Some(a), Some([lo, hi])) => format!("{a:.3} [{lo:.3}, {hi:.3}]"),
            (Some(a), None) => format!("{a:.3}"),
            _ => "—".into(),
        };
        let hill = match (c.alpha().and(sm.hill_alpha), sm.hill_k) {
            (Some(h), Some(k)) => format!("{h:.3} ({k})"),
            _ => "—".into(),
        };
        let theory = match &sm.theory {
            Some(t) => match t.alpha {
                Some(a) => format!("{a:.3}"),
                None if t.light_tail => format!("> {}", crate::theory::ALPHA_MAX),
                None => "diverges".into(),
            },
            None => "—".into(),
        };
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {} | {} | {:.4} | {:.3} | {} | {} | {} | {} | {} | {} |",
            c.id,
            cfg.model.name(),
            cfg.algorithm.name(),
            cfg.labels.name(),
            cfg.label_noise,
            cfg.dim,
            cfg.batch,
            cfg.eta,
            kappa(cfg),
            cfg.seed,
            sm.status,
            alpha,
            hill,
            theory,
            sm.diverged_chains
        );
    }
    s
}

/// Cells that differ only in the algorithm share this key.
fn pair_key(cfg: &TrainConfig) -> String {
    cell_id(&TrainConfig {
        algorithm: Algorithm::Sgd,
        ..cfg.clone()
    })
}
