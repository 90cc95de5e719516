//! The exact reduced engine (docs/theory.md §3): with fresh `x ~ N(0, I_d)` the gate's and the
//! linear control's iterates are, in law, a Markov chain in `(w·w*, ‖w − (w·w*)w*‖)`, so a
//! chain-step costs O(b) whatever d is. Pure Rust, no burn: chains run in parallel, each
//! from its own seeded stream, so the same seed gives the same bytes on any thread count.

mod chain;
mod far;
mod lanes;
mod local;
mod real;
mod rows;

pub use chain::{Draws, Ended, Group, Kernel, NoWatch, State, Watch};
#[cfg(target_arch = "x86_64")]
pub use lanes::Avx2;
pub use lanes::{LaneRng, Scalar, Simd};
pub(crate) use local::{Shell, local_exponents, on_circle};
pub use rows::{EstimationRows, MATERIALISE_LIMIT, PROJECTED_WIDTH, RowMaker, Which};

use crate::config::Resolved;
use crate::data::{self, REDUCED_STREAM};
use crate::error::Result;
use crate::io::Progress;
use far::{FarWatch, FarWatchShared};
use rayon::prelude::*;
use std::time::Instant;

pub use crate::config::check_reduced as check;

pub use crate::config::REDUCED_MAX_CHAINS as MAX_CHAINS;

/// Chains handed to a worker at a time (and the progress bar's step): small enough that
/// a run of a few thousand chains splits evenly over the threads (1024 left W's 1600
/// chains as 1024 on one thread and 576 on the other), a multiple of [`LOCKSTEP`].
const CHUNK: usize = 64;
const _: () = assert!(CHUNK.is_multiple_of(LOCKSTEP));
/// Chains a worker steps in lockstep (see [`Kernel::run_lockstep`]).
const LOCKSTEP: usize = 8;

