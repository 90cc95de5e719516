//! Exceedances kept during a run: O(exceedances) memory under a hard cap. Workers filter
//! against a shared threshold and hand their finds over in batches; when the cap would be
//! passed the threshold is raised to the cap-th largest value and the rest dropped. The
//! kept set is always "every value above the final threshold", whatever the order the
//! workers arrived in, so the same seed gives the same set.

use super::Exceedance;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// A shared, capped store of exceedances (value, chain, step) above a threshold.
#[derive(Debug)]
pub struct ExceedanceStore {
    initial: f64,
    cap: usize,
    /// The current threshold's bits: only ever raised.
    threshold: AtomicU64,
    kept: Mutex<Vec<Exceedance>>,
}

/// What a store kept, in (chain, step) order, and how its threshold moved.
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    /// Every exceedance kept: the values above `threshold`, in (chain, step) order.
    pub exceedances: Vec<Exceedance>,
    /// Every kept value is above this.
    pub threshold: f64,
    /// The threshold the recording started with.
    pub initial_threshold: f64,
    /// The cap forced the threshold up (values between the two thresholds were dropped).
    pub raised: bool,
    /// The most exceedances the store would keep (at least 1).
    pub cap: usize,
}

impl ExceedanceStore {
    /// A store keeping values above `threshold`, at most `cap` of them (`cap ≥ 1`).
    pub fn new(threshold: f64, cap: usize) -> Self {
        ExceedanceStore {
            initial: threshold,
            cap: cap.max(1),
            threshold: AtomicU64::new(threshold.to_bits()),
            kept: Mutex::new(Vec::new()),
        }
    }

    /// The threshold now: a worker may drop any value at or below it.
    pub fn threshold(&self) -> f64 {
        f64::from_bits(self.threshold.load(Ordering::Relaxed))
    }

    /// Adds a worker's batch (values at or below the current threshold are dropped).
    pub fn merge(&self, batch: &mut Vec<Exceedance>) {
        if batch.is_empty() {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let u = self.threshold();
        kept.extend(batch.drain(..).filter(|e| e.value > u));
        // Prune with slack, so that pruning (a selection) runs once per cap/4 arrivals.
        if kept.len() > self.cap + self.cap / 4 {
            let raised = prune(&mut kept, self.cap);
            self.threshold.store(raised.to_bits(), Ordering::Relaxed);
        }
    }

    /// The final set: the `cap` largest values at most (ties at the cut all dropped), in
    /// (chain, step) order.
    pub fn finish(self) -> Kept {
        let mut kept = self.kept.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut threshold = f64::from_bits(self.threshold.into_inner());
        if kept.len() > self.cap {
            threshold = prune(&mut kept, self.cap);
        }
        kept.sort_unstable_by_key(|e| (e.chain, e.step));
        Kept {
            raised: threshold > self.initial,
            exceedances: kept,
            threshold,
            initial_threshold: self.initial,
            cap: self.cap,
        }
    }
}

/// Keeps the values above the (cap + 1)-th largest, which it returns.
fn prune(kept: &mut Vec<Exceedance>, cap: usize) -> f64 {
    kept.select_nth_unstable_by(cap, |a, b| b.value.total_cmp(&a.value));
    let cut = kept[cap].value;
    kept.retain(|e| e.value > cut);
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(value: f64, chain: u32, step: u32) -> Exceedance {
        Exceedance { value, chain, step }
    }

    #[test]
    fn the_kept_set_does_not_depend_on_the_order_batches_arrive_in() {
        let all: Vec<Exceedance> = (0..1000u32)
            .map(|i| ex(((i * 7919) % 1000) as f64 + 0.5, i % 13, i))
            .collect();
        let run = |order: &[usize]| {
            let store = ExceedanceStore::new(100.0, 40);
            for &o in order {
                let mut batch = all[o * 100..(o + 1) * 100].to_vec();
                store.merge(&mut batch);
            }
            store.finish()
        };
        let a = run(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let b = run(&[9, 3, 7, 1, 0, 8, 2, 6, 5, 4]);
        assert_eq!(a, b);
        assert_eq!(a.exceedances.len(), 40);
        assert!(a.raised);
        // The 40 largest of 0.5..999.5 are above 959.5.
        assert_eq!(a.threshold, 959.5);
        assert!(a.exceedances.iter().all(|e| e.value > 959.5));
    }

    #[test]
    fn below_the_cap_nothing_is_raised_or_dropped() {
        let store = ExceedanceStore::new(1.0, 100);
        store.merge(&mut vec![ex(0.5, 0, 1), ex(2.0, 1, 1), ex(3.0, 0, 2)]);
        let kept = store.finish();
        assert!(!kept.raised);
        assert_eq!(kept.exceedances, vec![ex(3.0, 0, 2), ex(2.0, 1, 1)]);
    }
}
