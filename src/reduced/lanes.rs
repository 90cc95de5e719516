//! The reduced engine's random numbers: `L` chains' xoshiro256++ generators stepped
//! together (lane `j` is chain `j`'s own stream, the same numbers as `rand`'s
//! `Xoshiro256PlusPlus` seeded alike), and the step's draws built from whole rows of their
//! words. The fast paths run in AVX2 where the CPU has it and in plain Rust elsewhere: the
//! same integer and IEEE operations in the same order, so the same bits on either.

use crate::data::gamma::ChiSquared;
use crate::data::normal;
use rand::TryRng;
use std::convert::Infallible;

/// `L` xoshiro256++ states by word: `s[k][j]` is word k of lane j.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneRng<const L: usize> {
    s: [[u64; L]; 4],
}

impl<const L: usize> LaneRng<L> {
    /// Lane `j` seeded from `seeds[j]` by SplitMix64, as `Xoshiro256PlusPlus::seed_from_u64`.
    pub fn seed_from_u64(seeds: [u64; L]) -> Self {
        const PHI: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut s = [[0; L]; 4];
        for (j, &seed) in seeds.iter().enumerate() {
            let mut state = seed;
            for word in s.iter_mut() {
                state = state.wrapping_add(PHI);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                word[j] = z ^ (z >> 31);
            }
        }
        LaneRng { s }
    }

    /// Lane `j`'s next word.
    #[inline]
    pub fn next_lane(&mut self, j: usize) -> u64 {
        let [s0, s1, s2, s3] = &mut self.s;
        let out = s0[j]
            .wrapping_add(s3[j])
            .rotate_left(23)
            .wrapping_add(s0[j]);
        let t = s1[j] << 17;
        s2[j] ^= s0[j];
        s3[j] ^= s1[j];
        s1[j] ^= s2[j];
        s0[j] ^= s3[j];
        s2[j] ^= t;
        s3[j] = s3[j].rotate_left(45);
        out
    }

    /// Lane `j` as a `rand` generator (the rare slow paths draw through it).
    pub fn lane(&mut self, j: usize) -> Lane<'_, L> {
        Lane { rng: self, j }
    }

    /// Every lane's next `out.len()` words: `out[k][j]` is lane j's k-th.
    #[inline(always)]
    pub fn words<S: Simd>(&mut self, simd: S, out: &mut [[u64; L]]) {
        simd.words(&mut self.s, out);
    }
}

/// One lane of a [`LaneRng`].
pub struct Lane<'a, const L: usize> {
    rng: &'a mut LaneRng<L>,
    j: usize,
}

impl<const L: usize> TryRng for Lane<'_, L> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.rng.next_lane(self.j) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.rng.next_lane(self.j))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let word = self.rng.next_lane(self.j).to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        Ok(())
    }
}

/// The two kernels that run on whole rows of lanes, in plain Rust ([`Scalar`]) or AVX2.
pub trait Simd: Copy {
    /// `out[k][j]`: lane j's next words.
    fn words<const L: usize>(self, s: &mut [[u64; L]; 4], out: &mut [[u64; L]]);
    /// The ziggurat's fast path on both halves of every word: `out[2k + h][j]` from half
    /// h (low first) of `words[k][j]`; bit `2j + h` of `rejected[k]` set where the draw must
    /// be finished by [`normal::finish`] (`out` then holds no sample).
    fn normals<const L: usize>(
        self,
        words: &[[u64; L]],
        out: &mut [[f64; L]],
        rejected: &mut [u64],
    );
}

/// Lanes one [`Simd::normals`] call can serve: the rejection mask of a row packs lane j's
/// two halves as bits 2j and 2j + 1 of a `u64`.
pub const MAX_LANES: usize = 32;

/// Plain Rust: the definition.
#[derive(Debug, Clone, Copy)]
pub struct Scalar;

impl Simd for Scalar {
    #[inline(always)]
    fn words<const L: usize>(self, s: &mut [[u64; L]; 4], out: &mut [[u64; L]]) {
        let mut rng = LaneRng { s: *s };
        for row in out.iter_mut() {
            for (j, w) in row.iter_mut().enumerate() {
                *w = rng.next_lane(j);
            }
        }
        *s = rng.s;
    }

    #[inline(always)]
    fn normals<const L: usize>(
        self,
        words: &[[u64; L]],
        out: &mut [[f64; L]],
        rejected: &mut [u64],
    ) {
        const {
            assert!(
                L <= MAX_LANES,
                "a rejection mask holds 2 bits a lane in one u64: at most 32 lanes"
            )
        };
        for (k, row) in words.iter().enumerate() {
            let mut mask = 0u64;
            for (j, &w) in row.iter().enumerate() {
                for h in 0..2 {
                    let (x, accepted) = normal::fast_path((w >> (32 * h)) as u32);
                    out[2 * k + h][j] = f64::from(x);
                    mask |= u64::from(!accepted) << (2 * j + h);
                }
            }
            rejected[k] = mask;
        }
    }
}

