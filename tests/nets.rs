//! The nets on real images: the IDX reader, the FCN against a hand computation, the CNN's
//! shapes and step against per-chain nets, chains independent, backends agreeing, and a
//! short Fashion-MNIST run that learns. Needs Debian's `dataset-fashion-mnist` (.ci/run
//! installs it).

mod common;

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use tailgate::backend::BackendKind;
use tailgate::config::{Algorithm, DatasetSpec, Model, TrainConfig};
use tailgate::data::idx::{self, FASHION_MNIST_DIR, PIXELS, SIDE};
use tailgate::nets::{Net, initial_weights, layer_shapes};
use tailgate::optim::{NetSgd, burn_sgd};

fn net_config(model: Model, chains: usize) -> TrainConfig {
    TrainConfig {
        model,
        chains,
        depth: 2,
        width: Some(3),
        batch: 2,
        eta: 0.1,
        steps: 4,
        ..TrainConfig::default()
    }
    .resolve()
    .unwrap()
    .into_config()
}

fn fashion() -> DatasetSpec {
    assert!(
        Path::new(FASHION_MNIST_DIR).is_dir(),
        "these tests need Fashion-MNIST: apt-get install dataset-fashion-mnist"
    );
    DatasetSpec::FashionMnist
}

fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v.extend_from_slice(data);
    v
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A 3-image training split and a 1-image test split of known bytes.
fn write_tiny_dataset(dir: &Path) {
    let img = |v: u8| vec![v; PIXELS];
    let train: Vec<u8> = [img(0), img(255), img(51)].concat();
    let s = SIDE as u32;
    std::fs::write(
        dir.join("train-images-idx3-ubyte.gz"),
        gz(&idx_bytes(&[3, s, s], &train)),
    )
    .unwrap();
    std::fs::write(
        dir.join("train-labels-idx1-ubyte"),
        idx_bytes(&[3], &[0, 9, 4]),
    )
    .unwrap();
    std::fs::write(
        dir.join("t10k-images-idx3-ubyte"),
        idx_bytes(&[1, s, s], &img(255)),
    )
    .unwrap();
    std::fs::write(
        dir.join("t10k-labels-idx1-ubyte.gz"),
        gz(&idx_bytes(&[1], &[9])),
    )
    .unwrap();
}

#[test]
fn idx_folder_of_known_bytes_reads_and_standardises() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_dataset(dir.path());
    let data = idx::read_dir(dir.path()).unwrap();
    assert_eq!(data.train.labels, vec![0, 9, 4]);
    assert_eq!(data.test.labels, vec![9]);
    // Pixels 0, 1, 0.2 (each an image): mean 0.4, std sqrt(((0.4)² + 0.6² + 0.2²)/3).
    let std = ((0.16f64 + 0.36 + 0.04) / 3.0).sqrt();
    assert!((data.pixel_mean - 0.4).abs() < 1e-12);
    assert!((data.pixel_std - std).abs() < 1e-12);
    let expected = ((1.0 - 0.4) / std) as f32;
    assert!((data.train.image(1)[0] - expected).abs() < 1e-6);
    assert!((data.test.image(0)[PIXELS - 1] - expected).abs() < 1e-6);
}

#[test]
fn truncated_and_wrong_magic_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_dataset(dir.path());
    let labels = dir.path().join("train-labels-idx1-ubyte");
    std::fs::write(&labels, idx_bytes(&[3], &[0, 9])).unwrap();
    let e = idx::read_dir(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("train-labels-idx1-ubyte") && e.contains("truncated"),
        "{e}"
    );
    std::fs::write(&labels, [0u8, 0, 0x0b, 1, 0, 0, 0, 3, 0, 0, 0]).unwrap();
    let e = idx::read_dir(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("train-labels-idx1-ubyte") && e.contains("0x0b"),
        "{e}"
    );
    let empty = tempfile::tempdir().unwrap();
    let e = idx::read_dir(empty.path()).unwrap_err().to_string();
    assert!(e.contains("dataset-fashion-mnist"), "{e}");
}

