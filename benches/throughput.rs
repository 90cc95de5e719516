//! Throughput of the trainer (workload W of the performance issue, shortened), the
//! one-chain step latency, a hand-fused Rust loop as the CPU ceiling, the normal sampler,
//! and the estimators on 10⁷ samples. `cargo bench --bench throughput [-- FILTER]`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use std::hint::black_box;
use tailgate::backend::{BackendKind, make_device};
use tailgate::config::{Algorithm, DataRng, Engine, Resolved, Teacher, TrainConfig};
use tailgate::data::philox::{self, DevicePhilox};
use tailgate::data::{dot, normal};
use tailgate::io::Progress;
use tailgate::reduced;
use tailgate::summary::{EstimateSettings, summarize};
use tailgate::tail::{
    BlockGrid, Center, PowerLawOptions, Rows, center_in_place, hill_alpha, mohammadi_median,
    mohammadi_subsample_ci, powerlaw_fit, sample_symmetric_stable, subsample_ci,
};
use tailgate::train::train;

// The same allocator as the binary, so figures match `tailgate train`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CHAINS: usize = 1600;
const DIM: usize = 100;
const STEPS: usize = 50;

fn w_config(algorithm: Algorithm, backend: BackendKind, chains: usize, steps: usize) -> Resolved {
    TrainConfig {
        algorithm,
        backend,
        chains,
        dim: DIM,
        batch: 1,
        eta: 0.01,
        steps,
        teacher: Teacher::E1,
        label_noise: 1.0,
        ..TrainConfig::default()
    }
    .resolve()
    .unwrap()
}

fn backends() -> Vec<BackendKind> {
    let mut b = vec![BackendKind::Flex, BackendKind::Ndarray];
    if cfg!(feature = "wgpu") {
        b.push(BackendKind::Wgpu);
    }
    b
}

/// Workload W shortened to 50 steps: d = 100, b = 1, 1600 chains, σ = 1.
fn workload_w(c: &mut Criterion) {
    let mut group = c.benchmark_group("train_d100_b1_1600chains");
    group.sample_size(10);
    group.throughput(Throughput::Elements((CHAINS * STEPS) as u64));
    for backend in backends() {
        let device = make_device(backend).unwrap();
        for algorithm in [Algorithm::Sgd, Algorithm::Km] {
            let cfg = w_config(algorithm, backend, CHAINS, STEPS);
            let id = BenchmarkId::new(format!("{algorithm:?}").to_lowercase(), backend.name());
            group.bench_function(id, |b| {
                b.iter(|| train(&cfg, &device, None, &Progress::hidden()).unwrap())
            });
            // `philox` data: drawn on host threads on the CPU backends, on the device with wgpu.
            let cfg = TrainConfig {
                data_rng: DataRng::Philox,
                ..cfg.into_config()
            }
            .resolve()
            .unwrap();
            let id = BenchmarkId::new(
                format!("{algorithm:?}_philox").to_lowercase(),
                backend.name(),
            );
            group.bench_function(id, |b| {
                b.iter(|| train(&cfg, &device, None, &Progress::hidden()).unwrap())
            });
        }
    }
    group.finish();
}

/// One step's `philox` normals for W (1600 chains × 104) drawn on each device in tensor
/// ops, read back (the GPU data path; the CPU backends draw on the host instead).
fn device_philox(c: &mut Criterion) {
    let mut group = c.benchmark_group("philox_device_normals_1600x104");
    group.sample_size(10);
    group.throughput(Throughput::Elements((CHAINS * 104) as u64));
    for backend in backends() {
        let device = make_device(backend).unwrap();
        let generator = DevicePhilox::new(1, CHAINS, 102, &device);
        let mut step = 0;
        group.bench_function(backend.name(), |b| {
            b.iter(|| {
                step += 1;
                let z = generator.normals(step);
                black_box(z.slice([0..1, 0..1]).into_scalar::<f32>())
            })
        });
    }
    group.finish();
}

/// The fixed cost of one step at one chain.
fn one_chain_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("step_1chain_d100_b1");
    group.sample_size(10);
    let steps = 200;
    group.throughput(Throughput::Elements(steps as u64));
    for backend in [BackendKind::Flex, BackendKind::Ndarray] {
        let device = make_device(backend).unwrap();
        for algorithm in [Algorithm::Sgd, Algorithm::Km] {
            let cfg = w_config(algorithm, backend, 1, steps);
            let id = BenchmarkId::new(format!("{algorithm:?}").to_lowercase(), backend.name());
            group.bench_function(id, |b| {
                b.iter(|| train(&cfg, &device, None, &Progress::hidden()).unwrap())
            });
        }
    }
    group.finish();
}

