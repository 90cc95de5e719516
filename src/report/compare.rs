//! The report's statistics, as plain values for the markdown to render: SGD against KM on
//! paired cells (the difference of α̂ with a subsampling interval), and the direction α̂ moves
//! along each axis (the sign of Kendall's τ).

use super::cells::{CellResult, StepAxis, fkey, group_by, pair_key, paired_rows};
use crate::config::Algorithm;
use crate::error::Result;
use crate::tail::{self, PowerLawOptions, Rows, SubsampleCi, paired_diff_ci};

/// SGD and KM on cells that differ only in the algorithm, both with an α̂.
#[derive(Debug)]
pub struct PairDiff<'a> {
    /// The SGD cell.
    pub sgd: &'a CellResult,
    /// The KM cell: the same config but for the algorithm.
    pub km: &'a CellResult,
    /// The SGD cell's α̂.
    pub alpha_sgd: f64,
    /// The KM cell's α̂.
    pub alpha_km: f64,
    /// Symmetric paired subsampling interval around α̂_SGD − α̂_KM, its half-width from the
    /// chains that survived in both (none when subsamples < 2 or it failed).
    pub ci: Option<SubsampleCi>,
}

impl PairDiff<'_> {
    /// α̂_SGD − α̂_KM: negative where SGD has the heavier tail.
    pub fn diff(&self) -> f64 {
        self.alpha_sgd - self.alpha_km
    }

    /// Neither cell lost a chain: both α̂ are of every chain.
    pub fn intact(&self) -> bool {
        !self.sgd.lost_chains() && !self.km.lost_chains()
    }

    /// The interval excludes 0: the algorithms' tails differ.
    pub fn differs(&self) -> bool {
        self.ci
            .as_ref()
            .is_some_and(|ci| ci.lo > 0.0 || ci.hi < 0.0)
    }
}

/// Every SGD–KM pair of a setup, in (d, b, η, seed) order.
#[derive(Debug, Default)]
pub struct Comparison<'a> {
    /// Pairs where both algorithms have an α̂.
    pub pairs: Vec<PairDiff<'a>>,
    /// Pairs where exactly one algorithm has an α̂: `(sgd, km)`.
    pub one_sided: Vec<(&'a CellResult, &'a CellResult)>,
}

impl Comparison<'_> {
    /// No pair at all, with or without α̂.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty() && self.one_sided.is_empty()
    }

    /// Pairs with an interval.
    pub fn with_interval(&self) -> usize {
        self.pairs.iter().filter(|p| p.ci.is_some()).count()
    }

    /// Pairs whose interval excludes 0.
    pub fn differing(&self) -> usize {
        self.pairs.iter().filter(|p| p.differs()).count()
    }

    /// Differing pairs where SGD has the heavier tail (smaller α̂).
    pub fn sgd_heavier(&self) -> usize {
        self.pairs
            .iter()
            .filter(|p| p.differs() && p.alpha_sgd < p.alpha_km)
            .count()
    }

    /// The median and means of α̂_SGD − α̂_KM (none without pairs).
    pub fn differences(&self) -> Option<Differences> {
        let all: Vec<f64> = self.pairs.iter().map(PairDiff::diff).collect();
        let intact: Vec<f64> = self
            .pairs
            .iter()
            .filter(|p| p.intact())
            .map(PairDiff::diff)
            .collect();
        Some(Differences {
            mean: mean(&all)?,
            median: tail::median(&all),
            intact_mean: mean(&intact),
            intact_pairs: intact.len(),
            pairs: all.len(),
        })
    }
}

/// α̂_SGD − α̂_KM over a setup's pairs. The mean is also given over the pairs where
/// neither cell lost a chain: a partially diverged cell's α̂ comes from its survivors, at
/// worst a handful of chains, and one such pair can move the mean over all pairs by more
/// than the margin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Differences {
    pub median: f64,
    pub mean: f64,
    /// Over the pairs where neither cell lost a chain (none when every pair did).
    pub intact_mean: Option<f64>,
    pub intact_pairs: usize,
    pub pairs: usize,
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// SGD against KM on the same (d, b, η, seed, …) within `group`.
pub fn compare_algorithms<'a>(
    group: &[&'a CellResult],
    resamples: usize,
    seed: u64,
) -> Result<Comparison<'a>> {
    let mut out = Comparison::default();
    for cells in group_by(group, |c| pair_key(c.config())).values() {
        let sgd = cells
            .iter()
            .find(|c| c.config().algorithm == Algorithm::Sgd);
        let km = cells.iter().find(|c| c.config().algorithm == Algorithm::Km);
        let (Some(&sgd), Some(&km)) = (sgd, km) else {
            continue;
        };
        match (sgd.alpha(), km.alpha()) {
            (Some(alpha_sgd), Some(alpha_km)) => {
                let ci = if resamples >= 2 {
                    let center = sgd.run.center()?;
                    let (a, b) = paired_rows(sgd, km)?;
                    alpha_difference_ci(&a, &b, &center, alpha_sgd - alpha_km, resamples, seed)
                } else {
                    None
                };
                out.pairs.push(PairDiff {
                    sgd,
                    km,
                    alpha_sgd,
                    alpha_km,
                    ci,
                });
            }
            (None, Some(_)) | (Some(_), None) => out.one_sided.push((sgd, km)),
            (None, None) => {}
        }
    }
    let order = |c: &CellResult| {
        let cfg = c.config();
        (cfg.dim, cfg.batch, fkey(cfg.eta), cfg.seed)
    };
    out.pairs.sort_by_key(|p| order(p.sgd));
    out.one_sided.sort_by_key(|p| order(p.0));
    Ok(out)
}

