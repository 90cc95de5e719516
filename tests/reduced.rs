//! The reduced engine: its step against the full d-dimensional update on the same numbers,
//! its χ² sampler against the exact law, its chains against burn's in law (two-sample KS),
//! reproducibility, pairing of SGD and KM, and what it refuses.

mod common;

use common::ks::{ks_one_sample, ks_two_sample};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};
use std::collections::VecDeque;
use tailgate::config::{Algorithm, Engine, Labels, Model, Teacher, TrainConfig};
use tailgate::data::gamma::ChiSquared;
use tailgate::data::normal::Buffered;
use tailgate::io::Progress;
use tailgate::reduced::{self, Draws, Kernel, LaneRng, Scalar, State};

/// Draws given in advance, in the order the kernel asks for them.
#[derive(Default)]
struct Script {
    normals: VecDeque<f64>,
    coins: VecDeque<bool>,
    chi: VecDeque<f64>,
}

impl Draws for Script {
    fn normal(&mut self) -> f64 {
        self.normals.pop_front().expect("a scripted normal")
    }
    fn coin(&mut self) -> bool {
        self.coins.pop_front().expect("a scripted coin")
    }
    fn chi_squared(&mut self, _: &ChiSquared) -> f64 {
        self.chi.pop_front().expect("a scripted χ²")
    }
}

fn config(model: Model, algorithm: Algorithm, dim: usize, batch: usize, eta: f64) -> TrainConfig {
    TrainConfig {
        engine: Engine::Reduced,
        model,
        algorithm,
        dim,
        batch,
        eta,
        teacher: Teacher::E1,
        ..TrainConfig::default()
    }
}

/// Two samples by hand (d = 5, b = 2, η = 0.3, σ = 0.5, w = 0.5·w* + 2·u): the second has
/// w·x < 0, so SGD drops it and KM does not.
#[test]
fn first_step_by_hand() {
    let script = |chi: f64| Script {
        // g₁, g₂, ξ of each sample.
        normals: [1.0, 0.5, -0.2, -1.0, -0.25, 0.4].into(),
        chi: [chi].into(),
        ..Script::default()
    };
    let start = State {
        a: 0.5,
        c: 2.0,
        ..State::default()
    };
    let mut c = config(Model::ReluGate, Algorithm::Sgd, 5, 2, 0.3);
    c.label_noise = 0.5;
    // SGD: r₁ = ReLU(1) + 0.5·(−0.2) − 1.5 = −0.6, r₂ masked.
    let mut s = start;
    Kernel::new(&c.clone().resolve().unwrap()).step(&mut s, &mut script(3.0), false);
    assert!((s.a - (0.5 + 0.15 * -0.6)).abs() < 1e-15, "{}", s.a);
    let expected_c = ((2.0f64 + 0.15 * -0.6 * 0.5).powi(2) + 0.15f64.powi(2) * 0.36 * 3.0).sqrt();
    assert!((s.c - expected_c).abs() < 1e-15, "{} vs {expected_c}", s.c);
    // KM: r₂ = 0 + 0.5·0.4 − ReLU(−1) = 0.2 as well.
    c.algorithm = Algorithm::Km;
    let mut s = start;
    Kernel::new(&c.resolve().unwrap()).step(&mut s, &mut script(3.0), false);
    assert!((s.a - (0.5 + 0.15 * (-0.6 - 0.2))).abs() < 1e-15);
    let expected_c = ((2.0f64 + 0.15 * (-0.3 - 0.05)).powi(2) + 0.15f64.powi(2) * 0.4 * 3.0).sqrt();
    assert!((s.c - expected_c).abs() < 1e-15, "{} vs {expected_c}", s.c);
}

fn dot(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| a * b).sum()
}

fn axpy(k: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(b, a)| *b += k * a);
}