/// [`Kernel::advance`] in AVX2 where the CPU has it (the draws' fast paths by hand, the
/// rest compiled for it), else in plain Rust: the same integer and IEEE operations in the
/// same order (Rust never contracts a multiply and an add into an FMA), so the same bytes
/// on any x86-64. `snaps` receives the checkpoints ([`Kernel::run_recording`]).
pub fn advance<const L: usize, W: Watch<L>>(
    kernel: &Kernel,
    rng: &mut LaneRng<L>,
    group: &mut Group<L>,
    until: usize,
    snaps: &mut [[[f64; 2]; L]],
    watch: &mut W,
) {
    #[cfg(target_arch = "x86_64")]
    if let Some(avx2) = Avx2::detect() {
        // SAFETY: `detect` found AVX2, the one feature `advance_avx2` enables.
        return unsafe { advance_avx2(kernel, avx2, rng, group, until, snaps, watch) };
    }
    kernel.advance(Scalar, rng, group, until, snaps, watch)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn advance_avx2<const L: usize, W: Watch<L>>(
    kernel: &Kernel,
    avx2: Avx2,
    rng: &mut LaneRng<L>,
    group: &mut Group<L>,
    until: usize,
    snaps: &mut [[[f64; 2]; L]],
    watch: &mut W,
) {
    kernel.advance(avx2, rng, group, until, snaps, watch)
}

/// The draw-bound limit of a run of `config`: every chain's draws of every step, in the
/// engine's lockstep groups and threads, and nothing else (see [`Kernel::draws_only`]).
pub fn draw_bound(config: &Resolved) -> f64 {
    let kernel = Kernel::new(config);
    let groups = config.chains.div_ceil(LOCKSTEP);
    (0..groups)
        .into_par_iter()
        .map(|g| {
            let mut rng = LaneRng::<LOCKSTEP>::seed_from_u64(std::array::from_fn(|j| {
                chain_seed(config.seed, g * LOCKSTEP + j)
            }));
            draws_dispatch(&kernel, &mut rng)
        })
        .sum()
}

fn draws_dispatch<const L: usize>(kernel: &Kernel, rng: &mut LaneRng<L>) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if let Some(avx2) = Avx2::detect() {
        // SAFETY: `detect` found AVX2, the one feature `draws_avx2` enables.
        return unsafe { draws_avx2(kernel, avx2, rng) };
    }
    kernel.draws_only(Scalar, rng)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn draws_avx2<const L: usize>(kernel: &Kernel, avx2: Avx2, rng: &mut LaneRng<L>) -> f64 {
    kernel.draws_only(avx2, rng)
}

/// Chain `chain`'s stream seed (lane seeds of [`LaneRng`]).
pub fn chain_seed(seed: u64, chain: usize) -> u64 {
    data::stream_seed(seed, REDUCED_STREAM, chain as u64)
}

/// A finished reduced run: the coordinates of every chain.
#[derive(Debug, Clone)]
pub struct Reduced {
    /// `[chains, 2]`: `(a, c)` of the final iterate `w = a·w* + c·u`.
    pub coords: Vec<f64>,
    /// `[chains, 3]`: the running mean after the burn-in, `S/n = m₀·w* + m₁·u + m₂·v`.
    pub average: Vec<f64>,
    /// `[chains]`: whether the chain's ‖w‖ passed `divergence_norm` or turned non-finite at a check.
    pub diverged: Vec<bool>,
    /// `[chains, checkpoints, 2]`: `(a, c)` after each step of `config.checkpoints`, NaN
    /// for a chain that had diverged by then.
    pub checkpoints: Vec<f64>,
    /// The far tail's exceedances, when the run recorded them.
    pub far_tail: Option<crate::tail::far::Recording>,
    /// The teacher w* the coordinates are relative to (d values).
    pub teacher: Vec<f32>,
    /// Wall-clock seconds of the simulation.
    pub wall_seconds: f64,
}

impl Reduced {
    /// The run as it stood after checkpoint `k`: its coordinates then, the chains gone by
    /// then marked diverged (the running average zero: use the rows of [`Which::Final`]).
    pub fn at_checkpoint(&self, k: usize) -> Reduced {
        let n = self.checkpoints.len() / self.diverged.len().max(1) / 2;
        let coords: Vec<f64> = self
            .checkpoints
            .chunks_exact(2 * n)
            .flat_map(|c| [c[2 * k], c[2 * k + 1]])
            .collect();
        let diverged: Vec<bool> = coords.chunks_exact(2).map(|c| c[0].is_nan()).collect();
        Reduced {
            coords,
            average: vec![0.0; 3 * diverged.len()],
            diverged,
            checkpoints: vec![],
            far_tail: None,
            teacher: self.teacher.clone(),
            wall_seconds: self.wall_seconds,
        }
    }
}

/// A lockstep group of chains between steps, with its streams and checkpoints.
enum Paused {
    Lockstep(Box<Slot<LOCKSTEP>>),
    /// A chunk's remainder, one chain at a time.
    Single(Box<Slot<1>>),
}

struct Slot<const L: usize> {
    first: usize,
    rng: LaneRng<L>,
    group: Group<L>,
    snaps: Vec<[[f64; 2]; L]>,
}

impl<const L: usize> Slot<L> {
    fn new(kernel: &Kernel, seed: u64, first: usize, marks: usize) -> Self {
        let mut rng = LaneRng::seed_from_u64(std::array::from_fn(|j| chain_seed(seed, first + j)));
        let group = kernel.begin(&mut rng);
        Slot {
            first,
            rng,
            group,
            snaps: vec![[[0.0; 2]; L]; marks],
        }
    }

    fn advance(&mut self, kernel: &Kernel, until: usize, far: Option<&FarWatchShared>) {
        match far {
            Some(shared) => {
                let mut watch = FarWatch::<L>::new(shared, self.first);
                advance(
                    kernel,
                    &mut self.rng,
                    &mut self.group,
                    until,
                    &mut self.snaps,
                    &mut watch,
                );
                watch.flush();
            }
            None => advance(
                kernel,
                &mut self.rng,
                &mut self.group,
                until,
                &mut self.snaps,
                &mut NoWatch,
            ),
        }
    }
}

impl Paused {
    fn advance(&mut self, kernel: &Kernel, until: usize, far: Option<&FarWatchShared>) {
        match self {
            Paused::Lockstep(slot) => slot.advance(kernel, until, far),
            Paused::Single(slot) => slot.advance(kernel, until, far),
        }
    }

    /// Every chain's `(first chain + j, (a, c), diverged)` now.
    fn cross_section(&self, out: &mut Vec<(usize, [f64; 2], bool)>) {
        fn of<const L: usize>(s: &Slot<L>, out: &mut Vec<(usize, [f64; 2], bool)>) {
            let diverged = s.group.diverged();
            for (j, at) in s.group.coords().into_iter().enumerate() {
                out.push((s.first + j, at, diverged[j]));
            }
        }
        match self {
            Paused::Lockstep(s) => of(s, out),
            Paused::Single(s) => of(s, out),
        }
    }
}

/// Stores chain `i`'s end and its checkpoint `k` (a closure) in a chunk's outputs.
type Put<'a> = dyn FnMut(usize, Ended, &dyn Fn(usize) -> [f64; 2]) + 'a;

/// A chunk's outputs, written into its slices of the run's arrays.
struct ChunkOut<'a> {
    first: usize,
    coords: &'a mut [f64],
    average: &'a mut [f64],
    diverged: &'a mut [bool],
}

