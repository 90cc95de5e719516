//! The `philox` data: Philox4x32-10 drawn on a device gives the host's words exactly and
//! its normals and labels to float rounding, on every compiled backend; the Box–Muller
//! normals follow the normal law.

mod common;

use common::normal_law::{assert_standard_moments, upper};
use tailgate::backend::{BackendKind, make_device};
use tailgate::config::{DataRng, Labels, Model, Resolved, TrainConfig};
use tailgate::data::philox::{self, DevicePhilox};
use tailgate::data::{DataSource, DeviceSource, teacher};

fn close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 2e-5 * (1.0 + x.abs()),
            "{what}[{i}]: host {x} vs device {y}"
        );
    }
}

fn device_generator_matches_the_host(backend: BackendKind) {
    let device = make_device(backend).unwrap();
    let (seed, chains, count) = (0xdead_beef_0123_4567, 5, 10);
    let generator = DevicePhilox::new(seed, chains, count, &device);
    let blocks = philox::blocks(count);
    for step in [0, 1, 0x8000_0005, u32::MAX] {
        let words: Vec<Vec<u32>> = generator
            .words(step)
            .into_iter()
            .map(|w| {
                w.into_data()
                    .convert::<u32>()
                    .try_into_vec::<u32>()
                    .unwrap()
            })
            .collect();
        let normals = generator
            .normals(step)
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let mut host = vec![0.0f32; 4 * blocks];
        for c in 0..chains {
            for j in 0..blocks {
                let want = philox::philox4x32_10(
                    philox::counter(j as u32, step, c as u32),
                    philox::key(seed),
                );
                let got = [0, 1, 2, 3].map(|k| words[k][c * blocks + j]);
                assert_eq!(
                    got,
                    want,
                    "{}: step {step} chain {c} block {j}",
                    backend.name()
                );
            }
            philox::host_normals(seed, step, c as u32, count, &mut host);
            close(
                &host,
                &normals[c * 4 * blocks..(c + 1) * 4 * blocks],
                &format!("{} normals, step {step} chain {c}", backend.name()),
            );
        }
    }
}

fn config(labels: Labels, model: Model) -> Resolved {
    TrainConfig {
        chains: 6,
        dim: 7,
        batch: 3,
        labels,
        model,
        label_noise: 0.5,
        mixture_separation: 1.5,
        data_rng: DataRng::Philox,
        ..TrainConfig::default()
    }
    .resolve()
    .unwrap()
}

fn device_batches_match_host_batches(backend: BackendKind) {
    let device = make_device(backend).unwrap();
    let cases = [
        (Labels::Realizable, Model::ReluGate),
        (Labels::Realizable, Model::Linear),
        (Labels::Binary01, Model::ReluGate),
        (Labels::BinaryPm1, Model::ReluGate),
        (Labels::Mixture, Model::ReluGate),
    ];
    for (labels, model) in cases {
        let cfg = config(labels, model);
        let w_star = teacher(&cfg);
        let mut host = DataSource::new(&cfg, w_star.clone());
        let mut on_device = DeviceSource::new(&cfg, &w_star, &device);
        for step in 0..3 {
            let want = host.next_batch();
            let (x, y) = on_device.next_batch();
            assert_eq!(x.dims(), [cfg.chains, cfg.batch, cfg.dim]);
            assert_eq!(y.dims(), [cfg.chains, cfg.batch]);
            let what = format!("{} {labels:?} {model:?} step {step}", backend.name());
            close(
                &want.x,
                &x.into_data().try_into_vec::<f32>().unwrap(),
                &format!("{what} x"),
            );
            close(
                &want.y,
                &y.into_data().try_into_vec::<f32>().unwrap(),
                &format!("{what} y"),
            );
        }
    }
}

#[test]
fn flex_draws_the_hosts_philox_numbers() {
    device_generator_matches_the_host(BackendKind::Flex);
    device_batches_match_host_batches(BackendKind::Flex);
}

#[test]
fn ndarray_draws_the_hosts_philox_numbers() {
    device_generator_matches_the_host(BackendKind::Ndarray);
    device_batches_match_host_batches(BackendKind::Ndarray);
}

#[cfg(feature = "wgpu")]
#[test]
fn wgpu_draws_the_hosts_philox_numbers() {
    device_generator_matches_the_host(BackendKind::Wgpu);
    device_batches_match_host_batches(BackendKind::Wgpu);
}