/// The exact identity behind the engine: the full update of `w` and of the running sum
/// `S` in R^d, fed to the kernel as the numbers it would draw (g₁, g₂, the coordinate of
/// `Σ rᵢzᵢ` on `v` and its squared norm off the frame), gives the same coordinates to
/// rounding — through steps before and after the sum starts, for every model.
#[test]
fn kernel_follows_the_full_update_and_its_running_sum() {
    for (model, algorithm, labels, decay) in [
        (Model::ReluGate, Algorithm::Km, Labels::Realizable, 0.0),
        (Model::ReluGate, Algorithm::Sgd, Labels::Binary01, 0.05),
        (Model::Linear, Algorithm::Sgd, Labels::Realizable, 0.0),
    ] {
        let d = 6;
        let mut c = config(model, algorithm, d, 3, 0.2);
        c.labels = labels;
        c.label_noise = 0.7;
        c.weight_decay = decay;
        let kernel = Kernel::new(&c.clone().resolve().unwrap());
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let mut normals = Buffered::default();
        let mut w: Vec<f64> = (0..d).map(|_| normals.next(&mut rng)).collect();
        let mut sum = vec![0.0; d];
        let star = |v: &[f64]| v[0];
        let perp = |v: &[f64]| {
            let mut p = v.to_vec();
            p[0] = 0.0;
            p
        };
        let mut state = State {
            a: star(&w),
            c: dot(&perp(&w), &perp(&w)).sqrt(),
            ..State::default()
        };
        for step in 0..8 {
            let summing = step >= 3;
            let wp = perp(&w);
            let u: Vec<f64> = wp.iter().map(|x| x / dot(&wp, &wp).sqrt()).collect();
            let sp = perp(&sum);
            let mut v: Vec<f64> = sp.clone();
            axpy(-dot(&sp, &u), &u, &mut v);
            let vn = dot(&v, &v).sqrt();
            v.iter_mut().for_each(|x| *x /= vn.max(1e-300));
            let mut script = Script::default();
            let mut step_dir = vec![0.0; d];
            let mut z_sum = vec![0.0; d];
            let mut r_sq = 0.0;
            for _ in 0..3 {
                let x: Vec<f64> = (0..d).map(|_| normals.next(&mut rng)).collect();
                let xi = normals.next(&mut rng);
                let (g1, g2) = (star(&x), dot(&x, &u));
                script.normals.extend([g1, g2, xi]);
                let t = g1;
                let y = match (model, labels) {
                    (Model::Linear, _) => t,
                    (_, Labels::Binary01) => f64::from(u8::from(t > 0.0)),
                    _ => t.max(0.0),
                } + 0.7 * xi;
                let p = dot(&w, &x);
                let pred = if model == Model::Linear {
                    p
                } else {
                    p.max(0.0)
                };
                let mask = algorithm == Algorithm::Km || model == Model::Linear || p > 0.0;
                let r = if mask { (0.2 / 3.0) * (y - pred) } else { 0.0 };
                axpy(r, &x, &mut step_dir);
                let mut z = perp(&x);
                axpy(-g2, &u, &mut z);
                axpy(r, &z, &mut z_sum);
                r_sq += r * r;
            }
            if summing {
                let on_v = dot(&z_sum, &v);
                script.normals.push_back(on_v / r_sq.sqrt());
                script
                    .chi
                    .push_back((dot(&z_sum, &z_sum) - on_v * on_v) / r_sq);
            } else {
                script.chi.push_back(dot(&z_sum, &z_sum) / r_sq);
            }
            w.iter_mut().for_each(|x| *x *= 1.0 - 0.2 * decay);
            axpy(1.0, &step_dir, &mut w);
            if summing {
                axpy(1.0, &w, &mut sum);
            }
            kernel.step(&mut state, &mut script, summing);
            assert!(script.normals.is_empty() && script.chi.is_empty());
            let wp = perp(&w);
            let c_full = dot(&wp, &wp).sqrt();
            let u_new: Vec<f64> = wp.iter().map(|x| x / c_full).collect();
            let sp = perp(&sum);
            let s_u = dot(&sp, &u_new);
            let s_v = (dot(&sp, &sp) - s_u * s_u).max(0.0).sqrt();
            let close = |x: f64, y: f64| (x - y).abs() < 1e-9 * (1.0 + y.abs());
            assert!(close(state.a, star(&w)), "{model:?} step {step}: a");
            assert!(close(state.c, c_full), "{model:?} step {step}: c");
            assert!(close(state.s[0], star(&sum)), "{model:?} step {step}: S·w*");
            assert!(close(state.s[1], s_u), "{model:?} step {step}: S·u");
            // s_v is a square root of a difference: rounding enters it at √ε relative.
            let sp_norm = dot(&sp, &sp).sqrt();
            assert!(
                (state.s[2] - s_v).abs() < 1e-6 * (1.0 + sp_norm),
                "{model:?} step {step}: S·v {} vs {s_v}",
                state.s[2]
            );
        }
    }
}

