//! The far tail end to end: recording on both engines (pausing draws nothing; the same
//! seed, the same bytes; the cap; diverged chains left out), the ladder equal to an
//! independent computation on the written far_tail.npy, the burn and reduced engines in
//! agreement, and `tailgate estimate --far-tail` with its refusals.

mod common;

use common::cli::{p, stderr, tailgate};
use std::path::Path;
use tailgate::config::{Engine, Model, TrainConfig};
use tailgate::io::{Progress, read_npy_f64, write_npy};
use tailgate::run::{RunRecord, train_into};

fn reduced(chains: usize, steps: usize, far: Option<bool>) -> TrainConfig {
    TrainConfig {
        engine: Engine::Reduced,
        chains,
        dim: 10,
        batch: 1,
        eta: 0.17,
        steps,
        burn_in: Some(steps / 4),
        seed: 5,
        subsamples: Some(20),
        gof_resamples: Some(0),
        far_tail: far,
        ..TrainConfig::default()
    }
    .resolve()
    .unwrap()
    .into_config()
}

fn train(config: &TrainConfig, dir: &Path) -> RunRecord {
    let config = config.clone().resolve().unwrap();
    train_into(&config, dir, &Progress::hidden())
        .unwrap()
        .record
}

#[test]
fn recording_changes_no_chain_and_the_same_seed_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let on = reduced(300, 2000, None);
    assert!(
        on.clone().resolve().unwrap().far_tail().is_some(),
        "default on: 1500 steps after burn-in"
    );
    let off = reduced(300, 2000, Some(false));
    let a = train(&on, &dir.path().join("a"));
    let b = train(&on, &dir.path().join("b"));
    train(&off, &dir.path().join("off"));
    let read = |run: &str, f: &str| std::fs::read(dir.path().join(run).join(f)).unwrap();
    assert_eq!(read("a", "coords.npy"), read("off", "coords.npy"));
    assert_eq!(read("a", "far_tail.npy"), read("b", "far_tail.npy"));
    assert_eq!(
        serde_json::to_string(&a.summary.far_tail).unwrap(),
        serde_json::to_string(&b.summary.far_tail).unwrap()
    );
    assert!(!dir.path().join("off/far_tail.npy").exists());
    let far = a.summary.far_tail.unwrap();
    assert_eq!(far.reading.samples, 300 * 1500);
    assert!(far.reading.kept > 0);
}

/// Hill at every rung, recomputed here from far_tail.npy alone: the same number.
#[test]
fn hill_on_the_written_file_equals_the_ladder_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let record = train(&reduced(2000, 4000, None), &dir.path().join("r"));
    let far = record.summary.far_tail.unwrap();
    let table = read_npy_f64(&dir.path().join("r/far_tail.npy")).unwrap();
    assert_eq!(table.shape, vec![far.reading.kept, 3]);
    // Descending, ties by (chain, step): SGD's gate stands still at an inactive step, so
    // a chain repeats its value; a rung is the k largest samples.
    let mut rows: Vec<[f64; 3]> = table
        .values
        .chunks_exact(3)
        .map(|r| [r[0], r[1], r[2]])
        .collect();
    assert!(rows.iter().all(|r| r[0] > far.reading.threshold));
    rows.sort_by(|a, b| {
        b[0].total_cmp(&a[0])
            .then(a[1].total_cmp(&b[1]))
            .then(a[2].total_cmp(&b[2]))
    });
    let values: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    assert!(!far.reading.ladder.is_empty());
    for rung in &far.reading.ladder {
        let k = (rung.fraction * far.reading.samples as f64).round() as usize;
        assert_eq!(rung.exceedances, k);
        let u = values[k];
        let hill = k as f64 / values[..k].iter().map(|x| x.ln() - u.ln()).sum::<f64>();
        assert_eq!(rung.hill, hill, "rung {}", rung.fraction);
        assert_eq!(rung.threshold, u);
        let chains: std::collections::BTreeSet<u64> =
            rows[..k].iter().map(|r| r[1] as u64).collect();
        assert_eq!(rung.chains, chains.len());
    }
    // Steps are after burn-in, chains within range.
    for r in table.values.chunks_exact(3) {
        assert!(r[2] > 1000.0 && r[2] <= 4000.0 && r[1] < 2000.0, "{r:?}");
    }
}

