//! Studies, sweeps (resume, shards, Slurm) and reports.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use tailgate::report::{ReportOptions, write_report};
use tailgate::study::{Shard, Study, eta_from_kappa, kappa};
use tailgate::sweep::{cell_dir, run_sweep};

fn study(json: &str) -> Study {
    serde_json::from_str(json).unwrap()
}

/// 8 small cells: 2 algorithms × 2 κ × 2 seeds.
const SMALL: &str = r#"{
  "name": "small",
  "base": { "chains": 64, "steps": 200, "dim": 5, "teacher": "e1", "min_samples": 32 },
  "grid": { "algorithm": ["sgd", "km"], "kappa": [1.0, 1.8], "seed": [0, 1] }
}"#;

fn tailgate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tailgate"))
}

/// Every file of every cell, by cell id and file name (run.json without its timing).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for cell in std::fs::read_dir(dir.join("cells")).unwrap() {
        let cell = cell.unwrap();
        let id = cell.file_name().to_string_lossy().into_owned();
        assert!(
            !id.starts_with('.'),
            "stale staging folder {id} left behind"
        );
        for f in ["final.npy", "average.npy", "diverged.npy"] {
            out.insert(
                format!("{id}/{f}"),
                std::fs::read(cell.path().join(f)).unwrap(),
            );
        }
        let run: serde_json::Value = common::run_json(&cell.path());
        let s = &run["summary"];
        let stable = serde_json::json!([
            run["config"],
            s["alpha"],
            s["alpha_ci"],
            s["hill_alpha"],
            s["diverged_chains"]
        ]);
        out.insert(format!("{id}/run.json"), stable.to_string().into_bytes());
    }
    out
}

#[test]
fn kappa_grid_sets_eta_on_the_divergence_scale() {
    let s = study(SMALL);
    let cells = s.cells().unwrap();
    assert_eq!(cells.len(), 8);
    for c in &cells {
        // d = 5, b = 1: η = κ / 7.
        assert!((c.config.eta * 7.0 - kappa(&c.config)).abs() < 1e-12);
        assert!(
            [1.0, 1.8]
                .iter()
                .any(|k| (kappa(&c.config) - k).abs() < 1e-12)
        );
        assert_eq!(c.config.init_std, Some(1.0 / 5f64.sqrt()));
    }
    assert!((eta_from_kappa(2.0, 10, 1) - 2.0 / 12.0).abs() < 1e-15);
    // Ids: deterministic, distinct, and 16 hex digits.
    let again = study(SMALL).cells().unwrap();
    assert_eq!(cells, again);
    let mut ids: Vec<&str> = cells.iter().map(|c| c.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8);
    assert!(ids.iter().all(|i| i.len() == 16));
}

