//! One chain of the reduced simulator: the exact step of the two-number state (docs/theory.md
//! §3) with the frame of the running sum, and the loop from the initial point to the end.

mod lockstep;

use super::lanes::LaneRng;
use super::real::Real;
use crate::config::{Init, Labels, Resolved};
use crate::data::gamma::ChiSquared;
use crate::data::normal;
use rand::RngExt;

/// The draws of one step given one at a time, in [`Kernel::step`]'s order (tests give
/// numbers by hand; the engine draws whole rows of chains, see `lanes.rs`).
pub trait Draws {
    /// A standard normal.
    fn normal(&mut self) -> f64;
    /// A fair coin (the class of a `mixture` sample).
    fn coin(&mut self) -> bool;
    /// A χ² sample of the law `law`.
    fn chi_squared(&mut self, law: &ChiSquared) -> f64;
}

/// A chain's state: `w = a·w* + c·u` (`u ⊥ w*` a unit vector; `c ≥ 0` when d ≥ 3, signed
/// when d = 2, 0 when d = 1) and the running sum `S = s[0]·w* + s[1]·u + s[2]·v`, `v` the
/// unit direction of S's part outside `{w*, u}` (`s[2] ≥ 0`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct State {
    /// The coordinate of w on w*.
    pub a: f64,
    /// The coordinate of w on u (its part orthogonal to w*).
    pub c: f64,
    /// The running sum's coordinates on w*, u and v.
    pub s: [f64; 3],
    /// Iterates in the running sum.
    pub summed: usize,
}

impl State {
    /// `[a, c, s₀, s₁, s₂]`.
    fn coordinates(&self) -> [f64; 5] {
        [self.a, self.c, self.s[0], self.s[1], self.s[2]]
    }

    fn from_coordinates([a, c, s0, s1, s2]: [f64; 5], summed: usize) -> Self {
        State {
            a,
            c,
            s: [s0, s1, s2],
            summed,
        }
    }
}

/// `L` chains' states by coordinate (`x[k][j]`: coordinate k of chain j, in the order of
/// [`State::coordinates`]), so the lockstep update reads each as one array.
struct Lanes<const L: usize> {
    x: [[f64; L]; 5],
    summed: [usize; L],
}

/// How a chain ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ended {
    /// The state at the last step (at the divergence check, for a diverged chain).
    pub state: State,
    /// ‖w‖ left the bound or turned non-finite at a check (the chain stopped there).
    pub diverged: bool,
}

/// `L` chains paused between steps ([`Kernel::begin`], [`Kernel::advance`]).
pub struct Group<const L: usize> {
    lanes: Lanes<L>,
    diverged: [bool; L],
    /// Steps taken.
    step: usize,
    next_check: usize,
    next_snap: usize,
}

impl<const L: usize> Group<L> {
    /// Every chain's `(a, c)` now.
    pub fn coords(&self) -> [[f64; 2]; L] {
        std::array::from_fn(|j| [self.lanes.x[0][j], self.lanes.x[1][j]])
    }

    /// Chains found diverged at a check so far.
    pub fn diverged(&self) -> &[bool; L] {
        &self.diverged
    }

    /// How each chain ended (or stands now).
    pub fn ended(&self) -> [Ended; L] {
        std::array::from_fn(|j| Ended {
            state: State::from_coordinates(self.lanes.x.map(|x| x[j]), self.lanes.summed[j]),
            diverged: self.diverged[j],
        })
    }
}

/// Sees every chain's `(a, c)` after each step of [`Kernel::advance`] (it reads, never
/// draws: watching cannot change a chain).
pub trait Watch<const L: usize> {
    /// Called after step `step` with each lane's coordinates and whether it diverged.
    fn after_step(&mut self, step: usize, a: &[f64; L], c: &[f64; L], diverged: &[bool; L]);
}

/// Watches nothing.
pub struct NoWatch;

impl<const L: usize> Watch<L> for NoWatch {
    #[inline(always)]
    fn after_step(&mut self, _: usize, _: &[f64; L], _: &[f64; L], _: &[bool; L]) {}
}

/// Everything a step needs from the config, precomputed.
#[derive(Debug, Clone)]
pub struct Kernel {
    /// `η/b`.
    eta_b: f64,
    /// `1 − η·λ` (burn's weight decay adds λw to the direction).
    decay: f64,
    batch: usize,
    /// Dimensions of `w*⊥`: d − 1.
    perp: usize,
    gradient_mask: bool,
    linear: bool,
    labels: Labels,
    noise: f64,
    /// Cauchy label noise: ξ = z₁/z₂ (one more normal per sample).
    cauchy: bool,
    separation: f64,
    /// χ²_{d−2}: the squared norm of `Σ zᵢ rᵢ / √(Σ rᵢ²)` off `{w*, u}` (d ≥ 3).
    off_plane: ChiSquared,
    /// χ²_{d−3}: the same off `{w*, u, v}`, once the running sum fixes `v` (d ≥ 3).
    off_frame: ChiSquared,
    /// χ²_{d−1}: ‖w₀ − (w₀·w*)w*‖² / s² of a normal initial point.
    init_perp: ChiSquared,
    init_std: Option<f64>,
    /// [`Init::Pareto`]: the initial radius is init_std·P.
    pareto_init: bool,
    steps: usize,
    burn_in: usize,
    check_every: usize,
    bound_sq: f64,
    /// Steps after which every chain's `(a, c)` is recorded (increasing).
    checkpoints: Vec<usize>,
}

