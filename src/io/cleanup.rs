//! What a signal must not leave behind: the staging folders, temporary files and sweep
//! claims this process has open, removed when `SIGINT`, `SIGTERM` or `SIGHUP` arrives
//! (Ctrl-C, `kill`, Slurm before a time limit), before the process exits.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Paths to remove if the process is interrupted.
static OPEN: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Marks `path` (a file or folder this process is building) for removal on a signal.
pub fn register(path: &Path) {
    if let Ok(mut open) = OPEN.lock() {
        open.push(path.to_path_buf());
    }
}

/// `path` is finished (renamed into place) or already removed.
pub fn unregister(path: &Path) {
    if let Ok(mut open) = OPEN.lock()
        && let Some(i) = open.iter().rposition(|p| p == path)
    {
        open.swap_remove(i);
    }
}

/// Removes every registered path; returns how many existed.
pub fn remove_open() -> usize {
    let paths = match OPEN.lock() {
        Ok(mut open) => std::mem::take(&mut *open),
        Err(_) => return 0,
    };
    paths
        .iter()
        .filter(|p| {
            let existed = p.exists();
            if p.is_dir() {
                let _ = std::fs::remove_dir_all(p);
            } else {
                let _ = std::fs::remove_file(p);
            }
            existed
        })
        .count()
}

/// Installs the handler (once per process): on `SIGINT`, `SIGTERM` or `SIGHUP` it removes
/// the registered paths, says so on stderr and exits with 128 + the signal's number.
pub fn install_signal_cleanup() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let removed = remove_open();
                eprintln!(
                    "interrupted (signal {signal}): removed {removed} unfinished output(s); \
                     finished outputs are kept, a rerun resumes"
                );
                std::process::exit(128 + signal);
            }
        });
    });
}
