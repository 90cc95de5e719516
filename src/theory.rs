//! The tail index that Gürbüzbalaban, Simsekli & Zhu (2021) predict for SGD on linear
//! regression with isotropic Gaussian inputs (docs/theory.md §4.1): α solves
//! `h(α) = log E‖M e₁‖^α = 0`, `M = I − (η/B) Σᵢ xᵢxᵢᵀ`; and its analogue for the ReLU
//! gate (docs/theory.md §4.3), where far out SGD and KM both step as `w' = M w` with
//! `M = I − (η/B) Σᵢ 1{w·xᵢ > 0} xᵢxᵢᵀ`: the same integral with Q ~ χ²_N,
//! N ~ Binomial(B, ½) of the samples active, mixed over N (an asymptotic prediction).
//!
//! The expectation is a two-dimensional integral for every B: with v = (x_{i1})ᵢ,
//! Q = ‖v‖² ~ χ²_B and, given v, the other coordinates of Σᵢ xᵢ x_{i1} are iid N(0, Q), so
//! `‖M e₁‖² = (1 − cQ)² + c²·Q·R` with c = η/B and R ~ χ²_{d−1} independent of Q.
//! It is computed by tensor-product Gauss–Legendre quadrature over the chi variables
//! t = √Q, s = √R (smooth densities), with a panel edge at the kink t = 1/√c.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The theory's answer for one model and (d, B, η).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TailTheory {
    /// `linear` or `relu_gate`.
    pub model: String,
    /// Input dimension d.
    pub dim: usize,
    /// Mini-batch size B.
    pub batch: usize,
    /// Step size η.
    pub eta: f64,
    /// `E log‖M e₁‖`: the chain diverges when it is ≥ 0.
    pub lyapunov: f64,
    /// `lyapunov ≥ 0`: the chain diverges and has no stationary law (no `alpha`).
    pub diverges: bool,
    /// The root of h; `None` when the chain diverges or the root exceeds [`ALPHA_MAX`].
    pub alpha: Option<f64>,
    /// The root exceeds [`ALPHA_MAX`]: a light tail (no heavy tail), not resolved further.
    pub light_tail: bool,
    /// `E‖M e₁‖²` in closed form (a check on the quadrature): `1 − 2η + (η²/B)(d + B + 1)`
    /// for the linear model, `1 − η + η²(B + 2d + 3)/(4B)` for the gate.
    pub second_moment: f64,
    /// The step size where α = 2 exactly: `2B/(d + B + 1)` (linear), `4B/(B + 2d + 3)` (gate).
    pub eta_alpha_2: f64,
    /// How the expectation was computed: `gauss_legendre_2d` (linear) or `gauss_legendre_2d_binomial_mixture` (gate).
    pub method: String,
    /// What the number is, where it is not a theorem (the gate's asymptotic prediction).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prediction: Option<String>,
    /// The tilted drift `μ = E[‖M e₁‖^α log‖M e₁‖]` at the root α: how fast tail-building
    /// paths climb (the tail is in equilibrium up to about bulk·e^{μT} after T steps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tilted_drift: Option<f64>,
}

impl TailTheory {
    /// Steps for the equilibrium tail to extend by one decade of the radius, `ln 10 / μ`.
    pub fn steps_per_decade(&self) -> Option<f64> {
        self.tilted_drift
            .filter(|m| *m > 0.0)
            .map(|m| std::f64::consts::LN_10 / m)
    }
}

/// Largest root reported. Above it the mass of ‖M e₁‖^α sits in the far tails of the χ²
/// laws (events of probability e^{−α} and below), beyond the quadrature's domain; such a
/// tail is light for every purpose here.
pub const ALPHA_MAX: f64 = 16.0;

/// 8-point Gauss–Legendre nodes and weights on [−1, 1].
const GL_X: [f64; 4] = [
    0.183_434_642_495_649_8,
    0.525_532_409_916_329,
    0.796_666_477_413_626_7,
    0.960_289_856_497_536_3,
];
const GL_W: [f64; 4] = [
    0.362_683_783_378_362,
    0.313_706_645_877_887_3,
    0.222_381_034_453_374_5,
    0.101_228_536_290_376_3,
];