/// P(χ²_k ≤ x) in closed form for k = 1, 2, 3, 4 and 6.
fn chi_squared_cdf(k: usize, x: f64) -> f64 {
    let erf_half = |x: f64| 2.0 * common::normal_law::mass(0.0, x.sqrt()); // P(Z² ≤ x)
    let h = x / 2.0;
    match k {
        1 => erf_half(x),
        3 => erf_half(x) - (2.0 * x / std::f64::consts::PI).sqrt() * (-h).exp(),
        2 | 4 | 6 => {
            let mut term = 1.0;
            let mut s = 0.0;
            for j in 0..k / 2 {
                if j > 0 {
                    term *= h / j as f64;
                }
                s += term;
            }
            1.0 - (-h).exp() * s
        }
        _ => unreachable!(),
    }
}

#[test]
fn chi_squared_sampler_follows_the_exact_law() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let mut normals = Buffered::default();
    for k in [1, 2, 3, 4, 6] {
        let law = ChiSquared::new(k);
        let x: Vec<f64> = (0..40_000)
            .map(|_| law.sample(&mut rng, &mut normals))
            .collect();
        let p = ks_one_sample(&x, |v| chi_squared_cdf(k, v));
        assert!(p > 1e-3, "χ²_{k}: KS p = {p}");
    }
    // Large k (the reduced chain's d − 2 up to 10⁵): mean k, variance 2k, skewness √(8/k).
    for k in [50, 99_998] {
        let law = ChiSquared::new(k);
        let n = 200_000;
        let x: Vec<f64> = (0..n).map(|_| law.sample(&mut rng, &mut normals)).collect();
        let kf = k as f64;
        let mean = x.iter().sum::<f64>() / n as f64;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
        let skew = x.iter().map(|v| (v - mean).powi(3)).sum::<f64>() / n as f64 / var.powf(1.5);
        let se = (2.0 * kf / n as f64).sqrt();
        assert!((mean - kf).abs() < 5.0 * se, "χ²_{k}: mean {mean}");
        assert!(
            (var / (2.0 * kf) - 1.0).abs() < 0.02,
            "χ²_{k}: variance {var}"
        );
        assert!(
            (skew - (8.0 / kf).sqrt()).abs() < 0.03,
            "χ²_{k}: skewness {skew}"
        );
    }
}

