//! Outputs that appear only complete: folders built aside and renamed, files written atomically.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// An output folder built under a temporary sibling and renamed into place by
/// [`StagedDir::commit`]; dropped uncommitted (an error, a panic), it is removed, so a
/// failed run leaves nothing at the destination.
pub struct StagedDir {
    staging: PathBuf,
    target: PathBuf,
    committed: bool,
    /// Marker file whose presence in an existing target allows replacing it.
    replaces: Option<&'static str>,
}

impl StagedDir {
    /// Refuses a destination that already exists.
    pub fn create(target: &Path) -> Result<Self> {
        if target.exists() {
            return Err(Error::OutputExists(target.to_path_buf()));
        }
        Self::stage(target, None)
    }

    /// Like [`StagedDir::create`], but an existing `target` that holds `marker` (an
    /// earlier output of the same command) is replaced at the commit; any other existing
    /// `target` is refused.
    pub fn create_replacing(target: &Path, marker: &'static str) -> Result<Self> {
        if target.exists() && !target.join(marker).exists() {
            return Err(Error::OutputExists(target.to_path_buf()));
        }
        Self::stage(target, Some(marker))
    }

    fn stage(target: &Path, replaces: Option<&'static str>) -> Result<Self> {
        let name = target.file_name().ok_or_else(|| Error::Input {
            path: target.to_path_buf(),
            message: "not a folder name".into(),
        })?;
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        let staging = staging_folder(&parent.join(name))?;
        Ok(StagedDir {
            staging,
            target: target.to_path_buf(),
            committed: false,
            replaces,
        })
    }

    /// Where files go before the commit.
    pub fn path(&self, file: &str) -> PathBuf {
        self.staging.join(file)
    }

    /// Moves the finished folder to its destination in one rename.
    pub fn commit(mut self) -> Result<PathBuf> {
        if let Some(marker) = self.replaces
            && self.target.join(marker).exists()
        {
            std::fs::remove_dir_all(&self.target).map_err(|e| Error::io(&self.target, e))?;
        }
        if self.target.exists() {
            return Err(Error::OutputExists(self.target.clone()));
        }
        std::fs::rename(&self.staging, &self.target).map_err(|e| Error::io(&self.target, e))?;
        super::cleanup::unregister(&self.staging);
        self.committed = true;
        Ok(self.target.clone())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            super::cleanup::remove_registered(&self.staging);
        }
    }
}

/// Writes a file through `write` into a temporary sibling folder, then renames it into
/// place: a failure or a signal leaves neither a half-written file nor the temporary behind.
/// The file keeps its name (and so its extension) inside the temporary folder.
pub fn write_atomically(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let name = path.file_name().ok_or_else(|| Error::Input {
        path: path.to_path_buf(),
        message: "not a file name".into(),
    })?;
    let staging = staging_folder(path)?;
    let _removed = Removed(&staging);
    let tmp = staging.join(name);
    write(&tmp)?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Creates (registered for the signal cleanup) and returns `.<name>.tmp-<pid>`, the
/// temporary folder beside `target`, first removing a leftover of an earlier process with
/// this pid (a folder, or a file of an older version's `write_atomically`).
fn staging_folder(target: &Path) -> Result<PathBuf> {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let staging = target.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging).or_else(|_| std::fs::remove_file(&staging));
    super::cleanup::create_dir_registered(&staging).map_err(|e| Error::io(&staging, e))?;
    Ok(staging)
}

/// Removes a temporary folder and unregisters it from the signal cleanup when it goes out
/// of scope.
struct Removed<'a>(&'a Path);

impl Drop for Removed<'_> {
    fn drop(&mut self) {
        super::cleanup::remove_registered(self.0);
    }
}