#[test]
fn bad_studies_name_the_field() {
    let err = |json: &str| study(json).cells().unwrap_err().to_string();
    let e = err(r#"{"name": "x", "grid": {"kappa": []}}"#);
    assert!(e.contains("kappa") && e.contains("empty"), "{e}");
    let e = err(r#"{"name": "x", "grid": {"eta": [0.1], "kappa": [1.0]}}"#);
    assert!(e.contains("kappa") && e.contains("eta"), "{e}");
    let e = err(r#"{"name": "x", "grid": {"eta": [0.1, -0.2]}}"#);
    assert!(e.contains("eta"), "{e}");
    let e = err(r#"{"name": "x", "grid": []}"#);
    assert!(e.contains("grid"), "{e}");
    let unknown: Result<Study, _> =
        serde_json::from_str(r#"{"name": "x", "grid": {"etas": [0.1]}}"#);
    assert!(unknown.is_err());
}

#[test]
fn shards_parse_and_partition() {
    assert_eq!(Shard::parse("1/3").unwrap(), Shard { index: 1, count: 3 });
    for bad in ["3/3", "0/0", "a/2", "2", "-1/2"] {
        let e = Shard::parse(bad).unwrap_err().to_string();
        assert!(e.contains("shard"), "{bad}: {e}");
    }
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    let s = Shard::from_slurm_env(env(&[
        ("SLURM_ARRAY_TASK_ID", "5"),
        ("SLURM_ARRAY_TASK_MIN", "4"),
        ("SLURM_ARRAY_TASK_COUNT", "3"),
    ]))
    .unwrap();
    assert_eq!(s, Some(Shard { index: 1, count: 3 }));
    assert_eq!(Shard::from_slurm_env(env(&[])).unwrap(), None);
    assert!(
        Shard::from_slurm_env(env(&[
            ("SLURM_ARRAY_TASK_ID", "7"),
            ("SLURM_ARRAY_TASK_COUNT", "3")
        ]))
        .is_err()
    );
    let cells = study(SMALL).cells().unwrap();
    let mut all: Vec<String> = (0..3)
        .flat_map(|i| Shard::new(i, 3).unwrap().select(&cells))
        .map(|c| c.id.clone())
        .collect();
    all.sort();
    let mut expected: Vec<String> = cells.iter().map(|c| c.id.clone()).collect();
    expected.sort();
    assert_eq!(all, expected);
}

#[test]
fn two_shards_equal_one_run_cell_for_cell() {
    let tmp = tempfile::tempdir().unwrap();
    let s = study(SMALL);
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    let out = run_sweep(&s, &one, Shard::ALL, 2, true).unwrap();
    assert_eq!((out.total, out.trained, out.skipped), (8, 8, 0));
    let a = run_sweep(&s, &two, Shard::new(0, 2).unwrap(), 1, true).unwrap();
    let b = run_sweep(&s, &two, Shard::new(1, 2).unwrap(), 1, true).unwrap();
    assert_eq!((a.trained, b.trained), (4, 4));
    assert_eq!(snapshot(&one), snapshot(&two));
    // A finished sweep is never recomputed.
    let again = run_sweep(&s, &one, Shard::ALL, 1, true).unwrap();
    assert_eq!((again.trained, again.skipped), (0, 8));
}

#[test]
fn resume_after_a_crash_mid_cell_redoes_only_that_cell() {
    let tmp = tempfile::tempdir().unwrap();
    let s = study(SMALL);
    let dir = tmp.path().join("sweep");
    run_sweep(&s, &dir, Shard::ALL, 1, true).unwrap();
    let reference = snapshot(&dir);
    // A crash mid-cell: the cell never got renamed into place; its staging folder remains.
    let victim = &s.cells().unwrap()[3].id;
    std::fs::remove_dir_all(cell_dir(&dir, victim)).unwrap();
    let stale = dir.join("cells").join(format!(".{victim}.tmp-999999"));
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("final.npy"), b"\x93NUMPY half").unwrap();
    // And a claim that a signal handler renamed aside but was killed before removing.
    let removing = dir.join("cells").join(format!(".{victim}.claim.removing"));
    std::fs::create_dir(&removing).unwrap();
    let out = run_sweep(&s, &dir, Shard::ALL, 2, true).unwrap();
    assert_eq!((out.trained, out.skipped), (1, 7));
    assert!(!stale.exists() && !removing.exists());
    assert_eq!(snapshot(&dir), reference);
}

/// The SGD–KM differences the report states: median and mean over every pair, and the mean
/// over the pairs where neither cell lost a chain — a survivors-only α̂ (here one SGD cell
/// made to read 3 diverged chains and α̂ = 50) moves the mean but not the intact mean.
#[test]
fn report_separates_pairs_with_lost_chains_from_the_mean_difference() {
    let tmp = tempfile::tempdir().unwrap();
    let s = study(
        r#"{
          "name": "noisy",
          "base": { "chains": 256, "steps": 300, "dim": 3, "teacher": "e1", "label_noise": 1.0,
                    "min_samples": 100 },
          "grid": { "algorithm": ["sgd", "km"], "kappa": [1.0, 1.8], "seed": [0, 1] }
        }"#,
    );
    let dir = tmp.path().join("sweep");
    run_sweep(&s, &dir, Shard::ALL, 2, true).unwrap();
    let cells = s.cells().unwrap();
    let read = |id: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(cell_dir(&dir, id).join("run.json")).unwrap())
            .unwrap()
    };
    let victim = cells
        .iter()
        .find(|c| c.config.algorithm == tailgate::config::Algorithm::Sgd)
        .unwrap();
    let mut run = read(&victim.id);
    let summary = &mut run["summary"];
    summary["diverged_chains"] = 3.into();
    summary["status"] = "partially_diverged".into();
    summary["alpha"] = 50.0.into();
    std::fs::write(
        cell_dir(&dir, &victim.id).join("run.json"),
        serde_json::to_string(&run).unwrap(),
    )
    .unwrap();
    // The differences from the run records, pair by pair.
    let (mut all, mut intact) = (Vec::new(), Vec::new());
    for sgd in cells
        .iter()
        .filter(|c| c.config.algorithm == tailgate::config::Algorithm::Sgd)
    {
        let km = tailgate::config::TrainConfig {
            algorithm: tailgate::config::Algorithm::Km,
            ..sgd.config.clone().into_config()
        };
        let alpha = |id: &str| read(id)["summary"]["alpha"].as_f64().expect("an α̂");
        let diff = alpha(&sgd.id) - alpha(&tailgate::study::cell_id(&km));
        all.push(diff);
        if sgd.id != victim.id {
            intact.push(diff);
        }
    }
    assert_eq!((all.len(), intact.len()), (4, 3));
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let median = tailgate::tail::median(&all);
    write_report(&dir, None, &ReportOptions::default()).unwrap();
    let md = std::fs::read_to_string(dir.join("report").join("details.md")).unwrap();
    let expected = format!(
        "Difference α̂_SGD − α̂_KM: median {median:+.3}, mean {:+.3}; in 1 of the 4 pairs a \
         cell lost chains (its α̂ is of the survivors only), over the other 3 the mean is {:+.3}.",
        mean(&all),
        mean(&intact)
    );
    assert!(md.contains(&expected), "{expected}\n{md}");
    assert!(mean(&all) > 10.0 && mean(&intact).abs() < 1.0);
}

/// 4 cells of about a second each, so that kills land inside cells.
const SLOW: &str = r#"{
  "name": "slow",
  "base": { "chains": 2000, "steps": 1500, "dim": 5, "teacher": "e1" },
  "grid": { "algorithm": ["sgd", "km"], "kappa": [1.0, 1.8] }
}"#;

