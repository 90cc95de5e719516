//! The ladder's intervals: a chain bootstrap. Chains are independent, so resampling whole
//! chains is valid whatever the dependence within one; each resample reads every rung again
//! at the same k (Hill exactly, the GPD by two Newton steps from the full sample's fit).

use super::{Exceedance, LadderOptions, Rung, gpd_bootstrap_alpha};
use crate::interval::quantile_sorted;
use crate::stream;
use rand_distr::{Binomial, Distribution};
use rayon::prelude::*;

/// Percentile intervals of every rung's Hill and GPD α from `options.resamples` chain
/// resamples: each draws the N counted chains with replacement (only the counts of the
/// chains that have exceedances matter, drawn as a multinomial one binomial at a time)
/// and reads each rung again at the same k.
pub(super) fn bootstrap(
    sorted: &[Exceedance],
    local: &[u32],
    with_exceedances: usize,
    chains: usize,
    ks: &[usize],
    ladder: &mut [Rung],
    options: &LadderOptions,
) {
    if ks.is_empty() || options.resamples == 0 {
        return;
    }
    let logs: Vec<f64> = sorted.iter().map(|e| e.value.ln()).collect();
    let starts: Vec<Option<f64>> = ladder
        .iter()
        .map(|r| r.gpd_xi.zip(r.gpd_sigma).map(|(x, s)| x / s))
        .collect();
    let full_thresholds: Vec<f64> = ladder.iter().map(|r| r.threshold).collect();
    // `weighted_thresholds` walks the rungs shallowest-k first: deepest rung first.
    let mut order: Vec<usize> = (0..ks.len()).collect();
    order.sort_by_key(|&r| ks[r]);
    let ascending: Vec<usize> = order.iter().map(|&r| ks[r]).collect();
    let draws: Vec<Vec<(f64, f64)>> = (0..options.resamples)
        .into_par_iter()
        .map(|b| {
            let mut rng = stream(options.seed, "far-tail-bootstrap", b as u64);
            let counts = multinomial_counts(&mut rng, chains, with_exceedances);
            let weight = |i: usize| f64::from(counts[local[i] as usize]);
            let found = weighted_thresholds(&logs, &weight, &ascending);
            let mut thresholds = vec![None; ks.len()];
            for (slot, &r) in found.into_iter().zip(&order) {
                thresholds[r] = slot;
            }
            ks.iter()
                .zip(&thresholds)
                .enumerate()
                .map(|(r, (&k, t))| match *t {
                    Some((at, top_log)) => {
                        let log_u = logs[at];
                        let hill = k as f64 / (top_log - k as f64 * log_u);
                        let u = sorted[at].value;
                        let pairs: Vec<(f64, f64)> = (0..at)
                            .filter(|&i| weight(i) > 0.0 && sorted[i].value > u)
                            .map(|i| (sorted[i].value - u, weight(i)))
                            .collect();
                        let start = starts[r].map(|theta| theta * full_thresholds[r] / u);
                        let gpd = match start {
                            Some(s) => gpd_bootstrap_alpha(&pairs, k as f64, s),
                            None => f64::NAN,
                        };
                        (hill, gpd)
                    }
                    None => (f64::NAN, f64::NAN),
                })
                .collect()
        })
        .collect();
    let tail = (1.0 - options.level) / 2.0;
    for (r, rung) in ladder.iter_mut().enumerate() {
        let interval = |pick: fn(&(f64, f64)) -> f64| {
            let mut v: Vec<f64> = draws
                .iter()
                .map(|d| pick(&d[r]))
                .filter(|x| !x.is_nan())
                .collect();
            // Fewer than half the resamples reached this rung: no interval.
            if v.len() * 2 < options.resamples {
                return (None, None);
            }
            v.sort_by(f64::total_cmp);
            let q = |p: f64| Some(quantile_sorted(&v, p)).filter(|x| x.is_finite());
            (q(tail), q(1.0 - tail))
        };
        (rung.hill_lo, rung.hill_hi) = interval(|d| d.0);
        if rung.gpd_alpha.is_some() {
            (rung.gpd_lo, rung.gpd_hi) = interval(|d| d.1);
        }
    }
}

