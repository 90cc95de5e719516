//! The trainer against hand computations and exact facts (docs/theory.md §2).

mod common;

use burn::tensor::{Device, Tensor};
use tailgate::config::{Algorithm, Labels, TrainConfig};
use tailgate::data::Batch;
use tailgate::model::ReluGate;
use tailgate::optim::{GateOptimizer, KarmakarMukherjee, Sgd, burn_sgd};
use tailgate::train::weights;

/// Two chains, d = 3, b = 3, a fixed batch with positive, negative and mixed-sign
/// pre-activations.
fn fixture() -> (Vec<f32>, Batch) {
    let w = vec![0.5, -0.25, 1.0, /* chain 1 */ -1.0, 0.5, 0.25];
    let x = vec![
        // chain 0
        1.0, 2.0, 0.5, /**/ -1.0, 0.0, -2.0, /**/ 0.5, 1.0, -0.5, // chain 1
        -1.0, 1.0, 0.0, /**/ 2.0, 1.0, 1.0, /**/ 0.0, -1.0, 2.0,
    ];
    let y = vec![1.5, 0.0, 0.25, /**/ 2.0, 0.75, -0.5];
    (
        w,
        Batch {
            x,
            y,
            chains: 2,
            batch: 3,
            dim: 3,
        },
    )
}

/// `w + (η/b) Σ_i r_i g_i x_i` with `g_i = 1{w·x_i > 0}` for SGD and 1 for KM, in f64.
fn by_hand(w: &[f32], batch: &Batch, eta: f64, sgd: bool) -> Vec<f64> {
    let (b, d) = (batch.batch, batch.dim);
    let mut out: Vec<f64> = w.iter().map(|&v| v as f64).collect();
    for c in 0..batch.chains {
        for i in 0..b {
            let x = &batch.x[(c * b + i) * d..(c * b + i + 1) * d];
            let z: f64 = (0..d).map(|j| w[c * d + j] as f64 * x[j] as f64).sum();
            let r = batch.y[c * b + i] as f64 - z.max(0.0);
            let gate = if sgd && z <= 0.0 { 0.0 } else { 1.0 };
            for j in 0..d {
                out[c * d + j] += eta / b as f64 * r * gate * x[j] as f64;
            }
        }
    }
    out
}

fn one_step(opt: &mut dyn GateOptimizer, w: &[f32], batch: &Batch, eta: f64) -> Vec<f32> {
    let device = Device::flex().autodiff();
    let model = ReluGate::from_weights(w.to_vec(), batch.chains, batch.dim, &device);
    weights(&opt.step(model, upload(opt, batch), eta, None))
}

/// The batch on the device the optimizer reads it from.
fn upload(opt: &dyn GateOptimizer, batch: &Batch) -> (Tensor<3>, Tensor<2>) {
    let device = Device::flex();
    let device = if opt.on_tape() {
        device.autodiff()
    } else {
        device
    };
    batch.clone().into_device(&device)
}

fn sgd() -> Sgd {
    Sgd::new(burn_sgd(&TrainConfig::default()))
}

fn km() -> KarmakarMukherjee {
    KarmakarMukherjee::new(burn_sgd(&TrainConfig::default()))
}

fn assert_close(got: &[f32], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((*g as f64 - w).abs() < tol, "got {got:?}, want {want:?}");
    }
}

#[test]
fn one_sgd_step_matches_hand_computation() {
    let (w, batch) = fixture();
    let got = one_step(&mut sgd(), &w, &batch, 0.1);
    assert_close(&got, &by_hand(&w, &batch, 0.1, true), 1e-6);
}

#[test]
fn one_km_step_matches_hand_computation() {
    let (w, batch) = fixture();
    let got = one_step(&mut km(), &w, &batch, 0.1);
    assert_close(&got, &by_hand(&w, &batch, 0.1, false), 1e-6);
}

/// The fixture's six samples as six chains of one sample each (b = 1 takes the
/// product-and-sum path instead of the batched matmul).
fn fixture_b1() -> (Vec<f32>, Batch) {
    let (w, batch) = fixture();
    let w1: Vec<f32> = (0..6)
        .flat_map(|s| w[(s / 3) * 3..(s / 3) * 3 + 3].to_vec())
        .collect();
    (
        w1,
        Batch {
            chains: 6,
            batch: 1,
            ..batch
        },
    )
}

#[test]
fn one_sample_steps_match_hand_computation() {
    let (w, batch) = fixture_b1();
    let got = one_step(&mut sgd(), &w, &batch, 0.1);
    assert_close(&got, &by_hand(&w, &batch, 0.1, true), 1e-6);
    let got = one_step(&mut km(), &w, &batch, 0.1);
    assert_close(&got, &by_hand(&w, &batch, 0.1, false), 1e-6);
    // Some of the six samples are inactive (w·x ≤ 0), so SGD and KM differ on them.
    assert_ne!(
        one_step(&mut sgd(), &w, &batch, 0.1),
        one_step(&mut km(), &w, &batch, 0.1)
    );
}

