//! The MLP student: burn's gradient against finite differences, the straight-through
//! (KM-style) variant by hand, and per-layer outputs.

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use std::process::Command;
use tailgate::model::Mlp;

/// Chain c's tiny net d = 3 → 4 → 2 → 1 as host f64 layers.
fn layers(chains: usize) -> Vec<(Vec<f32>, [usize; 3])> {
    let shapes = [[4, 3], [2, 4], [1, 2]];
    let mut k = 0.0f32;
    shapes
        .iter()
        .map(|&[o, i]| {
            let w: Vec<f32> = (0..chains * o * i)
                .map(|_| {
                    k += 1.0;
                    (k * 0.37).sin() * 0.9
                })
                .collect();
            (w, [chains, o, i])
        })
        .collect()
}

/// ½·mean_b (f(x) − y)² summed over chains, in f64 on the host.
fn loss_by_hand(
    ws: &[(Vec<f32>, [usize; 3])],
    x: &[f32],
    y: &[f32],
    chains: usize,
    b: usize,
) -> f64 {
    let mut total = 0.0;
    for c in 0..chains {
        let mut sum = 0.0;
        for s in 0..b {
            let mut h: Vec<f64> = x[(c * b + s) * 3..(c * b + s + 1) * 3]
                .iter()
                .map(|&v| f64::from(v))
                .collect();
            for (l, (w, [_, o, i])) in ws.iter().enumerate() {
                let base = c * o * i;
                let z: Vec<f64> = (0..*o)
                    .map(|r| (0..*i).map(|q| f64::from(w[base + r * i + q]) * h[q]).sum())
                    .collect();
                h = if l + 1 == ws.len() {
                    z
                } else {
                    z.iter().map(|v| v.max(0.0)).collect()
                };
            }
            sum += 0.5 * (h[0] - f64::from(y[c * b + s])).powi(2);
        }
        total += sum / b as f64;
    }
    total
}

fn data(chains: usize, b: usize) -> (Vec<f32>, Vec<f32>) {
    let x: Vec<f32> = (0..chains * b * 3)
        .map(|k| (k as f32 * 1.3).cos() * 1.5)
        .collect();
    let y: Vec<f32> = (0..chains * b).map(|k| (k as f32 * 0.7).sin()).collect();
    (x, y)
}

fn burn_grads(
    ws: Vec<(Vec<f32>, [usize; 3])>,
    x: &[f32],
    y: &[f32],
    chains: usize,
    b: usize,
    st: bool,
) -> Vec<Vec<f32>> {
    let device = Device::flex().autodiff();
    let mut model = Mlp::from_weights(ws, &device);
    model.straight_through = st;
    let xt = Tensor::<3>::from_data(TensorData::new(x.to_vec(), [chains, b, 3]), &device);
    let yt = Tensor::<2>::from_data(TensorData::new(y.to_vec(), [chains, b]), &device);
    let loss = (model.forward(xt) - yt)
        .powi_scalar(2)
        .mean_dim(1)
        .sum()
        .mul_scalar(0.5);
    let grads = loss.backward();
    model
        .layers
        .iter()
        .map(|w| {
            w.val()
                .grad(&grads)
                .unwrap()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        })
        .collect()
}

#[test]
fn mlp_gradient_matches_finite_differences() {
    let (chains, b) = (2, 3);
    let ws = layers(chains);
    let (x, y) = data(chains, b);
    let got = burn_grads(ws.clone(), &x, &y, chains, b, false);
    let h = 1e-3f32;
    for (l, layer) in got.iter().enumerate() {
        for (k, &g) in layer.iter().enumerate() {
            let mut plus = ws.clone();
            plus[l].0[k] += h;
            let mut minus = ws.clone();
            minus[l].0[k] -= h;
            let fd = (loss_by_hand(&plus, &x, &y, chains, b)
                - loss_by_hand(&minus, &x, &y, chains, b))
                / (2.0 * f64::from(h));
            let g = f64::from(g);
            assert!(
                (g - fd).abs() < 2e-3 * (1.0 + fd.abs()),
                "layer {l} entry {k}: burn {g}, finite difference {fd}"
            );
        }
    }
}

