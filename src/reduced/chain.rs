//! One chain of the reduced simulator: the exact step of the two-number state (science.md
//! §7) with the frame of the running sum, and the loop from the initial point to the end.

use crate::config::{Algorithm, Init, Labels, Model, TrainConfig};
use crate::data::gamma::ChiSquared;
use crate::data::normal::Buffered;
use rand::Rng;

/// Where the draws of a step come from: the chain's generator, or given numbers (tests).
pub trait Draws {
    /// A standard normal.
    fn normal(&mut self) -> f64;
    /// A fair coin (the class of a `mixture` sample).
    fn coin(&mut self) -> bool;
    /// A χ² sample of the law `law`.
    fn chi_squared(&mut self, law: &ChiSquared) -> f64;
}

/// A chain's own generator with its buffered ziggurat normals.
pub struct Stream<G> {
    pub rng: G,
    pub normals: Buffered,
}

impl<G: Rng> Draws for Stream<G> {
    #[inline(always)]
    fn normal(&mut self) -> f64 {
        self.normals.next(&mut self.rng)
    }

    #[inline(always)]
    fn coin(&mut self) -> bool {
        self.rng.next_u32() & 1 == 1
    }

    #[inline(always)]
    fn chi_squared(&mut self, law: &ChiSquared) -> f64 {
        law.sample(&mut self.rng, &mut self.normals)
    }
}

/// A chain's state: `w = a·w* + c·u` (`u ⊥ w*` a unit vector; `c ≥ 0` when d ≥ 3, signed
/// when d = 2, 0 when d = 1) and the running sum `S = s[0]·w* + s[1]·u + s[2]·v`, `v` the
/// unit direction of S's part outside `{w*, u}` (`s[2] ≥ 0`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct State {
    pub a: f64,
    pub c: f64,
    pub s: [f64; 3],
    /// Iterates in the running sum.
    pub summed: usize,
}

impl State {
    /// ‖w‖².
    pub fn norm_sq(&self) -> f64 {
        self.a * self.a + self.c * self.c
    }

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
    pub state: State,
    /// ‖w‖ left the bound or turned non-finite at a check (the chain stopped there).
    pub diverged: bool,
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
    separation: f64,
    /// χ²_{d−2}: the squared norm of `Σ zᵢ rᵢ / √(Σ rᵢ²)` off `{w*, u}` (d ≥ 3).
    off_plane: ChiSquared,
    /// χ²_{d−3}: the same off `{w*, u, v}`, once the running sum fixes `v` (d ≥ 3).
    off_frame: ChiSquared,
    /// χ²_{d−1}: ‖w₀ − (w₀·w*)w*‖² / s² of a normal initial point.
    init_perp: ChiSquared,
    init_std: Option<f64>,
    steps: usize,
    burn_in: usize,
    check_every: usize,
    bound_sq: f64,
}

impl Kernel {
    /// The kernel of a config the reduced engine accepts (see [`super::check`]).
    pub fn new(config: &TrainConfig) -> Self {
        let d = config.dim;
        Kernel {
            eta_b: config.eta / config.batch as f64,
            decay: 1.0 - config.eta * f64::from(config.weight_decay as f32),
            batch: config.batch,
            perp: d - 1,
            gradient_mask: config.model == Model::ReluGate && config.algorithm == Algorithm::Sgd,
            linear: config.model == Model::Linear,
            labels: config.labels,
            noise: config.label_noise,
            separation: config.mixture_separation,
            off_plane: ChiSquared::new(d.saturating_sub(2)),
            off_frame: ChiSquared::new(d.saturating_sub(3)),
            init_perp: ChiSquared::new(d - 1),
            init_std: match config.init {
                Init::Normal => Some(config.init_std.unwrap_or(1.0 / (d as f64).sqrt())),
                Init::Zeros => None,
            },
            steps: config.steps,
            burn_in: config.burn_in.unwrap_or(config.steps / 2),
            check_every: config.check_every,
            bound_sq: config.divergence_norm * config.divergence_norm,
        }
    }