#[test]
fn cli_refuses_a_missing_or_corrupt_dataset_with_exit_2_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_dataset(dir.path());
    std::fs::write(
        dir.path().join("t10k-images-idx3-ubyte"),
        idx_bytes(&[1, 28, 28], &[1, 2, 3]),
    )
    .unwrap();
    let out_dir = dir.path().join("run");
    for data_dir in [dir.path().to_path_buf(), dir.path().join("absent")] {
        let out = Command::new(env!("CARGO_BIN_EXE_tailgate"))
            .args([
                "train",
                "--model",
                "fcn",
                "--steps",
                "4",
                "--quiet",
                "--data-dir",
            ])
            .arg(&data_dir)
            .arg("--out")
            .arg(&out_dir)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(&data_dir.display().to_string()), "{err}");
        assert!(!out_dir.exists());
    }
}

#[test]
fn net_fields_are_refused_on_the_gate() {
    let config = TrainConfig {
        width: Some(3),
        ..TrainConfig::default()
    };
    let e = config.resolve().unwrap_err().to_string();
    assert!(e.contains("`width`"), "{e}");
}

fn host<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data()
        .try_into_vec::<f32>()
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect()
}

/// One image with pixels 0 and 1 set, and its label.
fn sparse_image(a: f32, b: f32) -> Vec<f32> {
    let mut x = vec![0.0f32; PIXELS];
    x[0] = a;
    x[1] = b;
    x
}

#[test]
fn fcn_forward_and_one_sgd_step_match_a_hand_computation() {
    // Two layers: 784 → 3 (only pixels 0 and 1 nonzero) → 10; one chain, b = 2.
    let config = net_config(Model::Fcn, 1);
    let device = Device::flex().autodiff();
    let mut w1 = vec![0.0f32; 3 * PIXELS];
    let first = [[0.5f32, -1.0], [0.25, 0.75], [-0.5, -0.25]];
    for (j, row) in first.iter().enumerate() {
        w1[j * PIXELS] = row[0];
        w1[j * PIXELS + 1] = row[1];
    }
    let w2: Vec<f32> = (0..30)
        .map(|i| ((i * 7 % 11) as f32 - 5.0) / 10.0)
        .collect();
    let net = Net::from_weights(&config, vec![w1.clone(), w2.clone()], SIDE, &device);
    let xs = [(1.0f32, 2.0f32, 3usize), (-1.0, 0.5, 7)];
    let x: Vec<f32> = xs
        .iter()
        .flat_map(|&(a, b, _)| sparse_image(a, b))
        .collect();
    let y: Vec<f32> = xs.iter().map(|&(_, _, l)| l as f32).collect();
    let xt = Tensor::<3>::from_data(TensorData::new(x, [1, 2, PIXELS]), &device);
    let yt = Tensor::<2>::from_data(TensorData::new(y, [1, 2]), &device);

    // By hand: h = ReLU(W1 x), z = W2 h, loss = mean_i −log softmax(z_i)[y_i].
    let mut g1 = [[0.0f64; 2]; 3];
    let mut g2 = vec![0.0f64; 30];
    let mut logits = vec![];
    for &(a, b, label) in &xs {
        let pre: Vec<f64> = first
            .iter()
            .map(|r| r[0] as f64 * a as f64 + r[1] as f64 * b as f64)
            .collect();
        let h: Vec<f64> = pre.iter().map(|v| v.max(0.0)).collect();
        let z: Vec<f64> = (0..10)
            .map(|k| (0..3).map(|j| w2[k * 3 + j] as f64 * h[j]).sum())
            .collect();
        let m = z.iter().cloned().fold(f64::MIN, f64::max);
        let sum: f64 = z.iter().map(|v| (v - m).exp()).sum();
        let p: Vec<f64> = z.iter().map(|v| (v - m).exp() / sum).collect();
        for k in 0..10 {
            let d = (p[k] - if k == label { 1.0 } else { 0.0 }) / 2.0;
            for j in 0..3 {
                g2[k * 3 + j] += d * h[j];
                if pre[j] > 0.0 {
                    g1[j][0] += d * w2[k * 3 + j] as f64 * a as f64;
                    g1[j][1] += d * w2[k * 3 + j] as f64 * b as f64;
                }
            }
        }
        logits.extend(z);
    }
    let got = host(net.valid().forward(xt.clone().inner()));
    for (g, e) in got.iter().zip(&logits) {
        assert!((g - e).abs() < 1e-5, "logit {g} vs {e}");
    }
    let mut sgd = NetSgd::new(burn_sgd(&config));
    let stepped = sgd.step(net, (xt, yt), 0.1, None);
    let new1 = host(stepped.fc[0].val().inner());
    let new2 = host(stepped.fc[1].val().inner());
    for j in 0..3 {
        for i in 0..2 {
            let expected = first[j][i] as f64 - 0.1 * g1[j][i];
            assert!((new1[j * PIXELS + i] - expected).abs() < 1e-6);
        }
        assert_eq!(new1[j * PIXELS + 2], 0.0);
    }
    for (i, (n, w)) in new2.iter().zip(&w2).enumerate() {
        assert!((n - (*w as f64 - 0.1 * g2[i])).abs() < 1e-6, "W2[{i}]");
    }
}

