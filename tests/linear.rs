//! The linear-regression control: its SGD step by hand, and simulation against theory.

mod common;

use burn::tensor::Device;
use tailgate::config::{Algorithm, DataRng, Model, TrainConfig};
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
    let got = weights(&sgd.step(model, batch.into_device(&device), eta, None));
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
    // Both data generators: the tail of the stationary law is a property of the data's law,
    // not of the generator's bits.
    for data_rng in [DataRng::Xoshiro, DataRng::Philox] {
        linear_cell_matches_theory(data_rng);
    }
}

fn linear_cell_matches_theory(data_rng: DataRng) {
    // The reference cell of docs/theory.md §2.7: d = 10, b = 1, η = 0.17, σ = 1, 1600 chains,
    // 2000 steps.
    let config = TrainConfig {
        data_rng,
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
        "{data_rng:?}: simulated α̂ (running average) {alpha} vs theory {theory}"
    );
    assert_eq!(s.diverged_chains, 0);
}

fn offline(n: usize, dim: usize, batch: usize) -> TrainConfig {
    TrainConfig {
        model: Model::Linear,
        chains: 4,
        dim,
        batch,
        dataset_size: Some(n),
        label_noise: 3.0,
        seed: 5,
        ..TrainConfig::default()
    }
}

#[test]
fn offline_batches_are_distinct_points_of_the_fixed_dataset() {
    use tailgate::data::{DataSource, dataset, teacher};
    let config = offline(20, 3, 5).resolve().unwrap();
    let t = teacher(&config);
    let data = dataset(&config, &t).unwrap();
    assert_eq!((data.len(), data.dim), (20, 3));
    // Realizable linear labels: y = w*·x + σξ, so the residuals have spread σ = 3.
    let mut source = DataSource::new(&config, t).with_dataset(Some(data.clone()));
    let mut used = [false; 20];
    for _ in 0..40 {
        let batch = source.next_batch();
        for c in 0..4 {
            let mut seen = Vec::new();
            for i in 0..5 {
                let row = &batch.x[(c * 5 + i) * 3..(c * 5 + i + 1) * 3];
                let k = (0..20)
                    .find(|&k| &data.x[k * 3..k * 3 + 3] == row)
                    .expect("every batch row is a dataset row");
                assert_eq!(batch.y[c * 5 + i], data.y[k]);
                assert!(!seen.contains(&k), "a point twice in one step");
                seen.push(k);
                used[k] = true;
            }
        }
    }
    assert!(used.iter().all(|&u| u));
}

#[test]
fn least_squares_solution_zeroes_the_normal_equations() {
    let config = offline(200, 6, 1).resolve().unwrap();
    let t = tailgate::data::teacher(&config);
    let data = tailgate::data::dataset(&config, &t).unwrap();
    let w = data.least_squares().unwrap();
    // Xᵀ(Xw − y) = 0 at the minimiser, and the minimiser is near w* (n ≫ d).
    let mut grad = [0.0f64; 6];
    for (row, &y) in data.x.chunks_exact(6).zip(&data.y) {
        let r: f64 = row
            .iter()
            .zip(&w)
            .map(|(&a, b)| f64::from(a) * b)
            .sum::<f64>()
            - f64::from(y);
        for j in 0..6 {
            grad[j] += f64::from(row[j]) * r;
        }
    }
    assert!(grad.iter().all(|g| g.abs() < 1e-8), "{grad:?}");
    let err: f64 = w
        .iter()
        .zip(&t)
        .map(|(a, &b)| (a - f64::from(b)).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(err < 1.5, "{err}");
}

#[test]
fn offline_linear_run_centres_at_the_least_squares_solution() {
    let mut config = offline(500, 5, 2);
    config.chains = 200;
    config.steps = 300;
    config.eta = 0.05;
    config.center = tailgate::tail::Center::LeastSquares;
    let config = config.resolve().unwrap();
    let run = common::run(&config);
    let ls = run
        .least_squares
        .clone()
        .expect("offline linear runs solve least squares");
    // The stationary mean of offline SGD is the least-squares solution.
    let mean: Vec<f64> = (0..5)
        .map(|j| {
            run.final_weights
                .chunks_exact(5)
                .map(|r| f64::from(r[j]))
                .sum::<f64>()
                / 200.0
        })
        .collect();
    let gap: f64 = mean
        .iter()
        .zip(&ls)
        .map(|(a, b)| (a - b).powi(2))
        .sum::<f64>()
        .sqrt();
    assert!(gap < 0.2, "mean {mean:?} vs least squares {ls:?}");
    for (bad, field) in [
        (
            TrainConfig {
                center: tailgate::tail::Center::LeastSquares,
                ..TrainConfig::default()
            },
            "center",
        ),
        (
            TrainConfig {
                dataset_size: Some(3),
                batch: 4,
                ..TrainConfig::default()
            },
            "dataset_size",
        ),
    ] {
        let e = bad.resolve().unwrap_err().to_string();
        assert!(e.contains(field), "{e}");
    }
}
