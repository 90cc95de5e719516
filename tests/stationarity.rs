//! What the redone study rests on: the reduced engine's checkpoints (the chains' state at
//! earlier steps, recorded without changing them) and step sizes placed by the theory
//! (`alpha_target`), with their known answers and refusals.

mod common;

use common::cli::{p, rejects, tailgate};
use tailgate::config::{Algorithm, Engine, Model, Teacher, TrainConfig};
use tailgate::io::Progress;
use tailgate::reduced;
use tailgate::run::RunRecord;
use tailgate::study::Study;
use tailgate::theory::{gate_tail_index, linear_tail_index};

fn gate(dim: usize, steps: usize, checkpoints: Vec<usize>) -> TrainConfig {
    TrainConfig {
        engine: Engine::Reduced,
        model: Model::ReluGate,
        algorithm: Algorithm::Km,
        dim,
        batch: 2,
        eta: 0.3,
        steps,
        chains: 203,
        teacher: Teacher::E1,
        divergence_norm: 50.0,
        checkpoints,
        ..TrainConfig::default()
    }
}

/// Recording reads the state and draws nothing: the chains end on the same bits, and the
/// checkpoint at the last step is the final state.
#[test]
fn checkpoints_leave_the_chains_unchanged() {
    let hot = |checkpoints| TrainConfig {
        divergence_norm: 3.0,
        ..gate(10, 300, checkpoints)
    };
    let plain = hot(vec![]).resolve().unwrap();
    let marked = hot(vec![1, 100, 300]).resolve().unwrap();
    let a = reduced::simulate(&plain, &Progress::hidden()).unwrap();
    let b = reduced::simulate(&marked, &Progress::hidden()).unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.coords), bits(&b.coords));
    assert_eq!(a.diverged, b.diverged);
    assert!(a.checkpoints.is_empty());
    assert_eq!(b.checkpoints.len(), 203 * 3 * 2);
    let last = b.at_checkpoint(2);
    for chain in 0..203 {
        if b.diverged[chain] {
            assert!(last.diverged[chain] && last.coords[2 * chain].is_nan());
        } else {
            assert_eq!(
                bits(&last.coords[2 * chain..2 * chain + 2]),
                bits(&b.coords[2 * chain..2 * chain + 2])
            );
        }
    }
    let gone = b.diverged.iter().filter(|&&d| d).count();
    assert!(
        0 < gone && gone < 203,
        "{gone} of 203 diverged: no NaN case tested"
    );
}

/// In d = 2 the running sum draws nothing extra, so the first k steps of a long run are a
/// run of k steps: the checkpoint at k equals that run's final state, bit for bit.
#[test]
fn a_checkpoint_is_the_state_of_a_shorter_run() {
    let long = gate(2, 400, vec![37, 150]).resolve().unwrap();
    let run = reduced::simulate(&long, &Progress::hidden()).unwrap();
    for (k, steps) in [37, 150].into_iter().enumerate() {
        let short = TrainConfig {
            steps,
            checkpoints: vec![],
            burn_in: None,
            ..gate(2, steps, vec![])
        }
        .resolve()
        .unwrap();
        let alone = reduced::simulate(&short, &Progress::hidden()).unwrap();
        let at = run.at_checkpoint(k);
        for chain in 0..203 {
            if alone.diverged[chain] {
                assert!(at.diverged[chain], "chain {chain} at {steps}");
                continue;
            }
            assert_eq!(
                at.coords[2 * chain].to_bits(),
                alone.coords[2 * chain].to_bits()
            );
            assert_eq!(
                at.coords[2 * chain + 1].to_bits(),
                alone.coords[2 * chain + 1].to_bits()
            );
        }
    }
}

