//! The manual stays true to the tree: every file or folder that `docs/manual/layout.md`
//! names exists.

use std::path::{Path, PathBuf};

/// The backticked spans of a markdown fragment.
fn spans(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// Whether a span names a source file or folder (not a command, a key or an output file).
fn is_path(span: &str) -> bool {
    !span.contains(' ')
        && (span.ends_with(".rs") || span.ends_with(".py") || span.ends_with('/'))
        && !span.starts_with('-')
}

#[test]
fn every_path_the_layout_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let layout = std::fs::read_to_string(root.join("docs/manual/layout.md")).unwrap();
    let mut missing = Vec::new();
    let mut checked = 0;
    for line in layout.lines().filter(|l| l.starts_with("| `")) {
        let cols: Vec<&str> = line.split(" | ").collect();
        let (first, rest) = (cols[0], cols[1..].join(" | "));
        // The first column names paths from the root; the others name them from one of
        // those folders, from `src/`, or from the root.
        let mut bases: Vec<PathBuf> = vec![root.to_path_buf(), root.join("src")];
        for span in spans(first) {
            checked += 1;
            let path = root.join(span);
            if !path.exists() {
                missing.push(span.to_string());
            }
            if span.ends_with('/') {
                bases.push(path);
            }
        }
        for span in spans(&rest).into_iter().filter(|s| is_path(s)) {
            checked += 1;
            if !bases.iter().any(|b| b.join(span).exists()) {
                missing.push(format!("{span} (in the row of {first})"));
            }
        }
    }
    assert!(
        checked > 40,
        "only {checked} paths found: has the table's format changed?"
    );
    assert!(
        missing.is_empty(),
        "docs/manual/layout.md names paths that do not exist: {missing:?}"
    );
}

#[test]
fn the_manual_names_every_registered_estimator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for doc in ["docs/manual/commands.md", "docs/manual/estimators.md"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        let spans = spans(&text);
        for e in tailgate::tail::ESTIMATORS {
            assert!(
                spans.contains(&e.name()),
                "{doc} does not name the estimator `{}`",
                e.name()
            );
        }
    }
}

/// The manual's study-file section names every axis a grid can vary.
#[test]
fn the_manual_names_every_study_axis() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("docs/manual/commands.md")).unwrap();
    let start = text
        .find("A study file has")
        .expect("commands.md describes the study file");
    let section = &text[start..start + text[start..].find("\n\n").unwrap_or(text.len() - start)];
    let spans = spans(section);
    for axis in tailgate::study::AXES {
        assert!(
            spans.contains(&axis.name),
            "docs/manual/commands.md does not name the study axis `{}`",
            axis.name
        );
    }
}

/// The configuration sits below everything it configures: its files import only the
/// error type, the estimators' crate and the plain constants and theory beside it — never
/// the engines, the data, the nets or the CLI (the circle config ↔ nets/data is gone).
#[test]
fn the_configuration_imports_nothing_above_it() {
    const BELOW: [&str; 6] = ["error", "tail", "backend", "estimate", "io", "theory"];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/config");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for (at, _) in text.match_indices("crate::") {
            let module: String = text[at + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            assert!(
                BELOW.contains(&module.as_str()),
                "{} imports crate::{module}, which is above the configuration",
                path.display()
            );
            seen += 1;
        }
    }
    assert!(
        seen > 0,
        "the check read no `crate::` path under {}",
        dir.display()
    );
}
