//! Runs the cells of a study into one folder, resumably and in shards.
//!
//! Layout of a sweep folder:
//! - `study.json`: the study and the ids of all its cells (the folder's identity);
//! - `cells/<id>/`: one finished run each (`run.json`, `final.npy`, `average.npy`,
//!   `diverged.npy`).
//!
//! A cell folder appears only complete (built aside and renamed, [`StagedDir`]), so the
//! set of cell folders *is* the result log: a sweep killed at any moment loses at most the
//! cells in flight, and a rerun skips every finished cell and redoes only those.
//!
//! [`StagedDir`]: crate::io::StagedDir

use crate::error::{Error, Result};
use crate::io::{parse_json, progress_bar, write_atomically, write_json};
use crate::run::train_into;
use crate::study::{Cell, Shard, Study};
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
    if path.exists() {
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
        return std::fs::create_dir_all(&cells_dir).map_err(|e| Error::io(&cells_dir, e));
    }
    if dir.exists() {
        // A run killed while binding the folder leaves only its temporary study.json.
        for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let entry = entry.map_err(|e| Error::io(dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".study.json.tmp-") {
                let _ = std::fs::remove_file(entry.path());
            } else {
                return Err(Error::Input {
                    path: dir.to_path_buf(),
                    message: "exists, is not empty and has no study.json: not a sweep folder"
                        .into(),
                });
            }
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    write_atomically(&path, |tmp| write_json(tmp, &record))?;
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
    /// Cells found finished and skipped.
    pub skipped: usize,
    /// Cells trained now.
    pub trained: usize,
    /// Cells that failed, with their error.
    pub failed: Vec<(String, String)>,
}

/// Runs the cells of `shard` that are not finished, `jobs` at a time.
pub fn run_sweep(
    study: &Study,
    dir: &Path,
    shard: Shard,
    jobs: usize,
    quiet: bool,
) -> Result<SweepOutcome> {
    let cells = study.cells()?;
    init_dir(dir, study, &cells)?;
    let mine = shard.select(&cells);
    let mut outcome = SweepOutcome {
        total: mine.len(),
        ..SweepOutcome::default()
    };
    let mut todo = Vec::new();
    for cell in mine {
        let target = cell_dir(dir, &cell.id);
        if target.join("run.json").exists() {
            outcome.skipped += 1;
        } else {
            // Left by a killed run of this shard: only this shard ever builds this cell.
            remove_stale(dir, &cell.id)?;
            todo.push(cell);
        }
    }
    let progress = Progress::new(outcome.total, outcome.skipped, quiet);
    let next = AtomicUsize::new(0);
    let failed = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(todo.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(cell) = todo.get(i) else { break };
                    let target = cell_dir(dir, &cell.id);
                    match train_into(&cell.config, &target, &ProgressBar::hidden()) {
                        Ok(done) => progress.finished(cell, done.diverged_chains),
                        Err(e) => {
                            progress.failed(cell, &e);
                            failed
                                .lock()
                                .expect("lock")
                                .push((cell.id.clone(), e.to_string()));
                        }
                    }
                }
            });
        }
    });
    progress.bar.finish_and_clear();
    outcome.failed = failed.into_inner().expect("lock");
    outcome.trained = todo.len() - outcome.failed.len();
    Ok(outcome)
}

/// Removes `cells/.<id>.tmp-*` folders of killed runs.
fn remove_stale(dir: &Path, id: &str) -> Result<()> {
    let cells = dir.join("cells");
    let prefix = format!(".{id}.tmp-");
    let entries = std::fs::read_dir(&cells).map_err(|e| Error::io(&cells, e))?;
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let path = entry.path();
            std::fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

/// Cells done / total, elapsed and remaining time: a bar on a terminal, and one line per
/// finished cell (which also lands in Slurm's log files).
struct Progress {
    bar: ProgressBar,
    total: usize,
    done: AtomicUsize,
    skipped: usize,
    start: Instant,
    quiet: bool,
}

impl Progress {
    fn new(total: usize, skipped: usize, quiet: bool) -> Self {
        let bar = progress_bar(total as u64, "cells, eta {eta}", quiet);
        bar.set_position(skipped as u64);
        bar.reset_eta();
        if !quiet && skipped > 0 {
            bar.suspend(|| eprintln!("resuming: {skipped} of {total} cells already finished"));
        }
        Progress {
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