/// Weights of chain `c` alone, from a batched layout (every layer is chain-major).
fn chain_slice(weights: &[Vec<f32>], chains: usize, c: usize) -> Vec<Vec<f32>> {
    weights
        .iter()
        .map(|w| {
            let n = w.len() / chains;
            w[c * n..(c + 1) * n].to_vec()
        })
        .collect()
}

/// A batched step equals a step of each chain's net alone (chains are independent; for
/// the CNN the grouped convolution equals a plain one per chain).
fn batched_step_equals_per_chain_steps(model: Model, algorithm: Algorithm) {
    let chains = 3;
    let mut config = net_config(model, chains);
    config.algorithm = algorithm;
    let device = Device::flex().autodiff();
    let weights = initial_weights(&config, PIXELS);
    let batch = 2;
    let x: Vec<f32> = (0..chains * batch * PIXELS)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
        .collect();
    let y: Vec<f32> = (0..chains * batch).map(|i| (i * 3 % 10) as f32).collect();
    let mut net = Net::from_weights(&config, weights.clone(), SIDE, &device);
    net.straight_through = algorithm == Algorithm::Km;
    let xt = Tensor::<3>::from_data(TensorData::new(x.clone(), [chains, batch, PIXELS]), &device);
    let yt = Tensor::<2>::from_data(TensorData::new(y.clone(), [chains, batch]), &device);
    let logits = net.valid().forward(xt.clone().inner());
    assert_eq!(logits.dims(), [chains, batch, 10]);
    let flat_width = config.params_per_chain();
    assert_eq!(net.valid().flat().dims(), [chains, flat_width]);
    let stepped = NetSgd::new(burn_sgd(&config)).step(net, (xt, yt), 0.1, None);
    let batched = host(stepped.valid().flat());
    let one = TrainConfig {
        chains: 1,
        ..config.clone()
    };
    for c in 0..chains {
        let mut alone = Net::from_weights(&one, chain_slice(&weights, chains, c), SIDE, &device);
        alone.straight_through = algorithm == Algorithm::Km;
        let xc = x[c * batch * PIXELS..(c + 1) * batch * PIXELS].to_vec();
        let yc = y[c * batch..(c + 1) * batch].to_vec();
        let xt = Tensor::<3>::from_data(TensorData::new(xc, [1, batch, PIXELS]), &device);
        let yt = Tensor::<2>::from_data(TensorData::new(yc, [1, batch]), &device);
        let stepped = NetSgd::new(burn_sgd(&one)).step(alone, (xt, yt), 0.1, None);
        let own = host(stepped.valid().flat());
        let row = &batched[c * flat_width..(c + 1) * flat_width];
        let worst = own
            .iter()
            .zip(row)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(
            worst < 1e-5,
            "{model:?} {algorithm:?} chain {c}: max |Δ| = {worst}"
        );
    }
}

