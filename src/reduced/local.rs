//! The local exponent α_R: where the Kesten prediction starts to hold. For states on the
//! shell r = R (r = √((a − ā)² + c²), states taken from a stationary cross-section), α_R
//! solves E[(r′/r)^α | r = R] = 1 over one step of the chain. Far out the labels stop
//! mattering and α_R tends to the prediction α*; the radius from which it stays near α*
//! says how far out an estimator must reach.

use super::chain::{Draws, Kernel, State};
use crate::config::Resolved;
use crate::data::gamma::ChiSquared;
use crate::tail::stream;
use rand::RngExt;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// α_R on one shell of radii.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shell {
    /// The shell's radii [lo, hi) and the geometric mean of its states' r.
    pub lo: f64,
    /// Upper edge of the shell's radii (exclusive).
    pub hi: f64,
    /// The geometric mean of r over the shell's states.
    pub radius: f64,
    /// States on the shell used (at most `per_shell`).
    pub states: usize,
    /// E log(r′/r): a shell pushed outward on average (≥ 0) has no positive root.
    pub mean_log: f64,
    /// α_R: the positive root of log mean (r′/r)^α = 0 over the shell's draws; `None` where `mean_log` ≥ 0 or no root below 256.
    pub alpha: Option<f64>,
    /// Standard error of α_R with the states as independent units (delta method).
    pub se: Option<f64>,
}

/// Fresh draws from one seeded stream.
struct Fresh<R>(R);

impl<R: rand::Rng> Draws for Fresh<R> {
    fn normal(&mut self) -> f64 {
        self.0.sample(StandardNormal)
    }
    fn coin(&mut self) -> bool {
        self.0.random_bool(0.5)
    }
    fn chi_squared(&mut self, law: &ChiSquared) -> f64 {
        law.sample_fresh(&mut self.0)
    }
}

/// α_R on the shells between consecutive `edges` (increasing radii): up to `per_shell`
/// states of `states` ((a, c) pairs) per shell, `draws` one-step transitions from each.
/// `config` must be a resolved config the reduced engine runs; `center` is ā.
pub fn local_exponents(
    config: &Resolved,
    states: &[(f64, f64)],
    center: f64,
    edges: &[f64],
    per_shell: usize,
    draws: usize,
    seed: u64,
) -> Vec<Shell> {
    let kernel = Kernel::new(config);
    let radius = |a: f64, c: f64| (a - center).hypot(c);
    edges
        .windows(2)
        .enumerate()
        .filter_map(|(i, w)| {
            let (lo, hi) = (w[0], w[1]);
            let on: Vec<(f64, f64)> = states
                .iter()
                .copied()
                .filter(|&(a, c)| (lo..hi).contains(&radius(a, c)))
                .take(per_shell)
                .collect();
            if on.is_empty() {
                return None;
            }
            // log(r′/r) of every draw, one row of `draws` per state.
            let logs: Vec<Vec<f64>> = on
                .par_iter()
                .enumerate()
                .map(|(j, &(a, c))| {
                    let mut rng = Fresh(stream(
                        seed,
                        "local-exponent",
                        ((i as u64) << 32) | j as u64,
                    ));
                    let r = radius(a, c);
                    (0..draws)
                        .map(|_| {
                            let mut s = State {
                                a,
                                c,
                                ..State::default()
                            };
                            kernel.step(&mut s, &mut rng, false);
                            (radius(s.a, s.c) / r).ln()
                        })
                        .collect()
                })
                .collect();
            let n = (on.len() * draws) as f64;
            let mean_log = logs.iter().flatten().sum::<f64>() / n;
            let geo =
                (on.iter().map(|&(a, c)| radius(a, c).ln()).sum::<f64>() / on.len() as f64).exp();
            let (alpha, se) = if mean_log < 0.0 {
                root(&logs)
            } else {
                (None, None)
            };
            Some(Shell {
                lo,
                hi,
                radius: geo,
                states: on.len(),
                mean_log,
                alpha,
                se,
            })
        })
        .collect()
}

