//! Exact χ² samples: Gamma(k/2) by Marsaglia & Tsang (2000) for k ≥ 2, a squared normal
//! for k = 1; never a normal approximation, whatever k (the reduced chain draws χ²_{d−2}
//! with d up to 10⁵ and beyond).

use super::normal::{Buffered, open01};
use rand::Rng;

/// The χ² law with `k` degrees of freedom, ready to sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ChiSquared {
    /// k = 0: the constant 0.
    Zero,
    /// k = 1: Z².
    One,
    /// k ≥ 2: 2·Gamma(k/2), with Marsaglia–Tsang's `d = k/2 − 1/3`, `c = 1/√(9d)`.
    Gamma { d: f64, c: f64 },
}

impl ChiSquared {
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
                let v = 1.0 + c * x;
                if v <= 0.0 {
                    continue;
                }
                let v = v * v * v;
                let u = open01(rng);
                let x2 = x * x;
                if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + d * (1.0 - v + v.ln()) {
                    return 2.0 * d * v;
                }
            },
        }
    }
}