/// Nodes and weights of composite Gauss–Legendre on the panels between `edges`.
fn composite(edges: &[f64]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(edges.len() * 8);
    for w in edges.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (mid, half) = ((a + b) / 2.0, (b - a) / 2.0);
        for (x, wt) in GL_X.iter().zip(GL_W) {
            out.push((mid - half * x, half * wt));
            out.push((mid + half * x, half * wt));
        }
    }
    out
}

fn linspace(a: f64, b: f64, panels: usize) -> Vec<f64> {
    (0..=panels)
        .map(|i| a + (b - a) * i as f64 / panels as f64)
        .collect()
}

/// Quadrature for E f(Q) with Q = t², t ~ chi_k, as (t, weight) with weights summing to 1;
/// the panel edges include `kink` when it lies inside the range.
fn chi_rule(k: usize, kink: Option<f64>, panels: usize) -> Vec<(f64, f64)> {
    if k == 0 {
        return vec![(0.0, 1.0)];
    }
    // chi_k is concentrated at √(k−1) with a spread under 1: beyond ±12 its density is
    // below e^{−70} of the peak for every k, so large k (d up to 10⁵ and more) get their
    // panels where the mass is.
    let top = (k as f64).sqrt() + 12.0;
    let bottom = ((k as f64).sqrt() - 12.0).max(0.0);
    let edges = match kink.filter(|&t| t > bottom && t < top) {
        Some(t) => {
            let left = ((panels as f64) * (t - bottom) / (top - bottom))
                .ceil()
                .max(4.0) as usize;
            let mut e = linspace(bottom, t, left);
            e.extend(
                linspace(t, top, panels.max(left + 4) - left)
                    .into_iter()
                    .skip(1),
            );
            e
        }
        None => linspace(bottom, top, panels),
    };
    let nodes = composite(&edges);
    // chi_k density up to its constant: t^{k−1} e^{−t²/2}, in logs and relative to the
    // largest node (for k in the thousands the density itself overflows).
    let log_density: Vec<f64> = nodes
        .iter()
        .map(|&(t, _)| (k as f64 - 1.0) * t.ln() - t * t / 2.0)
        .collect();
    let peak = log_density
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let mut rule: Vec<(f64, f64)> = nodes
        .iter()
        .zip(&log_density)
        .map(|(&(t, w), &l)| (t, w * (l - peak).exp()))
        .collect();
    let total: f64 = rule.iter().map(|r| r.1).sum();
    for r in &mut rule {
        r.1 /= total;
    }
    rule
}

/// `log ‖M e₁‖²` on the quadrature grid with its weights: enough to evaluate h at any α.
struct Grid {
    log_norm_sq: Vec<f64>,
    weight: Vec<f64>,
    max_log: f64,
    min_log: f64,
}

impl Grid {
    /// The linear model's grid: Q ~ χ²_B.
    fn new(dim: usize, batch: usize, eta: f64, panels: (usize, usize)) -> Self {
        Grid::mixture(dim, eta / batch as f64, &[(batch, 1.0)], panels)
    }

    /// The gate's grid: Q ~ χ²_N with probability `C(B, N)/2^B`, N = 0 … B (N = 0 leaves
    /// `e₁` unchanged).
    fn gate(dim: usize, batch: usize, eta: f64, panels: (usize, usize)) -> Self {
        let mut p = 0.5f64.powi(batch as i32);
        let mut parts = Vec::with_capacity(batch + 1);
        for n in 0..=batch {
            parts.push((n, p));
            p *= (batch - n) as f64 / (n + 1) as f64;
        }
        Grid::mixture(dim, eta / batch as f64, &parts, panels)
    }