#[test]
fn the_cap_raises_the_threshold_keeps_the_largest_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let free = train(&reduced(500, 2000, None), &dir.path().join("free"));
    let capped = TrainConfig {
        far_tail_cap: Some(200),
        ..reduced(500, 2000, None)
    };
    let c = train(&capped, &dir.path().join("capped"));
    let (free, c) = (free.summary.far_tail.unwrap(), c.summary.far_tail.unwrap());
    assert!(!free.raised && c.raised);
    assert!(c.reading.kept <= 200 && c.reading.threshold > c.recording_threshold);
    let top = |run: &str| {
        let t = read_npy_f64(&dir.path().join(run).join("far_tail.npy")).unwrap();
        let mut v: Vec<f64> = t.values.chunks_exact(3).map(|r| r[0]).collect();
        v.sort_by(|a, b| b.total_cmp(a));
        v
    };
    let (all, kept) = (top("free"), top("capped"));
    assert_eq!(&all[..kept.len()], &kept[..], "the cap keeps the largest");
}

#[test]
fn diverged_chains_are_left_out_of_the_far_tail() {
    let dir = tempfile::tempdir().unwrap();
    let config = TrainConfig {
        divergence_norm: 30.0,
        ..reduced(400, 2000, Some(true))
    };
    let record = train(&config, &dir.path().join("d"));
    let far = record.summary.far_tail.unwrap();
    let diverged = record.summary.tail.diverged_chains;
    assert!(diverged > 0 && diverged < 400, "{diverged}");
    assert_eq!(far.excluded_chains, diverged);
    assert_eq!(far.reading.chains, 400 - diverged);
    let mask = tailgate::io::read_npy_mask(&dir.path().join("d/diverged.npy"), 400).unwrap();
    let table = read_npy_f64(&dir.path().join("d/far_tail.npy")).unwrap();
    for r in table.values.chunks_exact(3) {
        assert!(!mask[r[1] as usize], "a diverged chain's exceedance");
    }
}

/// The burn engine (the reference trainer) and the reduced engine record the same law:
/// Hill at the shallowest rung agrees within the two chain-bootstrap intervals.
#[test]
fn burn_and_reduced_engines_agree_on_the_far_tail() {
    let dir = tempfile::tempdir().unwrap();
    let base = TrainConfig {
        model: Model::Linear,
        chains: 1000,
        dim: 5,
        batch: 1,
        eta: 0.3,
        steps: 4000,
        burn_in: Some(1000),
        seed: 2,
        subsamples: Some(20),
        gof_resamples: Some(0),
        ..TrainConfig::default()
    };
    let burn = train(&base.clone().resolve().unwrap(), &dir.path().join("burn"));
    let red = TrainConfig {
        engine: Engine::Reduced,
        ..base
    };
    let red = train(&red.resolve().unwrap(), &dir.path().join("red"));
    let rung = |r: &RunRecord| r.summary.far_tail.as_ref().unwrap().reading.ladder[0].clone();
    let (a, b) = (rung(&burn), rung(&red));
    assert_eq!(a.fraction, 1e-3);
    let se = |r: &tailgate::tail::far::Rung| (r.hill_hi.unwrap() - r.hill_lo.unwrap()) / 3.92;
    let z = (a.hill - b.hill) / (se(&a).powi(2) + se(&b).powi(2)).sqrt();
    assert!(
        z.abs() < 3.5,
        "burn {} vs reduced {}: z = {z}",
        a.hill,
        b.hill
    );
    // Both near the exact theory of the linear model.
    let theory = red.summary.theory.as_ref().unwrap().alpha.unwrap();
    for r in [&a, &b] {
        assert!(
            (r.hill - theory).abs() < 5.0 * se(r),
            "{} vs {theory}",
            r.hill
        );
    }
    assert!(burn.summary.far_tail.unwrap().statistic.contains("‖w − c‖"));
}