/// AVX2, for CPUs that have it (a value exists only after the check).
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy)]
pub struct Avx2(());

#[cfg(target_arch = "x86_64")]
impl Avx2 {
    /// `Some` where the CPU runs AVX2.
    pub fn detect() -> Option<Self> {
        std::arch::is_x86_feature_detected!("avx2").then_some(Avx2(()))
    }
}

#[cfg(target_arch = "x86_64")]
impl Simd for Avx2 {
    #[inline(always)]
    fn words<const L: usize>(self, s: &mut [[u64; L]; 4], out: &mut [[u64; L]]) {
        if !L.is_multiple_of(4) {
            return Scalar.words(s, out);
        }
        // SAFETY: `Avx2` exists only where `detect` found AVX2.
        unsafe { avx2::words(s, out) }
    }

    #[inline(always)]
    fn normals<const L: usize>(
        self,
        words: &[[u64; L]],
        out: &mut [[f64; L]],
        rejected: &mut [u64],
    ) {
        if !L.is_multiple_of(4) || L > MAX_LANES {
            return Scalar.normals(words, out, rejected);
        }
        // SAFETY: as above.
        unsafe { avx2::normals(words, out, rejected) }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2;

/// The step's draws for `L` lanes, in each lane's order: first every word of the step —
/// ⌈count/2⌉ for `count` normals (both halves, low first; an odd count leaves the last high
/// half unused), one for Marsaglia–Tsang's uniform when the χ² law has two or more degrees
/// of freedom, the coin words — then the ziggurat's rejected normals finished in order,
/// then, in lanes whose χ² pair Marsaglia–Tsang rejects, fresh pairs until one is accepted.
pub struct StepDraws<const L: usize> {
    words: Vec<[u64; L]>,
    rejected: Vec<u64>,
    /// `normals[n][j]`: normal n of lane j.
    pub normals: Vec<[f64; L]>,
    /// The χ² draw of each lane.
    pub chi: [f64; L],
    coin_words: usize,
    /// The row of `words` where this step's coin words start.
    first_coin: usize,
}

impl<const L: usize> StepDraws<L> {
    /// Room for steps of up to `max_normals` normals and `coin_words` coin words.
    pub fn new(max_normals: usize, coin_words: usize) -> Self {
        let words = max_normals.div_ceil(2);
        StepDraws {
            words: vec![[0; L]; words + 1 + coin_words],
            rejected: vec![0; words],
            normals: vec![[0.0; L]; 2 * words],
            chi: [0.0; L],
            coin_words,
            first_coin: 0,
        }
    }

    /// Draws one step: `count` normals, the χ² of `law` whose normal is normal `chi_at`
    /// (ignored for `Zero`; `One` squares it), the coins.
    #[inline(always)]
    pub fn draw<S: Simd>(
        &mut self,
        simd: S,
        rng: &mut LaneRng<L>,
        count: usize,
        law: &ChiSquared,
        chi_at: usize,
    ) {
        let nw = count.div_ceil(2);
        let gamma = matches!(law, ChiSquared::Gamma { .. });
        let total = nw + usize::from(gamma) + self.coin_words;
        // The coins sit right after the normals' words when there is no uniform.
        let first_coin = nw + usize::from(gamma);
        rng.words(simd, &mut self.words[..total]);
        simd.normals(
            &self.words[..nw],
            &mut self.normals[..2 * nw],
            &mut self.rejected[..nw],
        );
        if self.rejected[..nw].iter().any(|&m| m != 0) {
            self.finish_rejected(rng, count);
        }
        self.first_coin = first_coin;
        match *law {
            ChiSquared::Zero => self.chi = [0.0; L],
            ChiSquared::One => self.chi = self.normals[chi_at].map(|z| z * z),
            ChiSquared::Gamma { .. } => {
                let u = self.words[nw].map(normal::uniform);
                let x = self.normals[chi_at];
                let accepted = law.accept_lanes(&x, &u, &mut self.chi);
                if accepted.contains(&false) {
                    for j in (0..L).filter(|&j| !accepted[j]) {
                        self.chi[j] = law.sample_from(x[j], u[j], &mut rng.lane(j));
                    }
                }
            }
        }
    }

    /// Sample `i`'s class in lane `j` (bit `i % 64` of the step's coin word `i / 64`).
    #[inline(always)]
    pub fn coin(&self, i: usize, j: usize) -> bool {
        (self.words[self.first_coin + i / 64][j] >> (i % 64)) & 1 == 1
    }

    /// The ziggurat's rejected draws, each lane's in its order (rows, then halves).
    #[cold]
    fn finish_rejected(&mut self, rng: &mut LaneRng<L>, count: usize) {
        for (k, &mask) in self.rejected[..count.div_ceil(2)].iter().enumerate() {
            let mut mask = mask;
            while mask != 0 {
                let bit = mask.trailing_zeros() as usize;
                mask &= mask - 1;
                let (j, h) = (bit / 2, bit % 2);
                let n = 2 * k + h;
                if n < count {
                    let bits = (self.words[k][j] >> (32 * h)) as u32;
                    self.normals[n][j] = f64::from(normal::finish(&mut rng.lane(j), bits));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::Xoshiro256PlusPlus;
    use rand::{Rng, SeedableRng};

    /// Lane j is `rand`'s xoshiro256++ seeded with `seeds[j]`, on either path.
    #[test]
    fn lanes_are_rands_xoshiro() {
        let seeds: [u64; 8] = std::array::from_fn(|j| 1000 + 7 * j as u64);
        let mut reference = seeds.map(Xoshiro256PlusPlus::seed_from_u64);
        let mut scalar = LaneRng::seed_from_u64(seeds);
        let mut rows = vec![[0u64; 8]; 37];
        scalar.words(Scalar, &mut rows);
        for row in &rows {
            for (j, &w) in row.iter().enumerate() {
                assert_eq!(w, reference[j].next_u64());
            }
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(avx2) = Avx2::detect() {
            let mut fast = LaneRng::seed_from_u64(seeds);
            let mut fast_rows = vec![[0u64; 8]; 37];
            fast.words(avx2, &mut fast_rows);
            assert_eq!(fast_rows, rows);
            assert_eq!(fast, scalar);
        }
    }

    /// The AVX2 ziggurat gives the plain one's bits and rejections on every layer.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_normals_equal_the_scalar_ones() {
        let Some(avx2) = Avx2::detect() else {
            return;
        };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let mut words = vec![[0u64; 8]; 4096];
        words.iter_mut().flatten().for_each(|w| *w = rng.next_u64());
        let (mut a, mut b) = (vec![[0f64; 8]; 2 * 4096], vec![[0f64; 8]; 2 * 4096]);
        let (mut ra, mut rb) = (vec![0u64; 4096], vec![0u64; 4096]);
        Scalar.normals(&words, &mut a, &mut ra);
        avx2.normals(&words, &mut b, &mut rb);
        assert_eq!(ra, rb);
        assert!(ra.iter().any(|&m| m != 0));
        for (n, (x, y)) in a.iter().zip(&b).enumerate() {
            for j in 0..8 {
                let rejected = ra[n / 2] >> (2 * j + n % 2) & 1 == 1;
                assert!(
                    rejected || x[j].to_bits() == y[j].to_bits(),
                    "normal {n} lane {j}: {} vs {}",
                    x[j],
                    y[j]
                );
            }
        }
    }

    /// A step's draws have their laws: the normals' second and fourth moments, the χ²'s
    /// mean and variance (χ²₈: 8 and 16), within 5 standard errors over 1.6·10⁶ lanes, on
    /// either path. (Finishing an undecided χ² lane with fresh pairs instead of its own
    /// pair moved the mean by 12 standard errors.)
    #[test]
    fn step_draws_have_their_laws() {
        let law = ChiSquared::new(8);
        let check = |simd: &dyn Fn(&mut StepDraws<8>, &mut LaneRng<8>)| {
            let mut rng = LaneRng::<8>::seed_from_u64(std::array::from_fn(|j| j as u64 + 3));
            let mut draws = StepDraws::<8>::new(8, 0);
            let (mut z2, mut z4, mut chi, mut chi2) = ([0.0f64; 5], [0.0f64; 5], 0.0, 0.0);
            let n = 200_000;
            for _ in 0..n {
                simd(&mut draws, &mut rng);
                for (k, row) in draws.normals[..5].iter().enumerate() {
                    z2[k] += row.iter().map(|z| z * z).sum::<f64>();
                    z4[k] += row.iter().map(|z| z.powi(4)).sum::<f64>();
                }
                chi += draws.chi.iter().sum::<f64>();
                chi2 += draws.chi.iter().map(|c| c * c).sum::<f64>();
            }
            let m = (8 * n) as f64;
            for k in 0..5 {
                assert!(
                    (z2[k] / m - 1.0).abs() < 5.0 * (2.0 / m).sqrt(),
                    "E z²: {}",
                    z2[k] / m
                );
                assert!(
                    (z4[k] / m - 3.0).abs() < 5.0 * (96.0 / m).sqrt(),
                    "E z⁴: {}",
                    z4[k] / m
                );
            }
            let mean = chi / m;
            assert!((mean - 8.0).abs() < 5.0 * (16.0 / m).sqrt(), "E χ²: {mean}");
            let var = chi2 / m - mean * mean;
            assert!((var / 16.0 - 1.0).abs() < 0.01, "var χ²: {var}");
        };
        check(&|d, rng| d.draw(Scalar, rng, 5, &law, 4));
        #[cfg(target_arch = "x86_64")]
        if let Some(avx2) = Avx2::detect() {
            check(&|d, rng| d.draw(avx2, rng, 5, &law, 4));
        }
    }
}