/// How the ceiling draws its normals.
#[derive(Clone, Copy)]
enum Sampler {
    /// tailgate's own sampler (`data::normal`), as in the trainer's data stream.
    Tailgate,
    /// rand_distr's `StandardNormal` (an f64 ziggurat rounded to f32): the first sessions'
    /// ceiling, kept for comparison.
    RandDistr,
}

/// The ceiling: the same arithmetic (fresh Gaussian x per chain and step, realizable
/// labels with σ = 1, KM or SGD update) fused in one loop per chain, chains on threads.
fn fused_loop(chains: usize, steps: usize, sgd: bool, sampler: Sampler) -> f32 {
    let mut w = vec![0.1f32; chains * DIM];
    w.par_chunks_mut(DIM)
        .enumerate()
        .for_each(|(c, w)| fused_chain(w, c as u64, steps, sgd, sampler));
    w.iter().sum()
}

/// One chain of the ceiling; like tailgate's data path (`data::draw_rows`) also compiled
/// for AVX2 and BMI2 and chosen at run time, so the ceiling is not the slower build.
#[multiversion::multiversion(targets("x86_64+avx2+bmi1+bmi2+lzcnt+popcnt"))]
fn fused_chain(w: &mut [f32], seed: u64, steps: usize, sgd: bool, sampler: Sampler) {
    let eta = 0.01f32;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut x = [0f32; DIM];
    for _ in 0..steps {
        let noise = match sampler {
            Sampler::Tailgate => {
                normal::fill(&mut rng, &mut x);
                normal::one(&mut rng)
            }
            Sampler::RandDistr => {
                for xj in x.iter_mut() {
                    *xj = rng.sample(StandardNormal);
                }
                rng.sample::<f32, _>(StandardNormal)
            }
        };
        let z = dot(w, &x);
        let y = x[0].max(0.0) + noise; // teacher e₁
        let r = y - z.max(0.0);
        if sgd && z <= 0.0 {
            continue;
        }
        for (wj, xj) in w.iter_mut().zip(&x) {
            *wj += eta * r * xj;
        }
    }
}

fn ceiling(c: &mut Criterion) {
    let mut group = c.benchmark_group("ceiling_fused_rust_d100_b1_1600chains");
    group.sample_size(10);
    group.throughput(Throughput::Elements((CHAINS * STEPS) as u64));
    for (name, sgd, sampler) in [
        ("sgd", true, Sampler::Tailgate),
        ("km", false, Sampler::Tailgate),
        ("sgd_rand_distr", true, Sampler::RandDistr),
        ("km_rand_distr", false, Sampler::RandDistr),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| black_box(fused_loop(CHAINS, STEPS, sgd, sampler)))
        });
    }
    group.finish();
}

/// 10⁶ standard normals in rows of 101 (a d = 100 input and its label noise), one thread.
fn normals(c: &mut Criterion) {
    let mut group = c.benchmark_group("normal_1e6_f32");
    group.sample_size(20);
    group.throughput(Throughput::Elements(1_000_000));
    let mut buf = vec![0f32; 1_000_000];
    group.bench_function("tailgate_ziggurat", |b| {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        b.iter(|| {
            for row in buf.chunks_mut(101) {
                normal::fill(&mut rng, row);
            }
            black_box(buf[7])
        })
    });
    group.bench_function("philox_box_muller", |b| {
        let mut step = 0;
        b.iter(|| {
            step += 1;
            for (chain, row) in buf.chunks_mut(104).enumerate() {
                let count = row.len();
                philox::host_normals(1, step, chain as u32, count, row);
            }
            black_box(buf[7])
        })
    });
    group.bench_function("rand_distr_standard_normal", |b| {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        b.iter(|| {
            for v in buf.iter_mut() {
                *v = rng.sample(StandardNormal);
            }
            black_box(buf[7])
        })
    });
    group.finish();
}

