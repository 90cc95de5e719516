//! One chain of the reduced simulator: the exact step of the two-number state (docs/theory.md
//! §3) with the frame of the running sum, and the loop from the initial point to the end.

use super::lanes::{LaneRng, Simd, StepDraws};
use super::real::{Pack, Real};
use crate::config::{Algorithm, Init, Labels, Model, TrainConfig};
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
    pub a: f64,
    pub c: f64,
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

/// The step the reduced chain takes for a model and algorithm, or why it has none. A match
/// without a wildcard arm: a new model or algorithm does not compile until this engine
/// decides whether its chain reduces.
pub(crate) fn step_of(model: Model, algorithm: Algorithm) -> Result<StepKind, &'static str> {
    match (model, algorithm) {
        (Model::ReluGate, Algorithm::Sgd) => Ok(StepKind {
            gradient_mask: true,
            linear: false,
        }),
        (Model::ReluGate, Algorithm::Km) => Ok(StepKind {
            gradient_mask: false,
            linear: false,
        }),
        // No ReLU′ to drop: Karmakar–Mukherjee is SGD on the linear model.
        (Model::Linear, Algorithm::Sgd | Algorithm::Km) => Ok(StepKind {
            gradient_mask: false,
            linear: true,
        }),
        (Model::Mlp, Algorithm::Sgd | Algorithm::Km) => {
            Err("`mlp` has no exact reduced chain; use `engine: burn`")
        }
        (Model::Fcn | Model::Cnn, Algorithm::Sgd | Algorithm::Km) => {
            Err("the nets train on burn only (the reduced chain is the gate's)")
        }
    }
}

/// What distinguishes the reduced chain's steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StepKind {
    /// SGD on the gate: the update only where w·x > 0.
    pub gradient_mask: bool,
    /// The label is the linear model's t, not its positive part.
    pub linear: bool,
}

impl Kernel {
    /// The kernel of a config the reduced engine accepts (see [`super::check`]).
    pub fn new(config: &TrainConfig) -> Self {
        let d = config.dim;
        let step = step_of(config.model, config.algorithm)
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
                Init::Normal | Init::Pareto => {
                    Some(config.init_std.unwrap_or(1.0 / (d as f64).sqrt()))
                }
                Init::Zeros => None,
            },
            pareto_init: config.init == Init::Pareto,
            steps: config.steps,
            burn_in: config.burn_in.unwrap_or(config.steps / 2),
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

    /// `L` independent chains stepped in lockstep, lane j of `rng` being chain j's stream;
    /// each ends exactly where it ends alone ([`Kernel::run`]) and on either `simd` path.
    /// A step draws every chain's numbers a row at a time (`lanes.rs`; they never depend on
    /// the state, so SGD and KM with one seed see the same numbers), then updates all `L`
    /// states in straight-line loops over the chains (one coordinate per array, the
    /// invariant branches taken outside), which the compiler packs into vector
    /// instructions. A diverged chain keeps drawing (its numbers are unused) and its state.
    ///
    /// Each chain first draws its initial point ([`Kernel::initial`]). A step's normals, in
    /// order: per sample `g₁`, `g₂` (d ≥ 2), ξ (σ > 0); then, when d ≥ 3 and summing, the
    /// coordinate on `v`; then the χ² draw's normal when d ≥ 3 and its law has a degree of
    /// freedom (d − 2 of them before the running sum starts, d − 3 after; a Gamma law takes
    /// one more word for its uniform); then the mixture's coin words.
    #[inline(always)]
    pub fn run_lockstep<S: Simd, const L: usize>(
        &self,
        simd: S,
        rng: &mut LaneRng<L>,
    ) -> [Ended; L] {
        self.run_recording(simd, rng, &mut [])
    }

    /// Checkpoints of the kernel's config: steps at which [`Kernel::run_recording`] records.
    pub fn checkpoints(&self) -> &[usize] {
        &self.checkpoints
    }

    /// [`Kernel::run_lockstep`] that also writes, after each step of
    /// [`Kernel::checkpoints`] (at most `snaps.len()` of them), every chain's `(a, c)` into
    /// `snaps[k][j]`, or NaNs for a chain whose ‖w‖ has left the bound or turned non-finite
    /// by then. Recording reads the state and draws nothing: the chains end where they end
    /// unrecorded, bit for bit.
    #[inline(always)]
    pub fn run_recording<S: Simd, const L: usize>(
        &self,
        simd: S,
        rng: &mut LaneRng<L>,
        snaps: &mut [[[f64; 2]; L]],
    ) -> [Ended; L] {
        let mut group = self.begin(rng);
        self.advance(simd, rng, &mut group, self.steps, snaps, &mut NoWatch);
        group.ended()
    }