impl Kernel {
    /// The kernel of a config the reduced engine accepts (see [`super::check`]).
    pub fn new(config: &Resolved) -> Self {
        let d = config.dim;
        let step = crate::config::reduced_step(config.model, config.algorithm)
            .expect("the reduced engine's check refused this model");
        Kernel {
            eta_b: config.eta / config.batch as f64,
            decay: 1.0 - config.eta * f64::from(config.weight_decay as f32),
            batch: config.batch,
            perp: d - 1,
            gradient_mask: step.gradient_mask,
            linear: step.linear,
            labels: config.labels,
            noise: config.label_noise,
            cauchy: config.noise_law == crate::config::NoiseLaw::Cauchy && config.label_noise > 0.0,
            separation: config.mixture_separation,
            off_plane: ChiSquared::new(d.saturating_sub(2)),
            off_frame: ChiSquared::new(d.saturating_sub(3)),
            init_perp: ChiSquared::new(d - 1),
            init_std: match config.init {
                Init::Normal | Init::Pareto => Some(config.init_std()),
                Init::Zeros => None,
            },
            pareto_init: config.init == Init::Pareto,
            steps: config.steps,
            burn_in: config.burn_in(),
            check_every: config.check_every,
            bound_sq: config.divergence_norm * config.divergence_norm,
            checkpoints: config.checkpoints.clone(),
        }
    }

    /// w₀: N(0, s²I) splits into `a ~ N(0, s²)` and `c² ~ s²·χ²_{d−1}` (signed `c ~ N(0, s²)`
    /// when d = 2), drawn from the chain's stream `rng` (normals by [`normal::one`]).
    pub fn initial<G: rand::Rng + ?Sized>(&self, rng: &mut G) -> State {
        let Some(s) = self.init_std else {
            return State::default();
        };
        let a = s * f64::from(normal::one(rng));
        let c = match self.perp {
            0 => 0.0,
            1 => s * f64::from(normal::one(rng)),
            _ => s * self.init_perp.sample_fresh(rng).sqrt(),
        };
        let (a, c) = if self.pareto_init {
            // (a, c) of s·g, g normal, has a uniform direction; P replaces its norm.
            let norm = a.hypot(c);
            let r = s * crate::config::pareto_init_radius(rng.random::<f64>());
            (r * a / norm, r * c / norm)
        } else {
            (a, c)
        };
        State {
            a,
            c,
            ..State::default()
        }
    }

    /// One chain from its initial point to the last step, stopped where it diverges: the
    /// engine's numbers for the chain whose stream is `rng` (plain Rust, one lane).
    pub fn run(&self, rng: &mut LaneRng<1>) -> Ended {
        let [ended] = self.run_lockstep(super::lanes::Scalar, rng);
        ended
    }

    /// One step `w ← (1 − ηλ)w + (η/b) Σᵢ rᵢ xᵢ`, and (when `summing`) `S ← S + w`.
    ///
    /// Draws, in this order: per sample `g₁, g₂` (g₂ only when d ≥ 2), the label noise ξ
    /// (when σ > 0), the class (mixture); then, when d ≥ 3, the part of `Σ rᵢ zᵢ` off the
    /// plane: χ²_{d−2}, or once summing its coordinate on `v` (a normal) and χ²_{d−3}. The
    /// order never depends on the state, so SGD and KM with one seed see the same numbers.
    #[inline(always)]
    pub fn step<D: Draws>(&self, state: &mut State, draws: &mut D, summing: bool) {
        let mut sum = [0.0; 3];
        for _ in 0..self.batch {
            let x = self.sample(draws);
            self.accumulate(&mut sum, state.a, state.c, x);
        }
        let off = self.off_plane(draws, summing);
        self.update(state, sum, off, summing);
    }

    /// One sample's `[w*·x, u·x, y]` (label noise included): all a step needs of it.
    #[inline(always)]
    fn sample<D: Draws>(&self, draws: &mut D) -> [f64; 3] {
        let g1 = draws.normal();
        let g2 = if self.perp >= 1 { draws.normal() } else { 0.0 };
        let xi = if self.noise > 0.0 {
            let z = draws.normal();
            if self.cauchy {
                self.noise * z / draws.normal()
            } else {
                self.noise * z
            }
        } else {
            0.0
        };
        let coin = (self.labels == Labels::Mixture).then(|| draws.coin());
        let (g1, clean) = self.labelled(g1, coin);
        [g1, g2, clean + xi]
    }

