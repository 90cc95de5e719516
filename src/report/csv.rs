//! `summary.csv`: one row per finished cell, loadable by pandas and numpy.

use super::cells::CellResult;
use crate::error::{Error, Result};
use crate::io::write_atomically;
use crate::study::kappa;
use serde::Serialize;
use std::path::Path;

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
    /// The predicted α the theory placed η at (`alpha_target`; empty when η was given).
    pub alpha_target: Option<f64>,
    pub seed: u64,
    pub chains: usize,
    pub steps: usize,
    pub status: &'static str,
    pub alpha: Option<f64>,
    pub alpha_lo: Option<f64>,
    pub alpha_hi: Option<f64>,
    pub alpha_average: Option<f64>,
    /// The Mohammadi block estimator (the field's protocol; ≤ 2 by construction).
    pub alpha_mohammadi: Option<f64>,
    pub alpha_mohammadi_lo: Option<f64>,
    pub alpha_mohammadi_hi: Option<f64>,
    /// The headline power-law fit's threshold, tail size, KS distance and p-value.
    pub powerlaw_xmin: Option<f64>,
    pub powerlaw_n_tail: Option<usize>,
    pub powerlaw_ks: Option<f64>,
    pub powerlaw_p_value: Option<f64>,
    pub hill_alpha: Option<f64>,
    pub hill_k: Option<usize>,
    pub diverged_chains: usize,
    pub finite_chains: usize,
    /// Some chains diverged: every α̂ of the row is of the survivors (biased light).
    pub from_survivors: bool,
    pub surviving_fraction: f64,
    pub converged_to_floor: bool,
    /// The GSZ21 theory's α (linear model only; empty where the theory says it diverges).
    pub theory_alpha: Option<f64>,
    pub theory_diverges: Option<bool>,
    /// The theory's root exceeds `theory::ALPHA_MAX` (a light tail).
    pub theory_light_tail: Option<bool>,
    pub wall_seconds: f64,
    /// `burn` or `reduced`: which engine ran the cell.
    pub engine: &'static str,
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
            let s = &c.run.summary.tail;
            let theory = c.run.summary.theory.as_ref();
            let alpha = c.alpha();
            // The other estimators where the run describes a stationary law at all.
            let usable = c.run.usable().then_some(());
            let powerlaw = s.estimates.get("powerlaw");
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
                alpha_target: cfg.alpha_target,
                seed: cfg.seed,
                chains: cfg.chains,
                steps: cfg.steps,
                status: s.status.name(),
                alpha,
                alpha_lo: alpha.and(s.alpha_ci.map(|c| c[0])),
                alpha_hi: alpha.and(s.alpha_ci.map(|c| c[1])),
                alpha_average: alpha.and(s.alpha_average),
                alpha_mohammadi: usable.and(s.alpha_mohammadi),
                alpha_mohammadi_lo: usable.and(s.alpha_mohammadi_ci.map(|c| c[0])),
                alpha_mohammadi_hi: usable.and(s.alpha_mohammadi_ci.map(|c| c[1])),
                powerlaw_xmin: alpha.and(powerlaw.and_then(|p| p.xmin)),
                powerlaw_n_tail: alpha.and(powerlaw.and_then(|p| p.n_tail)),
                powerlaw_ks: alpha.and(powerlaw.and_then(|p| p.ks)),
                powerlaw_p_value: alpha.and(powerlaw.and_then(|p| p.p_value)),
                hill_alpha: usable.and(s.hill_alpha),
                hill_k: usable.and(s.hill_k),
                diverged_chains: s.diverged_chains,
                finite_chains: c.run.summary.finite_chains,
                from_survivors: s.from_survivors,
                surviving_fraction: s.surviving_fraction,
                converged_to_floor: s.converged_to_floor,
                theory_alpha: theory.and_then(|t| t.alpha),
                theory_diverges: theory.map(|t| t.diverges),
                theory_light_tail: theory.map(|t| t.light_tail),
                wall_seconds: c.run.summary.wall_seconds,
                engine: cfg.engine.name(),
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
