//! The same seed gives the same bytes as when the goldens in `tests/goldens/` were written:
//! the final-iterate `.npy` and run.json's summary of both engines (the reduced one with
//! its far tail), and
//! `tailgate estimate --format json` on every estimator (the quick study's summary.csv is
//! checked where tests/sweep.rs sweeps it). Bless anew only for a deliberate change:
//! `TAILGATE_BLESS=1 cargo test --test goldens --test sweep`.

mod common;

use common::cli::{p, tailgate};
use common::golden::{check, fingerprint, without_timings};
use common::{assert_success, run_json};

fn train(dir: &std::path::Path, name: &str, args: &[&str]) -> std::path::PathBuf {
    let out = dir.join(name);
    let mut all = vec!["train", "--quiet", "--out", p(&out), "--seed", "5"];
    all.extend_from_slice(args);
    assert_success(&tailgate(&all));
    out
}

#[test]
fn burn_engine_gives_its_golden_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let run = train(
        tmp.path(),
        "burn",
        &[
            "--backend",
            "ndarray",
            "--chains",
            "48",
            "--dim",
            "5",
            "--batch",
            "2",
            "--eta",
            "0.1",
            "--steps",
            "60",
        ],
    );
    check(
        "burn_final.npy",
        &std::fs::read(run.join("final.npy")).unwrap(),
    );
    check(
        "burn_summary.json",
        &without_timings(run_json(&run)["summary"].clone()),
    );
}

#[test]
fn reduced_engine_gives_its_golden_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let run = train(
        tmp.path(),
        "reduced",
        &[
            "--engine",
            "reduced",
            "--chains",
            "2000",
            "--dim",
            "6",
            "--batch",
            "2",
            "--eta",
            "0.35",
            "--steps",
            "3000",
            "--burn-in",
            "500",
            "--far-tail",
            "true",
        ],
    );
    for file in ["final.npy", "coords.npy", "far_tail.npy"] {
        check(
            &format!("reduced_{file}.txt"),
            &fingerprint(&std::fs::read(run.join(file)).unwrap()),
        );
    }
    check(
        "reduced_summary.json",
        &without_timings(run_json(&run)["summary"].clone()),
    );
}

#[test]
fn every_estimator_gives_its_golden_json() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = tmp.path().join("stable.npy");
    assert_success(&tailgate(&[
        "sample-stable",
        "--alpha",
        "1.5",
        "--n",
        "3000",
        "--seed",
        "9",
        "--out",
        p(&sample),
    ]));
    let out = tailgate(&[
        "estimate",
        p(&sample),
        "--estimator",
        "all",
        "--subsamples",
        "20",
        "--format",
        "json",
    ]);
    assert_success(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    check("estimate_all.json", &without_timings(json));
}
