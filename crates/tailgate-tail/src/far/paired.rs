//! Two sets of time samples compared rung by rung at matched exceedance fractions: Hill's
//! α̂ of each, their difference and the ratio of their quantiles, with chain-bootstrap
//! intervals. Paired sets (the same chains seen twice: two halves of one run's window, or
//! SGD and KM driven by the same streams) are resampled with one draw of chains for both,
//! so what the two share cancels; independent sets draw their chains separately.

use super::{
    Exceedance, TimeSamples, bootstrap::multinomial_counts, bootstrap::weighted_thresholds,
};
use crate::interval::quantile_sorted;
use crate::stream;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// One matched fraction read in both sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairedRung {
    /// The exceedance fraction p: each set's top p of its own N·T samples.
    pub fraction: f64,
    /// Exceedances read in set a: p·N·T of its samples, rounded.
    pub k_a: usize,
    /// Exceedances read in set b: p·N·T of its samples, rounded.
    pub k_b: usize,
    /// Hill's α̂ above each set's threshold X₍ₖ₊₁₎.
    pub hill_a: f64,
    /// Set b's α̂ (`hill_a` is set a's).
    pub hill_b: f64,
    /// `hill_a − hill_b`, with its percentile interval.
    pub diff: f64,
    /// Lower end of `diff`'s chain-bootstrap interval at `level`; `None` where under
    /// half the resamples give a finite value.
    pub diff_lo: Option<f64>,
    /// Upper end of `diff`'s interval (`None` as for `diff_lo`).
    pub diff_hi: Option<f64>,
    /// The thresholds (quantiles at 1 − p) and their ratio a/b, with its interval.
    pub quantile_a: f64,
    /// Set b's threshold X₍ₖ₊₁₎ (`quantile_a` is set a's).
    pub quantile_b: f64,
    /// `quantile_a / quantile_b`.
    pub ratio: f64,
    /// Lower end of `ratio`'s interval (`None` as for `diff_lo`).
    pub ratio_lo: Option<f64>,
    /// Upper end of `ratio`'s interval (`None` as for `diff_lo`).
    pub ratio_hi: Option<f64>,
    /// Chains with an exceedance of the threshold in each set.
    pub chains_a: usize,
    /// Distinct chains among set b's top `k_b` (`chains_a`: set a's top `k_a`).
    pub chains_b: usize,
}

/// How the two sets are resampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pairing {
    /// Chain i of one set is chain i of the other: one draw of chains serves both.
    SameChains,
    /// Independent sets: each draws its own chains.
    Independent,
}