/// The engine's χ² path: Marsaglia–Tsang's test on eight pairs at once, the undecided
/// lanes finished by the full test and fresh pairs, follows the exact law; and every pair
/// the log-free squeezes accept is one the full test accepts (they only skip logarithms).
#[test]
fn lane_chi_squared_follows_the_exact_law_and_its_squeezes_are_sound() {
    use tailgate::data::normal::{one, uniform};
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(12);
    for k in [2, 3, 4, 6, 98] {
        let law = ChiSquared::new(k);
        let ChiSquared::Gamma { d, c } = law else {
            unreachable!()
        };
        let (mut x, mut undecided) = (Vec::new(), 0usize);
        for _ in 0..40_000 / 8 {
            let z: [f64; 8] = std::array::from_fn(|_| f64::from(one(&mut rng)));
            let u: [f64; 8] = std::array::from_fn(|_| uniform(rng.next_u64()));
            let mut out = [0.0; 8];
            let accepted = law.accept_lanes(&z, &u, &mut out);
            for j in 0..8 {
                let v = (1.0 + c * z[j]).powi(3);
                let full = 1.0 + c * z[j] > 0.0
                    && (u[j] < 1.0 - 0.0331 * z[j].powi(4)
                        || u[j].ln() < 0.5 * z[j] * z[j] + d * (1.0 - v + v.ln()));
                assert!(!accepted[j] || full, "χ²_{k}: squeezes accept {z:?}, {u:?}");
                if accepted[j] {
                    x.push(out[j]);
                } else {
                    undecided += 1;
                    x.push(law.sample_from(z[j], u[j], &mut rng));
                }
            }
        }
        if k <= 6 {
            let p = ks_one_sample(&x, |v| chi_squared_cdf(k, v));
            assert!(p > 1e-3, "χ²_{k}: KS p = {p}");
        } else {
            let mean = x.iter().sum::<f64>() / x.len() as f64;
            let se = (2.0 * k as f64 / x.len() as f64).sqrt();
            assert!((mean - k as f64).abs() < 5.0 * se, "χ²_{k}: mean {mean}");
            // The tight squeeze leaves almost nothing to the logarithms at large k.
            assert!(undecided < 40, "χ²_{k}: {undecided} of 40 000 undecided");
        }
    }
}

/// `(w·w*, ‖w − (w·w*)w*‖)` of row-major rows.
fn split(rows: &[f32], teacher: &[f32]) -> (Vec<f64>, Vec<f64>) {
    let d = teacher.len();
    rows.chunks_exact(d)
        .map(|w| {
            let a: f64 = w
                .iter()
                .zip(teacher)
                .map(|(x, t)| f64::from(*x) * f64::from(*t))
                .sum();
            let n2: f64 = w.iter().map(|x| f64::from(*x).powi(2)).sum();
            (a, (n2 - a * a).max(0.0).sqrt())
        })
        .unzip()
}

/// The two engines on one cell: KS p-values of `a` and `c` of the final iterate and of the
/// running mean, and the two α̂ with their intervals.
fn compare_engines(config: TrainConfig) {
    let burn_cfg = TrainConfig {
        engine: Engine::Burn,
        ..config.clone()
    }
    .resolve()
    .unwrap();
    let red_cfg = TrainConfig {
        engine: Engine::Reduced,
        seed: config.seed + 1000,
        ..config
    }
    .resolve()
    .unwrap();
    let full = common::run(&burn_cfg);
    assert!(full.diverged.iter().all(|d| !d), "{burn_cfg:?} diverged");
    let reduced = reduced::simulate(&red_cfg, &Progress::hidden()).unwrap();
    assert!(reduced.diverged.iter().all(|d| !d));
    let d = burn_cfg.dim;
    let (fa, fc) = split(&full.final_weights, &full.teacher);
    let (ma, mc) = split(&full.average_weights, &full.teacher);
    let ra: Vec<f64> = reduced.coords.chunks_exact(2).map(|x| x[0]).collect();
    // c is signed when d = 2: compare |c|, as the full rows give it.
    let rc: Vec<f64> = reduced.coords.chunks_exact(2).map(|x| x[1].abs()).collect();
    let rma: Vec<f64> = reduced.average.chunks_exact(3).map(|m| m[0]).collect();
    let rmc: Vec<f64> = reduced
        .average
        .chunks_exact(3)
        .map(|m| (m[1] * m[1] + m[2] * m[2]).sqrt())
        .collect();
    let label = format!(
        "{} {} {} d={d} b={} η={}",
        burn_cfg.model.name(),
        burn_cfg.algorithm.name(),
        burn_cfg.labels.name(),
        burn_cfg.batch,
        burn_cfg.eta
    );
    for (what, x, y) in [
        ("a", &fa, &ra),
        ("c", &fc, &rc),
        ("mean a", &ma, &rma),
        ("mean c", &mc, &rmc),
    ] {
        if d == 1 && what.ends_with('c') {
            continue;
        }
        let p = ks_two_sample(x, y);
        assert!(p > 1e-3, "{label}: {what}: KS p = {p}");
    }
    // α̂ of the final rows: the two intervals overlap.
    let burn_alpha = common::summary(&full, &burn_cfg);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    tailgate::run::train_into(&red_cfg, &out, &Progress::hidden()).unwrap();
    let run = common::run_json(&out);
    let ci = &run["summary"]["alpha_ci"];
    let (lo, hi) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
    let [blo, bhi] = burn_alpha.alpha_ci.unwrap();
    assert!(
        lo <= bhi && blo <= hi,
        "{label}: α̂ intervals [{lo}, {hi}] and [{blo}, {bhi}] are disjoint"
    );
}