#[test]
fn sweep_killed_mid_cell_resumes_without_lost_or_doubled_cells() {
    let tmp = tempfile::tempdir().unwrap();
    let study_path = tmp.path().join("study.json");
    std::fs::write(&study_path, SLOW).unwrap();
    let reference = tmp.path().join("reference");
    run_sweep(&study(SLOW), &reference, Shard::ALL, 1, true).unwrap();
    let dir = tmp.path().join("killed");
    let args = |cmd: &mut Command| {
        cmd.args(["sweep", "--quiet", "--config"])
            .arg(&study_path)
            .arg("--out")
            .arg(&dir);
    };
    let finished = || {
        std::fs::read_dir(dir.join("cells"))
            .map(|d| {
                d.filter(|e| {
                    let e = e.as_ref().unwrap();
                    !e.file_name().to_string_lossy().starts_with('.')
                })
                .count()
            })
            .unwrap_or(0)
    };
    let stale = || {
        std::fs::read_dir(dir.join("cells")).is_ok_and(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        })
    };
    // Kill after 0.2 s, 0.35 s, … until the sweep is through; a staging folder left
    // behind proves that a kill landed inside a cell.
    let mut killed_mid_cell = false;
    for round in 0..40 {
        if finished() == 4 {
            break;
        }
        let mut cmd = tailgate();
        args(&mut cmd);
        let mut child = cmd.spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200 + 150 * round));
        child.kill().unwrap(); // SIGKILL: no cleanup runs
        let _ = child.wait();
        killed_mid_cell |= stale();
    }
    assert!(killed_mid_cell, "no kill landed inside a cell");
    let mut cmd = tailgate();
    args(&mut cmd);
    assert!(cmd.status().unwrap().success());
    assert_eq!(snapshot(&dir), snapshot(&reference));
}

/// 2 cells that diverge (κ far beyond the divergence scale) beside 2 that do not.
const WITH_DIVERGED: &str = r#"{
  "name": "diverging",
  "base": { "chains": 64, "steps": 300, "dim": 5, "teacher": "e1", "min_samples": 32 },
  "grid": { "algorithm": ["sgd", "km"], "kappa": [1.5, 6.0] }
}"#;