    /// w₀: N(0, s²I) splits into `a ~ N(0, s²)` and `c² ~ s²·χ²_{d−1}` (signed `c ~ N(0, s²)`
    /// when d = 2).
    pub fn initial<D: Draws>(&self, draws: &mut D) -> State {
        let Some(s) = self.init_std else {
            return State::default();
        };
        let a = s * draws.normal();
        let c = match self.perp {
            0 => 0.0,
            1 => s * draws.normal(),
            _ => s * draws.chi_squared(&self.init_perp).sqrt(),
        };
        State {
            a,
            c,
            ..State::default()
        }
    }

    /// The chain from its initial point to the last step, stopped where it diverges.
    pub fn run<D: Draws>(&self, draws: &mut D) -> Ended {
        let [ended] = self.run_lockstep(std::array::from_mut(draws));
        ended
    }

    /// `L` independent chains stepped in lockstep, each exactly as [`Kernel::run`] steps it
    /// alone (the same numbers). One chain's step is a chain of dependent floating-point
    /// operations (a square root and a division among them), so a step first takes every
    /// chain's draws (they never depend on the state), then updates all `L` states in
    /// straight-line loops over the chains (one coordinate per array, the invariant
    /// branches taken outside): the CPU overlaps their latencies and the compiler packs
    /// them into vector instructions.
    #[inline(always)]
    pub fn run_lockstep<D: Draws, const L: usize>(&self, draws: &mut [D; L]) -> [Ended; L] {
        let initial: [State; L] = std::array::from_fn(|j| self.initial(&mut draws[j]));
        let mut lanes = Lanes {
            x: [0, 1, 2, 3, 4].map(|k| initial.map(|s| s.coordinates()[k])),
            summed: [0; L],
        };
        let mut diverged = [false; L];
        let mut samples = vec![[0.0f64; 3]; self.batch * L];
        let mut off = [[0.0f64; 2]; L];
        let mut next_check = self.check_every;
        for step in 1..=self.steps {
            let summing = step > self.burn_in;
            for (j, d) in draws.iter_mut().enumerate() {
                if diverged[j] {
                    continue;
                }
                for i in 0..self.batch {
                    samples[i * L + j] = self.sample(d);
                }
                off[j] = self.off_plane(d, summing);
            }
            let mut sums = [[0.0f64; 3]; L];
            for i in 0..self.batch {
                let row = &samples[i * L..(i + 1) * L];
                for (j, (sum, &x)) in sums.iter_mut().zip(row).enumerate() {
                    let [a, c] = [lanes.x[0][j], lanes.x[1][j]];
                    self.accumulate(sum, a, c, x);
                }
            }
            match (self.perp, summing) {
                (0, false) => self.update_lanes::<L, 0, false>(&mut lanes, &sums, &off, &diverged),
                (0, true) => self.update_lanes::<L, 0, true>(&mut lanes, &sums, &off, &diverged),
                (1, false) => self.update_lanes::<L, 1, false>(&mut lanes, &sums, &off, &diverged),
                (1, true) => self.update_lanes::<L, 1, true>(&mut lanes, &sums, &off, &diverged),
                (_, false) => self.update_lanes::<L, 2, false>(&mut lanes, &sums, &off, &diverged),
                (_, true) => self.update_lanes::<L, 2, true>(&mut lanes, &sums, &off, &diverged),
            }
            if step == next_check || step == self.steps {
                next_check += self.check_every;
                for (j, d) in diverged.iter_mut().enumerate() {
                    let [a, c] = [lanes.x[0][j], lanes.x[1][j]];
                    let n = a * a + c * c;
                    *d |= !(n.is_finite() && n <= self.bound_sq);
                }
            }
        }
        std::array::from_fn(|j| Ended {
            state: State::from_coordinates(lanes.x.map(|x| x[j]), lanes.summed[j]),
            diverged: diverged[j],
        })
    }