    /// `‖M e₁‖² = (1 − cQ)² + c²QR` with Q ~ χ²_k drawn as `parts` say (k, probability) and
    /// R ~ χ²_{d−1}.
    fn mixture(dim: usize, c: f64, parts: &[(usize, f64)], panels: (usize, usize)) -> Self {
        let sr = chi_rule(dim - 1, None, panels.1);
        let mut log_norm_sq = Vec::new();
        let mut weight = Vec::new();
        for &(k, p) in parts {
            let tq = chi_rule(k, Some(1.0 / c.sqrt()), panels.0);
            for &(t, wt) in &tq {
                let q = t * t;
                let a = (1.0 - c * q).powi(2);
                for &(s, ws) in &sr {
                    let g = a + c * c * q * s * s;
                    log_norm_sq.push(g.ln());
                    weight.push(p * wt * ws);
                }
            }
        }
        let max_log = log_norm_sq
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let min_log = log_norm_sq.iter().copied().fold(f64::INFINITY, f64::min);
        Grid {
            log_norm_sq,
            weight,
            max_log,
            min_log,
        }
    }

    /// `log E‖M e₁‖^α`, as a log-sum-exp: the roots for small η are in the hundreds or
    /// thousands, where the plain sum overflows.
    fn log_moment(&self, alpha: f64) -> f64 {
        self.log_moment_and_slope(alpha).0
    }

    /// `h(α)` and `h′(α) = E[log‖M e₁‖ · ‖M e₁‖^α] / E‖M e₁‖^α`, in one pass over the
    /// nodes, in parallel over fixed chunks summed in order (the same bits on any thread
    /// count).
    fn log_moment_and_slope(&self, alpha: f64) -> (f64, f64) {
        const CHUNK: usize = 1 << 14;
        let top = 0.5
            * alpha
            * if alpha >= 0.0 {
                self.max_log
            } else {
                self.min_log
            };
        let parts: Vec<(f64, f64)> = self
            .log_norm_sq
            .par_chunks(CHUNK)
            .zip(self.weight.par_chunks(CHUNK))
            .map(|(l, w)| {
                l.iter().zip(w).fold((0.0, 0.0), |(s, ds), (l, w)| {
                    let e = w * (0.5 * alpha * l - top).exp();
                    (s + e, ds + 0.5 * l * e)
                })
            })
            .collect();
        let (sum, dsum) = parts
            .iter()
            .fold((0.0, 0.0), |(s, d), (ps, pd)| (s + ps, d + pd));
        (top + sum.ln(), dsum / sum)
    }

    /// `E log‖M e₁‖`.
    fn lyapunov(&self) -> f64 {
        self.log_norm_sq
            .iter()
            .zip(&self.weight)
            .map(|(l, w)| w * 0.5 * l)
            .sum()
    }
}

/// `h(α) = log E‖M e₁‖^α` by quadrature.
pub fn log_moment(dim: usize, batch: usize, eta: f64, alpha: f64) -> f64 {
    Grid::new(dim, batch, eta, PANELS).log_moment(alpha)
}

/// Panels of the quadrature in t = √Q and s = √R (8 nodes each); 4× finer moves the
/// root by under 1e-6 (tests/theory.rs).
const PANELS: (usize, usize) = (240, 96);

/// Checks the inputs of the theory.
fn check(dim: usize, batch: usize, eta: f64) -> crate::Result<()> {
    if dim == 0 {
        return Err(crate::Error::config("dim", "must be at least 1"));
    }
    if batch == 0 {
        return Err(crate::Error::config("batch", "must be at least 1"));
    }
    if !(eta.is_finite() && eta > 0.0) {
        return Err(crate::Error::config(
            "eta",
            format!("must be a finite number > 0, got {eta}"),
        ));
    }
    Ok(())
}

/// The stationary tail index of linear-regression SGD for (d, B, η), or divergence.
pub fn linear_tail_index(dim: usize, batch: usize, eta: f64) -> crate::Result<TailTheory> {
    linear_tail_index_with_panels(dim, batch, eta, PANELS.0, PANELS.1)
}

