//! What a signal must not leave behind: the staging folders and sweep claims this process
//! has open, removed when `SIGINT`, `SIGTERM` or `SIGHUP` arrives (Ctrl-C, `kill`, Slurm
//! before a time limit), before the process exits.
//!
//! Other threads keep working while the handler runs, so two races are closed here: an
//! output is created and registered under one lock, which the handler takes and holds until
//! the exit (nothing is created after it has looked, nothing exists unregistered); and a
//! folder is renamed aside before it is removed, so a thread still writing into it by path
//! gets `ENOENT` instead of re-filling it between the removal's listing and its `rmdir`.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Folders to remove if the process is interrupted.
static OPEN: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn open() -> MutexGuard<'static, Vec<PathBuf>> {
    OPEN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Creates the folder `path` (`std::fs::create_dir`: fails if it exists) and marks it for
/// removal on a signal, both under the handler's lock. Once a signal has arrived this
/// blocks until the process exits, so no new output appears.
pub fn create_dir_registered(path: &Path) -> std::io::Result<()> {
    let mut open = open();
    std::fs::create_dir(path)?;
    open.push(path.to_path_buf());
    Ok(())
}

/// `path` is finished (renamed into place) or already removed.
pub fn unregister(path: &Path) {
    let mut open = open();
    if let Some(i) = open.iter().rposition(|p| p == path) {
        open.swap_remove(i);
    }
}

/// Removes the folder `path` (whatever it holds) and then drops it from the signal cleanup.
pub fn remove_registered(path: &Path) {
    let _ = std::fs::remove_dir_all(path);
    unregister(path);
}

/// Removes each of `paths` (renamed aside first); returns how many existed.
fn remove_all(paths: &[PathBuf]) -> usize {
    paths
        .iter()
        .filter(|p| {
            let mut aside = p.as_os_str().to_owned();
            aside.push(".removing");
            let aside = PathBuf::from(aside);
            let target = if std::fs::rename(p, &aside).is_ok() {
                aside
            } else {
                p.to_path_buf()
            };
            let existed = target.exists();
            if target.is_dir() {
                let _ = std::fs::remove_dir_all(&target);
            } else {
                let _ = std::fs::remove_file(&target);
            }
            existed
        })
        .count()
}

/// Installs the handler (once per process): on `SIGINT`, `SIGTERM` or `SIGHUP` it removes
/// the registered folders, says so on stderr and exits with 128 + the signal's number.
pub fn install_signal_cleanup() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                // Held until the exit: see the module's comment.
                let open = open();
                let removed = remove_all(&open);
                eprintln!(
                    "interrupted (signal {signal}): removed {removed} unfinished output(s); \
                     finished outputs are kept, a rerun resumes"
                );
                std::process::exit(128 + signal);
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_being_written_is_removed_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(".cell.tmp-1");
        create_dir_registered(&dir).unwrap();
        std::fs::write(dir.join("a.npy"), b"x").unwrap();
        let paths = vec![dir.clone()];
        assert_eq!(remove_all(&paths), 1);
        assert!(!dir.exists());
        // A writer that still holds the old path cannot re-create anything there.
        assert!(std::fs::write(dir.join("b.npy"), b"x").is_err());
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
        unregister(&dir);
    }

    #[test]
    fn a_failed_creation_is_not_registered() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("exists");
        std::fs::create_dir(&dir).unwrap();
        assert!(create_dir_registered(&dir).is_err());
        assert!(!open().contains(&dir));
    }
}