#[test]
fn km_with_momentum_is_heavy_ball() {
    // v₁ = g(w₀), w₁ = w₀ − η v₁; v₂ = μ v₁ + g(w₁), w₂ = w₁ − η v₂ (same batch twice).
    let (w0, batch) = fixture();
    let (eta, mu) = (0.1, 0.5);
    let g = |w: &[f64]| -> Vec<f64> {
        let w32: Vec<f32> = w.iter().map(|&v| v as f32).collect();
        let stepped = by_hand(&w32, &batch, 1.0, false);
        w.iter().zip(&stepped).map(|(a, b)| a - b).collect()
    };
    let w0f: Vec<f64> = w0.iter().map(|&v| v as f64).collect();
    let v1 = g(&w0f);
    let w1: Vec<f64> = w0f.iter().zip(&v1).map(|(w, v)| w - eta * v).collect();
    let g1 = g(&w1);
    let w2: Vec<f64> = w1
        .iter()
        .zip(v1.iter().zip(&g1))
        .map(|(w, (v, g))| w - eta * (mu * v + g))
        .collect();
    let cfg = TrainConfig {
        momentum: mu,
        ..TrainConfig::default()
    };
    let mut opt = KarmakarMukherjee::new(burn_sgd(&cfg));
    let device = Device::flex().autodiff();
    let model = ReluGate::from_weights(w0.clone(), 2, 3, &device);
    let model = opt.step(model, upload(&opt, &batch), eta, None);
    let model = opt.step(model, upload(&opt, &batch), eta, None);
    assert_close(&weights(&model), &w2, 1e-5);
}

#[test]
fn sgd_and_km_differ_exactly_on_inactive_samples_with_positive_teacher() {
    // Realizable labels y = ReLU(w*·x), σ = 0: the two updates differ by
    // (η/b) Σ_{w·x ≤ 0 < w*·x} y_i x_i and nowhere else.
    let teacher = [1.0f32, -0.5, 0.25];
    let (w, mut batch) = fixture();
    for c in 0..2 {
        for i in 0..3 {
            let x = &batch.x[(c * 3 + i) * 3..(c * 3 + i + 1) * 3];
            batch.y[c * 3 + i] = x
                .iter()
                .zip(&teacher)
                .map(|(a, b)| a * b)
                .sum::<f32>()
                .max(0.0);
        }
    }
    let eta = 0.2;
    let sgd = one_step(&mut sgd(), &w, &batch, eta);
    let km = one_step(&mut km(), &w, &batch, eta);
    let mut expected = vec![0.0f64; 6];
    let mut differing = 0;
    for c in 0..2 {
        for i in 0..3 {
            let x = &batch.x[(c * 3 + i) * 3..(c * 3 + i + 1) * 3];
            let z: f32 = (0..3).map(|j| w[c * 3 + j] * x[j]).sum();
            let zt: f32 = (0..3).map(|j| teacher[j] * x[j]).sum();
            if z <= 0.0 && zt > 0.0 {
                differing += 1;
                for j in 0..3 {
                    expected[c * 3 + j] += eta / 3.0 * batch.y[c * 3 + i] as f64 * x[j] as f64;
                }
            }
        }
    }
    assert!(differing >= 2, "the fixture must exercise the difference");
    let diff: Vec<f32> = km.iter().zip(&sgd).map(|(a, b)| a - b).collect();
    assert_close(&diff, &expected, 1e-6);
}

#[test]
fn same_seed_same_bytes_and_different_seed_different() {
    let mut cfg = common::small(64, 5, 200);
    let a = common::run(&cfg);
    let b = common::run(&cfg);
    assert_eq!(a.final_weights, b.final_weights);
    assert_eq!(a.average_weights, b.average_weights);
    cfg.seed = 1;
    assert_ne!(common::run(&cfg).final_weights, a.final_weights);
}

#[test]
fn km_stationary_mean_is_the_teacher() {
    // docs/theory.md §2.6: for symmetric x and zero-mean noise, KM's stationary mean is exactly w*.
    let mut cfg = common::small(2000, 4, 1500);
    cfg.algorithm = Algorithm::Km;
    cfg.eta = 0.1;
    cfg.label_noise = 1.0;
    let run = common::run(&cfg);
    let d = cfg.dim;
    let n = cfg.chains as f64;
    for j in 0..d {
        let col: Vec<f64> = run
            .final_weights
            .iter()
            .skip(j)
            .step_by(d)
            .map(|&v| v as f64)
            .collect();
        let mean = col.iter().sum::<f64>() / n;
        let sd = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let se = sd / n.sqrt();
        let target = run.teacher[j] as f64;
        assert!(
            (mean - target).abs() < 4.0 * se + 1e-3,
            "coordinate {j}: mean {mean} vs w* {target} (se {se})"
        );
    }
}