/// [`linear_tail_index`] with a chosen quadrature resolution (for convergence checks).
pub fn linear_tail_index_with_panels(
    dim: usize,
    batch: usize,
    eta: f64,
    t_panels: usize,
    s_panels: usize,
) -> crate::Result<TailTheory> {
    check(dim, batch, eta)?;
    let b = batch as f64;
    let grid = Grid::new(dim, batch, eta, (t_panels, s_panels));
    Ok(solve(
        &grid,
        TailTheory {
            model: "linear".into(),
            dim,
            batch,
            eta,
            lyapunov: 0.0,
            diverges: false,
            alpha: None,
            light_tail: false,
            second_moment: 1.0 - 2.0 * eta + eta * eta / b * (dim as f64 + b + 1.0),
            eta_alpha_2: 2.0 * b / (dim as f64 + b + 1.0),
            method: "gauss_legendre_2d".into(),
            prediction: None,
            tilted_drift: None,
        },
    ))
}

/// Panels of the gate's quadrature: B + 1 grids (one per number of active samples), each
/// coarser than the linear model's so that B = 20 costs what one linear grid does; 4× finer
/// moves the root by under 1e-4 (tests/theory.rs).
const GATE_PANELS: (usize, usize) = (96, 48);

/// The ReLU gate's asymptotic tail index for (d, B, η), the same for SGD and KM and every
/// bounded label model (docs/theory.md §4.3), or divergence: the root of
/// `log E‖M e₁‖^α = 0` with the Binomial(B, ½) mixture of active samples.
pub fn gate_tail_index(dim: usize, batch: usize, eta: f64) -> crate::Result<TailTheory> {
    // A sweep asks for one (d, b, η) once per algorithm, label model and seed; the
    // quadrature over B + 1 grids costs up to a second at B = 20, so answers are kept.
    type Known = std::sync::Mutex<std::collections::HashMap<(usize, usize, u64), TailTheory>>;
    static KNOWN: std::sync::LazyLock<Known> = std::sync::LazyLock::new(Default::default);
    let key = (dim, batch, eta.to_bits());
    if let Some(t) = KNOWN.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(t);
    }
    let t = gate_tail_index_with_panels(dim, batch, eta, GATE_PANELS.0, GATE_PANELS.1)?;
    if let Ok(mut m) = KNOWN.lock() {
        m.insert(key, t.clone());
    }
    Ok(t)
}

/// [`gate_tail_index`] with a chosen quadrature resolution (for convergence checks).
pub fn gate_tail_index_with_panels(
    dim: usize,
    batch: usize,
    eta: f64,
    t_panels: usize,
    s_panels: usize,
) -> crate::Result<TailTheory> {
    check(dim, batch, eta)?;
    let (b, d) = (batch as f64, dim as f64);
    let grid = Grid::gate(dim, batch, eta, (t_panels, s_panels));
    Ok(solve(
        &grid,
        TailTheory {
            model: "relu_gate".into(),
            dim,
            batch,
            eta,
            lyapunov: 0.0,
            diverges: false,
            alpha: None,
            light_tail: false,
            second_moment: 1.0 - eta + eta * eta * (b + 2.0 * d + 3.0) / (4.0 * b),
            eta_alpha_2: 4.0 * b / (b + 2.0 * d + 3.0),
            method: "gauss_legendre_2d_binomial_mixture".into(),
            prediction: Some(
                "asymptotic: the Kesten–Goldie index of the far-out step w' = M w, \
                 M = I − (η/b) Σ 1{w·xᵢ > 0} xᵢxᵢᵀ, one value for SGD and KM \
                 (docs/theory.md §4.3)"
                    .into(),
            ),
            tilted_drift: None,
        },
    ))
}

/// `h(α) = log E‖M e₁‖^α` of the gate by quadrature.
pub fn gate_log_moment(dim: usize, batch: usize, eta: f64, alpha: f64) -> f64 {
    Grid::gate(dim, batch, eta, GATE_PANELS).log_moment(alpha)
}

