//! Progress of long runs: bars on standard error (hidden with `--quiet`), and the stop
//! flag through which a caller (Python's Ctrl-C) ends a training run early.

use crate::error::{Error, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A bar over `len` units whose counter reads `{pos}/{len}` followed by `counter`
/// (indicatif template syntax); hidden when `quiet`.
pub fn progress_bar(len: u64, counter: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {counter}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// A training run's progress: its bar, and a flag another thread may raise to stop it
/// (the run then returns [`Error::Interrupted`] and leaves no output behind). Clones
/// share both.
#[derive(Debug, Clone)]
pub struct Progress {
    bar: ProgressBar,
    stop: Arc<AtomicBool>,
}

impl Progress {
    /// Progress shown on `bar`.
    pub fn new(bar: ProgressBar) -> Self {
        Progress {
            bar,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Progress that nobody sees.
    pub fn hidden() -> Self {
        Self::new(ProgressBar::hidden())
    }

    /// The underlying indicatif bar.
    pub fn bar(&self) -> &ProgressBar {
        &self.bar
    }

    /// `n` more units done.
    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// Asks the run to stop at its next check: after the current step (burn engine) or the
    /// current group of 8 chains (reduced engine).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Whether [`stop`](Self::stop) was called.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// `Err(Error::Interrupted)` once [`stop`](Self::stop) was called.
    pub fn check(&self) -> Result<()> {
        if self.stopped() {
            return Err(Error::Interrupted);
        }
        Ok(())
    }
}