#[test]
fn cnn_shapes_and_a_batched_step_equal_per_chain_nets() {
    let shapes: Vec<_> = layer_shapes(&net_config(Model::Cnn, 1), PIXELS)
        .into_iter()
        .map(|l| (l.name, l.shape))
        .collect();
    let expected = [
        ("conv1", [6, 25]),
        ("conv2", [16, 150]),
        ("fc1", [120, 400]),
        ("fc2", [84, 120]),
        ("fc3", [10, 84]),
    ];
    for ((name, shape), (en, es)) in shapes.iter().zip(expected) {
        assert_eq!((name.as_str(), *shape), (en, es));
    }
    batched_step_equals_per_chain_steps(Model::Cnn, Algorithm::Sgd);
    batched_step_equals_per_chain_steps(Model::Cnn, Algorithm::Km);
}

#[test]
fn fcn_chains_are_independent_in_a_batched_step() {
    batched_step_equals_per_chain_steps(Model::Fcn, Algorithm::Sgd);
    batched_step_equals_per_chain_steps(Model::Fcn, Algorithm::Km);
}

fn fashion_config(model: Model, backend: BackendKind, steps: usize) -> TrainConfig {
    TrainConfig {
        dataset: Some(fashion()),
        backend,
        steps,
        ..TrainConfig::net_defaults(model)
    }
    .resolve()
    .unwrap()
    .into_config()
}

/// A short run on `backend` gives flex's weights and test accuracies.
fn agrees_with_flex(backend: BackendKind) {
    for model in [Model::Fcn, Model::Cnn] {
        let mut flex = fashion_config(model, BackendKind::Flex, 20);
        flex.chains = 2;
        let other = TrainConfig {
            backend,
            ..flex.clone()
        };
        let a = common::run(&flex);
        let b = common::run(&other);
        let worst = a
            .final_weights
            .iter()
            .zip(&b.final_weights)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst < 1e-4,
            "{model:?}: flex and ndarray differ by {worst}"
        );
        let (ta, tb) = (a.net.unwrap().test, b.net.unwrap().test);
        for (x, y) in ta.accuracy.iter().zip(&tb.accuracy) {
            assert!((x - y).abs() <= 2e-4, "{model:?} test accuracy {x} vs {y}");
        }
    }
}

#[test]
fn ndarray_agrees_with_flex_on_a_short_fashion_mnist_run() {
    agrees_with_flex(BackendKind::Ndarray);
}

/// On lavapipe in CI: three SGD steps of the FCN on wgpu give flex's weights, and the
/// CNN's grouped convolutions give flex's logits (module level, and the CNN forward only:
/// its backward kernels take ~7 minutes to compile and run on a software GPU).
#[cfg(feature = "wgpu")]
#[test]
fn wgpu_steps_agree_with_flex() {
    let wgpu = tailgate::backend::make_device(BackendKind::Wgpu).unwrap();
    let cnn = net_config(Model::Cnn, 2);
    let weights = initial_weights(&cnn, PIXELS);
    let x: Vec<f32> = (0..2 * 2 * PIXELS)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
        .collect();
    let logits = |device: &Device| {
        let net = Net::from_weights(&cnn, weights.clone(), SIDE, device);
        let xt = Tensor::<3>::from_data(TensorData::new(x.clone(), [2, 2, PIXELS]), device);
        host(net.forward(xt))
    };
    let (a, b) = (logits(&Device::flex()), logits(&wgpu));
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-4, "CNN logits: flex and wgpu differ by {worst}");
    for model in [Model::Fcn] {
        let config = net_config(model, 2);
        let weights = initial_weights(&config, PIXELS);
        let run = |device: &Device| {
            let device = device.clone().autodiff();
            let mut net = Net::from_weights(&config, weights.clone(), SIDE, &device);
            let mut sgd = NetSgd::new(burn_sgd(&config));
            for step in 0..3 {
                let x: Vec<f32> = (0..2 * 2 * PIXELS)
                    .map(|i| (((i + step * 13) * 37 % 101) as f32 - 50.0) / 50.0)
                    .collect();
                let y: Vec<f32> = (0..4).map(|i| ((i + step) * 3 % 10) as f32).collect();
                let xt = Tensor::<3>::from_data(TensorData::new(x, [2, 2, PIXELS]), &device);
                let yt = Tensor::<2>::from_data(TensorData::new(y, [2, 2]), &device);
                net = sgd.step(net, (xt, yt), 0.1, None);
            }
            host(net.valid().flat())
        };
        let (a, b) = (run(&Device::flex()), run(&wgpu));
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-4, "{model:?}: flex and wgpu differ by {worst}");
    }
}

