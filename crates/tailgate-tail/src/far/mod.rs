//! The far tail from time samples (docs/manual/far-tail.md): after burn-in every step of
//! every chain is a draw from the stationary law, so N chains × T steps give N·T samples.
//! The exceedances of a statistic over a threshold are kept with their chain and step
//! ([`ExceedanceStore`]) and read on a ladder of exceedance fractions p of N·T ([`ladder`]):
//! Hill above the rung's threshold with a chain bootstrap (chains are independent, so
//! resampling whole chains is valid whatever the dependence within one), the extremal
//! index (Ferro–Segers) and the clusters behind the rung, and the generalised Pareto MLE.

mod bootstrap;
mod extremal;
mod gpd;
mod kesten;
mod paired;
mod series;
mod store;

pub use extremal::extremal_index;
pub use gpd::{GpdFit, gpd_bootstrap_alpha, gpd_fit, gpd_fit_weighted};
pub use kesten::Kesten;
pub use paired::{PairedRung, Pairing, paired_ladder};
pub use series::{Layout, exceedances_of_series, far_tail_of_series};
pub use store::{ExceedanceStore, Kept};

use serde::{Deserialize, Serialize};

/// One time sample above the threshold: the statistic's value, its chain and its step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exceedance {
    /// The statistic's value (above the recording threshold).
    pub value: f64,
    /// Id of the chain it came from.
    pub chain: u32,
    /// Its step in the chain, numbered from the chain's start (burn-in included).
    pub step: u32,
}

/// What a run recorded of its far tail (either engine).
#[derive(Debug, Clone)]
pub struct Recording {
    /// Exceedances of the chains that never diverged, in (chain, step) order.
    pub kept: Kept,
    /// The statistic and its centre, in words.
    pub statistic: String,
    /// The centre's coordinate on w* (reduced engine; the burn engine's centre is a vector).
    pub center: Option<f64>,
    /// The fraction of the burn-in cross-section above the recording threshold.
    pub keep: f64,
    /// Chains counted: those that never diverged.
    pub chains: usize,
    /// Chains left out because they diverged (their exceedances dropped).
    pub excluded_chains: usize,
    /// Post-burn-in steps per chain.
    pub steps: usize,
}

/// The value that the top `keep` of `values` exceed (at least one of them): the recording
/// threshold from a cross-section; +∞ for fewer than two values (nothing is kept).
pub fn cross_section_threshold(values: &mut [f64], keep: f64) -> f64 {
    let n = values.len();
    if n < 2 {
        return f64::INFINITY;
    }
    let k = ((keep * n as f64).round() as usize).clamp(1, n - 1);
    values.select_nth_unstable_by(k, |a, b| b.total_cmp(a));
    values[k]
}

/// The exceedance fractions of the ladder, deepest last.
pub const FRACTIONS: [f64; 5] = [1e-3, 1e-4, 1e-5, 1e-6, 1e-7];

/// The default fraction of the cross-section at the end of burn-in that lies above the
/// recording threshold: twice the shallowest rung, so that rung is reachable.
pub const DEFAULT_KEEP: f64 = 2e-3;

/// Default cap on the exceedances a run keeps (16 bytes each in memory: 320 MB).
pub const DEFAULT_CAP: usize = 20_000_000;

/// How the ladder is read.
#[derive(Debug, Clone, PartialEq)]
pub struct LadderOptions {
    /// Exceedance fractions p of the N·T samples, shallowest first.
    pub fractions: Vec<f64>,
    /// Chain-bootstrap resamples of every interval.
    pub resamples: usize,
    /// Seed of the bootstrap streams (resample `b` is stream `b`).
    pub seed: u64,
    /// Coverage of the intervals.
    pub level: f64,
    /// A rung is read only with at least this many exceedances and clusters; the ladder
    /// stops at the first rung below.
    pub min_rung: usize,
    /// The headline comes from the deepest rung with at least this many clusters ...
    pub min_clusters: f64,
    /// ... and this many distinct chains.
    pub min_chains: usize,
}

impl Default for LadderOptions {
    fn default() -> Self {
        LadderOptions {
            fractions: FRACTIONS.to_vec(),
            resamples: 200,
            seed: 0,
            level: 0.95,
            min_rung: 10,
            min_clusters: MIN_CLUSTERS,
            min_chains: MIN_CHAINS,
        }
    }
}

/// The headline rule's clusters: of the rules compared in docs/validation/far_tail, the one with the smallest bias (≤ 0.04 where α ≤ 2.5).
pub const MIN_CLUSTERS: f64 = 1000.0;
/// The headline rule's distinct chains.
pub const MIN_CHAINS: usize = 100;

