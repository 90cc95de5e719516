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
        let name = target
            .file_name()
            .ok_or_else(|| Error::Input {
                path: target.to_path_buf(),
                message: "not a folder name".into(),
            })?
            .to_string_lossy()
            .into_owned();
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        let staging = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        std::fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
        super::cleanup::register(&staging);
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
            let _ = std::fs::remove_dir_all(&self.staging);
            super::cleanup::unregister(&self.staging);
        }
    }
}

/// Writes a file through `write` into a temporary sibling, then renames it into place:
/// a failure leaves neither a half-written file nor the temporary behind.
pub fn write_atomically(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    super::cleanup::register(&tmp);
    let _registered = Unregister(&tmp);
    write(&tmp).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

/// Unregisters a temporary path from the signal cleanup when it goes out of scope.
struct Unregister<'a>(&'a Path);

impl Drop for Unregister<'_> {
    fn drop(&mut self) {
        super::cleanup::unregister(self.0);
    }
}
