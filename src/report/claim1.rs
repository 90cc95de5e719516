//! Claim 1 — SGD and KM have similar tails where KM provably converges: per (setup, d, b,
//! η) the seeds' paired differences α̂_SGD − α̂_KM of the tail estimator, combined with an
//! interval and judged against a margin no smaller than the estimator's measured error;
//! the bulk (Mohammadi, median ‖w − centre‖) beside it, never in the verdict.

use super::cells::{CellResult, fkey, group_by, pair_key};
use super::plot::{Chart, Figure, Series};
use super::replicates::{
    Combined, FarTail, MeasuredError, Verdict, combine, half, replicate_key, verdict,
};
use crate::config::Algorithm;
use std::fmt::Write as _;

/// A point's interval in a figure.
type Interval = Option<(f64, f64)>;

/// One (setup, d, b, η) with both algorithms, over its seeds.
pub struct PairGroup<'a> {
    pub dim: usize,
    pub batch: usize,
    pub eta: f64,
    pub theory: Option<f64>,
    /// (SGD, KM) per seed.
    pub seeds: Vec<(&'a CellResult, &'a CellResult)>,
    /// α̂_SGD − α̂_KM over the seeds where both have an α̂.
    pub tail: Option<Combined>,
    pub sgd: Option<Combined>,
    pub km: Option<Combined>,
    /// Mohammadi's α̂_SGD − α̂_KM (the bulk).
    pub bulk: Option<Combined>,
    /// Hill's α̂_SGD − α̂_KM at k = 1000 (the far tail; another tail estimator).
    pub hill: Option<Combined>,
    /// The verdict the Hill difference gives under the same rule and margin.
    pub hill_verdict: Option<Verdict>,
    /// Mean over seeds of median‖w − c‖ of SGD over that of KM.
    pub spread_ratio: Option<f64>,
    /// Seeds where a cell lost chains (α̂ of survivors) or has no α̂.
    pub lost: usize,
    pub margin: f64,
    pub verdict: Option<Verdict>,
}

/// Every (d, b, η) of `cells` (one setup) with both algorithms, in (d, b, η) order.
pub fn pair_groups<'a>(
    cells: &[&'a CellResult],
    error: &MeasuredError,
    far: &FarTail,
) -> Vec<PairGroup<'a>> {
    let mut out = Vec::new();
    let by_pair = group_by(cells, |c| pair_key(c.config()));
    let mut seeds_of: std::collections::BTreeMap<String, Vec<(&CellResult, &CellResult)>> =
        Default::default();
    for twins in by_pair.values() {
        let find = |a| twins.iter().find(|c| c.config().algorithm == a).copied();
        if let (Some(s), Some(k)) = (find(Algorithm::Sgd), find(Algorithm::Km)) {
            seeds_of
                .entry(replicate_key(s.config()))
                .or_default()
                .push((s, k));
        }
    }
    for mut seeds in seeds_of.into_values() {
        seeds.sort_by_key(|p| p.0.config().seed);
        let first = seeds[0].0;
        let cfg = first.config();
        let both: Vec<_> = seeds
            .iter()
            .filter(|(s, k)| s.alpha().is_some() && k.alpha().is_some())
            .collect();
        let tail = combine(
            &both
                .iter()
                .map(|(s, k)| {
                    let (a, b) = (&s.run.summary.tail, &k.run.summary.tail);
                    let h = half(a.alpha_ci)
                        .zip(half(b.alpha_ci))
                        .map(|(x, y)| x.hypot(y));
                    (s.alpha().unwrap_or(0.0) - k.alpha().unwrap_or(0.0), h)
                })
                .collect::<Vec<_>>(),
        );
        let one = |c: &CellResult| (c.alpha().unwrap_or(0.0), half(c.run.summary.tail.alpha_ci));
        let bulk_pairs: Vec<(f64, Option<f64>)> = both
            .iter()
            .filter_map(|(s, k)| {
                let (a, b) = (&s.run.summary.tail, &k.run.summary.tail);
                let h = half(a.alpha_mohammadi_ci)
                    .zip(half(b.alpha_mohammadi_ci))
                    .map(|(x, y)| x.hypot(y));
                Some((a.alpha_mohammadi? - b.alpha_mohammadi?, h))
            })
            .collect();
        let hill = combine(
            &both
                .iter()
                .filter_map(|(s, k)| {
                    let ((a, ha), (b, hb)) = (far.get(s)?, far.get(k)?);
                    Some((a - b, Some(ha.hypot(hb))))
                })
                .collect::<Vec<_>>(),
        );
        let ratios: Vec<f64> = both
            .iter()
            .filter_map(|(s, k)| {
                let m = |c: &CellResult| c.run.summary.tail.norm_quantiles.map(|q| q[2]);
                Some(m(s)? / m(k)?)
            })
            .collect();
        let theory = first.theory_alpha();
        let margin = error.margin(theory);
        let lost = seeds
            .iter()
            .filter(|(s, k)| {
                s.lost_chains() || k.lost_chains() || s.alpha().is_none() || k.alpha().is_none()
            })
            .count();
        out.push(PairGroup {
            dim: cfg.dim,
            batch: cfg.batch,
            eta: cfg.eta,
            theory,
            sgd: combine(&both.iter().map(|p| one(p.0)).collect::<Vec<_>>()),
            km: combine(&both.iter().map(|p| one(p.1)).collect::<Vec<_>>()),
            verdict: tail.as_ref().map(|t| verdict(t, margin)),
            hill_verdict: hill.as_ref().map(|t| verdict(t, margin)),
            hill,
            tail,
            bulk: combine(&bulk_pairs),
            spread_ratio: (!ratios.is_empty())
                .then(|| ratios.iter().sum::<f64>() / ratios.len() as f64),
            lost,
            margin,
            seeds,
        });
    }
    out.sort_by_key(|g| (g.dim, g.batch, fkey(g.eta)));
    out
}