/// Reads `fractions` in both sets and bootstraps the differences (`resamples` draws,
/// `level` intervals). A fraction whose k is below 10 in either set, or reaches below
/// either recording threshold, is skipped. Paired sets must count the same chains.
pub fn paired_ladder(
    a: &TimeSamples,
    b: &TimeSamples,
    fractions: &[f64],
    pairing: Pairing,
    resamples: usize,
    seed: u64,
    level: f64,
) -> Vec<PairedRung> {
    if pairing == Pairing::SameChains {
        assert_eq!(a.chains, b.chains, "paired sets count the same chains");
    }
    let sa = Sorted::new(a.exceedances);
    let sb = Sorted::new(b.exceedances);
    let total = |s: &TimeSamples| s.chains as f64 * s.steps as f64;
    let mut rungs: Vec<(f64, usize, usize)> = Vec::new();
    for &p in fractions {
        let (ka, kb) = (
            (p * total(a)).round() as usize,
            (p * total(b)).round() as usize,
        );
        if ka >= 10 && kb >= 10 && ka < sa.logs.len() && kb < sb.logs.len() {
            rungs.push((p, ka, kb));
        }
    }
    if rungs.is_empty() {
        return Vec::new();
    }
    let ka: Vec<usize> = rungs.iter().map(|r| r.1).collect();
    let kb: Vec<usize> = rungs.iter().map(|r| r.2).collect();
    let point_a = sa.read(&ka, &|_| 1.0);
    let point_b = sb.read(&kb, &|_| 1.0);
    // Chains seen in either set, numbered densely: one count per chain per resample.
    let mut ids: Vec<u32> = sa.chain.iter().chain(&sb.chain).copied().collect();
    ids.sort_unstable();
    ids.dedup();
    let local = |s: &Sorted| -> Vec<u32> {
        s.chain
            .iter()
            .map(|c| ids.binary_search(c).expect("listed") as u32)
            .collect()
    };
    let (la, lb) = (local(&sa), local(&sb));
    let draws: Vec<Vec<(f64, f64)>> = (0..resamples)
        .into_par_iter()
        .map(|r| {
            let mut rng = stream(seed, "far-tail-paired", r as u64);
            let ca = multinomial_counts(&mut rng, a.chains, ids.len());
            let cb = match pairing {
                Pairing::SameChains => ca.clone(),
                Pairing::Independent => multinomial_counts(&mut rng, b.chains, ids.len()),
            };
            let ra = sa.read(&ka, &|i| f64::from(ca[la[i] as usize]));
            let rb = sb.read(&kb, &|i| f64::from(cb[lb[i] as usize]));
            ra.iter()
                .zip(&rb)
                .map(|(x, y)| match (x, y) {
                    (Some(x), Some(y)) => (x.0 - y.0, x.1 / y.1),
                    _ => (f64::NAN, f64::NAN),
                })
                .collect()
        })
        .collect();
    let tail = (1.0 - level) / 2.0;
    rungs
        .iter()
        .enumerate()
        .filter_map(|(r, &(p, ka, kb))| {
            let (Some(x), Some(y)) = (point_a[r], point_b[r]) else {
                return None;
            };
            let interval = |pick: fn(&(f64, f64)) -> f64| {
                let mut v: Vec<f64> = draws
                    .iter()
                    .map(|d| pick(&d[r]))
                    .filter(|x| x.is_finite())
                    .collect();
                if v.len() * 2 < resamples || v.is_empty() {
                    return (None, None);
                }
                v.sort_by(f64::total_cmp);
                (
                    Some(quantile_sorted(&v, tail)),
                    Some(quantile_sorted(&v, 1.0 - tail)),
                )
            };
            let (diff_lo, diff_hi) = interval(|d| d.0);
            let (ratio_lo, ratio_hi) = interval(|d| d.1);
            Some(PairedRung {
                fraction: p,
                k_a: ka,
                k_b: kb,
                hill_a: x.0,
                hill_b: y.0,
                diff: x.0 - y.0,
                diff_lo,
                diff_hi,
                quantile_a: x.1,
                quantile_b: y.1,
                ratio: x.1 / y.1,
                ratio_lo,
                ratio_hi,
                chains_a: sa.chains_above(ka),
                chains_b: sb.chains_above(kb),
            })
        })
        .collect()
}

/// One set's exceedances in descending order, as logs and chains.
struct Sorted {
    logs: Vec<f64>,
    chain: Vec<u32>,
}

impl Sorted {
    fn new(exceedances: &[Exceedance]) -> Self {
        let mut sorted = exceedances.to_vec();
        sorted.sort_unstable_by(|a, b| {
            b.value
                .total_cmp(&a.value)
                .then((a.chain, a.step).cmp(&(b.chain, b.step)))
        });
        Sorted {
            logs: sorted.iter().map(|e| e.value.ln()).collect(),
            chain: sorted.iter().map(|e| e.chain).collect(),
        }
    }

