//! Kesten recursions `X ← A·X + B`, `log A ~ N(μ, s²)`, `B ~ N(0, 1)`: stationary with
//! `P(|X| > x) ~ c·x^(−α)`, α the root of `E A^α = 1`, i.e. exactly `α = −2μ/s²` — the
//! known answers the far-tail ladder is validated on. Recorded as a run records: the
//! threshold from the cross-section at the end of burn-in, then every exceedance of |X|.

use super::{Exceedance, ExceedanceStore, Kept, cross_section_threshold};
use crate::stream;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

/// A Kesten recursion with tail index `alpha` and log-multiplier spread `s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kesten {
    /// Tail index α of the stationary |X| (sets μ = −α s²/2).
    pub alpha: f64,
    /// Standard deviation s of log A.
    pub s: f64,
}

impl Kesten {
    /// μ = −α s²/2.
    pub fn mu(&self) -> f64 {
        -self.alpha * self.s * self.s / 2.0
    }

    /// One step.
    #[inline(always)]
    fn step(&self, x: f64, rng: &mut Xoshiro256PlusPlus) -> f64 {
        let z: f64 = StandardNormal.sample(rng);
        let b: f64 = StandardNormal.sample(rng);
        (self.mu() + self.s * z).exp() * x + b
    }

    /// `chains` chains from X₀ = 0 for `burn_in + steps` steps: the exceedances of |X| over
    /// the value the top `keep` of the chains exceed after burn-in (at most `cap` kept),
    /// every chain its own stream under `seed`.
    pub fn record(
        &self,
        chains: usize,
        burn_in: usize,
        steps: usize,
        keep: f64,
        cap: usize,
        seed: u64,
    ) -> Kept {
        let mut state: Vec<(f64, Xoshiro256PlusPlus)> = (0..chains)
            .into_par_iter()
            .map(|c| {
                let mut rng = stream(seed, "kesten", c as u64);
                let mut x = 0.0;
                for _ in 0..burn_in {
                    x = self.step(x, &mut rng);
                }
                (x, rng)
            })
            .collect();
        let mut section: Vec<f64> = state.iter().map(|s| s.0.abs()).collect();
        let store = ExceedanceStore::new(cross_section_threshold(&mut section, keep), cap);
        state
            .par_chunks_mut(64)
            .enumerate()
            .for_each(|(chunk, group)| {
                let mut local = Vec::new();
                let mut u = store.threshold();
                for (j, (x, rng)) in group.iter_mut().enumerate() {
                    let chain = (chunk * 64 + j) as u32;
                    for step in burn_in + 1..=burn_in + steps {
                        *x = self.step(*x, rng);
                        if x.abs() > u {
                            local.push(Exceedance {
                                value: x.abs(),
                                chain,
                                step: step as u32,
                            });
                        }
                    }
                    if local.len() > 1 << 14 {
                        store.merge(&mut local);
                        u = store.threshold();
                    }
                }
                store.merge(&mut local);
            });
        store.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::far::{LadderOptions, TimeSamples, ladder};

    #[test]
    fn the_ladder_reads_a_kesten_recursion_near_its_exact_index() {
        let k = Kesten { alpha: 1.5, s: 0.5 };
        let (chains, steps) = (2000, 5000);
        let kept = k.record(chains, 500, steps, 2e-3, 1 << 24, 3);
        let far = ladder(
            &TimeSamples {
                exceedances: &kept.exceedances,
                threshold: kept.threshold,
                chains,
                steps,
            },
            &LadderOptions {
                resamples: 100,
                ..LadderOptions::default()
            },
        );
        let rung = &far.ladder[0];
        assert_eq!(rung.exceedances, 10_000);
        assert!((rung.hill - 1.5).abs() < 0.15, "{rung:?}");
        let (lo, hi) = (rung.hill_lo.unwrap(), rung.hill_hi.unwrap());
        assert!(lo < 1.5 && 1.5 < hi, "[{lo}, {hi}]");
        assert!(
            rung.extremal_index < 0.9,
            "Kesten exceedances cluster: {rung:?}"
        );
        // The same seed, the same exceedances.
        assert_eq!(kept, k.record(chains, 500, steps, 2e-3, 1 << 24, 3));
    }
}
