//! The tail index that Gürbüzbalaban, Simsekli & Zhu (2021) predict for SGD on linear
//! regression with isotropic Gaussian inputs (science.md §2): α solves
//! `h(α) = log E‖M e₁‖^α = 0`, `M = I − (η/B) Σᵢ xᵢxᵢᵀ`; and its analogue for the ReLU
//! gate (science.md §8), where far out SGD and KM both step as `w' = M w` with
//! `M = I − (η/B) Σᵢ 1{w·xᵢ > 0} xᵢxᵢᵀ`: the same integral with Q ~ χ²_N,
//! N ~ Binomial(B, ½) of the samples active, mixed over N (an asymptotic prediction).
//!
//! The expectation is a two-dimensional integral for every B: with v = (x_{i1})ᵢ,
//! Q = ‖v‖² ~ χ²_B and, given v, the other coordinates of Σᵢ xᵢ x_{i1} are iid N(0, Q), so
//! `‖M e₁‖² = (1 − cQ)² + c²·Q·R` with c = η/B and R ~ χ²_{d−1} independent of Q.
//! It is computed by tensor-product Gauss–Legendre quadrature over the chi variables
//! t = √Q, s = √R (smooth densities), with a panel edge at the kink t = 1/√c.

use serde::Serialize;

/// The theory's answer for one model and (d, B, η).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TailTheory {
    /// `linear` or `relu_gate`.
    pub model: &'static str,
    pub dim: usize,
    pub batch: usize,
    pub eta: f64,
    /// `E log‖M e₁‖`: the chain diverges when it is ≥ 0.
    pub lyapunov: f64,
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
    pub method: &'static str,
    /// What the number is, where it is not a theorem (the gate's asymptotic prediction).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prediction: Option<&'static str>,
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
    let top = (k as f64).sqrt() + 12.0;
    let edges = match kink.filter(|&t| t > 0.0 && t < top) {
        Some(t) => {
            let left = ((panels as f64) * t / top).ceil().max(4.0) as usize;
            let mut e = linspace(0.0, t, left);
            e.extend(
                linspace(t, top, panels.max(left + 4) - left)
                    .into_iter()
                    .skip(1),
            );
            e
        }
        None => linspace(0.0, top, panels),
    };
    let mut rule: Vec<(f64, f64)> = composite(&edges)
        .into_iter()
        .map(|(t, w)| {
            // chi_k density up to its constant: t^{k−1} e^{−t²/2}, in logs to avoid overflow.
            let log_density = (k as f64 - 1.0) * t.ln() - t * t / 2.0;
            (t, w * log_density.exp())
        })
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
        Grid {
            log_norm_sq,
            weight,
        }
    }

    /// `log E‖M e₁‖^α`, as a log-sum-exp: the roots for small η are in the hundreds or
    /// thousands, where the plain sum overflows.
    fn log_moment(&self, alpha: f64) -> f64 {
        let top = self
            .log_norm_sq
            .iter()
            .map(|l| 0.5 * alpha * l)
            .fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = self
            .log_norm_sq
            .iter()
            .zip(&self.weight)
            .map(|(l, w)| w * (0.5 * alpha * l - top).exp())
            .sum();
        top + sum.ln()
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
            model: "linear",
            dim,
            batch,
            eta,
            lyapunov: 0.0,
            diverges: false,
            alpha: None,
            light_tail: false,
            second_moment: 1.0 - 2.0 * eta + eta * eta / b * (dim as f64 + b + 1.0),
            eta_alpha_2: 2.0 * b / (dim as f64 + b + 1.0),
            method: "gauss_legendre_2d",
            prediction: None,
        },
    ))
}

/// Panels of the gate's quadrature: B + 1 grids (one per number of active samples), each
/// coarser than the linear model's so that B = 20 costs what one linear grid does; 4× finer
/// moves the root by under 1e-4 (tests/theory.rs).
const GATE_PANELS: (usize, usize) = (96, 48);

/// The ReLU gate's asymptotic tail index for (d, B, η), the same for SGD and KM and every
/// bounded label model (science.md §8), or divergence: the root of
/// `log E‖M e₁‖^α = 0` with the Binomial(B, ½) mixture of active samples.
pub fn gate_tail_index(dim: usize, batch: usize, eta: f64) -> crate::Result<TailTheory> {
    gate_tail_index_with_panels(dim, batch, eta, GATE_PANELS.0, GATE_PANELS.1)
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
            model: "relu_gate",
            dim,
            batch,
            eta,
            lyapunov: 0.0,
            diverges: false,
            alpha: None,
            light_tail: false,
            second_moment: 1.0 - eta + eta * eta * (b + 2.0 * d + 3.0) / (4.0 * b),
            eta_alpha_2: 4.0 * b / (b + 2.0 * d + 3.0),
            method: "gauss_legendre_2d_binomial_mixture",
            prediction: Some(
                "asymptotic: the Kesten–Goldie index of the far-out step w' = M w, \
                 M = I − (η/b) Σ 1{w·xᵢ > 0} xᵢxᵢᵀ, one value for SGD and KM (science.md §8)",
            ),
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
    let hi = hi.min(ALPHA_MAX);
    let mut hi = hi;
    let mut lo = hi / 2.0;
    while h(lo) >= 0.0 {
        lo /= 2.0; // h < 0 just above 0 because h′(0) = λ < 0
        if lo < 1e-9 {
            return out;
        }
    }
    // Illinois regula falsi on [lo, hi], h(lo) < 0 ≤ h(hi).
    let (mut flo, mut fhi) = (h(lo), h(hi));
    let mut side = 0;
    let mut x = (lo + hi) / 2.0;
    for _ in 0..200 {
        x = (lo * fhi - hi * flo) / (fhi - flo);
        let fx = h(x);
        if fx < 0.0 {
            lo = x;
            flo = fx;
            if side == -1 {
                fhi /= 2.0;
            }
            side = -1;
        } else {
            hi = x;
            fhi = fx;
            if side == 1 {
                flo /= 2.0;
            }
            side = 1;
        }
        if hi - lo < 1e-10 || fx == 0.0 {
            break;
        }
    }
    out.alpha = Some(x);
    out
}
