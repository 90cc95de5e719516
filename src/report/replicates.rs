//! Seeds as replicates: cells that differ only in their seed, combined into one estimate
//! with an interval, the estimator's measured error on the linear control (whose theory
//! is exact), and the one verdict system of the report.

use super::cells::{CellResult, fkey};
use crate::config::{Model, TrainConfig};
use crate::study::cell_id;
use std::collections::BTreeMap;

/// Cells that differ only in the seed share this key.
pub(super) fn replicate_key(cfg: &TrainConfig) -> String {
    cell_id(&TrainConfig {
        seed: 0,
        ..cfg.clone()
    })
}

/// An estimate combined over independent seeds: the mean and a 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Combined {
    /// Mean of the per-seed values.
    pub mean: f64,
    /// Lower end of the 95 % interval around `mean`.
    pub lo: f64,
    /// Upper end of the 95 % interval around `mean`.
    pub hi: f64,
    /// Seeds combined.
    pub n: usize,
}

/// Student's t quantile 0.975 with `df` degrees of freedom.
fn t975(df: usize) -> f64 {
    const T: [f64; 10] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    ];
    T.get(df.wrapping_sub(1))
        .copied()
        .unwrap_or(1.96 + 2.4 / df as f64)
}

/// Per-seed values with the half-widths of their own 95 % intervals, combined: the mean,
/// and the wider of (a) the t interval over the seeds (what the seeds' spread says) and
/// (b) the seeds' own intervals propagated to the mean, √Σh²/n (whose coverage the
/// validation measured). One seed gives (b) alone.
pub fn combine(values: &[(f64, Option<f64>)]) -> Option<Combined> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().map(|v| v.0).sum::<f64>() / n as f64;
    let propagated = values
        .iter()
        .map(|v| v.1.map(|h| h * h))
        .sum::<Option<f64>>()
        .map(|s| s.sqrt() / n as f64);
    let spread = (n >= 2).then(|| {
        let var = values.iter().map(|v| (v.0 - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        t975(n - 1) * (var / n as f64).sqrt()
    });
    let half = match (propagated, spread) {
        (Some(p), Some(s)) => p.max(s),
        (Some(h), None) | (None, Some(h)) => h,
        (None, None) => return None,
    };
    Some(Combined {
        mean,
        lo: mean - half,
        hi: mean + half,
        n,
    })
}

/// Half the width of an interval.
pub(super) fn half(ci: Option<[f64; 2]>) -> Option<f64> {
    ci.map(|[lo, hi]| 0.5 * (hi - lo))
}

/// What a combined difference A − B of tail indices says, given the margin δ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// The interval lies inside (−δ, δ): equal within the estimator's measured error.
    Equivalent,
    /// The interval lies below 0 and leaves the margin: A has the heavier tail.
    AHeavier,
    /// Above 0: B has the heavier tail.
    BHeavier,
    /// Neither: the interval is wider than the margin allows a decision.
    Undecided,
}

/// The one verdict rule of the report: a difference is called only when the whole
/// interval lies beyond the margin (a difference smaller than the estimator's error is
/// not resolved, even where the interval excludes 0).
pub fn verdict(c: &Combined, margin: f64) -> Verdict {
    if c.lo > -margin && c.hi < margin {
        Verdict::Equivalent
    } else if c.hi < -margin {
        Verdict::AHeavier
    } else if c.lo > margin {
        Verdict::BHeavier
    } else {
        Verdict::Undecided
    }
}

/// Upper order statistics of the far-tail check: Hill's estimator at k = 1000 (1 % of 10⁵
/// chains), where the gate's prediction is an asymptotic statement about.
pub const FAR_K: usize = 1000;

/// Hill's α̂ at k = [`FAR_K`] on each claim cell's ‖w − centre‖ (the survivors), with the
/// half-width 1.96·α̂/√k of its asymptotic normal interval; read once per report.
#[derive(Debug, Default)]
pub struct FarTail(std::collections::HashMap<String, (f64, f64)>);

impl FarTail {
    /// For the cells whose η the theory placed (at least 10·k chains kept).
    pub fn of(cells: &[&CellResult]) -> crate::error::Result<Self> {
        let mut map = std::collections::HashMap::new();
        for c in cells {
            if !c.config().alpha_target.is_some_and(|t| t > 0.0) || c.alpha().is_none() {
                continue;
            }
            let norms = super::cells::centred_norms(c)?;
            if norms.len() < 10 * FAR_K {
                continue;
            }
            if let Ok(a) = crate::tail::hill_alpha(&norms, FAR_K) {
                map.insert(c.id.clone(), (a, 1.96 * a / (FAR_K as f64).sqrt()));
            }
        }
        Ok(FarTail(map))
    }