/// The positive root of g(α) = log mean(ρ^α) (convex, g(0) = 0, g′(0) < 0), and its
/// delta-method standard error over the states.
fn root(logs: &[Vec<f64>]) -> (Option<f64>, Option<f64>) {
    let all: Vec<f64> = logs.iter().flatten().copied().collect();
    let top = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // g and g′ in one parallel pass, relative to the largest term (stable for large α).
    let g = |alpha: f64| {
        let m = alpha * top;
        let (s, ds) = all
            .par_chunks(1 << 14)
            .map(|c| {
                c.iter().fold((0.0, 0.0), |(s, ds), l| {
                    let e = (alpha * l - m).exp();
                    (s + e, ds + e * l)
                })
            })
            .reduce(|| (0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
        (m + (s / all.len() as f64).ln(), ds / s)
    };
    let mut hi = 0.5;
    while g(hi).0 < 0.0 {
        hi *= 2.0;
        if hi > 256.0 {
            return (None, None);
        }
    }
    // Newton from the right of the root of a convex g falls monotonically onto it.
    let mut x = hi;
    for _ in 0..60 {
        let (gx, slope) = g(x);
        if slope.is_nan() || slope <= 0.0 {
            break;
        }
        let step = gx / slope;
        x -= step;
        if step.abs() < 1e-10 * x.max(1.0) {
            break;
        }
    }
    let alpha = x;
    // ψ_j = mean over state j's draws of ρ^α − 1; α̂ solves mean ψ = 0, so
    // se = sd(ψ)/(√n · mean(ρ^α log ρ)).
    let psi: Vec<f64> = logs
        .iter()
        .map(|row| row.iter().map(|l| (alpha * l).exp()).sum::<f64>() / row.len() as f64 - 1.0)
        .collect();
    let slope = all.iter().map(|l| (alpha * l).exp() * l).sum::<f64>() / all.len() as f64;
    let n = psi.len() as f64;
    let mean = psi.iter().sum::<f64>() / n;
    let var = psi.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let se = (slope > 0.0 && n > 1.0).then(|| var.sqrt() / (n.sqrt() * slope));
    (Some(alpha), se)
}

/// α_R on the circle r = `radius` about the origin: `states` points spread evenly over the
/// half-plane (a, c ≥ 0), every direction of w, `draws` steps from each. Far out the gate's
/// one-step law does not depend on the direction (x is rotation invariant), so this reads
/// how the exponent approaches its limit with R, with no stationary sample needed.
pub fn on_circle(
    config: &Resolved,
    radius: f64,
    states: usize,
    draws: usize,
    seed: u64,
) -> Option<Shell> {
    let points: Vec<(f64, f64)> = (0..states)
        .map(|j| {
            let t = std::f64::consts::PI * (j as f64 + 0.5) / states as f64;
            (radius * t.cos(), radius * t.sin())
        })
        .collect();
    local_exponents(
        config,
        &points,
        0.0,
        &[0.5 * radius, 2.0 * radius],
        states,
        draws,
        seed,
    )
    .pop()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Algorithm, Engine, Model, Teacher, TrainConfig};

    /// Far out the step is w′ = M w, so α_R on a distant shell is the theory's root
    /// (linear regression: GSZ21's α exactly).
    #[test]
    fn far_shells_read_the_kesten_root() {
        let config = TrainConfig {
            engine: Engine::Reduced,
            model: Model::Linear,
            algorithm: Algorithm::Sgd,
            dim: 5,
            batch: 1,
            eta: 0.3,
            teacher: Teacher::E1,
            ..TrainConfig::default()
        }
        .resolve()
        .unwrap();
        let truth = crate::theory::linear_tail_index(5, 1, 0.3)
            .unwrap()
            .alpha
            .unwrap();
        // States on the shell r ≈ 10⁶ in every direction: the labels are negligible there.
        let states: Vec<(f64, f64)> = (0..400)
            .map(|j| {
                let t = std::f64::consts::PI * (j as f64 + 0.5) / 400.0;
                (1e6 * t.cos(), 1e6 * t.sin())
            })
            .collect();
        let shells = local_exponents(&config, &states, 0.0, &[5e5, 2e6], 400, 2000, 7);
        let s = &shells[0];
        let (alpha, se) = (s.alpha.unwrap(), s.se.unwrap());
        assert!(
            (alpha - truth).abs() < 4.0 * se + 0.02,
            "α_R {alpha} ± {se} vs {truth}"
        );
        assert!(se < 0.1, "se {se}");
    }

    /// The gate far out: on a shell at r ≈ 10⁶ in every direction of the (a, c) half-plane
    /// the labels are negligible and α_R is the gate's Kesten root (the same for SGD and
    /// KM, whose homogeneous parts agree); on a shell at r ≈ 10 it is not yet.
    #[test]
    fn gate_far_shells_read_the_gate_root() {
        let (dim, batch) = (10, 1);
        let eta = crate::theory::eta_for_alpha(true, dim, batch, 1.5).unwrap();
        let truth = crate::theory::gate_tail_index(dim, batch, eta)
            .unwrap()
            .alpha
            .unwrap();
        let shell = |algorithm, r: f64| {
            let config = TrainConfig {
                engine: Engine::Reduced,
                model: Model::ReluGate,
                algorithm,
                dim,
                batch,
                eta,
                teacher: Teacher::E1,
                ..TrainConfig::default()
            }
            .resolve()
            .unwrap();
            let s = on_circle(&config, r, 400, 4000, 11).unwrap();
            (s.alpha.unwrap(), s.se.unwrap())
        };
        for algorithm in [Algorithm::Sgd, Algorithm::Km] {
            let (alpha, se) = shell(algorithm, 1e6);
            assert!(
                (alpha - truth).abs() < 4.0 * se + 0.03,
                "{algorithm:?}: α_R {alpha} ± {se} vs the gate's root {truth}"
            );
            // Near the bulk the labels still pull inward: the exponent reads much lighter.
            let (near, _) = shell(algorithm, 10.0);
            assert!(near > truth + 0.3, "{algorithm:?}: α_R at r = 10 is {near}");
        }
    }
}
