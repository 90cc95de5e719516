//! The binary end to end: outputs, reproducibility, and every bad-input path
//! (a one-line error naming the problem, exit code 2, nothing left behind).

mod common;

use common::cli::{p, rejects, stderr, tailgate};
use std::process::Command;
use tailgate::io::{read_npy_f64, write_npy};

#[test]
fn train_writes_outputs_and_same_seed_gives_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let out = dir.path().join(name);
        let o = tailgate(&[
            "train",
            "--quiet",
            "--chains",
            "40",
            "--dim",
            "3",
            "--steps",
            "100",
            "--record-every",
            "10",
            "--algorithm",
            "km",
            "--seed",
            "7",
            "--out",
            p(&out),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        out
    };
    let (a, b) = (run("a"), run("b"));
    for f in ["final.npy", "average.npy", "iterates.npy"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
    assert_eq!(
        read_npy_f64(&a.join("final.npy")).unwrap().shape,
        vec![40, 3]
    );
    // Snapshots at steps 60, 70, …, 100 (after record_from = burn_in = 50).
    assert_eq!(
        read_npy_f64(&a.join("iterates.npy")).unwrap().shape,
        vec![5, 40, 3]
    );
    let json = common::run_json(&a);
    assert_eq!(json["config"]["algorithm"], "km");
    assert_eq!(json["config"]["burn_in"], 50);
    assert_eq!(json["teacher"].as_array().unwrap().len(), 3);
    assert_eq!(json["versions"]["burn"], "0.22.1");
    for key in [
        "diverged_chains",
        "finite_chains",
        "wall_seconds",
        "chain_steps_per_second",
        "alpha",
        "alpha_ci",
        "hill_alpha",
        "hill_k",
        "converged_to_floor",
        "protocol",
        "status",
        "center",
    ] {
        assert!(json["summary"].get(key).is_some(), "summary lacks {key}");
    }
    // The last snapshot is the final iterate.
    let it = read_npy_f64(&a.join("iterates.npy")).unwrap().values;
    let fin = read_npy_f64(&a.join("final.npy")).unwrap().values;
    assert_eq!(&it[it.len() - fin.len()..], &fin[..]);
}

#[test]
fn config_file_and_flags_combine() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.json");
    // `train --config c.json FLAGS` with `config` in the file; run.json of the run.
    let run = |config: &str, flags: &[&str], name: &str| {
        std::fs::write(&cfg, config).unwrap();
        let out = dir.path().join(name);
        let mut args = vec!["train", "--quiet", "--config", p(&cfg)];
        args.extend_from_slice(flags);
        args.extend(["--out", p(&out)]);
        let o = tailgate(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        common::run_json(&out)
    };
    let json = run(
        r#"{"chains": 8, "dim": 2, "steps": 20, "eta": 0.01}"#,
        &["--eta", "0.02"],
        "o",
    );
    assert_eq!(json["config"]["chains"], 8);
    assert_eq!(json["config"]["eta"], 0.02);
    assert_eq!(json["config"]["center"], "mean");
    assert_eq!(json["summary"]["center"], "mean");
    assert_eq!(json["config"]["data_rng"], "xoshiro");

    // The data generator from the file, overridden by the flag.
    let json = run(
        r#"{"chains": 8, "dim": 2, "steps": 20, "data_rng": "xoshiro"}"#,
        &["--data-rng", "philox"],
        "philox",
    );
    assert_eq!(json["config"]["data_rng"], "philox");

    let json = run(
        r#"{"chains": 8, "dim": 2, "steps": 20, "center": "median"}"#,
        &[],
        "median",
    );
    assert_eq!(json["summary"]["center"], "median");
}

#[test]
fn bad_train_inputs_exit_2_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let malformed = write("malformed.json", "{\"chains\": 4,, }");
    let truncated = write("truncated.json", "{\"chains\": 4, \"dim\":");
    let unknown = write("unknown.json", "{\"chains\": 4, \"stepz\": 3}");
    let eta = write("eta.json", "{\"eta\": -0.1}");
    let center = write(
        "center.json",
        "{\"dim\": 3, \"center\": {\"vector\": [1.0]}}",
    );
    let d = dir.path();
    rejects(d, &["--config", p(&malformed)], "malformed.json: ");
    rejects(d, &["--config", p(&malformed)], "line 1 column");
    rejects(d, &["--config", p(&truncated)], "EOF");
    rejects(d, &["--config", p(&unknown)], "unknown field `stepz`");
    rejects(d, &["--config", p(&eta)], "`eta`");
    rejects(
        d,
        &["--config", p(&center)],
        "`center` vector has 1 entries, the model has 3 parameters per chain",
    );
    rejects(d, &["--config", p(&d.join("missing.json"))], "missing.json");
    rejects(d, &["--eta", "0"], "`eta`");
    rejects(d, &["--eta", "-1"], "`eta`");
    rejects(d, &["--batch", "0"], "`batch`");
    rejects(d, &["--dim", "0"], "`dim`");
    rejects(d, &["--chains", "0"], "`chains`");
    rejects(d, &["--backend", "tpu"], "invalid value 'tpu'");
    rejects(d, &["--algorithm", "adam"], "invalid value 'adam'");
    rejects(d, &["--data-rng", "mt19937"], "invalid value 'mt19937'");
    rejects(
        d,
        &["--data-rng", "philox", "--dataset-size", "50"],
        "`data_rng`",
    );
    if !cfg!(feature = "wgpu") {
        rejects(d, &["--backend", "wgpu"], "--features wgpu");
    }
}