fn word(v: Option<Verdict>) -> &'static str {
    match v {
        Some(Verdict::Equivalent) => "equivalent",
        Some(Verdict::AHeavier) => "**SGD heavier**",
        Some(Verdict::BHeavier) => "**KM heavier**",
        Some(Verdict::Undecided) => "undecided",
        None => "no α̂ for both",
    }
}

fn interval(c: &Option<Combined>) -> String {
    c.map_or("—".into(), |c| {
        format!("{:+.3} [{:+.3}, {:+.3}]", c.mean, c.lo, c.hi)
    })
}

/// The counts of verdicts, in one sentence.
pub fn tally(groups: &[PairGroup]) -> String {
    let count = |v: Option<Verdict>| groups.iter().filter(|g| g.verdict == v).count();
    let decided = groups
        .iter()
        .filter(|g| matches!(g.verdict, Some(v) if v != Verdict::Undecided))
        .count();
    let kept = groups
        .iter()
        .filter(|g| {
            matches!(g.verdict, Some(v) if v != Verdict::Undecided) && g.hill_verdict == g.verdict
        })
        .count();
    format!(
        "{} (d, b, η) with both algorithms: **equivalent {}**, SGD heavier {}, KM heavier {}, \
         undecided {}, no α̂ for both {}; of the {decided} decided, Hill at k = 1000 (the far \
         tail) gives the same verdict in {kept}",
        groups.len(),
        count(Some(Verdict::Equivalent)),
        count(Some(Verdict::AHeavier)),
        count(Some(Verdict::BHeavier)),
        count(Some(Verdict::Undecided)),
        count(None)
    )
}

/// The per-(d, b, η) table of one setup.
pub fn table(groups: &[PairGroup]) -> String {
    let mut s = String::from(
        "| d | b | η | theory α | α̂ SGD | α̂ KM | SGD − KM [95 %] | margin δ | verdict | far tail: Hill k = 1000, SGD − KM [95 %] | bulk: Mohammadi SGD − KM [95 %] | bulk: median‖w−c‖ SGD/KM | seeds (lost) |\n\
         |---:|---:|---:|---:|---:|---:|---|---:|---|---|---|---:|---|\n",
    );
    for g in groups {
        let mean = |c: &Option<Combined>| c.map_or("—".into(), |c| format!("{:.3}", c.mean));
        let _ = writeln!(
            s,
            "| {} | {} | {:.4} | {} | {} | {} | {} | {:.3} | {} | {} | {} | {} | {} ({}) |",
            g.dim,
            g.batch,
            g.eta,
            g.theory.map_or("—".into(), |t| format!("{t:.2}")),
            mean(&g.sgd),
            mean(&g.km),
            interval(&g.tail),
            g.margin,
            word(g.verdict),
            interval(&g.hill),
            interval(&g.bulk),
            g.spread_ratio.map_or("—".into(), |r| format!("{r:.3}")),
            g.seeds.len(),
            g.lost
        );
    }
    s.push('\n');
    s
}

/// α̂_SGD − α̂_KM with its interval against the theory α, a panel per (setup, d, b), the
/// margin ±δ drawn as lines.
pub fn figure(setups: &[(String, &[PairGroup])]) -> Option<Figure> {
    let mut panels = Vec::new();
    for (title, groups) in setups {
        let mut keys: Vec<(usize, usize)> = groups.iter().map(|g| (g.dim, g.batch)).collect();
        keys.dedup();
        for (d, b) in keys {
            let here: Vec<&PairGroup> = groups
                .iter()
                .filter(|g| g.dim == d && g.batch == b && g.theory.is_some())
                .collect();
            let pts = |f: &dyn Fn(&PairGroup) -> Option<(f64, Interval)>| {
                here.iter()
                    .filter_map(|g| f(g).map(|(y, ci)| (g.theory.unwrap_or(0.0), y, ci)))
                    .collect::<Vec<_>>()
            };
            let tail = pts(&|g| g.tail.map(|c| (c.mean, Some((c.lo, c.hi)))));
            if tail.is_empty() {
                continue;
            }
            let bulk = pts(&|g| g.bulk.map(|c| (c.mean, Some((c.lo, c.hi)))));
            let band = |sign: f64| pts(&|g| Some((sign * g.margin, None)));
            let color = super::claim2::b_color(b);
            let first = panels.is_empty();
            let label = |l: &str| if first { l.to_string() } else { String::new() };
            panels.push(Chart {
                title: format!("{title}, d = {d}, b = {b}"),
                x_label: "theory α".into(),
                y_label: "α̂ SGD − α̂ KM".into(),
                series: vec![
                    Series {
                        label: label("tail (power-law fit)"),
                        points: tail,
                        line: false,
                        color,
                        filled: true,
                    },
                    Series {
                        label: label("bulk (Mohammadi)"),
                        points: bulk,
                        line: false,
                        color,
                        filled: false,
                    },
                    Series {
                        label: label("±δ"),
                        points: band(1.0),
                        line: true,
                        color: 7,
                        filled: false,
                    },
                    Series {
                        label: String::new(),
                        points: band(-1.0),
                        line: true,
                        color: 7,
                        filled: false,
                    },
                ],
                h_line: Some(0.0),
                y_range: None,
                x_range: None,
            });
        }
    }
    (!panels.is_empty()).then(|| Figure {
        title: "Claim 1: α̂_SGD − α̂_KM per (d, b), mean over seeds with 95 % intervals".into(),
        cols: panels.len().min(3),
        panels,
    })
}