#[test]
fn report_lists_diverged_cells_and_writes_csv_and_plots() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sweep");
    run_sweep(&study(WITH_DIVERGED), &dir, Shard::ALL, 2, true).unwrap();
    let out = write_report(&dir, None, &ReportOptions::default()).unwrap();
    assert_eq!((out.cells_done, out.cells_total), (4, 4));
    let report = dir.join("report");

    let mut csv = csv::Reader::from_path(report.join("summary.csv")).unwrap();
    let header: Vec<String> = csv.headers().unwrap().iter().map(String::from).collect();
    for col in [
        "algorithm",
        "labels",
        "label_noise",
        "model",
        "d",
        "b",
        "eta",
        "kappa",
        "seed",
        "alpha",
        "alpha_lo",
        "alpha_hi",
        "hill_alpha",
        "diverged_chains",
        "converged_to_floor",
        "status",
        "engine",
    ] {
        assert!(header.iter().any(|h| h == col), "summary.csv lacks `{col}`");
    }
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = csv.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 4);
    let mut diverged = 0;
    for r in &rows {
        let k: f64 = r[col("kappa")].parse().unwrap();
        if k > 5.0 {
            assert_eq!(&r[col("status")], "diverged");
            assert_eq!(&r[col("alpha")], "", "a diverged cell has no α");
            assert_eq!(&r[col("diverged_chains")], "64");
            diverged += 1;
        } else {
            let a: f64 = r[col("alpha")].parse().unwrap();
            assert!(a > 0.0 && a.is_finite(), "{a}");
        }
    }
    assert_eq!(diverged, 2);
    // Every cell's diverged.npy flags exactly the chains its summary counts.
    for r in &rows {
        let mask = tailgate::io::read_npy_mask(
            &dir.join("cells").join(&r[col("cell")]).join("diverged.npy"),
            64,
        )
        .unwrap();
        let flagged = mask.iter().filter(|&&d| d).count();
        assert_eq!(flagged.to_string(), &r[col("diverged_chains")]);
    }

    let details = std::fs::read_to_string(report.join("details.md")).unwrap();
    assert!(details.contains("Cells without an α̂ (2)"), "{details}");
    assert!(details.contains("**diverged**"));
    assert!(details.contains("### SGD and KM"));
    assert!(details.contains("## Cells"));
    // report.md: the findings first, then claim 1 with its verdicts, then the appendix.
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    let findings = md.find("## Findings").expect("a Findings section");
    let claim1 = md.find("## Claim 1").expect("a Claim 1 section");
    assert!(
        findings < claim1 && claim1 < md.find("## Appendix").unwrap(),
        "{md}"
    );
    assert!(md.contains("verdict") && md.contains("margin δ"), "{md}");
    let pngs_in = |p: &std::path::Path| {
        md.contains(p.file_name().unwrap().to_str().unwrap())
            || details.contains(p.file_name().unwrap().to_str().unwrap())
    };
    let pngs: Vec<_> = std::fs::read_dir(&report)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    assert!(pngs.len() >= 2, "{pngs:?}");
    for png in &pngs {
        let bytes = std::fs::read(png).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", png.display());
        assert!(bytes.len() > 5_000, "{} is nearly empty", png.display());
        let svg = std::fs::read_to_string(png.with_extension("svg")).unwrap();
        assert!(
            svg.contains("<svg") && svg.contains("<text"),
            "{}",
            png.display()
        );
        assert!(
            pngs_in(png),
            "{} is linked from neither document",
            png.display()
        );
    }
    // A second report replaces the first.
    write_report(&dir, None, &ReportOptions::default()).unwrap();
}

#[test]
fn a_folder_of_another_study_is_refused_and_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sweep");
    run_sweep(&study(WITH_DIVERGED), &dir, Shard::ALL, 1, true).unwrap();
    let before = std::fs::read(dir.join("study.json")).unwrap();
    let e = run_sweep(&study(SMALL), &dir, Shard::ALL, 1, true)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("diverging") && e.contains("another --out"),
        "{e}"
    );
    assert_eq!(std::fs::read(dir.join("study.json")).unwrap(), before);
    // A non-empty folder that is not a sweep folder.
    let other = tmp.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    let e = run_sweep(&study(SMALL), &other, Shard::ALL, 1, true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a sweep folder"), "{e}");
    assert_eq!(std::fs::read_dir(&other).unwrap().count(), 1);
}