fn cell(
    model: Model,
    algorithm: Algorithm,
    labels: Labels,
    dim: usize,
    batch: usize,
    eta: f64,
) -> TrainConfig {
    TrainConfig {
        chains: 10_000,
        steps: 400,
        seed: 1,
        labels,
        teacher: Teacher::Random,
        ..config(model, algorithm, dim, batch, eta)
    }
}

#[test]
fn agrees_with_burn_gate_sgd_realizable_batch() {
    compare_engines(cell(
        Model::ReluGate,
        Algorithm::Sgd,
        Labels::Realizable,
        5,
        3,
        0.5,
    ));
}

#[test]
fn agrees_with_burn_gate_km_binary01() {
    compare_engines(cell(
        Model::ReluGate,
        Algorithm::Km,
        Labels::Binary01,
        10,
        2,
        0.25,
    ));
}

#[test]
fn agrees_with_burn_gate_sgd_mixture_with_weight_decay() {
    let mut c = cell(Model::ReluGate, Algorithm::Sgd, Labels::Mixture, 4, 1, 0.2);
    c.label_noise = 0.3;
    c.mixture_separation = 1.5;
    c.weight_decay = 0.1;
    compare_engines(c);
}

#[test]
fn agrees_with_burn_linear_control() {
    compare_engines(cell(
        Model::Linear,
        Algorithm::Sgd,
        Labels::Realizable,
        10,
        1,
        0.15,
    ));
}

#[test]
fn agrees_with_burn_in_dimensions_one_and_two() {
    compare_engines(cell(
        Model::ReluGate,
        Algorithm::Km,
        Labels::BinaryPm1,
        2,
        1,
        0.4,
    ));
    compare_engines(cell(
        Model::ReluGate,
        Algorithm::Sgd,
        Labels::Realizable,
        1,
        2,
        0.5,
    ));
}

/// Each chain is a function of (seed, chain): the thread count changes no bit.
#[test]
fn same_seed_same_bytes_on_any_thread_count() {
    let c = TrainConfig {
        chains: 5000,
        steps: 200,
        ..config(Model::ReluGate, Algorithm::Sgd, 50, 2, 0.1)
    }
    .resolve()
    .unwrap();
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| reduced::simulate(&c, &Progress::hidden()).unwrap())
    };
    let (one, three) = (on(1), on(3));
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&one.coords), bits(&three.coords));
    assert_eq!(bits(&one.average), bits(&three.average));
    let other_seed = reduced::simulate(
        &TrainConfig {
            seed: 1,
            ..c.into_config()
        }
        .resolve()
        .unwrap(),
        &Progress::hidden(),
    )
    .unwrap();
    assert_ne!(bits(&one.coords), bits(&other_seed.coords));
}

