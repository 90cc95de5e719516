//! Running the binary: its output, and the checks of a refused input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn tailgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tailgate"))
        .args(args)
        .output()
        .expect("the binary runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Runs `train` with a bad input and checks: exit 2, `needle` in stderr, no output left.
pub fn rejects(dir: &Path, args: &[&str], needle: &str) {
    let out = dir.join("out");
    let mut all = vec!["train", "--quiet", "--out", p(&out)];
    all.extend_from_slice(args);
    let o = tailgate(&all);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    assert!(
        stderr(&o).contains(needle),
        "{args:?}: stderr {:?} lacks {needle:?}",
        stderr(&o)
    );
    assert!(!out.exists(), "{args:?} left {out:?} behind");
    let leftovers: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