#[test]
fn cli_sweep_errors_and_slurm_script() {
    let tmp = tempfile::tempdir().unwrap();
    let study_path = tmp.path().join("study.json");
    std::fs::write(&study_path, SMALL).unwrap();
    let dir = tmp.path().join("sweep");
    let out = tailgate()
        .args(["sweep", "--shard", "2/2", "--config"])
        .arg(&study_path)
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("shard") && err.contains("2/2"), "{err}");
    assert!(!dir.exists(), "nothing is created on bad input");

    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, r#"{"name": "x", "grid": {"dims": [5]}}"#).unwrap();
    let out = tailgate()
        .args(["sweep", "--config"])
        .arg(&bad)
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.json"), "{err}");

    let out = tailgate()
        .args(["slurm", "--shards", "3", "--time", "01:00:00"])
        .arg(&study_path)
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    common::assert_success(&out);
    let script = std::fs::read_to_string(dir.join("sweep.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=0-2"), "{script}");
    assert!(script.contains("#SBATCH --time=01:00:00"));
    assert!(script.contains(" sweep --config "));
    assert!(script.contains(&dir.display().to_string()));
    assert!(dir.join("study.json").exists());
    // Nothing trained yet: the report's summary.csv is a header without rows, not an
    // empty file (which pandas refuses).
    let empty = write_report(&dir, None, &ReportOptions::default()).unwrap();
    assert_eq!(empty.cells_done, 0);
    let mut csv = csv::Reader::from_path(dir.join("report").join("summary.csv")).unwrap();
    let header: Vec<String> = csv.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header.len(), 74, "{header:?}");
    assert_eq!((&header[0][..], &header[14][..]), ("cell", "alpha"));
    assert_eq!(csv.records().count(), 0);
    // The script's sweep, as one array task would run it.
    let out = tailgate()
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "3")
        .args(["sweep", "--quiet", "--config"])
        .arg(&study_path)
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    common::assert_success(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("shard 1/3: 3 cells, 3 trained"), "{stdout}");
}

#[test]
fn shipped_quick_study_runs_and_shows_heavier_tails_at_larger_steps() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("quick");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/paper/quick.json");
    let s = Study::from_json_file(&path).unwrap();
    let out = run_sweep(&s, &dir, Shard::ALL, 2, true).unwrap();
    assert_eq!((out.total, out.trained), (16, 16));
    write_report(&dir, None, &ReportOptions::default()).unwrap();
    // The same seeds give the same table (tests/goldens.rs says how to bless it).
    common::golden::check(
        "quick_summary.csv",
        &common::golden::csv_without_timings(&dir.join("report/summary.csv")),
    );
    let mut csv = csv::Reader::from_path(dir.join("report/summary.csv")).unwrap();
    let header = csv.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = csv.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 16);
    for alg in ["sgd", "km"] {
        let alpha_at = |kappa: f64| -> f64 {
            let r = rows
                .iter()
                .find(|r| {
                    &r[col("algorithm")] == alg
                        && &r[col("labels")] == "realizable"
                        && (r[col("kappa")].parse::<f64>().unwrap() - kappa).abs() < 1e-9
                })
                .unwrap();
            r[col("alpha")].parse().unwrap()
        };
        // docs/theory.md §4.4: no heavy tail far below the divergence scale, a heavy one near it.
        assert!(alpha_at(1.2) > 1.85, "{alg}: {}", alpha_at(1.2));
        assert!(
            alpha_at(2.1) < alpha_at(1.2) - 0.3,
            "{alg}: {}",
            alpha_at(2.1)
        );
    }
}

