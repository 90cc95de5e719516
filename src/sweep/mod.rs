//! Runs the cells of a study into one folder, resumably and in shards.
//!
//! Layout of a sweep folder:
//! - `study.json`: the study and the ids of all its cells (the folder's identity);
//! - `cells/<id>/`: one finished run each (`run.json`, `final.npy`, `average.npy`,
//!   `diverged.npy`);
//! - `cells/.<id>.claim/`: the cell is being trained by the worker named in it ([`claim`]);
//! - `failed/<id>.json`: the cell failed, with the error (left alone by later workers
//!   unless they retry failures).
//!
//! A cell folder appears only complete (built aside and renamed, [`StagedDir`]), so the
//! set of cell folders *is* the result log: a sweep killed at any moment loses at most the
//! cells in flight, and a rerun skips every finished cell and redoes only those. Any
//! number of workers may run on one folder at once; each claims a cell before training it.
//!
//! [`StagedDir`]: crate::io::StagedDir

mod claim;

pub use claim::claim_dir;

use crate::error::{Error, Result};
use crate::io::Progress;
use crate::io::{parse_json, progress_bar, write_atomically, write_json};
use crate::run::train_into;
use crate::study::{Cell, Shard, Study};
use claim::Claim;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// `study.json` in a sweep folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyRecord {
    /// The study the folder is bound to.
    pub study: Study,
    /// Every cell id of the study, in study order.
    pub cells: Vec<String>,
}

/// The path of a cell's folder.
pub fn cell_dir(dir: &Path, id: &str) -> PathBuf {
    dir.join("cells").join(id)
}

/// Creates `dir` for `study`, or checks that an existing `dir` belongs to it.
///
/// Shards of one study share the folder; a folder of another study, or one that is not a
/// sweep folder, is refused and left untouched.
pub fn init_dir(dir: &Path, study: &Study, cells: &[Cell]) -> Result<()> {
    let record = StudyRecord {
        study: study.clone(),
        cells: cells.iter().map(|c| c.id.clone()).collect(),
    };
    let path = dir.join("study.json");
    if !path.exists() {
        if dir.exists() {
            // Only temporary study.json files (of a worker binding the folder right now,
            // or of one killed while doing so) may be there already.
            for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
                let entry = entry.map_err(|e| Error::io(dir, e))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if !name.starts_with(".study.json.tmp-") && !dir.join("study.json").exists() {
                    return Err(Error::Input {
                        path: dir.to_path_buf(),
                        message: "exists, is not empty and has no study.json: not a sweep folder"
                            .into(),
                    });
                }
            }
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        // Written aside, then linked into place: of several workers binding the folder at
        // once, exactly one creates study.json and the others read and check it.
        let tmp = dir.join(format!(".study.json.tmp-{}", std::process::id()));
        write_json(&tmp, &record)?;
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
    }
    let existing = read_record(dir).map_err(|e| match e {
        Error::Json { path, message } => Error::Json {
            path,
            message: format!("not a tailgate sweep folder's study.json: {message}"),
        },
        e => e,
    })?;
    if existing.cells != record.cells {
        return Err(Error::Input {
            path: dir.to_path_buf(),
            message: format!(
                "holds study `{}` ({} cells), not this study `{}` ({} cells); \
                 choose another --out",
                existing.study.name,
                existing.cells.len(),
                study.name,
                record.cells.len()
            ),
        });
    }
    let cells_dir = dir.join("cells");
    std::fs::create_dir_all(&cells_dir).map_err(|e| Error::io(&cells_dir, e))
}

/// Reads `study.json` of a sweep folder.
pub fn read_record(dir: &Path) -> Result<StudyRecord> {
    let path = dir.join("study.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::Input {
        path: path.clone(),
        message: format!("cannot read ({e}); is {} a sweep folder?", dir.display()),
    })?;
    parse_json(&path, &text)
}

/// What a sweep did.
#[derive(Debug, Default)]
pub struct SweepOutcome {
    /// Cells of this shard.
    pub total: usize,
    /// Cells found finished when this worker started.
    pub skipped: usize,
    /// Cells this worker trained.
    pub trained: usize,
    /// Cells other workers finished while this one ran.
    pub by_others: usize,
    /// Cells that failed in this run, with their error (recorded in `failed/<id>.json`).
    pub failed: Vec<(String, String)>,
    /// Cells left alone because an earlier run recorded a failure (see `retry_failed`).
    pub failed_before: Vec<String>,
}