    /// `L` chains at their initial points, drawn from their streams: a run paused at step 0.
    #[inline(always)]
    pub fn begin<const L: usize>(&self, rng: &mut LaneRng<L>) -> Group<L> {
        let initial: [State; L] = std::array::from_fn(|j| self.initial(&mut rng.lane(j)));
        Group {
            lanes: Lanes {
                x: [0, 1, 2, 3, 4].map(|k| initial.map(|s| s.coordinates()[k])),
                summed: [0; L],
            },
            diverged: [false; L],
            step: 0,
            next_check: self.check_every,
            next_snap: 0,
        }
    }

    /// Steps `group` on from where it stands to step `until` (at most the run's steps),
    /// recording checkpoints into `snaps` and showing `watch` every state: a run paused
    /// and resumed ends on the same bits as one run straight through.
    #[inline(always)]
    pub fn advance<S: Simd, const L: usize, W: Watch<L>>(
        &self,
        simd: S,
        rng: &mut LaneRng<L>,
        group: &mut Group<L>,
        until: usize,
        snaps: &mut [[[f64; 2]; L]],
        watch: &mut W,
    ) {
        let Group {
            lanes,
            diverged,
            next_check,
            next_snap,
            ..
        } = group;
        let b = self.batch;
        let per_sample = self.per_sample();
        let mixture = self.labels == Labels::Mixture;
        let mut draws = self.step_draws::<L>();
        let mut off = [[0.0f64; L]; 2];
        for step in group.step + 1..=until.min(self.steps) {
            let summing = step > self.burn_in;
            let on_v = b * per_sample;
            self.draw_step(simd, rng, &mut draws, summing);
            let mut sums = [[0.0f64; L]; 3];
            for i in 0..b {
                let row = |k: usize| &draws.normals[i * per_sample + k];
                let mut g1 = *row(0);
                let mut clean = [0.0; L];
                if mixture {
                    for j in 0..L {
                        (g1[j], clean[j]) = self.labelled(g1[j], Some(draws.coin(i, j)));
                    }
                }
                let g2 = if self.perp >= 1 { *row(1) } else { [0.0; L] };
                let xi = if self.cauchy {
                    let (z, w) = (row(per_sample - 2), row(per_sample - 1));
                    std::array::from_fn(|j| self.noise * z[j] / w[j])
                } else if self.noise > 0.0 {
                    row(per_sample - 1).map(|z| self.noise * z)
                } else {
                    [0.0; L]
                };
                let batch = [&g1, &clean, &g2, &xi];
                if L.is_multiple_of(4) {
                    self.accumulate_lanes::<L, 4>(&mut sums, &lanes.x, batch, mixture);
                } else {
                    self.accumulate_lanes::<L, 1>(&mut sums, &lanes.x, batch, mixture);
                }
            }
            if self.perp >= 2 {
                off[0] = if summing {
                    draws.normals[on_v]
                } else {
                    [0.0; L]
                };
                off[1] = draws.chi;
            }
            self.update_lanes(lanes, &sums, &off, diverged, summing);
            if step == *next_check || step == self.steps {
                *next_check += self.check_every;
                for (j, d) in diverged.iter_mut().enumerate() {
                    let [a, c] = [lanes.x[0][j], lanes.x[1][j]];
                    let n = a * a + c * c;
                    *d |= !(n.is_finite() && n <= self.bound_sq);
                }
            }
            if self.checkpoints.get(*next_snap) == Some(&step) {
                if let Some(slot) = snaps.get_mut(*next_snap) {
                    for (j, at) in slot.iter_mut().enumerate() {
                        let [a, c] = [lanes.x[0][j], lanes.x[1][j]];
                        let n = a * a + c * c;
                        let gone = diverged[j] || !(n.is_finite() && n <= self.bound_sq);
                        *at = if gone { [f64::NAN; 2] } else { [a, c] };
                    }
                }
                *next_snap += 1;
            }
            watch.after_step(step, &lanes.x[0], &lanes.x[1], diverged);
        }
        group.step = group.step.max(until.min(self.steps));
    }

    /// The draws of [`Kernel::advance`] for every step and nothing else (no update, no
    /// check, no recording): the engine's draw-bound limit, for the benchmark beside it.
    /// Returns a sum of the draws, so that none is optimised away.
    #[inline(always)]
    pub fn draws_only<S: Simd, const L: usize>(&self, simd: S, rng: &mut LaneRng<L>) -> f64 {
        let mut draws = self.step_draws::<L>();
        let mut sum = 0.0;
        for step in 1..=self.steps {
            self.draw_step(simd, rng, &mut draws, step > self.burn_in);
            sum += draws.normals[0][0] + draws.chi[L - 1];
        }
        sum
    }

    /// Normals per sample: `g₁`, `g₂` (d ≥ 2), ξ (σ > 0; two for Cauchy noise).
    #[inline(always)]
    fn per_sample(&self) -> usize {
        1 + usize::from(self.perp >= 1) + usize::from(self.noise > 0.0) + usize::from(self.cauchy)
    }

    /// The buffers of one step's draws.
    fn step_draws<const L: usize>(&self) -> StepDraws<L> {
        let coin_words = if self.labels == Labels::Mixture {
            self.batch.div_ceil(64)
        } else {
            0
        };
        StepDraws::new(self.batch * self.per_sample() + 2, coin_words)
    }

