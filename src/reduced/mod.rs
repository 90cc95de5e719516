//! The exact reduced engine (docs/theory.md §3): with fresh `x ~ N(0, I_d)` the gate's and the
//! linear control's iterates are, in law, a Markov chain in `(w·w*, ‖w − (w·w*)w*‖)`, so a
//! chain-step costs O(b) whatever d is. Pure Rust, no burn: chains run in parallel, each
//! from its own seeded stream, so the same seed gives the same bytes on any thread count.

mod chain;
mod lanes;
mod real;
mod rows;

pub use chain::{Draws, Ended, Kernel, State};
#[cfg(target_arch = "x86_64")]
pub use lanes::Avx2;
pub use lanes::{LaneRng, Scalar, Simd};
pub use rows::{EstimationRows, MATERIALISE_LIMIT, PROJECTED_WIDTH, RowMaker, Which};

use crate::config::{DataRng, Model, TrainConfig};
use crate::data::{self, REDUCED_STREAM};
use crate::error::{Error, Result};
use crate::io::Progress;
use crate::tail::Center;
use rayon::prelude::*;
use std::time::Instant;

/// Why a config cannot run on the reduced engine, as the one-line config error naming the
/// key at fault; `Ok` when it can.
pub fn check(config: &TrainConfig) -> Result<()> {
    let refuse = |field, why: &str| Err(Error::config(field, format!("{why} (`engine: reduced`)")));
    if config.model == Model::Mlp {
        return refuse(
            "model",
            "`mlp` has no exact reduced chain; use `engine: burn`",
        );
    }
    if config.dataset_size.is_some() {
        return refuse(
            "dataset_size",
            "a fixed dataset breaks the rotation invariance the reduced chain rests on; use `engine: burn`",
        );
    }
    if config.momentum != 0.0 {
        return refuse(
            "momentum",
            "must be 0: the velocity would be a third vector of the frame; use `engine: burn`",
        );
    }
    if config.record_every != 0 {
        return refuse(
            "record_every",
            "must be 0: the reduced chain has no d-dimensional iterates to record; use `engine: burn`",
        );
    }
    if config.data_rng != DataRng::Xoshiro {
        return refuse(
            "data_rng",
            "`philox` is a generator of the burn engine's inputs; the reduced engine draws its own",
        );
    }
    if matches!(config.center, Center::Vector(_))
        && EstimationRows::for_run(config.chains, config.dim) != EstimationRows::Final
    {
        return refuse(
            "center",
            "a vector centre needs the full rows, and this run's estimates use projected rows (d > 128 or chains·d > 10⁸); use `mean` or `median`",
        );
    }
    if config.chains > MAX_CHAINS {
        return refuse(
            "chains",
            &format!(
                "at most {MAX_CHAINS} on the reduced engine (five f64 per chain are held in memory)"
            ),
        );
    }
    Ok(())
}

/// Chains the reduced engine accepts: 10⁹ chains hold 40 GB of coordinates.
pub const MAX_CHAINS: usize = 1_000_000_000;

/// Chains handed to a worker at a time (and the progress bar's step): small enough that
/// a run of a few thousand chains splits evenly over the threads (1024 left W's 1600
/// chains as 1024 on one thread and 576 on the other), a multiple of [`LOCKSTEP`].
const CHUNK: usize = 64;
const _: () = assert!(CHUNK.is_multiple_of(LOCKSTEP));
/// Chains a worker steps in lockstep (see [`Kernel::run_lockstep`]).
const LOCKSTEP: usize = 8;

