//! The study's answers to the paper's two claims, as plain values computed from the cells:
//! claim 1 (SGD and KM have similar tails) from the paired differences of
//! [`super::compare`], claim 2 (the gate's α depends on d, b, η unlike linear regression
//! and larger nets) from every arm's α̂ along each axis.

use super::cells::{CellResult, Setup, fkey, group_by};
use super::compare::{Comparison, Differences, kendall};
use crate::config::{Algorithm, Model};
use crate::tail::median;
use std::collections::BTreeMap;

/// Half-width of the equivalence margin for α̂_SGD − α̂_KM.
pub const MARGIN: f64 = 0.1;

/// Claim 1 for one setup.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim1 {
    pub setup: String,
    /// Pairs with an α̂ for both algorithms.
    pub pairs: usize,
    /// The interval lies inside ±[`MARGIN`].
    pub equivalent: usize,
    /// The interval excludes 0 and leaves the margin.
    pub differ: usize,
    /// Of `differ`: SGD has the smaller α̂ (heavier tail).
    pub sgd_heavier: usize,
    /// Neither: the interval contains 0 but is wider than the margin.
    pub inconclusive: usize,
    pub no_interval: usize,
    pub differences: Option<Differences>,
    /// Pairs where only KM has an α̂ (SGD diverged or collapsed), and the reverse.
    pub only_km: usize,
    pub only_sgd: usize,
    /// α̂ minus the gate theory's α over pairs where the theory predicts α < 2 (the range
    /// the block estimator measures; it reads lighter tails as ≈ 2): medians for SGD and
    /// KM, and the number of pairs.
    pub theory_gap: Option<(f64, f64, usize)>,
}

/// What an interval of α̂_SGD − α̂_KM says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Inside ±[`MARGIN`] (two one-sided tests at the interval's level).
    Equivalent,
    /// Excludes 0 and leaves the margin.
    Differ,
    /// Contains 0 but is wider than the margin.
    Inconclusive,
    NoInterval,
}

/// The verdict of an interval `(lo, hi)` of α̂_SGD − α̂_KM.
pub fn verdict(ci: Option<(f64, f64)>) -> Verdict {
    match ci {
        None => Verdict::NoInterval,
        Some((lo, hi)) if lo >= -MARGIN && hi <= MARGIN => Verdict::Equivalent,
        Some((lo, hi)) if lo > 0.0 || hi < 0.0 => Verdict::Differ,
        Some(_) => Verdict::Inconclusive,
    }
}

/// Claim 1 from one setup's comparison.
pub fn claim1(setup: &str, cmp: &Comparison) -> Claim1 {
    let mut c = Claim1 {
        setup: setup.to_string(),
        pairs: cmp.pairs.len(),
        equivalent: 0,
        differ: 0,
        sgd_heavier: 0,
        inconclusive: 0,
        no_interval: 0,
        differences: cmp.differences(),
        only_km: 0,
        only_sgd: 0,
        theory_gap: None,
    };
    for p in &cmp.pairs {
        match verdict(p.ci.as_ref().map(|ci| (ci.lo, ci.hi))) {
            Verdict::NoInterval => c.no_interval += 1,
            Verdict::Equivalent => c.equivalent += 1,
            Verdict::Inconclusive => c.inconclusive += 1,
            Verdict::Differ => {
                c.differ += 1;
                if p.alpha_sgd < p.alpha_km {
                    c.sgd_heavier += 1;
                }
            }
        }
    }
    for (sgd, km) in &cmp.one_sided {
        if sgd.alpha().is_some() {
            c.only_sgd += 1;
        } else if km.alpha().is_some() {
            c.only_km += 1;
        }
    }
    let (mut gs, mut gk) = (Vec::new(), Vec::new());
    for p in &cmp.pairs {
        if let Some(t) = p.sgd.theory_alpha().filter(|&t| t < 2.0) {
            gs.push(p.alpha_sgd - t);
            gk.push(p.alpha_km - t);
        }
    }
    if !gs.is_empty() {
        c.theory_gap = Some((median(&gs), median(&gk), gs.len()));
    }
    c
}

/// One observation of an arm: a cell's (or the theory's) α at one point of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Obs {
    pub d: usize,
    pub b: usize,
    pub eta: f64,
    pub seed: u64,
    pub alpha: Option<f64>,
    /// Some chains diverged (simulation), or the theory says the chain diverges.
    pub diverged: bool,
    /// The theory's exact κ where α = 2 (theory arms only).
    pub kappa_alpha_2: Option<f64>,
}

impl Obs {
    pub fn kappa(&self) -> f64 {
        self.eta * (self.d + self.b + 1) as f64 / self.b as f64
    }
}

/// A set of α's to compare along d, b and the step size: one algorithm of one model and
/// setup, or a theory, or one layer of the MLP.
#[derive(Debug, Clone, PartialEq)]
pub struct Arm {
    /// e.g. `gate SGD`, `gate theory`, `linear SGD`, `MLP layer 1`.
    pub name: String,
    pub setup: String,
    pub simulated: bool,
    pub obs: Vec<Obs>,
}