/// Fills in the Lyapunov exponent, divergence and the root of `h` on `grid`.
fn solve(grid: &Grid, mut out: TailTheory) -> TailTheory {
    out.lyapunov = grid.lyapunov();
    out.diverges = out.lyapunov >= 0.0;
    if out.diverges {
        return out;
    }
    let h = |a: f64| grid.log_moment(a);
    // h(0) = 0, h′(0) = λ < 0 and h is convex: one positive root; bracket it.
    if h(ALPHA_MAX) < 0.0 {
        out.light_tail = true;
        return out;
    }
    let mut hi = 1.0;
    while h(hi) < 0.0 {
        hi *= 2.0;
    }
    // Newton from the right of the root: h is convex with h(hi) ≥ 0, so the iterates
    // fall monotonically onto the root (quadratically: a handful of passes).
    let mut x = hi.min(ALPHA_MAX);
    for _ in 0..100 {
        let (hx, slope) = grid.log_moment_and_slope(x);
        if slope.is_nan() || slope <= 0.0 {
            break;
        }
        let step = hx / slope;
        x -= step;
        if step.abs() < 1e-10 {
            break;
        }
    }
    out.alpha = Some(x);
    // At the root E‖M e₁‖^α = 1, so h′(α) is the tilted drift itself.
    out.tilted_drift = Some(grid.log_moment_and_slope(x).1);
    out
}

/// The step size at which the theory's tail index is `alpha` for `model` (`"linear"` or
/// `"relu_gate"`) at (d, B): the root in η of `log E‖M e₁‖^α = 0`, or for `alpha = 0` the
/// edge of divergence, the root of `E log‖M e₁‖ = 0`. Both cross from below to above once
/// as η grows past the contracting range, so bisection between a contracting and an
/// expanding η finds them (to a relative 1e-9). Answers are kept: a study asks for each
/// (model, d, B, α) once per algorithm, label model and seed.
pub fn eta_for_alpha(gate: bool, dim: usize, batch: usize, alpha: f64) -> crate::Result<f64> {
    type Known = std::sync::Mutex<std::collections::HashMap<(bool, usize, usize, u64), f64>>;
    static KNOWN: std::sync::LazyLock<Known> = std::sync::LazyLock::new(Default::default);
    if !(alpha.is_finite() && (0.0..=ALPHA_MAX).contains(&alpha)) {
        return Err(crate::Error::config(
            "alpha_target",
            format!("must lie in [0, {ALPHA_MAX}] (0 = the edge of divergence), got {alpha}"),
        ));
    }
    check(dim, batch, 1.0)?;
    let key = (gate, dim, batch, alpha.to_bits());
    if let Some(eta) = KNOWN.lock().ok().and_then(|m| m.get(&key).copied()) {
        return Ok(eta);
    }
    let f = |eta: f64| {
        let grid = if gate {
            Grid::gate(dim, batch, eta, GATE_PANELS)
        } else {
            Grid::new(dim, batch, eta, PANELS)
        };
        if alpha == 0.0 {
            grid.lyapunov()
        } else {
            grid.log_moment(alpha)
        }
    };
    let (b, d) = (batch as f64, dim as f64);
    // α = 2 in closed form: a start on the right scale for every (d, B).
    let eta2 = if gate {
        4.0 * b / (b + 2.0 * d + 3.0)
    } else {
        2.0 * b / (d + b + 1.0)
    };
    let (mut lo, mut hi) = (0.0, eta2);
    while f(hi) < 0.0 {
        lo = hi;
        hi *= 1.5;
        if hi > 1e6 {
            return Err(crate::Error::config(
                "alpha_target",
                format!("no step size reaches α = {alpha} at d = {dim}, b = {batch}"),
            ));
        }
    }
    while hi - lo > 1e-9 * hi {
        let mid = 0.5 * (lo + hi);
        if f(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let eta = 0.5 * (lo + hi);
    if let Ok(mut m) = KNOWN.lock() {
        m.insert(key, eta);
    }
    Ok(eta)
}
