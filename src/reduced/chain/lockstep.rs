//! The reduced chain's lockstep run: `L` chains stepped together, their numbers drawn a row
//! at a time and their states updated in straight-line loops the compiler vectorises.

use super::super::lanes::{LaneRng, Simd, StepDraws};
use super::super::real::Pack;
use super::{Ended, Group, Kernel, Lanes, NoWatch, State, Watch};
use crate::config::Labels;
use crate::data::gamma::ChiSquared;

impl Kernel {
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
    pub(super) fn per_sample(&self) -> usize {
        1 + usize::from(self.perp >= 1) + usize::from(self.noise > 0.0) + usize::from(self.cauchy)
    }

    /// The buffers of one step's draws.
    pub(super) fn step_draws<const L: usize>(&self) -> StepDraws<L> {
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
    pub(super) fn draw_step<S: Simd, const L: usize>(
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
    pub(super) fn update_lanes<const L: usize>(
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
    pub(super) fn update_fixed<const L: usize, const PERP: usize, const SUMMING: bool>(
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
    pub(super) fn update_packs<
        const L: usize,
        const W: usize,
        const PERP: usize,
        const SUMMING: bool,
    >(
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
    pub(super) fn accumulate_lanes<const L: usize, const W: usize>(
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
}