/// How workers share a sweep folder.
#[derive(Debug, Clone, Copy)]
pub struct Pool {
    /// A claim whose heartbeat is older than this belongs to a dead worker.
    pub lease: std::time::Duration,
    /// Retrain cells with a failure record instead of leaving them.
    pub retry_failed: bool,
}

impl Default for Pool {
    fn default() -> Self {
        Pool {
            lease: std::time::Duration::from_secs(120),
            retry_failed: false,
        }
    }
}

/// Runs the cells of `shard` that are not finished, `jobs` at a time, with the default
/// [`Pool`].
pub fn run_sweep(
    study: &Study,
    dir: &Path,
    shard: Shard,
    jobs: usize,
    quiet: bool,
) -> Result<SweepOutcome> {
    run_pool(study, dir, shard, jobs, quiet, Pool::default())
}

/// The failure record of a cell.
pub fn failure_path(dir: &Path, id: &str) -> PathBuf {
    dir.join("failed").join(format!("{id}.json"))
}

/// Runs the unfinished cells of `shard`, claiming each before training it, so that any
/// number of workers can run on one folder at once: each cell is trained once, and a
/// worker returns when every cell of its shard is finished or failed (waiting for cells
/// that live workers hold, and taking over those whose workers died).
pub fn run_pool(
    study: &Study,
    dir: &Path,
    shard: Shard,
    jobs: usize,
    quiet: bool,
    pool: Pool,
) -> Result<SweepOutcome> {
    let cells = study.cells()?;
    init_dir(dir, study, &cells)?;
    let mine = shard.select(&cells);
    let mut outcome = SweepOutcome {
        total: mine.len(),
        ..SweepOutcome::default()
    };
    let mut todo = Vec::new();
    let cells_dir = dir.join("cells");
    for cell in mine {
        if cell_dir(dir, &cell.id).join("run.json").exists() {
            if claim_dir(&cells_dir, &cell.id).exists() {
                Claim::clear_dead(&cells_dir, &cell.id, pool.lease);
            }
            outcome.skipped += 1;
        } else if !pool.retry_failed && failure_path(dir, &cell.id).exists() {
            outcome.failed_before.push(cell.id.clone());
        } else {
            todo.push(cell);
        }
    }
    let progress = CellProgress::new(outcome.total, outcome.skipped, quiet);
    let failed = Mutex::new(Vec::new());
    let trained = AtomicUsize::new(0);
    let by_others = AtomicUsize::new(0);
    let fail = |cell: &Cell, e: &Error| {
        progress.failed(cell, e);
        failed
            .lock()
            .expect("lock")
            .push((cell.id.clone(), e.to_string()));
    };
    while !todo.is_empty() {
        let next = AtomicUsize::new(0);
        let busy = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..jobs.max(1).min(todo.len()) {
                scope.spawn(|| {
                    while let Some(cell) = todo.get(next.fetch_add(1, Ordering::SeqCst)) {
                        let done = |d: &Path| d.join("run.json").exists();
                        let target = cell_dir(dir, &cell.id);
                        if done(&target) {
                            by_others.fetch_add(1, Ordering::SeqCst);
                            progress.by_other(cell);
                            continue;
                        }
                        let claim = match Claim::try_take(&cells_dir, &cell.id, pool.lease) {
                            Ok(Some(claim)) => claim,
                            Ok(None) => {
                                busy.lock().expect("lock").push(*cell);
                                continue;
                            }
                            Err(e) => {
                                fail(cell, &e);
                                continue;
                            }
                        };
                        // Finished between the check and the claim, or failed elsewhere.
                        if done(&target) {
                            by_others.fetch_add(1, Ordering::SeqCst);
                            progress.by_other(cell);
                            continue;
                        }
                        // A staging folder left by a dead worker: nobody else builds it now.
                        let result = remove_stale(dir, &cell.id)
                            .and_then(|()| train_into(&cell.config, &target, &Progress::hidden()));
                        match result {
                            Ok(done) => {
                                let _ = std::fs::remove_file(failure_path(dir, &cell.id));
                                trained.fetch_add(1, Ordering::SeqCst);
                                progress.finished(cell, done.diverged_chains());
                            }
                            Err(e) => {
                                record_failure(dir, &cell.id, &e);
                                fail(cell, &e);
                            }
                        }
                        claim.release();
                    }
                });
            }
        });
        todo = busy.into_inner().expect("lock");
        if !todo.is_empty() {
            // Cells that live workers hold: wait for them to finish or for their lease to
            // run out.
            std::thread::sleep((pool.lease / 4).clamp(
                std::time::Duration::from_millis(100),
                std::time::Duration::from_secs(5),
            ));
        }
    }
    progress.bar.finish_and_clear();
    outcome.failed = failed.into_inner().expect("lock");
    outcome.trained = trained.into_inner();
    outcome.by_others = by_others.into_inner();
    Ok(outcome)
}