/// SGD and KM with one seed consume the same numbers in the same order (the draws never
/// depend on the state): after any number of steps both chains' generators stand at the
/// same place, so the cells of a study that differ only in the algorithm are paired.
#[test]
fn sgd_and_km_draw_the_same_numbers() {
    for labels in [Labels::Realizable, Labels::Mixture] {
        for steps in [1, 7, 300] {
            let run = |algorithm| {
                let mut c = config(Model::ReluGate, algorithm, 7, 3, 0.3);
                c.labels = labels;
                c.steps = steps;
                let kernel = Kernel::new(&c.resolve().unwrap());
                let mut rng = LaneRng::seed_from_u64([5]);
                let ended = kernel.run(&mut rng);
                (rng, ended.state)
            };
            let (sgd_rng, sgd_end) = run(Algorithm::Sgd);
            let (km_rng, km_end) = run(Algorithm::Km);
            assert_eq!(sgd_rng, km_rng, "{labels:?}, {steps} steps");
            assert_ne!(sgd_end, km_end, "the two algorithms should end apart");
        }
    }
}

#[test]
fn projected_rows_have_the_law_of_the_full_rows() {
    let c = TrainConfig {
        chains: 20_000,
        steps: 50,
        ..config(Model::ReluGate, Algorithm::Km, 300, 1, 0.01)
    }
    .resolve()
    .unwrap();
    let run = reduced::simulate(&c, &Progress::hidden()).unwrap();
    let maker = reduced::RowMaker::new(&run, 9);
    let (full, avg) = maker.full_f32(0..c.chains);
    let rows = reduced::EstimationRows::for_run(c.chains, c.dim);
    assert_eq!(rows, reduced::EstimationRows::Projected { width: 16 });
    for (which, full) in [
        (reduced::Which::Final, &full),
        (reduced::Which::Average, &avg),
    ] {
        let projected = maker.estimation(rows, which).unwrap();
        for col in [0, 1, 15] {
            let x: Vec<f64> = full.chunks_exact(300).map(|r| f64::from(r[col])).collect();
            let y: Vec<f64> = (0..projected.n()).map(|i| projected.row(i)[col]).collect();
            let p = ks_two_sample(&x, &y);
            assert!(p > 1e-3, "{which:?} column {col}: KS p = {p}");
        }
        let norm = |r: &[f64]| r[1..16].iter().map(|v| v * v).sum::<f64>().sqrt();
        let x: Vec<f64> = full
            .chunks_exact(300)
            .map(|r| norm(&r.iter().map(|&v| f64::from(v)).collect::<Vec<_>>()))
            .collect();
        let y: Vec<f64> = (0..projected.n()).map(|i| norm(projected.row(i))).collect();
        let p = ks_two_sample(&x, &y);
        assert!(p > 1e-3, "{which:?}: projected norm KS p = {p}");
    }
}

mod cli {
    use super::common::cli::{p, rejects, tailgate};
    use super::common::{assert_success, run_json};