/// What a sample of exceedances is drawn from.
#[derive(Debug, Clone, Copy)]
pub struct TimeSamples<'a> {
    /// Every sample above `threshold`, of the chains counted (ids below `chain_slots`).
    pub exceedances: &'a [Exceedance],
    /// The recording threshold: every exceedance is above it.
    pub threshold: f64,
    /// Chains counted (the units the bootstrap resamples).
    pub chains: usize,
    /// Post-burn-in steps per chain.
    pub steps: usize,
}

/// One rung of the ladder: the top `fraction` of the N·T samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rung {
    /// The exceedance fraction p of the N·T samples.
    pub fraction: f64,
    /// X₍ₖ₊₁₎: the (k+1)-th largest sample, k = fraction·N·T.
    pub threshold: f64,
    /// k: the k largest samples (those tied with X₍ₖ₊₁₎ count in, as excesses of 0: SGD's
    /// gate stands still at an inactive step, so a chain repeats its value).
    pub exceedances: usize,
    /// Distinct chains among them.
    pub chains: usize,
    /// θ̂ = clusters/k (1/θ̂ = mean cluster size), from Ferro–Segers' intervals estimator
    /// on the within-chain gaps, pooled over chains.
    pub extremal_index: f64,
    /// θ̂·k: independent clusters (each contributing chain opens one, and the gaps
    /// Ferro–Segers count as inter-cluster open the others), the rung's effective sample size.
    pub clusters: f64,
    /// Hill above the threshold, with its chain-bootstrap percentile interval.
    pub hill: f64,
    /// Lower end of `hill`'s interval at `level`; `None` where under half the resamples
    /// reach the rung or the bound is not finite.
    pub hill_lo: Option<f64>,
    /// Upper end of `hill`'s interval (`None` as for `hill_lo`).
    pub hill_hi: Option<f64>,
    /// 1/ξ̂ of the generalised Pareto MLE on the excesses; `null` with `gpd_reason`
    /// where ξ̂ ≤ 0. `gpd_hi` is `null` where the interval is unbounded (resamples with ξ ≤ 0).
    pub gpd_alpha: Option<f64>,
    /// Lower end of `gpd_alpha`'s interval (`None` as for `hill_lo`, or with `gpd_alpha`).
    pub gpd_lo: Option<f64>,
    /// Upper end of `gpd_alpha`'s interval; `None` also where it is unbounded.
    pub gpd_hi: Option<f64>,
    /// The GPD shape ξ̂; `None` where there is no fit (ξ̂ ≤ 0).
    pub gpd_xi: Option<f64>,
    /// The GPD scale σ̂, in the statistic's units; `None` with `gpd_xi`.
    pub gpd_sigma: Option<f64>,
    /// Why there is no GPD fit; absent where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpd_reason: Option<String>,
}

/// The far-tail reading of a run or a time series: `summary.far_tail` of run.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FarTail {
    /// The headline: Hill at the rung `fraction`, chosen by the rule in `rule`; `null` with
    /// `reason` where no rung qualifies.
    pub alpha: Option<f64>,
    /// Lower end of the headline rung's Hill interval (its `hill_lo`).
    pub alpha_lo: Option<f64>,
    /// Upper end of the headline rung's Hill interval (its `hill_hi`).
    pub alpha_hi: Option<f64>,
    /// The headline rung's exceedance fraction p; `None` where no rung qualifies.
    pub fraction: Option<f64>,
    /// Why there is no headline; absent where there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The headline rule, in words (its minimum clusters and chains).
    pub rule: String,
    /// Every kept sample is above this threshold.
    #[serde(deserialize_with = "nan_for_null")]
    pub threshold: f64,
    /// N·T: the time samples the fractions are of.
    pub samples: u64,
    /// Chains counted (N).
    pub chains: usize,
    /// Post-burn-in steps per chain (T).
    pub steps: usize,
    /// Exceedances kept (rows of far_tail.npy).
    pub kept: usize,
    /// The rungs read, in the order of [`LadderOptions::fractions`].
    pub ladder: Vec<Rung>,
    /// Why the ladder stops where it does.
    pub stopped: String,
    /// Chain-bootstrap resamples behind every interval.
    pub resamples: usize,
    /// Coverage of the intervals.
    pub level: f64,
}