#[test]
fn fcn_learns_fashion_mnist_above_80_percent_in_1500_steps() {
    let mut config = fashion_config(Model::Fcn, BackendKind::Flex, 1500);
    config.chains = 2;
    let run = common::run(&config);
    let net = run.net.unwrap();
    for a in &net.test.accuracy {
        assert!(
            *a > 0.80,
            "test accuracy {a} after 1500 steps (b = 10, η = 0.05)"
        );
    }
    assert_eq!(net.test_images, 10_000);
    assert_eq!(net.train_images, 60_000);
    // The curve starts at chance and its last point beats it.
    let first = &net.curve[0].accuracy;
    let last = &net.curve.last().unwrap().accuracy;
    assert!(first.iter().all(|a| *a < 0.3) && last.iter().all(|a| *a > 0.75));
}

#[test]
fn train_with_defaults_ends_with_test_accuracy_and_per_layer_alpha() {
    fashion();
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("run");
    let out = Command::new(env!("CARGO_BIN_EXE_tailgate"))
        .args([
            "train",
            "--model",
            "fcn",
            "--dataset",
            "fashion_mnist",
            "--quiet",
        ])
        .args(["--steps", "200", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    common::assert_success(&out);
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(
        line.contains("test accuracy") && line.contains("fc1 "),
        "{line}"
    );
    let run = common::run_json(&out_dir);
    let layers = run["summary"]["net"]["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 3);
    for l in layers {
        let a = l["alpha"].as_f64().unwrap();
        let ci = l["alpha_ci"].as_array().unwrap();
        assert!(a > 0.0 && ci[0].as_f64().unwrap() <= a && a <= ci[1].as_f64().unwrap());
        assert_eq!(l["alpha_per_chain"].as_array().unwrap().len(), 4);
    }
    assert_eq!(
        run["summary"]["net"]["test"]["accuracy"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(run["config"]["late_window"], 100);
}

#[test]
fn a_net_study_reports_per_layer_alpha_against_eta_over_b() {
    fashion();
    let dir = tempfile::tempdir().unwrap();
    let study = dir.path().join("study.json");
    std::fs::write(
        &study,
        r#"{"name": "tiny_nets",
            "base": {"model": "fcn", "width": 8, "chains": 2, "steps": 60, "late_window": 20,
                     "log_every": 30},
            "grid": {"algorithm": ["sgd", "km"], "batch": [2], "eta": [0.01, 0.02, 0.05]}}"#,
    )
    .unwrap();
    let sweep = dir.path().join("sweep");
    let tailgate = || Command::new(env!("CARGO_BIN_EXE_tailgate"));
    let out = tailgate()
        .args(["sweep", "--quiet", "--config"])
        .arg(&study)
        .arg("--out")
        .arg(&sweep)
        .output()
        .unwrap();
    common::assert_success(&out);
    common::assert_success(&tailgate().arg("report").arg(&sweep).output().unwrap());
    let report = std::fs::read_to_string(sweep.join("report/report.md")).unwrap();
    assert!(report.contains("## Larger nets on real data"), "{report}");
    assert!(
        report.contains("| fc1 |") && report.contains("KM b = 2"),
        "{report}"
    );
    let csv = std::fs::read_to_string(sweep.join("report/networks.csv")).unwrap();
    // A header and 6 cells × 3 layers.
    assert_eq!(csv.lines().count(), 1 + 6 * 3, "{csv}");
    assert!(sweep.join("report/networks_fcn.png").is_file());
}
