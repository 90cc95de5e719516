//! The data setups: labels follow the teacher exactly, streams are seeded per chain; for
//! both data generators where the property concerns the fresh data.

use tailgate::config::{DataRng, Labels, Teacher, TrainConfig};
use tailgate::data::{DataSource, initial_weights, teacher};

fn config(labels: Labels) -> TrainConfig {
    TrainConfig {
        chains: 50,
        dim: 4,
        batch: 8,
        labels,
        label_noise: 0.0,
        mixture_separation: 2.0,
        ..TrainConfig::default()
    }
    .resolve()
    .unwrap()
    .into_config()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

const RNGS: [DataRng; 2] = [DataRng::Xoshiro, DataRng::Philox];

fn with_rng(cfg: TrainConfig, data_rng: DataRng) -> TrainConfig {
    TrainConfig { data_rng, ..cfg }
}

#[test]
fn labels_follow_the_teacher() {
    for (labels, rng) in [Labels::Realizable, Labels::Binary01, Labels::BinaryPm1]
        .into_iter()
        .flat_map(|l| RNGS.map(|r| (l, r)))
    {
        let cfg = with_rng(config(labels), rng);
        let w_star = teacher(&cfg);
        let batch = DataSource::new(&cfg, w_star.clone()).next_batch();
        for (x, &y) in batch.x.chunks_exact(cfg.dim).zip(&batch.y) {
            let z = dot(x, &w_star);
            let want = match labels {
                Labels::Realizable => z.max(0.0),
                Labels::Binary01 => f32::from(z > 0.0),
                _ => {
                    if z > 0.0 {
                        1.0
                    } else {
                        -1.0
                    }
                }
            };
            assert_eq!(y, want, "{labels:?} {rng:?}");
        }
    }
}

#[test]
fn mixture_classes_are_shifted_along_the_teacher() {
    for rng in RNGS {
        mixture_case(rng);
    }
}

fn mixture_case(rng: DataRng) {
    let cfg = TrainConfig {
        chains: 400,
        data_rng: rng,
        ..config(Labels::Mixture)
    };
    let w_star = teacher(&cfg);
    let batch = DataSource::new(&cfg, w_star.clone()).next_batch();
    let (mut pos, mut neg) = ((0.0, 0), (0.0, 0));
    for (x, &y) in batch.x.chunks_exact(cfg.dim).zip(&batch.y) {
        assert!(y == 0.0 || y == 1.0);
        let z = dot(x, &w_star) as f64;
        if y == 1.0 {
            pos = (pos.0 + z, pos.1 + 1)
        } else {
            neg = (neg.0 + z, neg.1 + 1)
        }
    }
    // w*·x ~ N(±μ, 1) with μ = 2, 3200 samples, half in each class.
    assert!((pos.0 / pos.1 as f64 - 2.0).abs() < 0.1, "{rng:?}");
    assert!((neg.0 / neg.1 as f64 + 2.0).abs() < 0.1, "{rng:?}");
    assert!(
        (pos.1 as f64 / 3200.0 - 0.5).abs() < 0.04,
        "{rng:?}: {} positive",
        pos.1
    );
}

#[test]
fn label_noise_has_the_configured_spread() {
    for rng in RNGS {
        noise_case(rng);
    }
}

fn noise_case(rng: DataRng) {
    let cfg = TrainConfig {
        label_noise: 0.5,
        chains: 500,
        data_rng: rng,
        ..config(Labels::Realizable)
    };
    let w_star = teacher(&cfg);
    let batch = DataSource::new(&cfg, w_star.clone()).next_batch();
    let resid: Vec<f64> = batch
        .x
        .chunks_exact(cfg.dim)
        .zip(&batch.y)
        .map(|(x, &y)| (y - dot(x, &w_star).max(0.0)) as f64)
        .collect();
    let var = resid.iter().map(|r| r * r).sum::<f64>() / resid.len() as f64;
    assert!(
        (var.sqrt() - 0.5).abs() < 0.02,
        "{rng:?}: sd {}",
        var.sqrt()
    );
}

#[test]
fn teacher_and_init_are_seeded() {
    let cfg = config(Labels::Realizable);
    let t = teacher(&cfg);
    assert!((dot(&t, &t) - 1.0).abs() < 1e-6);
    assert_eq!(t, teacher(&cfg));
    assert_ne!(
        t,
        teacher(&TrainConfig {
            seed: 1,
            ..cfg.clone()
        })
    );
    assert_eq!(
        teacher(&TrainConfig {
            teacher: Teacher::E1,
            ..cfg.clone()
        }),
        vec![1.0, 0.0, 0.0, 0.0]
    );
    let w = initial_weights(&cfg.clone().resolve().unwrap());
    assert_eq!(w.len(), 200);
    // w₀ ~ N(0, I/d): mean square 1/d = 0.25.
    let ms = w.iter().map(|v| (v * v) as f64).sum::<f64>() / 200.0;
    assert!((ms - 0.25).abs() < 0.06, "{ms}");
    assert_eq!(w, initial_weights(&cfg.clone().resolve().unwrap()));
}

#[test]
fn a_chains_data_do_not_depend_on_the_chain_count_or_the_drawing_path() {
    for rng in RNGS {
        chain_count_case(rng);
    }
}

fn chain_count_case(rng: DataRng) {
    // 200 chains × 8 × 100 floats are drawn on the thread pool (and ahead of the step by
    // the trainer); one chain is drawn in line. Chain 0 sees the same samples either way.
    let large = TrainConfig {
        chains: 200,
        dim: 100,
        label_noise: 1.0,
        data_rng: rng,
        ..config(Labels::Realizable)
    };
    let one = TrainConfig {
        chains: 1,
        ..large.clone()
    };
    let w_star = teacher(&large);
    let mut a = DataSource::new(&large, w_star.clone());
    let mut b = DataSource::new(&one, w_star);
    assert!(a.is_large() && !b.is_large());
    for _ in 0..3 {
        let (ba, bb) = (a.next_batch(), b.next_batch());
        assert_eq!(ba.x[..8 * 100], bb.x[..]);
        assert_eq!(ba.y[..8], bb.y[..]);
    }
}

#[test]
fn the_teacher_dot_product_matches_a_plain_sum() {
    // Eight partial sums plus a remainder: lengths around and across multiples of 8.
    for n in [1, 7, 8, 9, 100, 101] {
        let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
        let want: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
        let got = tailgate::data::dot(&a, &b) as f64;
        assert!(
            (got - want).abs() < 1e-5 * (1.0 + want.abs()),
            "n = {n}: {got} vs {want}"
        );
    }
}
