//! Cells claimed by workers: any number of `tailgate sweep` processes (threads, array tasks,
//! machines on one shared filesystem) cooperate on one folder. A worker claims a cell by
//! creating `cells/.<id>.claim/` (`mkdir` is atomic, also on NFS), keeps a heartbeat file in
//! it fresh while it trains, and removes it when the cell is committed. A claim whose
//! heartbeat is older than the lease belongs to a worker that died: it is taken over (at
//! once when the owner ran on this host and its process is gone).

use crate::error::{Error, Result};
use crate::io::{create_dir_registered, remove_registered};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

/// How long a claim may lack its owner file before it counts as a dead worker's.
const ORPHAN_AFTER: Duration = Duration::from_secs(10);

/// A held claim; dropped (or released), its folder is removed and its heartbeat stops.
pub struct Claim {
    dir: PathBuf,
    stop: Arc<AtomicBool>,
    beat: Option<std::thread::JoinHandle<()>>,
}

/// The claim folder of a cell.
pub fn claim_dir(cells: &Path, id: &str) -> PathBuf {
    cells.join(format!(".{id}.claim"))
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|| "unknown-host".into())
}

/// `host pid` of this process, as written into its claims.
fn owner() -> String {
    format!("{} {}", host(), std::process::id())
}

/// The claim's owner ran on this host and its process is gone (killed, crashed): no need
/// to wait for the lease.
fn owner_is_dead_here(dir: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(dir.join("owner")) else {
        return false;
    };
    let mut parts = text.split_whitespace();
    match (
        parts.next(),
        parts.next().and_then(|p| p.parse::<u32>().ok()),
    ) {
        (Some(h), Some(pid)) => {
            h == host()
                && pid != std::process::id()
                && Path::new("/proc/self").exists()
                && !Path::new(&format!("/proc/{pid}")).exists()
        }
        _ => false,
    }
}

impl Claim {
    /// Claims cell `id` in `cells`, taking over a claim whose heartbeat is older than
    /// `lease`; `None` when another live worker holds it.
    pub fn try_take(cells: &Path, id: &str, lease: Duration) -> Result<Option<Claim>> {
        let dir = claim_dir(cells, id);
        for _ in 0..2 {
            match create_dir_registered(&dir) {
                Ok(()) => return Claim::hold(dir, lease).map(Some),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if !owner_is_dead_here(&dir) && !is_stale(&dir, lease) {
                        return Ok(None);
                    }
                    // Move the dead claim aside first: of several workers taking it over
                    // at once, only one rename succeeds, and the loser's mkdir then fails.
                    let aside = cells.join(format!(".{id}.stale-{}", owner().replace(' ', "-")));
                    if std::fs::rename(&dir, &aside).is_ok() {
                        let _ = std::fs::remove_dir_all(&aside);
                    }
                }
                Err(e) => return Err(Error::io(&dir, e)),
            }
        }
        Ok(None)
    }

    /// Removes what a dead worker may have left around cell `id` after its cell was
    /// finished (killed between the commit and the release): its claim, and claims it
    /// was moving aside.
    pub fn clear_dead(cells: &Path, id: &str, lease: Duration) {
        let dir = claim_dir(cells, id);
        if dir.exists() && (owner_is_dead_here(&dir) || is_stale(&dir, lease)) {
            let _ = std::fs::remove_dir_all(&dir);
        }
        let _ = remove_prefixed(cells, &stale_prefixes(id));
    }

    /// Holds the claim folder `dir`, just created and registered for the signal cleanup.
    fn hold(dir: PathBuf, lease: Duration) -> Result<Claim> {
        // Built first, so that a failure below drops it and removes the folder.
        let mut claim = Claim {
            dir,
            stop: Arc::new(AtomicBool::new(false)),
            beat: None,
        };
        let heartbeat = claim.dir.join("heartbeat");
        beat(&heartbeat)?;
        std::fs::write(claim.dir.join("owner"), owner()).map_err(|e| Error::io(&claim.dir, e))?;
        let every = (lease / 4).max(Duration::from_millis(100));
        let flag = claim.stop.clone();
        claim.beat = Some(std::thread::spawn(move || {
            let mut since = std::time::Instant::now();
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
                if since.elapsed() >= every {
                    let _ = beat(&heartbeat);
                    since = std::time::Instant::now();
                }
            }
        }));
        Ok(claim)
    }

    /// Stops the heartbeat and removes the claim.
    pub fn release(self) {}
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(b) = self.beat.take() {
            let _ = b.join();
        }
        remove_registered(&self.dir);
    }
}

/// Name prefixes of a cell's dead claims: moved aside for a takeover (`.<id>.stale-*`), or
/// by a signal handler killed before it removed them (`.<id>.claim.removing`).
pub(super) fn stale_prefixes(id: &str) -> [String; 2] {
    [format!(".{id}.stale-"), format!(".{id}.claim.")]
}

/// Removes the entries of `cells` whose names start with one of `prefixes` (leftovers of
/// killed workers).
pub(super) fn remove_prefixed(cells: &Path, prefixes: &[String]) -> Result<()> {
    let entries = std::fs::read_dir(cells).map_err(|e| Error::io(cells, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if prefixes.iter().any(|p| name.starts_with(p)) {
            let path = entry.path();
            std::fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

fn beat(heartbeat: &Path) -> Result<()> {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    std::fs::write(heartbeat, now.to_string()).map_err(|e| Error::io(heartbeat, e))
}

/// The claim's heartbeat (or, just after its `mkdir`, the folder itself) was last written
/// more than `lease` ago: its mtime, set by the file server, against this machine's clock,
/// so the lease must stay well above the clock skew between machines.
fn is_stale(dir: &Path, lease: Duration) -> bool {
    // A live worker writes its owner file within milliseconds of the mkdir; a claim still
    // without one after a few seconds belongs to a worker killed in between.
    let age = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
    };
    if !dir.join("owner").exists() && age(dir).is_some_and(|a| a > lease.min(ORPHAN_AFTER)) {
        return true;
    }
    let modified = std::fs::metadata(dir.join("heartbeat"))
        .or_else(|_| std::fs::metadata(dir))
        .and_then(|m| m.modified());
    match modified {
        Ok(t) => SystemTime::now()
            .duration_since(t)
            .is_ok_and(|age| age > lease),
        // Gone meanwhile: its owner finished; the next mkdir decides.
        Err(_) => true,
    }
}
