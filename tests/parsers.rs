//! Every parser of outside input — run configs, studies, `.npy` headers and bodies, CSV
//! samples — fed arbitrary and mutated bytes: never a panic, always one line naming the file
//! (or, for a readable config with a bad value, the field).

use proptest::prelude::*;
use std::path::Path;
use tailgate::config::TrainConfig;
use tailgate::study::Study;

/// Parses `bytes` written to `name` with `parse`; an error must be one line naming the file.
fn check<T>(name: &str, bytes: &[u8], parse: impl Fn(&Path) -> tailgate::Result<T>) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(&path)));
    match result {
        Err(p) => {
            let why = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!(
                "parser panicked ({why}) on {:?}",
                String::from_utf8_lossy(bytes)
            )
        }
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            let msg = e.to_string();
            assert!(!msg.contains('\n'), "error spans lines: {msg}");
            // A file that parses but holds a bad value is refused naming the field instead.
            assert!(
                msg.contains(name) || msg.starts_with("invalid config: `"),
                "error names neither the file nor a field: {msg}"
            );
        }
    }
}

/// Flips, inserts or deletes bytes of a valid input at positions drawn by proptest.
fn mutate(valid: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut v = valid.to_vec();
    for &(at, kind, byte) in edits {
        let i = if v.is_empty() { 0 } else { at % v.len() };
        match kind % 3 {
            0 if !v.is_empty() => v[i] ^= byte | 1,
            1 => v.insert(i, byte),
            _ if !v.is_empty() => {
                v.remove(i);
            }
            _ => v.push(byte),
        }
    }
    v
}

const CONFIG: &str = r#"{"algorithm": "km", "dim": 10, "batch": 2, "eta": 0.1, "chains": 64,
  "steps": 100, "labels": "binary01", "label_noise": 0.5, "teacher": "e1", "center": "median"}"#;
const STUDY: &str = r#"{"name": "s", "base": {"chains": 64, "steps": 100},
  "grid": [{"algorithm": ["sgd", "km"], "dim": [5, 10], "kappa": [1.0, 2.0], "seed": [0, 1]}]}"#;

fn valid_npy() -> Vec<u8> {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("x.npy");
    let data: Vec<f64> = (0..24).map(|i| i as f64 * 0.5 - 3.0).collect();
    tailgate::io::write_npy(&path, &[6, 4], &data).unwrap();
    std::fs::read(path).unwrap()
}

fn config(path: &Path) -> tailgate::Result<tailgate::config::Resolved> {
    TrainConfig::from_json_file(path)?.resolve()
}

fn study(path: &Path) -> tailgate::Result<usize> {
    Ok(Study::from_json_file(path)?.cells()?.len())
}

proptest! {
    // A fixed seed: the same cases on every run, so CI is not a lottery.
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(20261201),
        ..ProptestConfig::default()
    })]

    #[test]
    fn configs_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check("run.json", &bytes, config);
    }

    #[test]
    fn mutated_configs_never_panic(edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6)) {
        check("run.json", &mutate(CONFIG.as_bytes(), &edits), config);
    }

    #[test]
    fn mutated_studies_never_panic(edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6)) {
        check("study.json", &mutate(STUDY.as_bytes(), &edits), study);
    }

    #[test]
    fn npy_files_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check("x.npy", &bytes, tailgate::io::read_npy_f64);
        check("mask.npy", &bytes, |p| tailgate::io::read_npy_mask(p, 6));
    }

    #[test]
    fn mutated_npy_never_panics(edits in prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6)) {
        let bytes = mutate(&valid_npy(), &edits);
        check("x.npy", &bytes, tailgate::io::read_samples);
        check("mask.npy", &bytes, |p| tailgate::io::read_npy_mask(p, 6));
    }

    #[test]
    fn csv_samples_never_panic(text in "[0-9eE+.,; \\-naif\\n\\r\"]{0,200}") {
        check("x.csv", text.as_bytes(), tailgate::io::read_samples);
    }
}