/// [`Kernel::run_lockstep`] in AVX2 where the CPU has it (the draws' fast paths by hand,
/// the rest compiled for it), else in plain Rust: the same integer and IEEE operations in
/// the same order (Rust never contracts a multiply and an add into an FMA), so the same
/// bytes on any x86-64.
/// `snaps` receives the checkpoints ([`Kernel::run_recording`]).
pub fn lockstep<const L: usize>(
    kernel: &Kernel,
    rng: &mut LaneRng<L>,
    snaps: &mut [[[f64; 2]; L]],
) -> [Ended; L] {
    #[cfg(target_arch = "x86_64")]
    if let Some(avx2) = Avx2::detect() {
        // SAFETY: `detect` found AVX2, the one feature `lockstep_avx2` enables.
        return unsafe { lockstep_avx2(kernel, avx2, rng, snaps) };
    }
    kernel.run_recording(Scalar, rng, snaps)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn lockstep_avx2<const L: usize>(
    kernel: &Kernel,
    avx2: Avx2,
    rng: &mut LaneRng<L>,
    snaps: &mut [[[f64; 2]; L]],
) -> [Ended; L] {
    kernel.run_recording(avx2, rng, snaps)
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
    pub diverged: Vec<bool>,
    /// `[chains, checkpoints, 2]`: `(a, c)` after each step of `config.checkpoints`, NaN
    /// for a chain that had diverged by then.
    pub checkpoints: Vec<f64>,
    pub teacher: Vec<f32>,
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
            teacher: self.teacher.clone(),
            wall_seconds: self.wall_seconds,
        }
    }
}

/// Runs every chain of `config` (which [`check`] accepts); `progress` counts chains.
pub fn simulate(config: &TrainConfig, progress: &Progress) -> Result<Reduced> {
    check(config)?;
    let start = Instant::now();
    let kernel = Kernel::new(config);
    let chains = config.chains;
    let mut coords = vec![0.0; 2 * chains];
    let mut average = vec![0.0; 3 * chains];
    let mut diverged = vec![false; chains];
    let marks = config.checkpoints.len();
    // Each worker's chunk of checkpoints, joined in chain order after.
    let checkpoints: Vec<Vec<f64>> = coords
        .par_chunks_mut(2 * CHUNK)
        .zip(average.par_chunks_mut(3 * CHUNK))
        .zip(diverged.par_chunks_mut(CHUNK))
        .enumerate()
        .map(|(chunk, ((coords, average), diverged))| {
            let first = chunk * CHUNK;
            let len = diverged.len();
            let mut marked = vec![0.0; 2 * marks * len];
            let seed = |chain: usize| chain_seed(config.seed, chain);
            let mut store = |i: usize, ended: Ended| {
                let State { a, c, s, summed } = ended.state;
                coords[2 * i..2 * i + 2].copy_from_slice(&[a, c]);
                let n = summed.max(1) as f64;
                average[3 * i..3 * i + 3].copy_from_slice(&s.map(|v| v / n));
                diverged[i] = ended.diverged;
            };
            // Chain i's checkpoint k goes to `marked[2·(i·marks + k)..][..2]`.
            let mark = |marked: &mut [f64], i: usize, k: usize, at: [f64; 2]| {
                marked[2 * (i * marks + k)..2 * (i * marks + k) + 2].copy_from_slice(&at);
            };
            let whole = len - len % LOCKSTEP;
            let mut snaps = vec![[[0.0; 2]; LOCKSTEP]; marks];
            for start in (0..whole).step_by(LOCKSTEP) {
                if progress.stopped() {
                    return marked;
                }
                let seeds: [_; LOCKSTEP] = std::array::from_fn(|j| seed(first + start + j));
                let mut rng = LaneRng::seed_from_u64(seeds);
                let ended = lockstep(&kernel, &mut rng, &mut snaps);
                for (j, ended) in ended.into_iter().enumerate() {
                    store(start + j, ended);
                    for (k, snap) in snaps.iter().enumerate() {
                        mark(&mut marked, start + j, k, snap[j]);
                    }
                }
            }
            let mut snaps = vec![[[0.0; 2]; 1]; marks];
            for i in whole..len {
                if progress.stopped() {
                    return marked;
                }
                let mut rng = LaneRng::seed_from_u64([seed(first + i)]);
                let [ended] = lockstep(&kernel, &mut rng, &mut snaps);
                store(i, ended);
                for (k, snap) in snaps.iter().enumerate() {
                    mark(&mut marked, i, k, snap[0]);
                }
            }
            progress.inc(len as u64);
            marked
        })
        .collect();
    let checkpoints = checkpoints.concat();
    // A stopped run skipped its remaining chains (at most 8 chains' steps after the stop).
    progress.check()?;
    Ok(Reduced {
        coords,
        average,
        diverged,
        checkpoints,
        teacher: data::teacher(config),
        wall_seconds: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Algorithm, Engine, Labels, Teacher};

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