#[test]
fn report_compares_mlp_cells_on_whole_parameter_rows() {
    // An MLP chain's row is all its P = 5·4 + 4 = 24 weights, not d = 5 values: the
    // report's SGD − KM interval must resample those rows, as the cells' own α̂ did.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sweep");
    let mlp = r#"{
      "name": "mlp",
      "base": { "chains": 120, "steps": 200, "dim": 5, "teacher": "e1", "model": "mlp",
                "depth": 2, "hidden": 4, "eta": 0.05, "min_samples": 50 },
      "grid": { "algorithm": ["sgd", "km"] }
    }"#;
    run_sweep(&study(mlp), &dir, Shard::ALL, 2, true).unwrap();
    write_report(&dir, None, &ReportOptions::default()).unwrap();
    let rows = |alg: &str| {
        let cell = std::fs::read_dir(dir.join("cells"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| common::run_json(p)["config"]["algorithm"] == alg)
            .unwrap();
        let w = tailgate::io::read_npy_f64(&cell.join("final.npy")).unwrap();
        assert_eq!(w.shape, vec![120, 24]);
        tailgate::tail::Rows::new(w.values, 24).unwrap()
    };
    let alpha = |alg: &str| {
        let cell = std::fs::read_dir(dir.join("cells"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| common::run_json(p)["config"]["algorithm"] == alg)
            .unwrap();
        common::run_json(&cell)["summary"]["alpha"]
            .as_f64()
            .unwrap()
    };
    let options = ReportOptions::default();
    // Paired: chain i of both cells drew the same data; none diverged here, so all rows.
    let ci = tailgate::report::alpha_difference_ci(
        &rows("sgd"),
        &rows("km"),
        &tailgate::tail::Center::Mean,
        alpha("sgd") - alpha("km"),
        options.resamples,
        options.seed,
    )
    .unwrap();
    let md = std::fs::read_to_string(dir.join("report").join("details.md")).unwrap();
    let want = format!("[{:+.3}, {:+.3}]", ci.lo, ci.hi);
    assert!(
        md.contains(&want),
        "report.md lacks the interval {want}:\n{md}"
    );

    // A damaged diverged.npy is refused by name, not read as some mask.
    let cell = std::fs::read_dir(dir.join("cells"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mask = cell.join("diverged.npy");
    let refused_saying = |expected: &str| {
        let err = write_report(&dir, None, &ReportOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("diverged.npy") && err.contains(expected),
            "{err}"
        );
    };
    tailgate::io::write_npy(&mask, &[120], &[0.0f32; 120]).unwrap();
    refused_saying("expected bool");
    tailgate::io::write_npy(&mask, &[119], &[false; 119]).unwrap();
    refused_saying("expected [120]");
}

/// The paper study's gate cells come in SGD–KM pairs that differ only in the algorithm
/// (same seed, so the same initial weights and data streams: the reduced engine's
/// `sgd_and_km_draw_the_same_numbers` in tests/reduced.rs checks the draws), which makes
/// the report's SGD − KM interval a paired comparison; and every cell of the claims (η
/// placed by the theory, no stationarity checkpoints) has ≥ 3 seeds.
#[test]
fn paper_study_pairs_every_gate_cell_with_its_other_algorithm() {
    let study = Study::from_json_file(Path::new("configs/paper/paper.json")).unwrap();
    let cells = study.cells().unwrap();
    let ids: std::collections::HashSet<String> = cells.iter().map(|c| c.id.clone()).collect();
    let mut pairs = 0;
    for c in cells.iter().filter(|c| {
        c.config.model == tailgate::config::Model::ReluGate
            && c.config.algorithm == tailgate::config::Algorithm::Sgd
    }) {
        let km = tailgate::config::TrainConfig {
            algorithm: tailgate::config::Algorithm::Km,
            ..c.config.clone().into_config()
        };
        assert!(
            ids.contains(&tailgate::study::cell_id(&km)),
            "no KM partner for {}",
            c.id
        );
        pairs += 1;
    }
    assert!(pairs >= 80, "{pairs} pairs");
    // Every seed axis has at least 3 values per cell of the gate and linear arms.
    let mut seeds: BTreeMap<String, usize> = BTreeMap::new();
    for c in cells
        .iter()
        .filter(|c| c.config.alpha_target.is_some() && c.config.checkpoints.is_empty())
    {
        let key = tailgate::config::TrainConfig {
            seed: 0,
            ..c.config.clone().into_config()
        };
        *seeds.entry(tailgate::study::cell_id(&key)).or_default() += 1;
    }
    assert!(
        seeds.values().all(|&n| n >= 3),
        "a cell with fewer than 3 seeds"
    );
}

/// Two `tailgate sweep` processes on one folder at once (a resubmitted array, a second
/// worker): both exit 0, every cell is trained exactly once, the cells are the bytes one
/// process gives, and no claim or staging folder is left.
#[test]
fn concurrent_workers_on_one_folder_share_the_cells() {
    let tmp = tempfile::tempdir().unwrap();
    let study_path = tmp.path().join("study.json");
    std::fs::write(&study_path, SMALL).unwrap();
    let reference = tmp.path().join("reference");
    run_sweep(&study(SMALL), &reference, Shard::ALL, 1, true).unwrap();
    let dir = tmp.path().join("shared");
    let spawn = || {
        tailgate()
            .args(["sweep", "--quiet", "--jobs", "2", "--config"])
            .arg(&study_path)
            .arg("--out")
            .arg(&dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let mut trained = 0;
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        common::assert_success(&out);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let n: usize = stdout
            .split(" trained now")
            .next()
            .and_then(|s| s.rsplit(", ").next())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| panic!("no count in {stdout}"));
        trained += n;
    }
    assert_eq!(trained, 8, "each of the 8 cells trained exactly once");
    assert_eq!(snapshot(&dir), snapshot(&reference));
}

/// A claim left by a worker that died on another machine is taken over once its heartbeat
/// is older than the lease; one whose owner process is gone on this host at once; one
/// without an owner file (its worker died right after the mkdir) after a few seconds.
#[test]
fn dead_workers_claims_are_taken_over() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sweep");
    let s = study(SMALL);
    let cells = s.cells().unwrap();
    tailgate::sweep::init_dir(&dir, &s, &cells).unwrap();
    let cells_dir = dir.join("cells");
    // Cell 0: a foreign host's claim, heartbeat 10 minutes old.
    let old = tailgate::sweep::claim_dir(&cells_dir, &cells[0].id);
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(old.join("owner"), "some-other-node 12345").unwrap();
    let beat = old.join("heartbeat");
    std::fs::write(&beat, "0").unwrap();
    let ten_minutes_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(600);
    std::fs::File::options()
        .write(true)
        .open(&beat)
        .unwrap()
        .set_modified(ten_minutes_ago)
        .unwrap();
    // Cell 1: this host's claim by a process that no longer exists, fresh heartbeat.
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let dead = tailgate::sweep::claim_dir(&cells_dir, &cells[1].id);
    std::fs::create_dir_all(&dead).unwrap();
    std::fs::write(dead.join("owner"), format!("{} {pid}", host.trim())).unwrap();
    std::fs::write(dead.join("heartbeat"), "0").unwrap();
    // Cell 2: a claim without an owner file, 30 s old (its worker died right after mkdir).
    let orphan = tailgate::sweep::claim_dir(&cells_dir, &cells[2].id);
    std::fs::create_dir_all(&orphan).unwrap();
    std::fs::File::open(&orphan)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(30))
        .unwrap();
    let pool = tailgate::sweep::Pool {
        lease: std::time::Duration::from_secs(60),
        retry_failed: false,
    };
    let start = std::time::Instant::now();
    let out = tailgate::sweep::run_pool(&s, &dir, Shard::ALL, 2, true, pool).unwrap();
    assert_eq!((out.trained, out.by_others), (8, 0));
    assert!(
        !old.exists() && !dead.exists() && !orphan.exists(),
        "claims left behind"
    );
    assert!(
        start.elapsed().as_secs() < 30,
        "waited for a lease it need not"
    );
}

/// A cell that fails is recorded in `failed/<id>.json` with its error, listed by the
/// report, and left alone by the next sweep (exit 0) unless it retries failures.
#[test]
fn failed_cells_are_recorded_reported_and_not_retried_forever() {
    let tmp = tempfile::tempdir().unwrap();
    let study_path = tmp.path().join("study.json");
    std::fs::write(&study_path, SMALL).unwrap();
    let dir = tmp.path().join("sweep");
    let s = study(SMALL);
    let cells = s.cells().unwrap();
    tailgate::sweep::init_dir(&dir, &s, &cells).unwrap();
    // A file where the cell's folder must go: training it fails.
    let blocked = &cells[3].id;
    std::fs::write(cell_dir(&dir, blocked), "in the way").unwrap();
    let sweep = || {
        tailgate()
            .args(["sweep", "--quiet", "--config"])
            .arg(&study_path)
            .arg("--out")
            .arg(&dir)
            .output()
            .unwrap()
    };
    let first = sweep();
    assert_eq!(
        first.status.code(),
        Some(2),
        "a failed cell is an error the first time"
    );
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("failed").join(format!("{blocked}.json"))).unwrap(),
    )
    .unwrap();
    assert!(
        record["error"].as_str().unwrap().contains("already exists"),
        "{record}"
    );
    let second = sweep();
    common::assert_success(&second);
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        stdout.contains("0 trained now") && stdout.contains(blocked.as_str()),
        "{stdout}"
    );
    write_report(&dir, None, &ReportOptions::default()).unwrap();
    let md = std::fs::read_to_string(dir.join("report").join("details.md")).unwrap();
    assert!(
        md.contains("Failed cells") && md.contains(blocked.as_str()),
        "{md}"
    );
    // Cleared and retried on request.
    std::fs::remove_file(cell_dir(&dir, blocked)).unwrap();
    let retried = tailgate()
        .args(["sweep", "--quiet", "--retry-failed", "--config"])
        .arg(&study_path)
        .arg("--out")
        .arg(&dir)
        .output()
        .unwrap();
    common::assert_success(&retried);
    assert!(cell_dir(&dir, blocked).join("run.json").exists());
    assert!(!dir.join("failed").join(format!("{blocked}.json")).exists());
}