/// The estimators on 10⁷ scalars: Mohammadi over the default grid, and Hill at fixed k.
fn estimators(c: &mut Criterion) {
    let rows = Rows::scalars(sample_symmetric_stable(1.5, 10_000_000, 1)).unwrap();
    let mut group = c.benchmark_group("estimate_1e7_scalars");
    group.sample_size(10);
    group.bench_function("mohammadi_network_grid", |b| {
        b.iter(|| mohammadi_median(&rows, &BlockGrid::Network).unwrap().alpha)
    });
    group.bench_function("hill_k_10000", |b| {
        b.iter(|| hill_alpha(&rows.norms(), 10_000).unwrap())
    });
    group.finish();
}

/// Everything `tailgate train` estimates after W's loop (`summary::summarize` on 1600 final
/// and averaged rows of d = 100: Mohammadi, its 200-resample bootstrap CI, the average's
/// α̂, Hill with the double-bootstrap k), and the bootstrap alone (general and
/// tile-by-tile).
fn summarize_w(c: &mut Criterion) {
    let (chains, dim) = (1600, 100);
    let finals: Vec<f32> = sample_symmetric_stable(1.8, chains * dim, 2)
        .iter()
        .map(|&v| v as f32)
        .collect();
    let averages: Vec<f32> = finals.iter().map(|v| v * 0.1).collect();
    let diverged = vec![false; chains];
    let settings = EstimateSettings::default();
    let mut group = c.benchmark_group("summarize_w_1600x100");
    group.sample_size(10);
    group.bench_function("summarize", |b| {
        b.iter(|| summarize(&finals, &averages, dim, &diverged, &settings).alpha)
    });
    let rows = Rows::from_f32(&finals, dim).unwrap();
    group.bench_function("subsample_ci_200", |b| {
        b.iter(|| {
            subsample_ci(&rows, 1.5, 200, 0.95, 0, |r, _| {
                Ok(
                    mohammadi_median(&center_in_place(r, &Center::Mean)?, &BlockGrid::Network)?
                        .alpha,
                )
            })
            .unwrap()
            .lo
        })
    });
    group.bench_function("mohammadi_subsample_ci_200", |b| {
        b.iter(|| {
            mohammadi_subsample_ci(&rows, &Center::Mean, &BlockGrid::Network, 1.5, 200, 0.95, 0)
                .unwrap()
                .lo
        })
    });
    group.finish();
    // The headline fit alone, at the sizes a study uses.
    let mut group = c.benchmark_group("powerlaw_fit");
    group.sample_size(10);
    for n in [1_600usize, 100_000, 1_000_000] {
        let x: Vec<f64> = sample_symmetric_stable(1.5, n, 3)
            .iter()
            .map(|v| v.abs())
            .collect();
        group.bench_function(format!("n{n}"), |b| {
            b.iter(|| powerlaw_fit(&x, &PowerLawOptions::default()).unwrap().alpha)
        });
    }
    group.finish();
}

/// The reduced engine on workload W (d = 100, b = 1, 1600 chains, 50 steps: the ceiling's
/// workload, side by side), and at 16 384 chains over d = 10 … 10⁵ with η = 10⁻⁵, where no
/// chain diverges (time should be flat in d).
fn reduced_engine(c: &mut Criterion) {
    let config = |algorithm, chains, dim, steps| {
        TrainConfig {
            engine: Engine::Reduced,
            dim,
            chains,
            steps,
            ..w_config(algorithm, BackendKind::Flex, chains, steps).into_config()
        }
        .resolve()
        .unwrap()
    };
    let mut group = c.benchmark_group("reduced_d100_b1_1600chains");
    group.sample_size(20);
    group.throughput(Throughput::Elements((CHAINS * STEPS) as u64));
    for (name, algorithm) in [("sgd", Algorithm::Sgd), ("km", Algorithm::Km)] {
        let cfg = config(algorithm, CHAINS, DIM, STEPS);
        group.bench_function(name, |b| {
            b.iter(|| black_box(reduced::simulate(&cfg, &Progress::hidden()).unwrap()))
        });
    }
    group.finish();
    let (chains, steps) = (16_384, 200);
    let mut group = c.benchmark_group("reduced_16384chains_200steps");
    group.sample_size(10);
    group.throughput(Throughput::Elements((chains * steps) as u64));
    for dim in [10, 100, 1000, 10_000, 100_000] {
        for (name, algorithm) in [("sgd", Algorithm::Sgd), ("km", Algorithm::Km)] {
            // One small η for every d: W's η = 0.01 diverges at d ≥ 10⁴ within a few steps,
            // and a diverged chain stops stepping (which would read as "faster").
            let cfg = TrainConfig {
                eta: 1e-5,
                ..config(algorithm, chains, dim, steps).into_config()
            }
            .resolve()
            .unwrap();
            group.bench_function(BenchmarkId::new(name, dim), |b| {
                b.iter(|| black_box(reduced::simulate(&cfg, &Progress::hidden()).unwrap()))
            });
        }
    }
    group.finish();
}