impl ChunkOut<'_> {
    /// Stores the finished groups; returns the chunk's checkpoints `[len, marks, 2]`.
    fn store(&mut self, groups: &[Paused], marks: usize) -> Vec<f64> {
        let mut marked = vec![0.0; 2 * marks * self.diverged.len()];
        let mut put = |chain: usize, ended: Ended, snap: &dyn Fn(usize) -> [f64; 2]| {
            let i = chain - self.first;
            let State { a, c, s, summed } = ended.state;
            self.coords[2 * i..2 * i + 2].copy_from_slice(&[a, c]);
            let n = summed.max(1) as f64;
            self.average[3 * i..3 * i + 3].copy_from_slice(&s.map(|v| v / n));
            self.diverged[i] = ended.diverged;
            for k in 0..marks {
                marked[2 * (i * marks + k)..2 * (i * marks + k) + 2].copy_from_slice(&snap(k));
            }
        };
        fn each<const L: usize>(s: &Slot<L>, put: &mut Put) {
            for (j, ended) in s.group.ended().into_iter().enumerate() {
                put(s.first + j, ended, &|k| s.snaps[k][j]);
            }
        }
        for g in groups {
            match g {
                Paused::Lockstep(s) => each(s, &mut put),
                Paused::Single(s) => each(s, &mut put),
            }
        }
        marked
    }
}

/// The groups of chains `first..first + len`: lockstep groups, then single chains.
fn chunk_groups(kernel: &Kernel, seed: u64, first: usize, len: usize, marks: usize) -> Vec<Paused> {
    let whole = len - len % LOCKSTEP;
    let mut groups: Vec<Paused> = (0..whole)
        .step_by(LOCKSTEP)
        .map(|s| Paused::Lockstep(Box::new(Slot::new(kernel, seed, first + s, marks))))
        .collect();
    groups.extend(
        (whole..len).map(|i| Paused::Single(Box::new(Slot::new(kernel, seed, first + i, marks)))),
    );
    groups
}