#[test]
fn straight_through_variant_replaces_relu_derivative_by_one() {
    // Depth 2 (d = 3 → 4 → 1): ∂L/∂W1[r, q] = (1/b) Σ_s (f − y) · W2[r] · g_r · x_q with
    // g_r = 1{z_r > 0} for SGD and g_r = 1 for the straight-through variant.
    let (chains, b) = (1, 3);
    let w1: Vec<f32> = vec![
        0.5, -0.4, 0.3, -0.6, 0.2, 0.1, 0.7, -0.8, 0.25, -0.3, -0.5, 0.4,
    ];
    let w2: Vec<f32> = vec![0.9, -0.7, 0.6, 1.1];
    let ws = vec![(w1.clone(), [1, 4, 3]), (w2.clone(), [1, 1, 4])];
    let (x, y) = data(chains, b);
    for st in [false, true] {
        let got = burn_grads(ws.clone(), &x, &y, chains, b, st);
        let mut want = vec![0.0f64; 12];
        let mut any_negative = false;
        for s in 0..b {
            let xs = &x[s * 3..s * 3 + 3];
            let z: Vec<f64> = (0..4)
                .map(|r| (0..3).map(|q| f64::from(w1[r * 3 + q] * xs[q])).sum())
                .collect();
            let f: f64 = (0..4).map(|r| f64::from(w2[r]) * z[r].max(0.0)).sum();
            let res = f - f64::from(y[s]);
            for r in 0..4 {
                any_negative |= z[r] <= 0.0;
                let g = if st || z[r] > 0.0 { 1.0 } else { 0.0 };
                for q in 0..3 {
                    want[r * 3 + q] += res * f64::from(w2[r]) * g * f64::from(xs[q]) / b as f64;
                }
            }
        }
        assert!(
            any_negative,
            "the fixture must have a negative pre-activation"
        );
        for (g, w) in got[0].iter().zip(&want) {
            assert!(
                (f64::from(*g) - w).abs() < 1e-5,
                "straight_through={st}: {:?} vs {want:?}",
                got[0]
            );
        }
    }
}

#[test]
fn mlp_runs_report_alpha_per_layer() {
    let tmp = tempfile::tempdir().unwrap();
    for alg in ["sgd", "km"] {
        let dir = tmp.path().join(alg);
        let out = Command::new(env!("CARGO_BIN_EXE_tailgate"))
            .args([
                "train",
                "--quiet",
                "--model",
                "mlp",
                "--algorithm",
                alg,
                "--depth",
                "3",
                "--hidden",
                "8",
                "--dim",
                "5",
                "--chains",
                "200",
                "--steps",
                "300",
                "--eta",
                "0.05",
                "--min-samples",
                "100",
                "--out",
            ])
            .arg(&dir)
            .output()
            .unwrap();
        common::assert_success(&out);
        let run: serde_json::Value = common::run_json(&dir);
        let layers = run["summary"]["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 3);
        let shapes: Vec<_> = layers.iter().map(|l| l["shape"].clone()).collect();
        assert_eq!(
            shapes,
            [
                serde_json::json!([8, 5]),
                serde_json::json!([8, 8]),
                serde_json::json!([1, 8])
            ]
        );
        for l in layers {
            let a = l["alpha"].as_f64().unwrap();
            assert!(a > 0.0 && a < 3.0, "{l}");
            assert!(l["alpha_late_window"].as_f64().is_some(), "{l}");
            assert!(l["alpha_ci"].is_array());
        }
        let w = tailgate::io::read_npy_f64(&dir.join("final.npy")).unwrap();
        assert_eq!(w.shape, vec![200, 8 * 5 + 8 * 8 + 8]);
    }
}

#[test]
fn diverging_mlp_chains_are_frozen_and_counted() {
    let config = tailgate::config::TrainConfig {
        model: tailgate::config::Model::Mlp,
        chains: 64,
        dim: 5,
        hidden: 8,
        steps: 200,
        eta: 3.0,
        ..Default::default()
    }
    .resolve()
    .unwrap();
    let run = common::run(&config);
    let diverged = run.diverged.iter().filter(|&&d| d).count();
    assert!(diverged > 0, "η = 3 should blow some chains up");
    // Frozen chains keep a finite-or-flagged row; kept chains stay within the bound.
    let width = config.params_per_chain();
    for (row, d) in run.final_weights.chunks_exact(width).zip(&run.diverged) {
        let norm = row
            .iter()
            .map(|v| f64::from(*v).powi(2))
            .sum::<f64>()
            .sqrt();
        if !d {
            assert!(norm <= config.divergence_norm);
        }
    }
}