fn write_series(path: &Path, steps: usize, chains: usize) -> Vec<f64> {
    use tailgate::tail::stream;
    let mut rng = stream(1, "series-test", 0);
    let mut x = vec![0.0; chains];
    let mut out = Vec::with_capacity(steps * chains);
    for _ in 0..steps {
        for v in x.iter_mut() {
            use rand::RngExt;
            let a: f64 = (-0.15 + 0.5 * (rng.random::<f64>() - 0.5) * 3.4641).exp();
            *v = a * *v + rng.random::<f64>() - 0.5;
            out.push(v.abs());
        }
    }
    write_npy(path, &[steps, chains], &out).unwrap();
    out
}

#[test]
fn estimate_far_tail_matches_the_library_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("series.npy");
    let values = write_series(&file, 3000, 200);
    let json = dir.path().join("far.json");
    let o = tailgate(&[
        "estimate",
        "--far-tail",
        p(&file),
        "--burn-in",
        "500",
        "--format",
        "json",
        "--out",
        p(&json),
        "--resamples",
        "50",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(printed, written);
    let lib = tailgate::tail::far::far_tail_of_series(
        &values,
        [3000, 200],
        tailgate::tail::far::Layout::StepsChains,
        500,
        tailgate::tail::far::DEFAULT_KEEP,
        &tailgate::tail::far::LadderOptions {
            resamples: 50,
            ..Default::default()
        },
    )
    .unwrap();
    // Through the same text (serde_json's parser may round the last bit of a float).
    let lib: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&lib).unwrap()).unwrap();
    assert_eq!(printed, lib);
    assert_eq!(printed["samples"], 200 * 2500);
    // The human table names the rungs.
    let o = tailgate(&["estimate", "--far-tail", p(&file), "--resamples", "20"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("fraction"));

    let one_d = dir.path().join("one.npy");
    write_npy(&one_d, &[100], &vec![1.0f64; 100]).unwrap();
    let mut nan = values.clone();
    nan[5] = f64::NAN;
    let nan_file = dir.path().join("nan.npy");
    write_npy(&nan_file, &[3000, 200], &nan).unwrap();
    let single = dir.path().join("single.npy");
    write_npy(&single, &[3000, 1], &values[..3000]).unwrap();
    let out = dir.path().join("refused.json");
    for (args, needle) in [
        (vec![p(&one_d)], "1-D"),
        (vec![p(&nan_file)], "non-finite"),
        (vec![p(&file), "--burn-in", "3000"], "burn-in"),
        (vec![p(&single)], "chain"),
        (vec![p(&file), "--keep", "1.5"], "keep"),
    ] {
        let mut all = vec!["estimate", "--far-tail", "--out", p(&out)];
        all.extend(args.iter().copied());
        let o = tailgate(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
        assert!(!out.exists(), "{args:?} wrote {out:?}");
    }
}

#[test]
fn train_refuses_bad_far_tail_keys() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (vec!["--far-tail-keep", "0"], "far_tail_keep"),
        (vec!["--far-tail-cap", "0"], "far_tail_cap"),
        (vec!["--model", "mlp", "--far-tail"], "far_tail"),
    ] {
        common::cli::rejects(dir.path(), &args, needle);
    }
}

#[test]
fn plot_far_tail_draws_both_files_and_refuses_a_run_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("r");
    train(&reduced(500, 2000, None), &run);
    let o = tailgate(&["plot", "far-tail", p(&run)]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["far_tail.png", "far_tail.svg"] {
        assert!(std::fs::metadata(run.join(f)).unwrap().len() > 1000, "{f}");
    }
    let none = dir.path().join("none");
    train(&reduced(100, 400, None), &none);
    let o = tailgate(&["plot", "far-tail", p(&none)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no far tail"), "{}", stderr(&o));
}
