//! The finished cells of a sweep folder as the report sees them: each cell's run record,
//! its kept final rows, and the keys cells are grouped and paired by.

use crate::config::{Algorithm, TrainConfig};
use crate::error::{Error, Result};
use crate::io::{read_npy_f64, read_npy_mask};
use crate::run::RunRecord;
use crate::study::{cell_id, kappa};
use crate::sweep::{StudyRecord, cell_dir, read_record};
use crate::tail::{Rows, center_rows};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A finished cell.
#[derive(Debug, Clone)]
pub struct CellResult {
    /// The cell's id: a hash of its resolved config, also its folder name.
    pub id: String,
    /// The cell's run folder, `cells/<id>/` of the sweep.
    pub dir: PathBuf,
    /// The cell's `run.json`.
    pub run: RunRecord,
}

impl CellResult {
    /// The cell's resolved config (`run.config`).
    pub fn config(&self) -> &TrainConfig {
        &self.run.config
    }

    /// α̂ when the cell has one worth plotting (not diverged, not collapsed).
    pub fn alpha(&self) -> Option<f64> {
        self.run.alpha()
    }

    /// Some chains diverged: the α̂ (if any) is of the survivors only.
    pub fn lost_chains(&self) -> bool {
        self.run.summary.tail.diverged_chains > 0
    }

    /// The theory's finite α at this cell (none where it diverges, is a light tail, or
    /// there is no theory).
    pub fn theory_alpha(&self) -> Option<f64> {
        self.run.summary.theory.as_ref()?.alpha
    }

    pub(super) fn setup(&self) -> Setup {
        Setup {
            model: self.config().model.name(),
            labels: self.config().labels.name(),
            noise_millis: (self.config().label_noise * 1000.0).round() as i64,
        }
    }
}

/// Cells compared together: one label model and noise level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Setup {
    pub model: &'static str,
    pub labels: &'static str,
    pub noise_millis: i64,
}

impl Setup {
    pub fn title(&self) -> String {
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
    pub fn slug(&self) -> String {
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

/// Loads every finished cell of the sweep folder `dir`, in study order.
pub fn load_cells(dir: &Path) -> Result<(StudyRecord, Vec<CellResult>)> {
    let record = read_record(dir)?;
    let mut cells = Vec::new();
    for id in &record.cells {
        let cdir = cell_dir(dir, id);
        if !cdir.join("run.json").exists() {
            continue;
        }
        let run = RunRecord::read(&cdir)?;
        cells.push(CellResult {
            id: id.clone(),
            dir: cdir,
            run,
        });
    }
    Ok((record, cells))
}

/// A cell's final rows (one row of all the chain's parameters per chain) and which chains
/// diverged: `diverged.npy`, or, in run folders older than that file, the rows past
/// `divergence_norm` (where the trainer froze them).
fn final_rows(cell: &CellResult) -> Result<(Vec<f64>, Vec<bool>)> {
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
    Ok((array.values, diverged))
}

fn rows(cell: &CellResult, kept: Vec<f64>) -> Result<Rows> {
    Rows::new(kept, cell.config().params_per_chain()).map_err(|e| Error::Input {
        path: cell.dir.join("final.npy"),
        message: e.to_string(),
    })
}

/// A cell's finite, non-diverged final rows (uncentred), as its summary kept them.
pub fn kept_rows(cell: &CellResult) -> Result<Rows> {
    let (values, diverged) = final_rows(cell)?;
    let width = cell.config().params_per_chain();
    rows(cell, crate::summary::kept_rows(&values, width, &diverged))
}

/// The final rows of two cells of one study that differ only in the algorithm, kept where
/// the chain survived in both (finite, not diverged): row i of each comes from chain i,
/// which drew the same data in both cells, so the two are paired row by row.
pub fn paired_rows(a: &CellResult, b: &CellResult) -> Result<(Rows, Rows)> {
    let (va, da) = final_rows(a)?;
    let (vb, db) = final_rows(b)?;
    let width = a.config().params_per_chain();
    let finite = |v: &[f64], i: usize| v[i * width..(i + 1) * width].iter().all(|x| x.is_finite());
    let either: Vec<bool> = (0..da.len().min(db.len()))
        .map(|i| da[i] || db[i] || !finite(&va, i) || !finite(&vb, i))
        .collect();
    Ok((
        rows(a, crate::summary::kept_rows(&va, width, &either))?,
        rows(b, crate::summary::kept_rows(&vb, width, &either))?,
    ))
}

/// ‖w − centre‖ of the kept rows, centred as the run's config says.
pub fn centred_norms(cell: &CellResult) -> Result<Vec<f64>> {
    let rows = kept_rows(cell)?;
    Ok(center_rows(&rows, &cell.run.center()?)?.norms())
}

/// Groups cells by a key.
pub(super) fn group_by<'a, K: Ord>(
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
pub(super) fn fkey(v: f64) -> i64 {
    (v * 1e9).round() as i64
}

/// The step-size axis of the trends: κ when every grid is on the κ scale, else η.
#[derive(Clone, Copy)]
pub(super) struct StepAxis {
    pub kappa: bool,
}

impl StepAxis {
    pub fn of(&self, c: &CellResult) -> f64 {
        if self.kappa {
            kappa(c.config())
        } else {
            c.config().eta
        }
    }
}

/// Cells that differ only in the algorithm share this key.
pub(super) fn pair_key(cfg: &TrainConfig) -> String {
    cell_id(&TrainConfig {
        algorithm: Algorithm::Sgd,
        ..cfg.clone()
    })
}

/// `d=10 b=1 η=0.17`
pub(super) fn short(c: &CellResult) -> String {
    let cfg = c.config();
    format!("d={} b={} η={:.3}", cfg.dim, cfg.batch, cfg.eta)
}