/// Runs every chain of `config` (which [`check`] accepts); `progress` counts chains.
///
/// With the far tail on, every chain first runs to the end of burn-in; the cross-section
/// there fixes the centre and the recording threshold ([`far::plan`]); then every chain
/// runs on, its exceedances kept ([`crate::tail::far::ExceedanceStore`]). Pausing draws
/// nothing: the chains end on the same bits either way.
pub fn simulate(config: &Resolved, progress: &Progress) -> Result<Reduced> {
    check(config)?;
    let start = Instant::now();
    let kernel = Kernel::new(config);
    let chains = config.chains;
    let marks = config.checkpoints.len();
    let mut coords = vec![0.0; 2 * chains];
    let mut average = vec![0.0; 3 * chains];
    let mut diverged = vec![false; chains];
    let burn_in = config.burn_in();
    let far_on = config.far_tail().is_some();
    // Far tail: every chunk paused at the end of burn-in, then the plan from all of them.
    let (mut paused, plan) = if far_on {
        let paused: Vec<Vec<Paused>> = (0..chains.div_ceil(CHUNK))
            .into_par_iter()
            .map(|chunk| {
                let first = chunk * CHUNK;
                let len = CHUNK.min(chains - first);
                let mut groups = chunk_groups(&kernel, config.seed, first, len, marks);
                for g in &mut groups {
                    if progress.stopped() {
                        break;
                    }
                    g.advance(&kernel, burn_in, None);
                }
                groups
            })
            .collect();
        progress.check()?;
        let mut section = Vec::with_capacity(chains);
        for g in paused.iter().flatten() {
            g.cross_section(&mut section);
        }
        let plan = far::plan(config, &kernel, &section);
        (paused, Some(plan))
    } else {
        (Vec::new(), None)
    };
    let shared = plan.as_ref().map(|p| p.shared());
    // Each chunk's groups paused at the end of burn-in, or none (built in the chunk).
    let held: Vec<Option<&mut Vec<Paused>>> = if far_on {
        paused.iter_mut().map(Some).collect()
    } else {
        (0..chains.div_ceil(CHUNK)).map(|_| None).collect()
    };
    let checkpoints: Vec<Vec<f64>> = coords
        .par_chunks_mut(2 * CHUNK)
        .zip(average.par_chunks_mut(3 * CHUNK))
        .zip(diverged.par_chunks_mut(CHUNK))
        .zip(held)
        .enumerate()
        .map(|(chunk, (((coords, average), diverged), held))| {
            let first = chunk * CHUNK;
            let len = diverged.len();
            let mut own;
            let groups: &mut Vec<Paused> = match held {
                Some(g) => g,
                None => {
                    own = chunk_groups(&kernel, config.seed, first, len, marks);
                    &mut own
                }
            };
            for g in groups.iter_mut() {
                if progress.stopped() {
                    break;
                }
                g.advance(&kernel, config.steps, shared.as_ref());
            }
            progress.inc(len as u64);
            ChunkOut {
                first,
                coords,
                average,
                diverged,
            }
            .store(groups, marks)
        })
        .collect();
    let checkpoints = checkpoints.concat();
    // A stopped run skipped its remaining chains (at most 8 chains' steps after the stop).
    progress.check()?;
    let far_tail = match (plan, shared) {
        (Some(plan), Some(shared)) => Some(plan.finish(shared, &diverged)),
        _ => None,
    };
    Ok(Reduced {
        coords,
        average,
        diverged,
        checkpoints,
        far_tail,
        teacher: data::teacher(config),
        wall_seconds: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Algorithm, Engine, Labels, Model, Teacher, TrainConfig};

    /// Every model either reduces (the gate and the linear control) or is refused by name
    /// of the `model` field: none runs silently as another model's chain.
    #[test]
    fn every_model_reduces_or_is_refused() {
        for model in <Model as clap::ValueEnum>::value_variants() {
            for algorithm in [Algorithm::Sgd, Algorithm::Km] {
                let config = TrainConfig {
                    engine: Engine::Reduced,
                    model: *model,
                    algorithm,
                    dim: 4,
                    ..TrainConfig::default()
                };
                let reduces = matches!(model, Model::ReluGate | Model::Linear);
                match check(&config) {
                    Ok(()) => assert!(reduces, "{model:?} ran on the reduced engine"),
                    Err(e) => {
                        assert!(!reduces, "{model:?} refused: {e}");
                        assert!(e.to_string().contains("model"), "{e}");
                    }
                }
            }
        }
        let gate = crate::config::reduced_step(Model::ReluGate, Algorithm::Sgd).unwrap();
        assert!(gate.gradient_mask && !gate.linear);
        let km = crate::config::reduced_step(Model::ReluGate, Algorithm::Km).unwrap();
        assert!(!km.gradient_mask && !km.linear);
        assert!(
            crate::config::reduced_step(Model::Linear, Algorithm::Km)
                .unwrap()
                .linear
        );
    }

    /// d = 0 is refused by the engine's check, so no resolved config reaches `simulate`
    /// (the only way to one) to underflow in d − 1.
    #[test]
    fn check_refuses_zero_dimensions() {
        let config = TrainConfig {
            engine: Engine::Reduced,
            dim: 0,
            ..TrainConfig::default()
        };
        let err = check(&config).unwrap_err().to_string();
        assert!(err.contains("dim"), "{err}");
        let err = config.resolve().unwrap_err().to_string();
        assert!(err.contains("dim"), "{err}");
    }

    /// The engine's path (chunks, lockstep groups and a remainder, compiled for AVX2 where
    /// the CPU has it) ends every chain where the plain kernel, compiled for the baseline,
    /// ends it alone: the same bits.
    #[test]
    fn the_dispatched_engine_equals_the_plain_kernel_bit_for_bit() {
        for (model, algorithm, labels, dim, batch, eta) in [
            (
                Model::ReluGate,
                Algorithm::Sgd,
                Labels::Realizable,
                100,
                1,
                0.01,
            ),
            (Model::ReluGate, Algorithm::Km, Labels::Mixture, 7, 3, 0.6),
            (Model::Linear, Algorithm::Sgd, Labels::Binary01, 2, 2, 0.5),
        ] {
            let config = TrainConfig {
                engine: Engine::Reduced,
                model,
                algorithm,
                labels,
                dim,
                batch,
                eta,
                steps: 120,
                chains: 2 * CHUNK + 13,
                label_noise: 0.5,
                divergence_norm: 2.0,
                teacher: Teacher::E1,
                ..TrainConfig::default()
            }
            .resolve()
            .unwrap();
            let run = simulate(&config, &Progress::hidden()).unwrap();
            let kernel = Kernel::new(&config);
            for chain in 0..config.chains {
                let alone = kernel.run(&mut LaneRng::seed_from_u64([chain_seed(
                    config.seed,
                    chain,
                )]));
                let State { a, c, .. } = alone.state;
                assert_eq!(
                    [a, c].map(f64::to_bits),
                    [run.coords[2 * chain], run.coords[2 * chain + 1]].map(f64::to_bits),
                    "{model:?} {labels:?} chain {chain}"
                );
                assert_eq!(alone.diverged, run.diverged[chain]);
            }
            let diverged = run.diverged.iter().filter(|&&d| d).count();
            assert!(
                dim == 100 || (0 < diverged && diverged < config.chains),
                "{diverged}"
            );
        }
    }
}