/// 95 % symmetric interval around `diff` (the cells' α̂_SGD − α̂_KM) for the headline
/// (power-law) α̂ of `a` minus that of `b`: its half-width is that of the paired
/// subsampling interval over the rows both cells kept (one set of rows per subsample, each
/// centred on its own as the runs' summaries centre), so `diff` always lies inside.
pub fn alpha_difference_ci(
    a: &Rows,
    b: &Rows,
    center: &tail::Center,
    diff: f64,
    subsamples: usize,
    seed: u64,
) -> Option<SubsampleCi> {
    let opts = PowerLawOptions::default();
    let stat = |r: Rows| -> std::result::Result<f64, tail::TailError> {
        Ok(tail::powerlaw_fit(&tail::center_in_place(r, center)?.norms(), &opts)?.alpha)
    };
    let paired = stat(a.clone()).ok()? - stat(b.clone()).ok()?;
    let ci = paired_diff_ci(a, b, paired, subsamples, 0.95, seed, stat).ok()?;
    let half = 0.5 * (ci.hi - ci.lo);
    Some(SubsampleCi {
        lo: diff - half,
        hi: diff + half,
        ..ci
    })
}

/// Kendall's τ numerator: concordant minus discordant pairs (ties in x or y count 0).
pub fn kendall(points: &[(f64, f64)]) -> i64 {
    // Not `f64::signum`: it gives 1 for +0.0, which would count a tie as concordant.
    let sign = |v: f64| i64::from(v > 0.0) - i64::from(v < 0.0);
    let mut t = 0;
    for i in 0..points.len() {
        for j in i + 1..points.len() {
            t += sign(points[j].0 - points[i].0) * sign(points[j].1 - points[i].1);
        }
    }
    t
}

/// Along one axis, for one algorithm: in how many series (the other axes fixed) α̂ falls,
/// rises or neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trend {
    /// The algorithm's name (`sgd`, `km`).
    pub algorithm: &'static str,
    /// What varies, in words.
    pub axis: &'static str,
    /// Series in which α̂ falls along the axis (Kendall's τ < 0).
    pub falls: usize,
    /// Series in which α̂ rises along the axis (Kendall's τ > 0).
    pub rises: usize,
    /// Series with τ = 0.
    pub flat: usize,
}

impl Trend {
    /// Series with at least two α̂, all told.
    pub fn series(&self) -> usize {
        self.falls + self.rises + self.flat
    }
}

/// How α̂ moves along the step size, b and d with the others fixed, per algorithm.
pub fn trends(group: &[&CellResult], axis: StepAxis) -> Vec<Trend> {
    type Key = (usize, usize, i64, u64);
    type Axis = (
        &'static str,
        fn(&CellResult, StepAxis) -> Key,
        fn(&CellResult, StepAxis) -> f64,
    );
    let axes: [Axis; 3] = [
        (
            "the step size (fixed d, b)",
            |c, _| (c.config().dim, c.config().batch, 0, c.config().seed),
            |c, a| a.of(c),
        ),
        (
            "b (fixed d and step scale)",
            |c, a| (c.config().dim, 0, fkey(a.of(c)), c.config().seed),
            |c, _| c.config().batch as f64,
        ),
        (
            "d (fixed b and step scale)",
            |c, a| (0, c.config().batch, fkey(a.of(c)), c.config().seed),
            |c, _| c.config().dim as f64,
        ),
    ];
    let mut out = Vec::new();
    for (algorithm, cells) in group_by(group, |c| c.config().algorithm.name()) {
        for (name, key, x) in axes {
            let mut trend = Trend {
                algorithm,
                axis: name,
                falls: 0,
                rises: 0,
                flat: 0,
            };
            for series in group_by(&cells, |c| key(c, axis)).values() {
                let pts: Vec<(f64, f64)> = series
                    .iter()
                    .filter_map(|c| c.alpha().map(|a| (x(c, axis), a)))
                    .collect();
                if pts.len() < 2 {
                    continue;
                }
                match kendall(&pts).signum() {
                    -1 => trend.falls += 1,
                    1 => trend.rises += 1,
                    _ => trend.flat += 1,
                }
            }
            if trend.series() > 0 {
                out.push(trend);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kendall_counts_concordant_minus_discordant_pairs() {
        // Increasing: all 6 pairs concordant; decreasing: all discordant.
        let up: Vec<(f64, f64)> = (0..4).map(|i| (i as f64, 2.0 * i as f64)).collect();
        let down: Vec<(f64, f64)> = (0..4).map(|i| (i as f64, -(i as f64))).collect();
        assert_eq!(kendall(&up), 6);
        assert_eq!(kendall(&down), -6);
        // (0,0) (1,2) (2,1): pairs 01 +, 02 +, 12 − → 1; ties count 0.
        assert_eq!(kendall(&[(0.0, 0.0), (1.0, 2.0), (2.0, 1.0)]), 1);
        assert_eq!(kendall(&[(0.0, 1.0), (1.0, 1.0), (2.0, 1.0)]), 0);
    }

    #[test]
    fn a_cell_paired_with_itself_differs_by_exactly_zero() {
        // Symmetric Pareto-like rows (α = 1.5): the same chains in both cells cancel in
        // every resample, whatever the centre.
        let x: Vec<f64> = (1..=2000)
            .map(|i| {
                let u = i as f64 / 2001.0;
                (1.0 - u).powf(-1.0 / 1.5) * if i % 2 == 0 { 1.0 } else { -1.0 }
            })
            .collect();
        let rows = Rows::new(x, 2).unwrap();
        for center in [tail::Center::Mean, tail::Center::Median, tail::Center::None] {
            let ci = alpha_difference_ci(&rows, &rows, &center, 0.0, 50, 3).unwrap();
            assert_eq!((ci.lo, ci.hi, ci.failed), (0.0, 0.0, 0), "{center:?}");
        }
    }
}