    /// Draws one step's numbers into `draws`, in [`Kernel::advance`]'s order (see
    /// [`Kernel::run_lockstep`]): the samples' normals, then, when d ≥ 3, the coordinate on
    /// `v` once `summing`, and the χ² of the law off the frame.
    #[inline(always)]
    fn draw_step<S: Simd, const L: usize>(
        &self,
        simd: S,
        rng: &mut LaneRng<L>,
        draws: &mut StepDraws<L>,
        summing: bool,
    ) {
        let law = match (self.perp >= 2, summing) {
            (false, _) => &ChiSquared::Zero,
            (true, false) => &self.off_plane,
            (true, true) => &self.off_frame,
        };
        let chi_at = self.batch * self.per_sample() + usize::from(self.perp >= 2 && summing);
        let count = chi_at + usize::from(*law != ChiSquared::Zero);
        draws.draw(simd, rng, count, law, chi_at);
    }

    /// The divergence bound on ‖w‖², as the checks apply it.
    pub fn bound_sq(&self) -> f64 {
        self.bound_sq
    }

    /// [`Kernel::next`] for every chain that has not diverged (a diverged chain keeps its
    /// state): the branches on d and on `summing` taken here, once, so each loop below is
    /// straight-line code.
    #[inline(always)]
    fn update_lanes<const L: usize>(
        &self,
        lanes: &mut Lanes<L>,
        sums: &[[f64; L]; 3],
        off: &[[f64; L]; 2],
        diverged: &[bool; L],
        summing: bool,
    ) {
        match (self.perp, summing) {
            (0, false) => self.update_fixed::<L, 0, false>(lanes, sums, off, diverged),
            (0, true) => self.update_fixed::<L, 0, true>(lanes, sums, off, diverged),
            (1, false) => self.update_fixed::<L, 1, false>(lanes, sums, off, diverged),
            (1, true) => self.update_fixed::<L, 1, true>(lanes, sums, off, diverged),
            (_, false) => self.update_fixed::<L, 2, false>(lanes, sums, off, diverged),
            (_, true) => self.update_fixed::<L, 2, true>(lanes, sums, off, diverged),
        }
    }

    /// [`Kernel::update_lanes`] for one d class and one phase.
    #[inline(always)]
    fn update_fixed<const L: usize, const PERP: usize, const SUMMING: bool>(
        &self,
        lanes: &mut Lanes<L>,
        sums: &[[f64; L]; 3],
        off: &[[f64; L]; 2],
        diverged: &[bool; L],
    ) {
        if L.is_multiple_of(4) {
            self.update_packs::<L, 4, PERP, SUMMING>(lanes, sums, off, diverged);
        } else {
            self.update_packs::<L, 1, PERP, SUMMING>(lanes, sums, off, diverged);
        }
        if SUMMING {
            for (n, &keep) in lanes.summed.iter_mut().zip(diverged) {
                *n += usize::from(!keep);
            }
        }
    }

    /// [`Kernel::next`] on `W` chains at a time (four: vector instructions).
    #[inline(always)]
    fn update_packs<const L: usize, const W: usize, const PERP: usize, const SUMMING: bool>(
        &self,
        lanes: &mut Lanes<L>,
        sums: &[[f64; L]; 3],
        off: &[[f64; L]; 2],
        diverged: &[bool; L],
    ) {
        let rates = (self.eta_b, self.decay);
        for j in (0..L).step_by(W) {
            let at = |x: &[f64; L]| Pack::<W>::at(x, j);
            let new = Self::next::<Pack<W>, PERP, SUMMING>(
                rates,
                lanes.x.each_ref().map(at),
                sums.each_ref().map(at),
                off.each_ref().map(at),
            );
            for (x, n) in lanes.x.iter_mut().zip(new) {
                n.store(x, j, diverged);
            }
        }
    }

    /// Adds one sample of every chain to `sums`, `W` chains at a time: `batch` holds the
    /// sample's `g₁` (shifted for `mixture`), its `mixture` class, `g₂` and `σξ`.
    #[inline(always)]
    fn accumulate_lanes<const L: usize, const W: usize>(
        &self,
        sums: &mut [[f64; L]; 3],
        x: &[[f64; L]; 5],
        [g1, class, g2, xi]: [&[f64; L]; 4],
        mixture: bool,
    ) {
        for j in (0..L).step_by(W) {
            let at = |x: &[f64; L]| Pack::<W>::at(x, j);
            let g1 = at(g1);
            let clean = if mixture {
                at(class)
            } else {
                self.clean_label(g1)
            };
            let mut sum = sums.each_ref().map(at);
            self.accumulate(&mut sum, at(&x[0]), at(&x[1]), [g1, at(g2), clean + at(xi)]);
            for (s, v) in sums.iter_mut().zip(sum) {
                s[j..j + W].copy_from_slice(&v.0);
            }
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
