//! The same run on every compiled backend gives the same numbers (within float32
//! tolerance): `xoshiro` data come from the host, so only the arithmetic differs; `philox`
//! data are drawn on the GPU with wgpu and on the host otherwise.

mod common;

use tailgate::backend::BackendKind;
use tailgate::config::{Algorithm, DataRng, TrainConfig};

fn agree(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() < 1e-4 * (1.0 + x.abs()),
            "{what}[{i}]: {x} vs {y}"
        );
    }
}

fn config(algorithm: Algorithm, backend: BackendKind) -> TrainConfig {
    let mut cfg = common::small(32, 6, 150);
    cfg.algorithm = algorithm;
    cfg.eta = 0.1;
    cfg.backend = backend;
    cfg
}

fn check_against_flex(backend: BackendKind, data_rng: DataRng) {
    for algorithm in [Algorithm::Sgd, Algorithm::Km] {
        let with_rng = |backend| TrainConfig {
            data_rng,
            ..config(algorithm, backend)
        };
        let flex = common::run(&with_rng(BackendKind::Flex));
        let other = common::run(&with_rng(backend));
        let what = format!("{algorithm:?} on {} ({data_rng:?})", backend.name());
        agree(
            &flex.final_weights,
            &other.final_weights,
            &format!("{what} final"),
        );
        agree(
            &flex.average_weights,
            &other.average_weights,
            &format!("{what} average"),
        );
        assert_eq!(flex.diverged, other.diverged);
    }
}

#[test]
fn ndarray_agrees_with_flex() {
    check_against_flex(BackendKind::Ndarray, DataRng::Xoshiro);
}

#[cfg(feature = "wgpu")]
#[test]
fn wgpu_agrees_with_flex() {
    check_against_flex(BackendKind::Wgpu, DataRng::Xoshiro);
}

/// wgpu draws `philox` data on the device, flex on the host: the runs still agree.
#[cfg(feature = "wgpu")]
#[test]
fn wgpu_drawing_philox_data_on_the_device_agrees_with_flex() {
    check_against_flex(BackendKind::Wgpu, DataRng::Philox);
}

#[cfg(feature = "wgpu")]
#[test]
fn wgpu_reports_divergence_like_flex() {
    let mut cfg = config(Algorithm::Sgd, BackendKind::Wgpu);
    cfg.eta = 1.5;
    let run = common::run(&cfg);
    assert!(run.diverged.iter().all(|&d| d));
}

#[cfg(not(feature = "wgpu"))]
#[test]
fn wgpu_without_the_feature_says_how_to_rebuild() {
    let err = tailgate::backend::make_device(BackendKind::Wgpu).unwrap_err();
    assert!(err.to_string().contains("--features wgpu"), "{err}");
}