    /// A sample's `w*·x` and noiseless label from its normal `g₁` and, for `mixture`, its
    /// class (`w*·x` is then `g₁ ± μ`).
    #[inline(always)]
    fn labelled(&self, g1: f64, coin: Option<bool>) -> (f64, f64) {
        match coin {
            Some(positive) if self.labels == Labels::Mixture => {
                let shift = if positive {
                    self.separation
                } else {
                    -self.separation
                };
                (g1 + shift, f64::from(u8::from(positive)))
            }
            _ => (g1, self.clean_label(g1)),
        }
    }

    /// The draws off the `{w*, u}` plane (d ≥ 3): `[coordinate on v / √Σrᵢ², χ²]`, the
    /// χ² of d − 2 degrees of freedom before the sum starts, of d − 3 after.
    #[inline(always)]
    fn off_plane<D: Draws>(&self, draws: &mut D, summing: bool) -> [f64; 2] {
        match (self.perp >= 2, summing) {
            (false, _) => [0.0; 2],
            (true, false) => [0.0, draws.chi_squared(&self.off_plane)],
            (true, true) => {
                let on_v = draws.normal();
                [on_v, draws.chi_squared(&self.off_frame)]
            }
        }
    }

    /// Adds one sample's `rᵢg₁, rᵢg₂, rᵢ²` (without η/b) to `sum`.
    #[inline(always)]
    fn accumulate<T: Real>(&self, sum: &mut [T; 3], a: T, c: T, [g1, g2, y]: [T; 3]) {
        let r = self.residual(a * g1 + c * g2, y);
        sum[0] = sum[0] + r * g1;
        sum[1] = sum[1] + r * g2;
        sum[2] = sum[2] + r * r;
    }

    /// The new state from the batch's sums and the off-plane draws: the lockstep update on
    /// one chain.
    #[inline(always)]
    fn update(&self, state: &mut State, sum: [f64; 3], off: [f64; 2], summing: bool) {
        let mut lane = Lanes {
            x: state.coordinates().map(|v| [v]),
            summed: [state.summed],
        };
        let (sum, off) = (sum.map(|v| [v]), off.map(|v| [v]));
        self.update_lanes(&mut lane, &sum, &off, &[false], summing);
        *state = State::from_coordinates(lane.x.map(|[v]| v), lane.summed[0]);
    }

    /// The step's map on `[a, c, s₀, s₁, s₂]` for `PERP` = min(d − 1, 2) (d = 1, 2, ≥ 3),
    /// summing or not, on one chain or four ([`Real`]): the branches are constants here,
    /// so the lockstep loop that calls it is straight-line code.
    #[inline(always)]
    fn next<T: Real, const PERP: usize, const SUMMING: bool>(
        (eb, decay): (f64, f64),
        [a, c, s0, s_u, s_v]: [T; 5],
        sum: [T; 3],
        [normal, chi]: [T; 2],
    ) -> [T; 5] {
        let (eb, decay) = (T::splat(eb), T::splat(decay));
        let a = decay * a + eb * sum[0];
        let along = decay * c + eb * sum[1];
        let r_sq = eb * eb * sum[2];
        let s0 = if SUMMING { s0 + a } else { s0 };
        match (PERP, SUMMING) {
            (0, _) => [a, c, s0, s_u, s_v],
            (1, false) => [a, along, s0, s_u, s_v],
            (1, true) => [a, along, s0, s_u + along, s_v],
            (_, false) => [a, (along * along + r_sq * chi).sqrt(), s0, s_u, s_v],
            (_, true) => {
                let on_v = r_sq.sqrt() * normal;
                let rest = r_sq * chi;
                let c = (along * along + on_v * on_v + rest).sqrt();
                // S in the new frame: its part in the old {u, v} plane projected on u'.
                let projected = (s_u * along + s_v * on_v) / c;
                let on_new_u = c.where_positive(projected, s_u);
                let off = (s_u * s_u + s_v * s_v - on_new_u * on_new_u).positive_part();
                [a, c, s0, on_new_u + c, off.sqrt()]
            }
        }
    }

    /// `rᵢ` without the `η/b`: the label minus the prediction, times ReLU′ for the gate's
    /// SGD (ReLU′(0) = 0, as in autodiff).
    #[inline(always)]
    fn residual<T: Real>(&self, preactivation: T, y: T) -> T {
        if self.linear {
            return y - preactivation;
        }
        let r = y - preactivation.positive_part();
        if self.gradient_mask {
            preactivation.where_at_most_zero(T::splat(0.0), r)
        } else {
            r
        }
    }

    /// The noiseless label of a sample with `w*·x = t` (mixture labels are the class).
    #[inline(always)]
    fn clean_label<T: Real>(&self, t: T) -> T {
        match self.labels {
            Labels::Realizable if self.linear => t,
            Labels::Realizable => t.positive_part(),
            Labels::Binary01 | Labels::Mixture => t.where_positive(T::splat(1.0), T::splat(0.0)),
            Labels::BinaryPm1 => t.where_positive(T::splat(1.0), T::splat(-1.0)),
        }
    }
}