#[test]
fn diverging_step_size_is_reported_and_frozen() {
    let mut cfg = common::small(50, 10, 300);
    cfg.eta = 1.5; // far above η₂ = 2b/(d+b+1) = 1/6
    let run = common::run(&cfg);
    let diverged = run.diverged.iter().filter(|&&d| d).count();
    assert_eq!(diverged, 50, "every chain diverges at η = 1.5, d = 10");
    let summary = common::summary(&run, &cfg);
    assert_eq!(summary.alpha, None);
    assert_eq!(summary.diverged_chains, 50);
    assert_eq!(summary.status, tailgate::summary::RunStatus::Diverged);
    assert!(summary.alpha_reason.unwrap().contains("diverged"));
}

#[test]
fn noiseless_realizable_run_is_reported_converged() {
    let mut cfg = common::small(100, 5, 3000);
    cfg.label_noise = 0.0;
    cfg.eta = 0.3;
    cfg.labels = Labels::Realizable;
    let run = common::run(&cfg);
    let summary = common::summary(&run, &cfg);
    assert!(summary.converged_to_floor, "{summary:?}");
    assert_eq!(
        summary.status,
        tailgate::summary::RunStatus::ConvergedToFloor
    );
    assert_eq!(summary.alpha, None);
}

#[test]
fn partial_divergence_is_flagged_and_excluded() {
    // Just above the divergence step size some chains blow up and some survive.
    let mut cfg = common::small(400, 10, 2000);
    cfg.eta = 0.19;
    cfg.init_std = Some(1.0);
    cfg.teacher = tailgate::config::Teacher::E1;
    let run = common::run(&cfg);
    let diverged = run.diverged.iter().filter(|&&d| d).count();
    assert!(diverged > 0 && diverged < 400, "{diverged} diverged");
    let summary = common::summary(&run, &cfg);
    assert_eq!(
        summary.status,
        tailgate::summary::RunStatus::PartiallyDiverged
    );
    assert_eq!(summary.diverged_chains, diverged);
    assert_eq!(summary.estimated_chains, 400 - diverged);
    assert!(summary.alpha.is_some());
}

#[test]
fn average_is_the_mean_of_the_recorded_iterates() {
    // Recording every step after the burn-in gives exactly the iterates averaged.
    let mut cfg = common::small(20, 3, 60);
    cfg.record_every = 1;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("iterates.npy");
    let device = tailgate::backend::make_device(cfg.backend).unwrap();
    let run = tailgate::train::train(
        &cfg.clone().resolve().unwrap(),
        &device,
        Some(&path),
        &tailgate::io::Progress::hidden(),
    )
    .unwrap();
    let it = tailgate::io::read_npy_f64(&path).unwrap();
    assert_eq!(it.shape, vec![30, 20, 3]);
    let n = 20 * 3;
    for (i, avg) in run.average_weights.iter().enumerate() {
        let mean = (0..30).map(|s| it.values[s * n + i]).sum::<f64>() / 30.0;
        assert!((*avg as f64 - mean).abs() < 1e-5, "{i}: {avg} vs {mean}");
    }
}

#[test]
fn prefetched_and_in_line_data_train_chain_zero_alike() {
    // 200 chains of d = 100 are drawn ahead of the step on another thread, one chain in
    // line; chain 0 sees the same data and starts from the same w₀ either way.
    for algorithm in [Algorithm::Sgd, Algorithm::Km] {
        let large = TrainConfig {
            algorithm,
            label_noise: 1.0,
            eta: 0.01,
            ..common::small(200, 100, 300)
        };
        let one = TrainConfig {
            chains: 1,
            ..large.clone()
        };
        let (a, b) = (common::run(&large), common::run(&one));
        for (x, y) in a.final_weights[..100].iter().zip(&b.final_weights) {
            assert!(
                (x - y).abs() <= 1e-5 * (1.0 + y.abs()),
                "{algorithm:?}: {x} vs {y}"
            );
        }
        assert_ne!(a.final_weights[..100], a.final_weights[100..200]);
    }
}

#[test]
fn a_stopped_run_returns_interrupted_and_leaves_nothing_behind() {
    use tailgate::config::Engine;
    use tailgate::io::Progress;
    for engine in [Engine::Burn, Engine::Reduced] {
        // Stopped before it starts: the first check ends it.
        let cfg = TrainConfig {
            engine,
            ..common::small(40, 4, 200)
        };
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        let progress = Progress::hidden();
        progress.stop();
        let err = tailgate::run::train_into(&cfg.clone().resolve().unwrap(), &out, &progress)
            .unwrap_err();
        assert!(
            matches!(err, tailgate::Error::Interrupted),
            "{engine:?}: {err}"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        // Stopped from another thread while it runs: it returns long before it would end.
        let cfg = TrainConfig {
            engine,
            ..common::small(2000, 4, 2_000_000)
        };
        let progress = Progress::hidden();
        let stopper = progress.clone();
        let start = std::time::Instant::now();
        let err = std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(std::time::Duration::from_millis(300));
                stopper.stop();
            });
            tailgate::run::train_into(&cfg.clone().resolve().unwrap(), &out, &progress).unwrap_err()
        });
        assert!(
            matches!(err, tailgate::Error::Interrupted),
            "{engine:?}: {err}"
        );
        assert!(
            start.elapsed().as_secs() < 20,
            "{engine:?}: {:?}",
            start.elapsed()
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