/// The counts of `cells` of `chains` chains in a draw of `chains` with replacement.
pub(super) fn multinomial_counts<R: rand::Rng>(
    rng: &mut R,
    chains: usize,
    cells: usize,
) -> Vec<u32> {
    let mut left = chains as u64;
    (0..cells)
        .map(|c| {
            let remaining = (chains - c) as f64;
            if left == 0 {
                return 0;
            }
            let p = 1.0 / remaining;
            let n = if p >= 1.0 {
                left
            } else {
                Binomial::new(left, p).expect("0 < p < 1").sample(rng)
            };
            left -= n;
            n as u32
        })
        .collect()
}

/// For each k (increasing), where the weighted sample's X₍ₖ₊₁₎ sits in `logs` (descending)
/// and the sum of the top k weighted logs; `None` where the resample has ≤ k values.
pub(super) fn weighted_thresholds(
    logs: &[f64],
    weight: &dyn Fn(usize) -> f64,
    ks: &[usize],
) -> Vec<Option<(usize, f64)>> {
    let mut out = vec![None; ks.len()];
    let mut pending: Vec<(usize, f64)> = Vec::new();
    let (mut next, mut cum, mut cum_log) = (0, 0.0f64, 0.0f64);
    for (i, &lx) in logs.iter().enumerate() {
        let w = weight(i);
        if w == 0.0 {
            continue;
        }
        // Rungs whose top k ended just before this value: it is their X₍ₖ₊₁₎.
        for (r, sum) in pending.drain(..) {
            out[r] = Some((i, sum));
        }
        let new_cum = cum + w;
        while next < ks.len() && ks[next] as f64 <= new_cum {
            let k = ks[next] as f64;
            let sum = cum_log + (k - cum) * lx;
            if k < new_cum {
                out[next] = Some((i, sum));
            } else {
                pending.push((next, sum));
            }
            next += 1;
        }
        cum = new_cum;
        cum_log += w * lx;
        if next == ks.len() && pending.is_empty() {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_thresholds_match_an_expanded_sample() {
        let logs = [5.0, 4.0, 3.0, 2.0, 1.0];
        let w = [2.0, 0.0, 1.0, 3.0, 1.0];
        let weight = |i: usize| w[i];
        // Expanded: 5, 5, 3, 2, 2, 2, 1.
        let got = weighted_thresholds(&logs, &weight, &[1, 2, 3, 5, 7]);
        assert_eq!(got[0], Some((0, 5.0))); // top 1 = {5}, X₍₂₎ = 5
        assert_eq!(got[1], Some((2, 10.0))); // top 2 = {5, 5}, X₍₃₎ = 3
        assert_eq!(got[2], Some((3, 13.0))); // top 3, X₍₄₎ = 2
        assert_eq!(got[3], Some((3, 17.0))); // top 5 = 5,5,3,2,2; X₍₆₎ = 2
        assert_eq!(got[4], None); // 7 values: no X₍₈₎
    }

    #[test]
    fn multinomial_counts_sum_to_at_most_the_chains_and_average_one() {
        let mut rng = stream(0, "mn-test", 0);
        let mut total = vec![0u64; 50];
        for _ in 0..2000 {
            let c = multinomial_counts(&mut rng, 1000, 50);
            assert!(c.iter().map(|&x| x as u64).sum::<u64>() <= 1000);
            for (t, x) in total.iter_mut().zip(c) {
                *t += x as u64;
            }
        }
        let mean = total.iter().sum::<u64>() as f64 / (50.0 * 2000.0);
        assert!((mean - 1.0).abs() < 0.03, "{mean}");
        let all = multinomial_counts(&mut rng, 10, 10);
        assert_eq!(all.iter().sum::<u32>(), 10);
    }
}