/// Workload W at its full length (d = 100, b = 1, 1600 chains, 2000 steps): the fused
/// ceiling and the reduced engine side by side, one group, so their ratio is the issue's
/// measure on W itself (the 50-step groups above weigh the per-call set-up 40× more).
fn w_full_length(c: &mut Criterion) {
    const W_STEPS: usize = 2000;
    let mut group = c.benchmark_group("w_d100_b1_1600chains_2000steps");
    group.sample_size(10);
    group.throughput(Throughput::Elements((CHAINS * W_STEPS) as u64));
    for (name, algorithm) in [("sgd", Algorithm::Sgd), ("km", Algorithm::Km)] {
        let sgd = algorithm == Algorithm::Sgd;
        group.bench_function(format!("ceiling_{name}"), |b| {
            b.iter(|| black_box(fused_loop(CHAINS, W_STEPS, sgd, Sampler::Tailgate)))
        });
        let cfg = TrainConfig {
            engine: Engine::Reduced,
            ..w_config(algorithm, BackendKind::Flex, CHAINS, W_STEPS).into_config()
        }
        .resolve()
        .unwrap();
        group.bench_function(format!("reduced_{name}"), |b| {
            b.iter(|| black_box(reduced::simulate(&cfg, &Progress::hidden()).unwrap()))
        });
    }
    group.finish();
}

/// The far tail's cost and the engine's draw-bound limit side by side: gate SGD, d = 20,
/// b = 1, 16 384 chains × (500 + 2000) steps — the draws alone (the same normals and χ²
/// per chain-step, nothing else), the engine without recording, and with it.
fn far_tail_engine(c: &mut Criterion) {
    let (chains, steps) = (16_384, 2500);
    let cfg = |far| {
        TrainConfig {
            engine: Engine::Reduced,
            chains,
            dim: 20,
            batch: 1,
            eta: 0.0915,
            steps,
            burn_in: Some(500),
            far_tail: Some(far),
            ..TrainConfig::default()
        }
        .resolve()
        .unwrap()
    };
    let mut group = c.benchmark_group("far_tail_d20_b1_16384chains_2500steps");
    group.sample_size(10);
    group.throughput(Throughput::Elements((chains * steps) as u64));
    let off = cfg(false);
    group.bench_function("draws_only", |b| {
        b.iter(|| black_box(reduced::draw_bound(&off)))
    });
    group.bench_function("engine_recording_off", |b| {
        b.iter(|| black_box(reduced::simulate(&off, &Progress::hidden()).unwrap()))
    });
    let on = cfg(true);
    group.bench_function("engine_recording_on", |b| {
        b.iter(|| black_box(reduced::simulate(&on, &Progress::hidden()).unwrap()))
    });
    group.finish();
}

/// The ladder with its chain bootstrap (200 resamples) on 10⁶ kept exceedances of a
/// Kesten recursion (α = 1.5, s = 0.5; 10⁵ chains × 5000 steps, keep 2·10⁻³).
fn far_tail_ladder(c: &mut Criterion) {
    use tailgate::tail::far::{Kesten, LadderOptions, TimeSamples, ladder};
    let (chains, steps) = (100_000, 5000);
    let kept = Kesten { alpha: 1.5, s: 0.5 }.record(chains, 500, steps, 2e-3, 1 << 26, 1);
    let samples = TimeSamples {
        exceedances: &kept.exceedances,
        threshold: kept.threshold,
        chains,
        steps,
    };
    let mut group = c.benchmark_group("far_tail_ladder");
    group.sample_size(10);
    group.bench_function(format!("kept{}", kept.exceedances.len()), |b| {
        b.iter(|| black_box(ladder(&samples, &LadderOptions::default())))
    });
    group.finish();
}

criterion_group!(
    benches,
    far_tail_engine,
    far_tail_ladder,
    w_full_length,
    reduced_engine,
    workload_w,
    device_philox,
    one_chain_step,
    ceiling,
    normals,
    estimators,
    summarize_w
);
criterion_main!(benches);
