//! The far tail on the reduced engine: the statistic r = √((a − ā)² + c²) = ‖w − ā·w*‖
//! after every post-burn-in step of every chain, its exceedances kept. The centre ā and
//! the recording threshold come from the cross-section at the end of burn-in.

use super::Kernel;
use super::chain::Watch;
use crate::config::Resolved;
use crate::tail::far::{Exceedance, ExceedanceStore, Recording, cross_section_threshold};
use crate::tail::{Center, median};

/// The centre and threshold fixed at the end of burn-in.
pub struct Plan {
    center: f64,
    center_rule: &'static str,
    threshold: f64,
    keep: f64,
    cap: usize,
    bound_sq: f64,
    steps: usize,
}

/// What every watching worker shares: the plan's numbers and the store.
pub struct FarWatchShared {
    center: f64,
    bound_sq: f64,
    store: ExceedanceStore,
}

/// Fixes the far tail's centre and threshold from the chains' `(chain, (a, c), diverged)`
/// at the end of burn-in: ā the mean (or median, as `config.center` asks) of `a` over the
/// chains not diverged, and the threshold the top `far_tail_keep` of their r exceed.
pub fn plan(config: &Resolved, kernel: &Kernel, section: &[(usize, [f64; 2], bool)]) -> Plan {
    let alive: Vec<[f64; 2]> = section.iter().filter(|s| !s.2).map(|s| s.1).collect();
    let a: Vec<f64> = alive.iter().map(|p| p[0]).collect();
    let (center, center_rule) = match config.center {
        Center::None => (0.0, "0 (`center: none`)"),
        Center::Median if !a.is_empty() => (median(&a), "the median of a"),
        _ if a.is_empty() => (0.0, "0 (no chain alive at the end of burn-in)"),
        Center::Median | Center::Mean => (mean(&a), "the mean of a"),
        // A vector centre is a d-dimensional point the two coordinates cannot place.
        Center::Vector(_) | Center::LeastSquares => {
            (mean(&a), "the mean of a (a vector centre needs full rows)")
        }
    };
    let keep = config
        .far_tail()
        .map_or(crate::tail::far::DEFAULT_KEEP, |f| f.keep);
    let mut r: Vec<f64> = alive
        .iter()
        .map(|&[a, c]| ((a - center).powi(2) + c * c).sqrt())
        .collect();
    let threshold = cross_section_threshold(&mut r, keep);
    Plan {
        center,
        center_rule,
        threshold,
        keep,
        cap: config
            .far_tail()
            .map_or(crate::tail::far::DEFAULT_CAP, |f| f.cap),
        bound_sq: kernel.bound_sq(),
        steps: config.after_burn_in(),
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

impl Plan {
    /// The store and numbers the workers share.
    pub fn shared(&self) -> FarWatchShared {
        FarWatchShared {
            center: self.center,
            bound_sq: self.bound_sq,
            store: ExceedanceStore::new(self.threshold, self.cap),
        }
    }

    /// The recording, the exceedances of chains that diverged dropped.
    pub fn finish(self, shared: FarWatchShared, diverged: &[bool]) -> Recording {
        let mut kept = shared.store.finish();
        kept.exceedances.retain(|e| !diverged[e.chain as usize]);
        let excluded = diverged.iter().filter(|&&d| d).count();
        Recording {
            kept,
            statistic: format!(
                "r = ‖w − ā·w*‖ = √((a − ā)² + c²), ā = {:.6} ({}, over the chains at the end of burn-in)",
                self.center, self.center_rule
            ),
            center: Some(self.center),
            keep: self.keep,
            chains: diverged.len() - excluded,
            excluded_chains: excluded,
            steps: self.steps,
        }
    }
}

/// Batches of exceedances a worker hands to the store at a time.
const BATCH: usize = 1 << 14;

/// A worker's watch over one lockstep group: compares every chain's r² with the threshold
/// after each step and keeps what exceeds it.
pub struct FarWatch<'a, const L: usize> {
    shared: &'a FarWatchShared,
    first: u32,
    u_sq: f64,
    local: Vec<Exceedance>,
}

impl<'a, const L: usize> FarWatch<'a, L> {
    pub fn new(shared: &'a FarWatchShared, first: usize) -> Self {
        let u = shared.store.threshold();
        FarWatch {
            shared,
            first: first as u32,
            u_sq: u * u,
            local: Vec::new(),
        }
    }

    /// Hands the batch over and reads the (possibly raised) threshold back.
    pub fn flush(&mut self) {
        self.shared.store.merge(&mut self.local);
        let u = self.shared.store.threshold();
        self.u_sq = u * u;
    }
}

impl<const L: usize> Watch<L> for FarWatch<'_, L> {
    #[inline(always)]
    fn after_step(&mut self, step: usize, a: &[f64; L], c: &[f64; L], diverged: &[bool; L]) {
        let center = self.shared.center;
        let r_sq: [f64; L] = std::array::from_fn(|j| {
            let d = a[j] - center;
            d * d + c[j] * c[j]
        });
        // The common case, no chain above: one comparison per chain, no branch per chain.
        let u_sq = self.u_sq;
        if !r_sq.iter().fold(false, |hit, &r| hit | (r > u_sq)) {
            return;
        }
        for j in 0..L {
            let norm = a[j] * a[j] + c[j] * c[j];
            // Past the divergence bound the chain is about to be flagged: not a sample.
            if r_sq[j] > self.u_sq && !diverged[j] && norm <= self.shared.bound_sq {
                self.local.push(Exceedance {
                    value: r_sq[j].sqrt(),
                    chain: self.first + j as u32,
                    step: step as u32,
                });
            }
        }
        if self.local.len() >= BATCH {
            self.flush();
        }
    }
}