/// A simulated cell's observation: its α only where no chain diverged (a partially
/// diverged cell's α̂ is of its survivors, biased near the divergence step, science.md
/// trap 3); such a cell counts as diverging.
fn obs(c: &CellResult, alpha: Option<f64>) -> Obs {
    let cfg = c.config();
    let diverged = c.run.summary.tail.diverged_chains > 0;
    Obs {
        d: cfg.dim,
        b: cfg.batch,
        eta: cfg.eta,
        seed: cfg.seed,
        alpha: alpha.filter(|_| !diverged),
        diverged,
        kappa_alpha_2: None,
    }
}

/// The theory's observation at a cell's (d, b, η).
fn theory_obs(c: &CellResult) -> Option<Obs> {
    let t = c.run.summary.theory.as_ref()?;
    let cfg = c.config();
    let scale = (cfg.dim + cfg.batch + 1) as f64 / cfg.batch as f64;
    Some(Obs {
        d: cfg.dim,
        b: cfg.batch,
        eta: cfg.eta,
        seed: 0,
        alpha: t.alpha,
        diverged: t.diverges,
        kappa_alpha_2: Some(t.eta_alpha_2 * scale),
    })
}

/// Every arm of the study, in a fixed order: per setup, the simulated algorithms (SGD, then
/// KM) and, for linear regression, its theory; then the gate's prediction once (it is one
/// value for every label model and both algorithms); then the MLP's layers.
pub fn arms(cells: &[CellResult]) -> Vec<Arm> {
    let all: Vec<&CellResult> = cells.iter().collect();
    let mut out = Vec::new();
    let mut gate_theory = BTreeMap::new();
    let mut mlp = Vec::new();
    for (setup, group) in group_by(&all, |c| c.setup()) {
        let title = setup.title();
        if setup.model == "mlp" {
            mlp.extend(mlp_arms(&title, &group));
            continue;
        }
        let model = model_word(&setup);
        for cells in group_by(&group, |c| c.config().algorithm != Algorithm::Sgd).values() {
            out.push(Arm {
                name: format!("{model} {}", alg_word(cells[0].config().algorithm)),
                setup: title.clone(),
                simulated: true,
                obs: cells.iter().map(|c| obs(c, c.alpha())).collect(),
            });
        }
        let mut theory = BTreeMap::new();
        for c in &group {
            let cfg = c.config();
            if let Some(o) = theory_obs(c) {
                let key = (cfg.dim, cfg.batch, fkey(cfg.eta));
                if setup.model == "relu_gate" {
                    gate_theory.entry(key).or_insert(o);
                } else {
                    theory.entry(key).or_insert(o);
                }
            }
        }
        if !theory.is_empty() {
            out.push(Arm {
                name: format!("{model} theory"),
                setup: title.clone(),
                simulated: false,
                obs: theory.into_values().collect(),
            });
        }
    }
    if !gate_theory.is_empty() {
        out.push(Arm {
            name: "gate theory".into(),
            setup: "every label model (prediction)".into(),
            simulated: false,
            obs: gate_theory.into_values().collect(),
        });
    }
    out.extend(mlp);
    out
}

fn model_word(setup: &Setup) -> &'static str {
    match setup.model {
        "relu_gate" => "gate",
        "linear" => "linear",
        _ => "MLP",
    }
}

fn alg_word(a: Algorithm) -> &'static str {
    match a {
        Algorithm::Sgd => "SGD",
        Algorithm::Km => "KM",
    }
}

fn mlp_arms(title: &str, group: &[&CellResult]) -> Vec<Arm> {
    let layers = group
        .iter()
        .filter(|c| c.config().model == Model::Mlp)
        .map(|c| c.config().depth)
        .max()
        .unwrap_or(0);
    (0..layers)
        .map(|l| Arm {
            name: format!("MLP layer {}", l + 1),
            setup: title.to_string(),
            simulated: true,
            obs: group
                .iter()
                .map(|c| {
                    let usable = c.alpha().is_some();
                    let alpha = c
                        .run
                        .summary
                        .layers
                        .as_ref()
                        .and_then(|ls| ls.get(l))
                        .and_then(|s| s.alpha)
                        .filter(|_| usable);
                    obs(c, alpha)
                })
                .collect(),
        })
        .collect()
}

/// How α moves along one axis with the others (and the seed) fixed.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AxisEffect {
    /// Series with at least two α's.
    pub series: usize,
    /// Mean over series of Kendall's τ (τ-a: concordant minus discordant over all pairs).
    pub tau: f64,
    pub falls: usize,
    pub rises: usize,
    /// Mean over series of α at the largest value of the axis minus α at the smallest.
    pub change: f64,
}

/// The axes of claim 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    Kappa,
    Batch,
    Dim,
}

