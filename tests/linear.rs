//! The linear-regression control: its SGD step by hand, and simulation against theory.

mod common;

use burn::tensor::Device;
use tailgate::config::{Algorithm, Model, TrainConfig};
use tailgate::data::Batch;
use tailgate::model::ReluGate;
use tailgate::optim::{GateOptimizer, Sgd, burn_sgd};
use tailgate::theory::linear_tail_index;
use tailgate::train::weights;

#[test]
fn linear_sgd_step_matches_hand_computation() {
    // Two chains, d = 2, b = 2; pre-activations of both signs (no ReLU cut for linear).
    let w = vec![0.5f32, -1.0, /* chain 1 */ -0.25, 2.0];
    let batch = Batch {
        x: vec![
            1.0, 2.0, /**/ -1.0, 0.5, /* chain 1 */ 2.0, -1.0, /**/ 0.0, 1.0,
        ],
        y: vec![0.5, -1.0, /**/ 1.0, 3.0],
        chains: 2,
        batch: 2,
        dim: 2,
    };
    let eta = 0.1;
    let mut want: Vec<f64> = w.iter().map(|&v| v as f64).collect();
    for c in 0..2 {
        for i in 0..2 {
            let x = &batch.x[(c * 2 + i) * 2..(c * 2 + i + 1) * 2];
            let z: f64 = (0..2).map(|j| (w[c * 2 + j] * x[j]) as f64).sum();
            let r = batch.y[c * 2 + i] as f64 - z;
            for j in 0..2 {
                want[c * 2 + j] += eta / 2.0 * r * x[j] as f64;
            }
        }
    }
    let device = Device::flex().autodiff();
    let model = ReluGate::from_weights(w.clone(), 2, 2, &device).into_linear(true);
    let mut sgd = Sgd::new(burn_sgd(&TrainConfig::default()));
    let got = weights(&sgd.step(model, batch, eta, None));
    for (g, w) in got.iter().zip(&want) {
        assert!((*g as f64 - w).abs() < 1e-6, "got {got:?}, want {want:?}");
    }
}

#[test]
fn km_on_the_linear_model_is_refused() {
    let e = TrainConfig {
        model: Model::Linear,
        algorithm: Algorithm::Km,
        ..TrainConfig::default()
    }
    .resolve()
    .unwrap_err()
    .to_string();
    assert!(e.contains("algorithm") && e.contains("linear"), "{e}");
}

#[test]
fn simulated_linear_regression_matches_its_theory() {
    // science.md §5's linear cell: d = 10, b = 1, η = 0.17, σ = 1, 1600 chains, 2000 steps.
    let config = TrainConfig {
        model: Model::Linear,
        chains: 1600,
        dim: 10,
        batch: 1,
        eta: 0.17,
        steps: 2000,
        seed: 3,
        ..TrainConfig::default()
    }
    .resolve()
    .unwrap();
    let run = common::run(&config);
    let s = common::summary(&run, &config);
    // GSZ21's synthetic protocol: the running mean of the second half of each chain.
    // (The final iterates read lower, about 1.25 here; an independent numpy simulation of
    // the same cell gave 1.23 and 1.34 with the same estimator: the estimator's bias on
    // this law at 1600 rows, not the simulation's.)
    let alpha = s.alpha_average.expect("an α for a stationary linear chain");
    let theory = linear_tail_index(10, 1, 0.17).unwrap().alpha.unwrap();
    assert!(
        (alpha - theory).abs() < 0.15,
        "simulated α̂ (running average) {alpha} vs theory {theory}"
    );
    assert_eq!(s.diverged_chains, 0);
}