    /// Every combination the reduced engine cannot simulate exactly: exit 2, a line
    /// naming the key, nothing written.
    #[test]
    fn refusals_name_the_key_and_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let r = |extra: &[&str], needle: &str| {
            let mut args = vec!["--engine", "reduced", "--chains", "10", "--steps", "5"];
            args.extend_from_slice(extra);
            rejects(dir.path(), &args, needle);
        };
        r(&["--model", "mlp"], "`model`");
        r(&["--dataset-size", "100"], "`dataset_size`");
        r(&["--momentum", "0.5"], "`momentum`");
        r(&["--record-every", "2"], "`record_every`");
        r(&["--data-rng", "philox"], "`data_rng`");
        let config = dir.path().join("vector.json");
        let centre = vec!["0.0"; 200].join(",");
        std::fs::write(
            &config,
            format!(r#"{{"engine": "reduced", "dim": 200, "center": {{"vector": [{centre}]}}}}"#),
        )
        .unwrap();
        r(&["--config", p(&config)], "`center`");
        let config = dir.path().join("typo.json");
        std::fs::write(&config, r#"{"engine": "exact"}"#).unwrap();
        r(&["--config", p(&config)], "typo.json");
    }

    /// A run writes its coordinates, the rows, run.json with the engine and an α; the same
    /// seed gives the same bytes; past the size limit the rows are not written.
    #[test]
    fn writes_coordinates_rows_and_an_alpha_reproducibly() {
        let dir = tempfile::tempdir().unwrap();
        let run = |name: &str, extra: &[&str]| {
            let out = dir.path().join(name);
            let mut args = vec!["train", "--quiet", "--engine", "reduced", "--out", p(&out)];
            args.extend_from_slice(if extra.is_empty() {
                &[
                    "--chains", "3000", "--dim", "20", "--batch", "2", "--eta", "0.15", "--steps",
                    "300",
                ]
            } else {
                extra
            });
            assert_success(&tailgate(&args));
            out
        };
        let a = run("a", &[]);
        let b = run("b", &[]);
        for file in [
            "coords.npy",
            "average_coords.npy",
            "final.npy",
            "average.npy",
            "diverged.npy",
        ] {
            let (x, y) = (
                std::fs::read(a.join(file)).unwrap(),
                std::fs::read(b.join(file)).unwrap(),
            );
            assert!(x == y, "{file} differs between two runs of one seed");
        }
        let json = run_json(&a);
        assert_eq!(json["config"]["engine"], "reduced");
        let alpha = json["summary"]["alpha"].as_f64().unwrap();
        assert!(alpha > 0.0 && alpha.is_finite(), "α̂ {alpha}");
        assert_eq!(json["summary"]["reduced"]["rows_written"], true);
        assert_eq!(json["summary"]["reduced"]["estimated_row_width"], 20);
        let final_rows = tailgate::io::read_npy_f64(&a.join("final.npy")).unwrap();
        assert_eq!(final_rows.shape, vec![3000, 20]);
        // The run's α is the estimate of the rows it wrote.
        let kept = tailgate::tail::Rows::new(final_rows.values, 20).unwrap();
        let centred = tailgate::tail::center_rows(&kept, &tailgate::tail::Center::Mean).unwrap();
        let fit = tailgate::tail::powerlaw_fit(
            &centred.norms(),
            &tailgate::tail::PowerLawOptions::default(),
        )
        .unwrap();
        assert_eq!(fit.alpha, alpha);
        let est = tailgate::tail::mohammadi_median(&centred, &tailgate::tail::BlockGrid::Network)
            .unwrap();
        assert_eq!(Some(est.alpha), json["summary"]["alpha_mohammadi"].as_f64());
        // d = 10⁵ with 2000 chains: 2·10⁸ > 10⁸ values, so no rows, projected estimates.
        let big = run(
            "big",
            &[
                "--dim", "100000", "--chains", "2000", "--steps", "20", "--eta", "0.00002",
            ],
        );
        assert!(!big.join("final.npy").exists());
        let json = run_json(&big);
        assert_eq!(json["summary"]["reduced"]["rows_written"], false);
        assert_eq!(json["summary"]["reduced"]["estimated_row_width"], 16);
        assert!(json["summary"]["alpha"].as_f64().is_some());
    }
}

/// Chains stepped in lockstep (the engine's path) end exactly where each ends alone.
#[test]
fn lockstep_chains_equal_single_chains_bit_for_bit() {
    for (model, algorithm, labels, dim, batch) in [
        (Model::ReluGate, Algorithm::Sgd, Labels::Mixture, 7, 3),
        (Model::ReluGate, Algorithm::Km, Labels::Realizable, 2, 1),
        (Model::Linear, Algorithm::Sgd, Labels::Binary01, 5, 2),
        (Model::ReluGate, Algorithm::Km, Labels::BinaryPm1, 1, 2),
        (Model::ReluGate, Algorithm::Sgd, Labels::Realizable, 100, 1),
        (Model::ReluGate, Algorithm::Sgd, Labels::Mixture, 3, 70),
    ] {
        let mut c = config(model, algorithm, dim, batch, 0.4);
        c.labels = labels;
        c.label_noise = 0.5;
        c.steps = 300;
        c.weight_decay = 0.01;
        // A low bound makes some chains diverge mid-run.
        c.divergence_norm = 3.0;
        let kernel = Kernel::new(&c.resolve().unwrap());
        let seeds: [u64; 8] = std::array::from_fn(|j| 100 + j as u64);
        let together = kernel.run_lockstep(Scalar, &mut LaneRng::seed_from_u64(seeds));
        #[cfg(target_arch = "x86_64")]
        if let Some(avx2) = reduced::Avx2::detect() {
            let fast = kernel.run_lockstep(avx2, &mut LaneRng::seed_from_u64(seeds));
            assert_eq!(
                format!("{fast:?}"),
                format!("{together:?}"),
                "{model:?} d={dim}"
            );
        }
        for (j, t) in together.iter().enumerate() {
            let alone = kernel.run(&mut LaneRng::seed_from_u64([seeds[j]]));
            assert_eq!(t.diverged, alone.diverged, "{model:?} d={dim} chain {j}");
            let bits = |s: &State| [s.a, s.c, s.s[0], s.s[1], s.s[2]].map(f64::to_bits);
            assert_eq!(
                bits(&t.state),
                bits(&alone.state),
                "{model:?} d={dim} chain {j}"
            );
        }
    }
}

/// The heavy-tailed start (`init: pareto`): the radius ‖w₀‖/init_std of the burn engine's
/// host rows and of the reduced engine's (a, c) both follow the truncated Pareto law
/// exactly (one-sample KS), and the direction stays uniform (a/‖w₀‖ symmetric about 0).
#[test]
fn pareto_init_has_the_stated_radius_law_in_both_engines() {
    use tailgate::config::{Init, PARETO_INIT_MAX};
    let mut c = config(Model::ReluGate, Algorithm::Sgd, 6, 1, 0.1);
    c.chains = 4000;
    c.init = Init::Pareto;
    c.init_std = Some(2.0);
    let c = c.resolve().unwrap();
    let cdf = |x: f64| {
        if x < 1.0 {
            0.0
        } else {
            ((1.0 - 1.0 / x) / (1.0 - 1.0 / PARETO_INIT_MAX)).min(1.0)
        }
    };
    let rows = tailgate::data::initial_weights(&c);
    let host: Vec<f64> = rows
        .chunks_exact(6)
        .map(|r| {
            dot(
                &r.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
                &r.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
            )
            .sqrt()
                / 2.0
        })
        .collect();
    assert!(ks_one_sample(&host, cdf) > 1e-3, "host radius law");
    let kernel = Kernel::new(&c);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    let states: Vec<State> = (0..4000).map(|_| kernel.initial(&mut rng)).collect();
    let reduced: Vec<f64> = states.iter().map(|s| s.a.hypot(s.c) / 2.0).collect();
    assert!(ks_one_sample(&reduced, cdf) > 1e-3, "reduced radius law");
    assert!(ks_two_sample(&host, &reduced) > 1e-3);
    let mean_cos = states.iter().map(|s| s.a / s.a.hypot(s.c)).sum::<f64>() / 4000.0;
    assert!(
        mean_cos.abs() < 0.05,
        "direction not uniform: mean cos {mean_cos}"
    );
}

/// Cauchy label noise (ξ = z₁/z₂): the reduced engine's chains against burn's in law.
#[test]
fn agrees_with_burn_gate_km_cauchy_noise() {
    let mut c = cell(
        Model::ReluGate,
        Algorithm::Km,
        Labels::Realizable,
        5,
        2,
        0.2,
    );
    c.noise_law = tailgate::config::NoiseLaw::Cauchy;
    c.label_noise = 0.5;
    // A tail of index 1 reaches 10⁶ now and then: that is the law, not divergence.
    c.divergence_norm = 1e15;
    compare_engines(c);
}