/// JSON writes a NaN as null (a run whose every chain diverged has no threshold): read it
/// back as NaN.
pub fn nan_for_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Reads the ladder of `samples` (see [`FarTail`]).
pub fn ladder(samples: &TimeSamples, options: &LadderOptions) -> FarTail {
    let total = samples.chains as u64 * samples.steps as u64;
    // Descending by value, ties by (chain, step): the order every rung is read in.
    let mut sorted: Vec<Exceedance> = samples.exceedances.to_vec();
    sorted.sort_unstable_by(|a, b| {
        b.value
            .total_cmp(&a.value)
            .then((a.chain, a.step).cmp(&(b.chain, b.step)))
    });
    let kept = sorted.len();
    let mut rungs: Vec<(f64, usize)> = Vec::new();
    let mut stopped = format!("every fraction of {:?} read", options.fractions);
    for &p in &options.fractions {
        let k = (p * total as f64).round() as usize;
        if k < options.min_rung {
            stopped = format!(
                "stopped at p = {p:e}: {k} exceedances, fewer than {}",
                options.min_rung
            );
            break;
        }
        if k >= kept {
            // Shallower than the recording threshold: this rung's X₍ₖ₊₁₎ was not kept.
            stopped = format!(
                "p = {p:e} skipped: its {k} exceedances reach below the recording threshold ({kept} kept)"
            );
            continue;
        }
        rungs.push((p, k));
    }
    // Chains with exceedances, numbered densely for the bootstrap's counts.
    let mut ids: Vec<u32> = sorted.iter().map(|e| e.chain).collect();
    ids.sort_unstable();
    ids.dedup();
    let local: Vec<u32> = sorted
        .iter()
        .map(|e| ids.binary_search(&e.chain).expect("listed") as u32)
        .collect();
    let mut ladder = Vec::new();
    let mut read = Vec::new();
    for &(p, k) in &rungs {
        let rung = read_rung(&sorted, p, k);
        if rung.exceedances < options.min_rung || rung.clusters < options.min_rung as f64 {
            stopped = format!(
                "stopped at p = {p:e}: {:.0} clusters, fewer than {}",
                rung.clusters, options.min_rung
            );
            break;
        }
        read.push(k);
        ladder.push(rung);
    }
    bootstrap::bootstrap(
        &sorted,
        &local,
        ids.len(),
        samples.chains,
        &read,
        &mut ladder,
        options,
    );
    headline(samples, kept, ladder, stopped, options)
}

/// A rung's point estimates (its intervals come from [`bootstrap::bootstrap`]).
fn read_rung(sorted: &[Exceedance], p: f64, k: usize) -> Rung {
    let threshold = sorted[k].value;
    let top = &sorted[..k];
    let log_u = threshold.ln();
    let hill = k as f64 / top.iter().map(|e| e.value.ln() - log_u).sum::<f64>();
    let mut by_chain: Vec<(u32, u32)> = top.iter().map(|e| (e.chain, e.step)).collect();
    by_chain.sort_unstable();
    let chains = 1 + by_chain.windows(2).filter(|w| w[0].0 != w[1].0).count();
    let gaps: Vec<u64> = by_chain
        .windows(2)
        .filter(|w| w[0].0 == w[1].0)
        .map(|w| u64::from(w[1].1 - w[0].1))
        .collect();
    // Pooled over independent chains: each chain with exceedances opens a cluster, and
    // θ̂ of Ferro–Segers is the share of the within-chain gaps that open another, so the
    // clusters are H + θ̂·(gaps) (one chain: 1 + θ̂(n − 1) ≈ θ̂n, their estimator).
    let clusters = (chains as f64 + extremal_index(&gaps) * gaps.len() as f64).min(k as f64);
    let theta = clusters / k as f64;
    let pairs: Vec<(f64, f64)> = top
        .iter()
        .map(|e| (e.value - threshold, 1.0))
        .filter(|p| p.0 > 0.0)
        .collect();
    // A Pareto tail above u has θ = ξ/σ = 1/u: Newton starts there.
    let fit = gpd_fit_weighted(&pairs, k as f64, Some(1.0 / threshold));
    Rung {
        fraction: p,
        threshold,
        exceedances: k,
        chains,
        extremal_index: theta,
        clusters,
        hill,
        hill_lo: None,
        hill_hi: None,
        gpd_alpha: fit.map(|f| 1.0 / f.xi),
        gpd_lo: None,
        gpd_hi: None,
        gpd_xi: fit.map(|f| f.xi),
        gpd_sigma: fit.map(|f| f.sigma),
        gpd_reason: fit
            .is_none()
            .then(|| "ξ̂ ≤ 0: the excesses show no power tail above this threshold".into()),
    }
}