    /// [`Kernel::next`] for every chain that has not diverged (a diverged chain keeps its
    /// state), as one loop with neither branches nor calls.
    #[inline(always)]
    fn update_lanes<const L: usize, const PERP: usize, const SUMMING: bool>(
        &self,
        lanes: &mut Lanes<L>,
        sums: &[[f64; 3]; L],
        off: &[[f64; 2]; L],
        diverged: &[bool; L],
    ) {
        for j in 0..L {
            let old: [f64; 5] = std::array::from_fn(|k| lanes.x[k][j]);
            let new = self.next::<PERP, SUMMING>(old, sums[j], off[j]);
            let keep = diverged[j];
            for (x, (o, n)) in lanes.x.iter_mut().zip(old.into_iter().zip(new)) {
                x[j] = if keep { o } else { n };
            }
            lanes.summed[j] += usize::from(SUMMING && !keep);
        }
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
        let mut g1 = draws.normal();
        let g2 = if self.perp >= 1 { draws.normal() } else { 0.0 };
        let xi = if self.noise > 0.0 {
            self.noise * draws.normal()
        } else {
            0.0
        };
        let clean = if self.labels == Labels::Mixture {
            let positive = draws.coin();
            g1 += if positive {
                self.separation
            } else {
                -self.separation
            };
            f64::from(u8::from(positive))
        } else {
            self.clean_label(g1)
        };
        [g1, g2, clean + xi]
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
    fn accumulate(&self, sum: &mut [f64; 3], a: f64, c: f64, [g1, g2, y]: [f64; 3]) {
        let r = self.residual(a * g1 + c * g2, y);
        sum[0] += r * g1;
        sum[1] += r * g2;
        sum[2] += r * r;
    }

    /// The new state from the batch's sums and the off-plane draws.
    #[inline(always)]
    fn update(&self, state: &mut State, sum: [f64; 3], off: [f64; 2], summing: bool) {
        let x = state.coordinates();
        let x = match (self.perp, summing) {
            (0, false) => self.next::<0, false>(x, sum, off),
            (0, true) => self.next::<0, true>(x, sum, off),
            (1, false) => self.next::<1, false>(x, sum, off),
            (1, true) => self.next::<1, true>(x, sum, off),
            (_, false) => self.next::<2, false>(x, sum, off),
            (_, true) => self.next::<2, true>(x, sum, off),
        };
        *state = State::from_coordinates(x, state.summed + usize::from(summing));
    }

    /// The step's map on `[a, c, s₀, s₁, s₂]` for `PERP` = min(d − 1, 2) (d = 1, 2, ≥ 3),
    /// summing or not: the branches are constants here, so the lockstep loop that calls it
    /// is straight-line code.
    #[inline(always)]
    fn next<const PERP: usize, const SUMMING: bool>(
        &self,
        [a, c, s0, s_u, s_v]: [f64; 5],
        sum: [f64; 3],
        [normal, chi]: [f64; 2],
    ) -> [f64; 5] {
        let (eb, decay) = (self.eta_b, self.decay);
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
                let on_new_u = if c > 0.0 { projected } else { s_u };
                let off = (s_u * s_u + s_v * s_v - on_new_u * on_new_u).max(0.0);
                [a, c, s0, on_new_u + c, off.sqrt()]
            }
        }
    }

    /// `rᵢ` without the `η/b`: the label minus the prediction, times ReLU′ for the gate's
    /// SGD (ReLU′(0) = 0, as in autodiff).
    #[inline(always)]
    fn residual(&self, preactivation: f64, y: f64) -> f64 {
        if self.linear {
            return y - preactivation;
        }
        let r = y - preactivation.max(0.0);
        if self.gradient_mask && preactivation <= 0.0 {
            0.0
        } else {
            r
        }
    }

    /// The noiseless label of a sample with `w*·x = t` (mixture labels are the class).
    #[inline(always)]
    fn clean_label(&self, t: f64) -> f64 {
        match self.labels {
            Labels::Realizable if self.linear => t,
            Labels::Realizable => t.max(0.0),
            Labels::Binary01 | Labels::Mixture => f64::from(u8::from(t > 0.0)),
            Labels::BinaryPm1 => {
                if t > 0.0 {
                    1.0
                } else {
                    -1.0
                }
            }
        }
    }
}