impl Axis {
    pub const ALL: [Axis; 3] = [Axis::Kappa, Axis::Batch, Axis::Dim];

    pub fn name(self) -> &'static str {
        match self {
            Axis::Kappa => "κ",
            Axis::Batch => "b",
            Axis::Dim => "d",
        }
    }

    fn value(self, o: &Obs) -> f64 {
        match self {
            Axis::Kappa => o.kappa(),
            Axis::Batch => o.b as f64,
            Axis::Dim => o.d as f64,
        }
    }

    /// The other axes and the seed: what a series holds fixed.
    fn series_key(self, o: &Obs) -> (usize, usize, i64, u64) {
        match self {
            Axis::Kappa => (o.d, o.b, 0, o.seed),
            Axis::Batch => (o.d, 0, fkey(o.kappa()), o.seed),
            Axis::Dim => (0, o.b, fkey(o.kappa()), o.seed),
        }
    }
}

/// Kendall's τ-a of `points`.
pub fn tau(points: &[(f64, f64)]) -> f64 {
    let n = points.len();
    if n < 2 {
        return 0.0;
    }
    kendall(points) as f64 / (n * (n - 1) / 2) as f64
}

/// α along `axis`, series by series.
pub fn axis_effect(arm: &Arm, axis: Axis) -> AxisEffect {
    let mut series: BTreeMap<_, Vec<(f64, f64)>> = BTreeMap::new();
    for o in &arm.obs {
        if let Some(a) = o.alpha {
            series
                .entry(axis.series_key(o))
                .or_default()
                .push((axis.value(o), a));
        }
    }
    let mut e = AxisEffect::default();
    for mut pts in series.into_values() {
        if pts.len() < 2 {
            continue;
        }
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let t = tau(&pts);
        e.series += 1;
        e.tau += t;
        e.change += pts[pts.len() - 1].1 - pts[0].1;
        if t < 0.0 {
            e.falls += 1;
        } else if t > 0.0 {
            e.rises += 1;
        }
    }
    if e.series > 0 {
        e.tau /= e.series as f64;
        e.change /= e.series as f64;
    }
    e
}

/// Kendall's τ of α against η/b over every observation of the arm with an α (GSZ21's
/// "α falls as η/b grows"), and the number of observations.
pub fn eta_over_b_tau(arm: &Arm) -> (f64, usize) {
    let pts: Vec<(f64, f64)> = arm
        .obs
        .iter()
        .filter_map(|o| o.alpha.map(|a| (o.eta / o.b as f64, a)))
        .collect();
    (tau(&pts), pts.len())
}

/// Where a simulated α̂ counts as below 2: the block estimator reads a light tail as ≈ 2
/// give or take its spread at a few thousand chains, so "below 2" means below this.
pub const HEAVY: f64 = 1.9;

/// Where an arm's α crosses 2 and where its chains start to diverge, for one (d, b).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Thresholds {
    /// Theory: the exact κ where α = 2. Simulation: κ where α̂ (mean over seeds) first
    /// falls below [`HEAVY`], interpolated linearly between the grid's κ values; `None`
    /// when it never does on the grid (or starts below it).
    pub alpha_2: Option<f64>,
    /// The smallest κ of the grid with diverged chains (any seed).
    pub diverges: Option<f64>,
}

/// [`Thresholds`] of an arm for every (d, b) it has.
pub fn thresholds(arm: &Arm) -> BTreeMap<(usize, usize), Thresholds> {
    let mut by: BTreeMap<(usize, usize), BTreeMap<i64, Vec<&Obs>>> = BTreeMap::new();
    for o in &arm.obs {
        by.entry((o.d, o.b))
            .or_default()
            .entry(fkey(o.kappa()))
            .or_default()
            .push(o);
    }
    by.into_iter()
        .map(|(db, points)| {
            let mut t = Thresholds::default();
            let exact = points.values().flatten().find_map(|o| o.kappa_alpha_2);
            let level = if exact.is_some() { 2.0 } else { HEAVY };
            let mut prev: Option<(f64, f64)> = None;
            let mut settled = false;
            for obs in points.values() {
                let k = obs[0].kappa();
                if t.diverges.is_none() && obs.iter().any(|o| o.diverged) {
                    t.diverges = Some(k);
                }
                let alphas: Vec<f64> = obs.iter().filter_map(|o| o.alpha).collect();
                if settled || alphas.is_empty() {
                    continue;
                }
                let a = alphas.iter().sum::<f64>() / alphas.len() as f64;
                if a < level {
                    // Below already at the first κ with an α: no crossing on the grid.
                    t.alpha_2 = prev.map(|(k0, a0)| k0 + (k - k0) * (a0 - level) / (a0 - a));
                    settled = true;
                } else {
                    prev = Some((k, a));
                }
            }
            if exact.is_some() {
                t.alpha_2 = exact;
            }
            (db, t)
        })
        .collect()
}

#[cfg(test)]
#[path = "findings_tests.rs"]
mod tests;
