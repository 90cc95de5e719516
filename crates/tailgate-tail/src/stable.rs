//! Symmetric α-stable samples by Chambers–Mallows–Stuck; characteristic function `exp(−|t|^α)`.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp1};
use std::f64::consts::FRAC_PI_2;

/// One symmetric α-stable draw, `0 < α ≤ 2`.
pub fn symmetric_stable<R: Rng + ?Sized>(alpha: f64, rng: &mut R) -> f64 {
    let v = rng.random_range(-FRAC_PI_2..FRAC_PI_2);
    if (alpha - 1.0).abs() < 1e-12 {
        return v.tan();
    }
    let w: f64 = Exp1.sample(rng);
    (alpha * v).sin() / v.cos().powf(1.0 / alpha)
        * (((1.0 - alpha) * v).cos() / w).powf((1.0 - alpha) / alpha)
}

/// `n` independent symmetric α-stable draws from a seeded xoshiro256++ stream.
pub fn sample_symmetric_stable(alpha: f64, n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n).map(|_| symmetric_stable(alpha, &mut rng)).collect()
}