/// The run writes checkpoints.npy and one estimate per checkpoint; the last checkpoint is
/// the run's own summary.
#[test]
fn train_writes_the_series_of_estimates() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = tailgate(&[
        "train",
        "--quiet",
        "--engine",
        "reduced",
        "--chains",
        "2000",
        "--steps",
        "400",
        "--eta",
        "0.15",
        "--checkpoints",
        "100,400",
        "--out",
        p(&out),
    ]);
    assert!(o.status.success(), "{}", common::cli::stderr(&o));
    let record = RunRecord::read(&out).unwrap();
    let series = &record.summary.checkpoints;
    assert_eq!(
        series.iter().map(|c| c.step).collect::<Vec<_>>(),
        [100, 400]
    );
    assert_eq!(series[1].alpha, record.summary.tail.alpha);
    assert_eq!(series[1].alpha_ci, record.summary.tail.alpha_ci);
    assert!(series[0].alpha.is_some() && series[0].alpha != series[1].alpha);
    let npy = std::fs::read(out.join("checkpoints.npy")).unwrap();
    let header = String::from_utf8_lossy(&npy[..128]);
    assert!(header.contains("(2000, 2, 2"), "{header}");
}

/// α = 2 has a closed form for both theories: the solver must land on it; other targets
/// must give back their α through the theory's own root.
#[test]
fn alpha_target_places_eta_where_the_theory_says() {
    for (model, dim, batch) in [
        (Model::ReluGate, 10, 1),
        (Model::ReluGate, 20, 2),
        (Model::Linear, 10, 1),
        (Model::Linear, 20, 5),
    ] {
        let resolve = |target: f64| {
            TrainConfig {
                engine: Engine::Reduced,
                model,
                dim,
                batch,
                alpha_target: Some(target),
                ..TrainConfig::default()
            }
            .resolve()
            .unwrap()
        };
        let theory = |eta: f64| match model {
            Model::ReluGate => gate_tail_index(dim, batch, eta).unwrap(),
            _ => linear_tail_index(dim, batch, eta).unwrap(),
        };
        let c = resolve(2.0);
        let eta2 = theory(c.eta).eta_alpha_2;
        assert!(
            (c.eta - eta2).abs() < 1e-6 * eta2,
            "{model:?}: {} vs {eta2}",
            c.eta
        );
        for target in [1.2, 1.5, 4.0] {
            let c = resolve(target);
            let alpha = theory(c.eta).alpha.unwrap();
            assert!((alpha - target).abs() < 1e-5, "{model:?} {target}: {alpha}");
            assert_eq!(c.alpha_target, Some(target));
        }
        let edge = resolve(0.0);
        let t = theory(edge.eta);
        assert!(
            t.lyapunov.abs() < 1e-7,
            "{model:?}: E log‖M e₁‖ = {}",
            t.lyapunov
        );
        let inside = theory(edge.eta * 0.99);
        assert!(!inside.diverges && inside.alpha.is_some_and(|a| a < 2.0));
        assert!(theory(edge.eta * 1.01).diverges);
    }
}

/// A study axis of targets gives each cell its target and the η it places.
#[test]
fn a_study_grid_of_targets() {
    let study: Study = serde_json::from_str(
        r#"{"name": "t", "base": {"engine": "reduced", "teacher": "e1"},
            "grid": {"model": ["relu_gate", "linear"], "dim": [10], "alpha_target": [1.5, 2.5]}}"#,
    )
    .unwrap();
    let cells = study.cells().unwrap();
    assert_eq!(cells.len(), 4);
    let mut etas: Vec<f64> = cells.iter().map(|c| c.config.eta).collect();
    etas.dedup();
    assert_eq!(etas.len(), 4, "{etas:?}");
    assert!(cells.iter().all(|c| c.config.alpha_target.is_some()));
    let both: Result<Study, _> =
        serde_json::from_str(r#"{"name": "t", "grid": {"kappa": [1.0], "alpha_target": [1.5]}}"#);
    let err = both.unwrap().cells().unwrap_err().to_string();
    assert!(err.contains("one step-size scale"), "{err}");
}

#[test]
fn refusals_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    rejects(dir.path(), &["--checkpoints", "10,20"], "checkpoints");
    rejects(
        dir.path(),
        &[
            "--engine",
            "reduced",
            "--steps",
            "100",
            "--checkpoints",
            "50,20",
        ],
        "must increase strictly",
    );
    rejects(
        dir.path(),
        &[
            "--engine",
            "reduced",
            "--steps",
            "100",
            "--checkpoints",
            "200",
        ],
        "checkpoints",
    );
    rejects(
        dir.path(),
        &["--model", "mlp", "--alpha-target", "1.5"],
        "alpha_target",
    );
    rejects(
        dir.path(),
        &["--engine", "reduced", "--alpha-target", "-1"],
        "alpha_target",
    );
}