/// `n` host normals: blocks of chain 0 at successive steps, as a run of d = 4n/steps draws.
fn normals(n: usize, seed: u64) -> Vec<f32> {
    let per_step = 100;
    let mut out = vec![0.0f32; n.div_ceil(per_step) * per_step];
    for (step, row) in out.chunks_mut(per_step).enumerate() {
        philox::host_normals(seed, step as u32, 3, per_step, row);
    }
    out.truncate(n);
    out
}

#[test]
fn box_muller_normals_follow_the_normal_law() {
    let n = 4_000_000;
    let x = normals(n, 11);
    let nf = n as f64;
    assert_standard_moments(&x);
    // The distribution function on a grid, and the tails out to 4.5σ.
    for t in [
        -2.0, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 4.5,
    ] {
        let p = if t >= 0.0 { upper(t) } else { 1.0 - upper(-t) };
        let count = x.iter().filter(|&&v| f64::from(v) > t).count() as f64;
        let sd = (nf * p * (1.0 - p)).sqrt();
        assert!(
            (count - nf * p).abs() < 4.5 * sd,
            "P(Z > {t}): {count} samples, expected {:.0} ± {sd:.0}",
            nf * p
        );
    }
    // Neighbouring normals (the cos/sin of one pair, and across pairs) are uncorrelated.
    for lag in [1, 2, 4] {
        let c = x
            .iter()
            .zip(&x[lag..])
            .map(|(&a, &b)| f64::from(a) * f64::from(b))
            .sum::<f64>()
            / nf;
        assert!(c.abs() < 4.0 / nf.sqrt(), "lag-{lag} correlation {c}");
    }
}

#[test]
fn neighbouring_chains_and_seeds_are_uncorrelated() {
    // Same step and block, counters one chain (or the key one seed) apart.
    let (steps, per_step) = (10_000u32, 100);
    let mut sums = [0.0f64; 2];
    let mut a = vec![0.0f32; per_step];
    let mut b = vec![0.0f32; per_step];
    let mut c = vec![0.0f32; per_step];
    for step in 0..steps {
        philox::host_normals(7, step, 4, per_step, &mut a);
        philox::host_normals(7, step, 5, per_step, &mut b);
        philox::host_normals(8, step, 4, per_step, &mut c);
        for i in 0..per_step {
            sums[0] += f64::from(a[i]) * f64::from(b[i]);
            sums[1] += f64::from(a[i]) * f64::from(c[i]);
        }
    }
    let n = f64::from(steps) * per_step as f64;
    for (what, s) in ["chains 4 and 5", "seeds 7 and 8"].iter().zip(sums) {
        assert!(
            (s / n).abs() < 4.0 / n.sqrt(),
            "{what}: correlation {}",
            s / n
        );
    }
}

#[test]
fn philox_streams_are_seeded_and_depend_on_step_and_chain() {
    let mut a = vec![0.0f32; 8];
    let mut b = vec![0.0f32; 8];
    philox::host_normals(1, 5, 2, 8, &mut a);
    philox::host_normals(1, 5, 2, 8, &mut b);
    assert_eq!(a, b);
    for (seed, step, chain) in [(2, 5, 2), (1, 6, 2), (1, 5, 3)] {
        philox::host_normals(seed, step, chain, 8, &mut b);
        assert_ne!(a, b, "seed {seed} step {step} chain {chain}");
    }
}

#[test]
fn a_fixed_dataset_with_philox_data_is_refused() {
    let cfg = TrainConfig {
        data_rng: DataRng::Philox,
        dataset_size: Some(100),
        ..TrainConfig::default()
    };
    let err = cfg.resolve().unwrap_err().to_string();
    assert!(
        err.contains("data_rng") && err.contains("dataset_size"),
        "{err}"
    );
}

#[test]
fn philox_training_is_reproducible_and_agrees_across_cpu_backends() {
    let mut cfg = common::small(40, 6, 120);
    cfg.data_rng = DataRng::Philox;
    cfg.eta = 0.1;
    let a = common::run(&cfg);
    let b = common::run(&cfg);
    assert_eq!(a.final_weights, b.final_weights);
    let xoshiro = common::run(&TrainConfig {
        data_rng: DataRng::Xoshiro,
        ..cfg.clone()
    });
    assert_ne!(a.final_weights, xoshiro.final_weights);
    let nd = common::run(&TrainConfig {
        backend: BackendKind::Ndarray,
        ..cfg
    });
    close(&a.final_weights, &nd.final_weights, "ndarray vs flex final");
}