/// The headline: the deepest rung with enough clusters and chains.
fn headline(
    samples: &TimeSamples,
    kept: usize,
    ladder: Vec<Rung>,
    stopped: String,
    options: &LadderOptions,
) -> FarTail {
    let rule = format!(
        "Hill at the deepest rung with ≥ {} clusters (θ̂·k) from ≥ {} chains",
        options.min_clusters, options.min_chains
    );
    let chosen = ladder
        .iter()
        .rev()
        .find(|r| r.clusters >= options.min_clusters && r.chains >= options.min_chains);
    let reason = match (chosen, ladder.first()) {
        (Some(_), _) => None,
        (None, Some(r)) => Some(format!(
            "no rung qualifies: the shallowest (p = {:e}) has {:.0} clusters from {} chains; \
             run more chains or steps",
            r.fraction, r.clusters, r.chains
        )),
        (None, None) => Some(format!("no rung could be read ({stopped})")),
    };
    FarTail {
        alpha: chosen.map(|r| r.hill),
        alpha_lo: chosen.and_then(|r| r.hill_lo),
        alpha_hi: chosen.and_then(|r| r.hill_hi),
        fraction: chosen.map(|r| r.fraction),
        reason,
        rule,
        threshold: samples.threshold,
        samples: samples.chains as u64 * samples.steps as u64,
        chains: samples.chains,
        steps: samples.steps,
        kept,
        ladder,
        stopped,
        resamples: options.resamples,
        level: options.level,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream;
    use rand::RngExt;

    /// Independent Pareto(α) samples laid out as chains × steps, all kept above `u`.
    fn pareto_samples(alpha: f64, chains: usize, steps: usize, u: f64) -> Vec<Exceedance> {
        let mut rng = stream(9, "far-test", 0);
        let mut out = Vec::new();
        for chain in 0..chains as u32 {
            for step in 0..steps as u32 {
                let x = (1.0 - rng.random::<f64>()).powf(-1.0 / alpha);
                if x > u {
                    out.push(Exceedance {
                        value: x,
                        chain,
                        step,
                    });
                }
            }
        }
        out
    }

    #[test]
    fn hill_on_a_rung_equals_the_plain_formula_on_its_top_k() {
        let ex = pareto_samples(1.5, 200, 5000, 20.0);
        let samples = TimeSamples {
            exceedances: &ex,
            threshold: 20.0,
            chains: 200,
            steps: 5000,
        };
        let options = LadderOptions {
            resamples: 50,
            ..LadderOptions::default()
        };
        let far = ladder(&samples, &options);
        let rung = &far.ladder[0];
        assert_eq!(rung.exceedances, 1000);
        let mut v: Vec<f64> = ex.iter().map(|e| e.value).collect();
        v.sort_by(|a, b| b.total_cmp(a));
        let want = 1000.0 / v[..1000].iter().map(|x| x.ln() - v[1000].ln()).sum::<f64>();
        assert_eq!(rung.hill, want);
        assert_eq!(rung.threshold, v[1000]);
        // Independent samples: no clusters.
        assert!(rung.extremal_index > 0.9, "{}", rung.extremal_index);
        let (lo, hi) = (rung.hill_lo.unwrap(), rung.hill_hi.unwrap());
        assert!(lo < rung.hill && rung.hill < hi);
        assert!(lo < 1.5 && 1.5 < hi, "[{lo}, {hi}]");
        let g = rung.gpd_alpha.unwrap();
        assert!((g - 1.5).abs() < 0.3, "{g}");
    }

    #[test]
    fn the_same_seed_gives_the_same_ladder_and_another_seed_other_intervals() {
        let ex = pareto_samples(2.0, 100, 2000, 10.0);
        let samples = TimeSamples {
            exceedances: &ex,
            threshold: 10.0,
            chains: 100,
            steps: 2000,
        };
        let o = |seed| LadderOptions {
            resamples: 40,
            seed,
            ..LadderOptions::default()
        };
        let a = ladder(&samples, &o(1));
        assert_eq!(a, ladder(&samples, &o(1)));
        let b = ladder(&samples, &o(2));
        assert_eq!(a.ladder[0].hill, b.ladder[0].hill);
        assert_ne!(a.ladder[0].hill_lo, b.ladder[0].hill_lo);
    }

    #[test]
    fn too_few_samples_give_no_headline_and_say_why() {
        let ex = pareto_samples(1.5, 10, 1000, 5.0);
        let samples = TimeSamples {
            exceedances: &ex,
            threshold: 5.0,
            chains: 10,
            steps: 1000,
        };
        let far = ladder(&samples, &LadderOptions::default());
        assert_eq!(far.ladder.len(), 1, "only p = 10⁻³ has ≥ 10 exceedances");
        assert_eq!(far.alpha, None);
        assert!(far.reason.unwrap().contains("no rung qualifies"));
    }
}