#[test]
fn existing_output_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("taken");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "x").unwrap();
    let o = tailgate(&[
        "train",
        "--quiet",
        "--chains",
        "2",
        "--steps",
        "4",
        "--out",
        p(&out),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("already exists"));
    assert_eq!(std::fs::read_to_string(out.join("keep.txt")).unwrap(), "x");
}

#[test]
fn estimate_default_recovers_stable_alpha() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.npy");
    let o = tailgate(&[
        "sample-stable",
        "--alpha",
        "1.5",
        "--n",
        "100000",
        "--seed",
        "3",
        "--out",
        p(&file),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = tailgate(&["estimate", p(&file), "--format", "json", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let alpha = json["alpha"].as_f64().unwrap();
    assert!((alpha - 1.5).abs() < 0.05, "alpha {alpha}");
    assert_eq!(json["estimator"], "mohammadi");
    assert_eq!(json["n"], 100000);
    assert_eq!(json["dim"], 1);
    assert_eq!(json["center"], "none");
    let ci = &json["ci"];
    assert!(ci["lo"].as_f64().unwrap() <= alpha && alpha <= ci["hi"].as_f64().unwrap());
    assert!(json["per_block_size"].as_array().unwrap().len() == 8);
    // All estimators, pooled rows, CSV input.
    let plot = dir.path().join("hill.csv");
    let o = tailgate(&[
        "estimate",
        p(&file),
        "--estimator",
        "all",
        "--format",
        "json",
        "--bootstrap",
        "0",
        "--hill-plot",
        p(&plot),
    ]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json[1]["estimator"], "hill");
    assert!(json[1]["k"].as_u64().unwrap() > 0);
    let plot = std::fs::read_to_string(&plot).unwrap();
    assert!(plot.starts_with("k,alpha\n1,"));
    assert_eq!(plot.lines().count(), 100_000);
    let csv = dir.path().join("s.csv");
    std::fs::write(&csv, "a,b\n1,2\n-3,4\n5,-6\n7,8.5\n").unwrap();
    let o = tailgate(&[
        "estimate",
        p(&csv),
        "--estimator",
        "hill",
        "--k",
        "3",
        "--pooled",
        "--format",
        "json",
        "--bootstrap",
        "0",
        "--min-samples",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["n"], 8);
}

#[test]
fn bad_estimate_inputs_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let f64s = d.join("ok.npy");
    write_npy(&f64s, &[6], &[1.0f64, -2.0, 3.0, 0.5, 4.0, 2.0]).unwrap();
    let truncated = d.join("truncated.npy");
    let bytes = std::fs::read(&f64s).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() - 5]).unwrap();
    let ints = d.join("ints.npy");
    write_npy(&ints, &[3], &[1i64, 2, 3]).unwrap();
    let cube = d.join("cube.npy");
    write_npy(&cube, &[2, 2, 2], &[1.0f32; 8]).unwrap();
    let nan = d.join("nan.npy");
    write_npy(&nan, &[3], &[1.0f32, f32::NAN, 2.0]).unwrap();
    let text = d.join("notnpy.npy");
    std::fs::write(&text, "hello").unwrap();
    let (missing, unknown_type) = (d.join("missing.npy"), d.join("x.txt.gz"));
    // A mask of the wrong length for ok.npy, and the right one for nan.npy: it removes the
    // non-finite row, so that file is then estimable.
    let mask = d.join("mask.npy");
    write_npy(&mask, &[3], &[false, true, false]).unwrap();
    let o = tailgate(&[
        "estimate",
        p(&nan),
        "--exclude",
        p(&mask),
        "--block-sizes",
        "2",
        "--bootstrap",
        "0",
        "--min-samples",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let constant = d.join("constant.npy");
    write_npy(&constant, &[400], &[2.5f64; 400]).unwrap();
    let empty = d.join("empty.npy");
    write_npy(&empty, &[0], &[0.0f64; 0]).unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec![p(&missing)], "missing.npy"),
        (vec![p(&text)], "not a readable .npy"),
        (vec![p(&truncated)], "truncated"),
        (vec![p(&ints)], "unsupported dtype"),
        (vec![p(&cube)], "3 dimensions"),
        (vec![p(&nan)], "non-finite"),
        (vec![p(&f64s), "--block-sizes", "1"], "at least 2"),
        (
            vec![p(&f64s), "--block-sizes", "2,10"],
            "fewer rows (6) than the block size 10",
        ),
        (
            vec![p(&f64s), "--estimator", "hill", "--k", "6"],
            "k = 6 is out of range",
        ),
        (vec![p(&f64s), "--ci", "1.5"], "confidence level"),
        (vec![p(&unknown_type)], "unknown file type"),
        (
            vec![p(&f64s), "--estimator", "pickands", "--k", "2"],
            "k = 2 is out of range",
        ),
        (vec![p(&f64s), "--exclude", p(&mask)], "mask.npy"),
        // Too few samples is refused by name unless --min-samples allows it.
        (
            vec![p(&f64s), "--min-samples", "300"],
            "6 samples, fewer than min_samples = 300",
        ),
        (vec![p(&empty), "--min-samples", "300"], "min_samples"),
        (vec![p(&f64s), "--min-samples", "-1"], "--min-samples"),
        (vec![p(&constant)], "constant sample"),
        (
            vec![p(&constant), "--estimator", "powerlaw"],
            "constant sample",
        ),
    ];
    for (args, needle) in cases {
        let mut all = vec!["estimate"];
        all.extend(args.iter());
        if !args.contains(&"--min-samples") {
            all.extend(["--min-samples", "2"]);
        }
        let o = tailgate(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(needle),
            "{args:?}: {:?} lacks {needle:?}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("panicked"), "{args:?}");
    }
}

#[test]
fn theory_command_and_linear_runs_report_the_theory() {
    let out = Command::new(env!("CARGO_BIN_EXE_tailgate"))
        .args([
            "theory", "--model", "linear", "--dim", "10", "--batch", "1", "--eta", "0.17",
            "--format", "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let a = v["alpha"].as_f64().unwrap();
    assert!(a > 1.4 && a < 1.6, "{v}");
    assert_eq!(v["diverges"], false);
    let out = Command::new(env!("CARGO_BIN_EXE_tailgate"))
        .args([
            "theory", "--dim", "10", "--batch", "1", "--eta", "0.3", "--format", "json",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["diverges"], true);
    assert!(v["alpha"].is_null());
    let out = Command::new(env!("CARGO_BIN_EXE_tailgate"))
        .args(["theory", "--dim", "10", "--batch", "1", "--eta", "-1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("eta"));

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lin");
    let out = Command::new(env!("CARGO_BIN_EXE_tailgate"))
        .args([
            "train", "--quiet", "--model", "linear", "--chains", "64", "--steps", "100", "--eta",
            "0.1", "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    common::assert_success(&out);
    let run: serde_json::Value = common::run_json(&dir);
    assert_eq!(run["config"]["model"], "linear");
    let t = &run["summary"]["theory"];
    let want = tailgate::theory::linear_tail_index(10, 1, 0.1)
        .unwrap()
        .alpha
        .unwrap();
    assert!((t["alpha"].as_f64().unwrap() - want).abs() < 1e-12, "{t}");
}
