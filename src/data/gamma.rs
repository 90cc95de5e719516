//! Exact χ² samples: Gamma(k/2) by Marsaglia & Tsang (2000) for k ≥ 2, a squared normal
//! for k = 1; never a normal approximation, whatever k (the reduced chain draws χ²_{d−2}
//! with d up to 10⁵ and beyond).

use super::normal::{self, Buffered, open01};
use rand::Rng;

/// The χ² law with `k` degrees of freedom, ready to sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChiSquared {
    /// k = 0: the constant 0.
    Zero,
    /// k = 1: Z².
    One,
    /// k ≥ 2: 2·Gamma(k/2), with Marsaglia–Tsang's `d = k/2 − 1/3`, `c = 1/√(9d)`.
    Gamma {
        /// Marsaglia–Tsang's d = k/2 − 1/3.
        d: f64,
        /// Marsaglia–Tsang's c = 1/√(9d).
        c: f64,
    },
}

impl ChiSquared {
    /// The χ² law with `k` degrees of freedom.
    pub fn new(k: usize) -> Self {
        match k {
            0 => ChiSquared::Zero,
            1 => ChiSquared::One,
            _ => {
                let d = k as f64 / 2.0 - 1.0 / 3.0;
                ChiSquared::Gamma {
                    d,
                    c: 1.0 / (9.0 * d).sqrt(),
                }
            }
        }
    }

    /// One sample, its normals from `normals` and its uniforms from `rng`. Marsaglia–Tsang
    /// is exact for shapes ≥ 1: the squeeze `u < 1 − 0.0331 x⁴` only skips the logarithms
    /// where the full test would accept too.
    #[inline(always)]
    pub fn sample<G: Rng + ?Sized>(&self, rng: &mut G, normals: &mut Buffered) -> f64 {
        match *self {
            ChiSquared::Zero => 0.0,
            ChiSquared::One => {
                let z = normals.next(rng);
                z * z
            }
            ChiSquared::Gamma { d, c } => loop {
                let x = normals.next(rng);
                if 1.0 + c * x <= 0.0 {
                    continue;
                }
                if let Some(sample) = marsaglia_tsang(d, c, x, open01(rng)) {
                    return sample;
                }
            },
        }
    }

    /// Marsaglia–Tsang's test on `L` pairs (normal `x[j]`, uniform `u[j]`) at once, without
    /// logarithms: `out[j] = 2d·v` and `true` where the pair is accepted. `false` only says
    /// the squeezes could not decide: finish those with [`ChiSquared::sample_from`]. Both
    /// squeezes are sufficient conditions for the full test (the first Marsaglia–Tsang's,
    /// the second from ln u ≤ y − y²/2 + y³/3 (y = u − 1 < 0) and a lower bound on ln(1 + t)
    /// by its Taylor polynomial and Lagrange remainder), with a margin far above rounding,
    /// so a lane they accept is one the full test accepts. Gamma laws only.
    #[inline(always)]
    pub fn accept_lanes<const L: usize>(
        &self,
        x: &[f64; L],
        u: &[f64; L],
        out: &mut [f64; L],
    ) -> [bool; L] {
        let ChiSquared::Gamma { d, c } = *self else {
            unreachable!("accept_lanes is Marsaglia–Tsang's test");
        };
        let mut accepted = [false; L];
        for j in 0..L {
            let (x, u) = (x[j], u[j]);
            let t = c * x;
            let one_t = 1.0 + t;
            let v = one_t * one_t * one_t;
            let x2 = x * x;
            let t2 = t * t;
            let y = u - 1.0;
            let ln_u_above = y - y * y * 0.5 + y * y * y * (1.0 / 3.0);
            let taylor = t - t2 * 0.5 + t2 * t * (1.0 / 3.0) - t2 * t2 * 0.25;
            // ln(1 + t) − taylor = t⁵/(5(1 + ξ)⁵), ξ between 0 and t: ≥ 0 for t ≥ 0, and
            // ≥ t⁵/(5(1 + t)⁵) for −1 < t < 0.
            let o2 = one_t * one_t;
            let remainder = t2 * t2 * t / (5.0 * o2 * o2 * one_t);
            let ln_below = taylor + if t < 0.0 { remainder } else { 0.0 };
            let bound = 0.5 * x2 + d * (1.0 - v + 3.0 * ln_below);
            let scale = 0.5 * x2 + d * (1.0 + v + 3.0 * ln_below.abs());
            let squeeze = u < 1.0 - 0.0331 * x2 * x2;
            let tight = ln_u_above < bound - scale * 1e-12;
            accepted[j] = one_t > 0.0 && (squeeze || tight);
            out[j] = 2.0 * d * v;
        }
        accepted
    }

    /// Marsaglia–Tsang from the pair `(x, u)`: the full test, then fresh pairs from `rng`
    /// (a normal from the low half of a word, a uniform [`normal::uniform`] from
    /// the next) until one is accepted.
    #[cold]
    pub fn sample_from<G: Rng + ?Sized>(&self, mut x: f64, mut u: f64, rng: &mut G) -> f64 {
        let ChiSquared::Gamma { d, c } = *self else {
            unreachable!("sample_from is Marsaglia–Tsang's test");
        };
        loop {
            if 1.0 + c * x > 0.0
                && let Some(sample) = marsaglia_tsang(d, c, x, u)
            {
                return sample;
            }
            x = f64::from(normal::one(rng));
            u = normal::uniform(rng.next_u64());
        }
    }

    /// One sample with every draw fresh from `rng` (normals from [`normal::one`]; the
    /// reduced engine's initial points).
    pub fn sample_fresh<G: Rng + ?Sized>(&self, rng: &mut G) -> f64 {
        match *self {
            ChiSquared::Zero => 0.0,
            ChiSquared::One => {
                let z = f64::from(normal::one(rng));
                z * z
            }
            ChiSquared::Gamma { .. } => {
                let x = f64::from(normal::one(rng));
                let u = normal::uniform(rng.next_u64());
                self.sample_from(x, u, rng)
            }
        }
    }
}

/// Marsaglia–Tsang's full test of the pair `(x, u)` (with `1 + c·x > 0`): its squeeze, then
/// the logarithms; the sample `2d·v` where the pair is accepted.
#[inline(always)]
fn marsaglia_tsang(d: f64, c: f64, x: f64, u: f64) -> Option<f64> {
    let v = 1.0 + c * x;
    let v = v * v * v;
    let x2 = x * x;
    (u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + d * (1.0 - v + v.ln()))
        .then_some(2.0 * d * v)
}