/// SIGTERM (Slurm's warning before a time limit, `kill`) during a sweep leaves no staging
/// folder and no claim behind, exits 143, and the sweep resumes to the same cells.
#[test]
fn sigterm_leaves_no_staging_folder_or_claim() {
    let tmp = tempfile::tempdir().unwrap();
    let study_path = tmp.path().join("study.json");
    std::fs::write(&study_path, SLOW).unwrap();
    let dir = tmp.path().join("sweep");
    let sweep = || {
        let mut cmd = tailgate();
        cmd.args(["sweep", "--quiet", "--jobs", "2", "--config"])
            .arg(&study_path)
            .arg("--out")
            .arg(&dir);
        cmd
    };
    let unfinished = || -> Vec<String> {
        std::fs::read_dir(dir.join("cells"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|name| name.contains(".tmp-") || name.contains(".claim"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut child = sweep().spawn().unwrap();
    // Wait until a cell is being built, then signal.
    let start = std::time::Instant::now();
    while unfinished().is_empty() && start.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!unfinished().is_empty(), "no cell started");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let code = child.wait().unwrap().code();
    assert_eq!(code, Some(143));
    let left = unfinished();
    assert!(left.is_empty(), "survived SIGTERM: {left:?}");
    assert!(sweep().status().unwrap().success());
    assert_eq!(
        std::fs::read_dir(dir.join("cells")).unwrap().count(),
        4,
        "the rerun finished every cell"
    );
}

/// The quick study through a real Slurm: `tailgate slurm` writes the array script,
/// `sbatch --wait` runs it (4 workers pulling cells from the pool), and every cell equals
/// a local sweep's, byte for byte. Needs a Slurm node (`scripts/slurm-local up`, which
/// `.ci/run` starts); without one it says why and is skipped.
#[test]
fn slurm_array_equals_a_local_sweep_cell_for_cell() {
    let idle = Command::new("sinfo")
        .args(["-h", "-o", "%t"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("idle"))
        .unwrap_or(false);
    if !idle {
        eprintln!(
            "SKIPPED slurm_array_equals_a_local_sweep_cell_for_cell: no idle Slurm node \
             (`sinfo` missing or no node up); start one with `scripts/slurm-local up`"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let quick = Path::new("configs/paper/quick.json");
    let dir = tmp.path().join("slurm");
    let out = tailgate()
        .args(["slurm"])
        .arg(quick)
        .arg("--out")
        .arg(&dir)
        .args(["--shards", "4", "--cpus-per-task", "1", "--mem", "1G"])
        .args(["--time", "00:20:00"])
        .output()
        .unwrap();
    common::assert_success(&out);
    let script = dir.join("sweep.sbatch");
    let submitted = Command::new("sbatch")
        .arg("--wait")
        .arg(&script)
        .output()
        .unwrap();
    let logs: String = std::fs::read_dir(dir.join("slurm-logs"))
        .map(|d| {
            d.flatten()
                .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        submitted.status.success(),
        "sbatch --wait failed: {}\n{}\nlogs:\n{logs}",
        String::from_utf8_lossy(&submitted.stdout),
        String::from_utf8_lossy(&submitted.stderr)
    );
    let reference = tmp.path().join("local");
    let study = Study::from_json_file(quick).unwrap();
    run_sweep(&study, &reference, Shard::ALL, 2, true).unwrap();
    let (a, b) = (snapshot(&dir), snapshot(&reference));
    assert_eq!(
        a.len(),
        b.len(),
        "cells: Slurm {} local {}",
        a.len(),
        b.len()
    );
    assert_eq!(
        a, b,
        "the Slurm array's cells differ from the local sweep's"
    );
}