    /// (α̂, half-width) of a cell.
    pub fn get(&self, c: &CellResult) -> Option<(f64, f64)> {
        self.0.get(&c.id).copied()
    }
}

/// The headline's measured error on the linear control of this study (an exact theory):
/// RMSE of α̂ − α per theory α, over every linear cell with an α̂ (all d, b and seeds).
#[derive(Debug, Clone, Default)]
pub struct MeasuredError {
    /// theory α (rounded to 0.01, as a key) → (cells, mean α̂ − α, RMSE).
    pub by_alpha: BTreeMap<i64, (usize, f64, f64)>,
}

/// The smallest margin used: differences below it are not resolved at 10⁵ chains
/// (docs/validation: the headline's RMSE on the linear laws with α ≤ 2 is 0.01–0.03).
pub const MIN_MARGIN: f64 = 0.05;

impl MeasuredError {
    pub fn of(cells: &[&CellResult]) -> Self {
        let mut acc: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
        for c in cells.iter().filter(|c| c.config().model == Model::Linear) {
            if let (Some(a), Some(t)) = (c.alpha(), c.theory_alpha())
                && !c.lost_chains()
            {
                acc.entry(fkey(round2(t))).or_default().push(a - t);
            }
        }
        let by_alpha = acc
            .into_iter()
            .map(|(k, e)| {
                let n = e.len() as f64;
                let mean = e.iter().sum::<f64>() / n;
                let rmse = (e.iter().map(|x| x * x).sum::<f64>() / n).sqrt();
                (k, (e.len(), mean, rmse))
            })
            .collect();
        MeasuredError { by_alpha }
    }

    /// The margin δ at theory α `alpha`: the RMSE at the nearest measured α (at least
    /// [`MIN_MARGIN`]); the largest RMSE measured when `alpha` is unknown.
    pub fn margin(&self, alpha: Option<f64>) -> f64 {
        let rmse = match alpha {
            Some(a) => self
                .by_alpha
                .iter()
                .min_by(|x, y| {
                    let dx = (*x.0 as f64 / 1e9 - a).abs();
                    let dy = (*y.0 as f64 / 1e9 - a).abs();
                    dx.total_cmp(&dy)
                })
                .map(|(_, v)| v.2),
            None => self.by_alpha.values().map(|v| v.2).reduce(f64::max),
        };
        rmse.unwrap_or(2.0 * MIN_MARGIN).max(MIN_MARGIN)
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combining_takes_the_wider_of_spread_and_propagated_intervals() {
        // Spread: mean 1, sd 1 → t₂ · 1/√3 = 2.484; propagated √(3·0.01)/3 = 0.0577.
        let c = combine(&[(0.0, Some(0.1)), (1.0, Some(0.1)), (2.0, Some(0.1))]).unwrap();
        assert!((c.mean - 1.0).abs() < 1e-12);
        assert!((c.hi - c.mean - 4.303 / 3f64.sqrt()).abs() < 1e-3, "{c:?}");
        // Equal values: the seeds' own intervals decide.
        let c = combine(&[(1.0, Some(0.3)), (1.0, Some(0.4))]).unwrap();
        assert!((c.hi - 1.0 - 0.25).abs() < 1e-12, "{c:?}");
        assert!(combine(&[(1.0, None)]).is_none());
        assert!(combine(&[]).is_none());
    }

    #[test]
    fn the_verdict_needs_the_margin_for_equivalence_and_zero_outside_for_a_difference() {
        let at = |lo: f64, hi: f64| Combined {
            mean: 0.5 * (lo + hi),
            lo,
            hi,
            n: 3,
        };
        assert_eq!(verdict(&at(-0.04, 0.04), 0.05), Verdict::Equivalent);
        // Excludes 0 but inside the margin: equivalent, not different.
        assert_eq!(verdict(&at(0.01, 0.04), 0.05), Verdict::Equivalent);
        assert_eq!(verdict(&at(-0.3, -0.1), 0.05), Verdict::AHeavier);
        assert_eq!(verdict(&at(0.06, 0.3), 0.05), Verdict::BHeavier);
        // Excludes 0 but reaches into the margin: not resolved.
        assert_eq!(verdict(&at(0.02, 0.3), 0.05), Verdict::Undecided);
        assert_eq!(verdict(&at(-0.2, 0.3), 0.05), Verdict::Undecided);
    }
}