    /// Hill's α̂ and the threshold at each k (increasing order not required) under
    /// `weight`; `None` where the weighted sample has ≤ k values.
    fn read(&self, ks: &[usize], weight: &dyn Fn(usize) -> f64) -> Vec<Option<(f64, f64)>> {
        let mut order: Vec<usize> = (0..ks.len()).collect();
        order.sort_by_key(|&r| ks[r]);
        let ascending: Vec<usize> = order.iter().map(|&r| ks[r]).collect();
        let found = weighted_thresholds(&self.logs, weight, &ascending);
        let mut out = vec![None; ks.len()];
        for (slot, &r) in found.into_iter().zip(&order) {
            out[r] = slot.map(|(at, top_log)| {
                let k = ks[r] as f64;
                let log_u = self.logs[at];
                (k / (top_log - k * log_u), log_u.exp())
            });
        }
        out
    }

    fn chains_above(&self, k: usize) -> usize {
        let mut c = self.chain[..k].to_vec();
        c.sort_unstable();
        c.dedup();
        c.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    /// Pareto(α) samples for `chains` chains × `steps` steps, all kept above 1.
    fn pareto(alpha: f64, chains: u32, steps: u32, seed: u64) -> Vec<Exceedance> {
        let mut rng = stream(seed, "test", 0);
        let mut out = Vec::new();
        for chain in 0..chains {
            for step in 0..steps {
                let u: f64 = rng.random();
                out.push(Exceedance {
                    value: (1.0 - u).powf(-1.0 / alpha),
                    chain,
                    step,
                });
            }
        }
        out
    }

    fn samples(e: &[Exceedance], chains: usize, steps: usize) -> TimeSamples<'_> {
        TimeSamples {
            exceedances: e,
            threshold: 1.0,
            chains,
            steps,
        }
    }

    #[test]
    fn a_set_against_itself_differs_by_exactly_zero() {
        let e = pareto(1.5, 200, 100, 1);
        let s = samples(&e, 200, 100);
        let rungs = paired_ladder(&s, &s, &[1e-1, 1e-2], Pairing::SameChains, 50, 3, 0.95);
        assert_eq!(rungs.len(), 2);
        for r in &rungs {
            assert_eq!(r.diff, 0.0);
            assert_eq!((r.diff_lo, r.diff_hi), (Some(0.0), Some(0.0)));
            assert_eq!(r.ratio, 1.0);
        }
    }

    #[test]
    fn different_indices_are_told_apart_and_scales_read_as_ratios() {
        let (chains, steps) = (400, 100);
        let heavy = pareto(1.5, chains, steps, 1);
        // The same law scaled by 2: the same α, every quantile doubled.
        let scaled: Vec<Exceedance> = heavy
            .iter()
            .map(|e| Exceedance {
                value: 2.0 * e.value,
                ..*e
            })
            .collect();
        let light = pareto(3.0, chains, steps, 2);
        let (h, s, l) = (
            samples(&heavy, chains as usize, steps as usize),
            samples(&scaled, chains as usize, steps as usize),
            samples(&light, chains as usize, steps as usize),
        );
        let same = paired_ladder(&s, &h, &[1e-2], Pairing::SameChains, 200, 4, 0.95);
        assert!((same[0].ratio - 2.0).abs() < 1e-12);
        assert!(same[0].diff.abs() < 1e-12);
        let apart = paired_ladder(&h, &l, &[1e-2], Pairing::Independent, 200, 4, 0.95);
        let r = &apart[0];
        assert!(
            r.diff_hi.unwrap() < 0.0,
            "1.5 vs 3 must be told apart: {r:?}"
        );
        assert!(r.diff_lo.unwrap() < -1.5 + 0.8 && r.diff_hi.unwrap() > -1.5 - 0.8);
    }

    #[test]
    fn rungs_too_shallow_or_too_deep_are_skipped() {
        let e = pareto(2.0, 10, 10, 5);
        let s = samples(&e, 10, 10);
        // p = 1e-3 gives k = 0; p = 1 reaches past the kept samples.
        assert!(paired_ladder(&s, &s, &[1e-3, 1.0], Pairing::SameChains, 10, 1, 0.9).is_empty());
    }
}