/// Writes `failed/<id>.json`: the error, where and when.
fn record_failure(dir: &Path, id: &str, error: &Error) {
    let path = failure_path(dir, id);
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let record = serde_json::json!({
        "cell": id,
        "error": error.to_string(),
        "pid": std::process::id(),
        "unix_time": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default(),
    });
    let _ = write_atomically(&path, |tmp| write_json(tmp, &record));
}

/// Removes `cells/.<id>.tmp-*` staging folders and the dead claims of killed workers
/// (called while holding the cell's claim).
fn remove_stale(dir: &Path, id: &str) -> Result<()> {
    let [stale, removing] = claim::stale_prefixes(id);
    claim::remove_prefixed(
        &dir.join("cells"),
        &[format!(".{id}.tmp-"), stale, removing],
    )
}

/// Cells done / total, elapsed and remaining time: a bar on a terminal, and one line per
/// finished cell (which also lands in Slurm's log files).
struct CellProgress {
    bar: ProgressBar,
    total: usize,
    done: AtomicUsize,
    skipped: usize,
    start: Instant,
    quiet: bool,
}

impl CellProgress {
    fn new(total: usize, skipped: usize, quiet: bool) -> Self {
        let bar = progress_bar(total as u64, "cells, eta {eta}", quiet);
        bar.set_position(skipped as u64);
        bar.reset_eta();
        if !quiet && skipped > 0 {
            bar.suspend(|| eprintln!("resuming: {skipped} of {total} cells already finished"));
        }
        CellProgress {
            bar,
            total,
            done: AtomicUsize::new(skipped),
            skipped,
            start: Instant::now(),
            quiet,
        }
    }

    fn finished(&self, cell: &Cell, diverged: usize) {
        let note = if diverged > 0 {
            format!(", {diverged} of {} chains diverged", cell.config.chains)
        } else {
            String::new()
        };
        self.line(&format!("cell {}{note}", describe(cell)));
    }

    fn by_other(&self, cell: &Cell) {
        self.line(&format!(
            "cell {} finished by another worker",
            describe(cell)
        ));
    }

    fn failed(&self, cell: &Cell, error: &Error) {
        self.line(&format!("cell {} FAILED: {error}", describe(cell)));
    }

    fn line(&self, what: &str) {
        let done = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        self.bar.inc(1);
        if self.quiet {
            return;
        }
        let elapsed = self.start.elapsed().as_secs_f64();
        let now = (done - self.skipped) as f64;
        let remaining = elapsed / now * (self.total - done) as f64;
        self.bar.suspend(|| {
            eprintln!(
                "[{done}/{}] {what} (elapsed {}, remaining ~{})",
                self.total,
                clock(elapsed),
                clock(remaining)
            )
        });
    }
}

fn describe(cell: &Cell) -> String {
    let c = &cell.config;
    if c.model.is_net() {
        // The gate's label model, noise and d do not apply to nets on real images.
        return format!(
            "{} {} {} b={} η={:.4} chains={} seed={} [{}]",
            c.model.name(),
            c.algorithm.name(),
            c.dataset
                .as_ref()
                .map_or("fashion_mnist".into(), |d| d.name()),
            c.batch,
            c.eta,
            c.chains,
            c.seed,
            cell.id
        );
    }
    format!(
        "{} {} {} σ={} d={} b={} η={:.4} chains={} seed={} [{}]",
        c.model.name(),
        c.algorithm.name(),
        c.labels.name(),
        c.label_noise,
        c.dim,
        c.batch,
        c.eta,
        c.chains,
        c.seed,
        cell.id
    )
}

/// `1h02m03s`-style durations.
fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m{:02}s", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}
