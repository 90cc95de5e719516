//! The ziggurat N(0, 1) sampler against the normal law: moments, the distribution function
//! over fine bins (every layer and wedge), the tail beyond the base layer, determinism.

mod common;

use common::normal_law::{assert_standard_moments, mass, upper};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use tailgate::data::normal;

fn samples(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut out = vec![0.0f32; n];
    // Rows of 101 (odd: the half-used remainder word) like a d = 100 input plus its noise.
    for row in out.chunks_mut(101) {
        normal::fill(&mut rng, row);
    }
    out
}

#[test]
fn moments_match_the_standard_normal() {
    let n = 4_000_000;
    let x = samples(n, 1);
    let nf = n as f64;
    assert_standard_moments(&x);
    let negative = x.iter().filter(|&&v| v < 0.0).count() as f64 / nf;
    assert!(
        (negative - 0.5).abs() < 4.0 * 0.5 / nf.sqrt(),
        "P(Z < 0) {negative}"
    );
}

#[test]
fn fine_bins_pass_a_chi_square_test() {
    // 0.02-wide bins over [−4.5, 4.5] (several per ziggurat layer, so a wrong layer edge
    // or wedge shows) plus the two tails: 452 bins.
    let n = 10_000_000;
    let x = samples(n, 2);
    let width = 0.02;
    let bins = 450;
    let lo = -4.5;
    let mut counts = vec![0u64; bins + 2];
    for &v in &x {
        let k = ((f64::from(v) - lo) / width).floor();
        let idx = if k < 0.0 {
            0
        } else if k >= bins as f64 {
            bins + 1
        } else {
            k as usize + 1
        };
        counts[idx] += 1;
    }
    let mut chi2 = 0.0;
    for (idx, &c) in counts.iter().enumerate() {
        let p = match idx {
            0 => upper(4.5),
            i if i == bins + 1 => upper(4.5),
            i => {
                let a = lo + (i - 1) as f64 * width;
                mass(a, a + width)
            }
        };
        let e = p * n as f64;
        chi2 += (c as f64 - e).powi(2) / e;
    }
    // 451 degrees of freedom: mean 451, sd 30; the 0.1 % point is about 552.
    assert!(chi2 < 560.0, "chi-square {chi2} over {} bins", bins + 2);
}

#[test]
fn tails_beyond_the_base_layer_have_normal_mass() {
    let n = 20_000_000;
    let x = samples(n, 3);
    for t in [3.0, 3.654, 4.0, 4.5] {
        let count = x.iter().filter(|&&v| f64::from(v).abs() > t).count() as f64;
        let expected = 2.0 * upper(t) * n as f64;
        assert!(
            (count - expected).abs() < 4.0 * expected.sqrt(),
            "P(|Z| > {t}): {count} samples, expected {expected:.0}"
        );
    }
    assert!(x.iter().all(|v| v.is_finite()));
}

#[test]
fn same_seed_same_samples_and_lengths_are_independent_of_blocks() {
    assert_eq!(samples(10_000, 9), samples(10_000, 9));
    assert_ne!(samples(10_000, 9), samples(10_000, 10));
    // Filling 128 values at once or as two blocks of 64 consumes the same words.
    let mut a = Xoshiro256PlusPlus::seed_from_u64(4);
    let mut b = a.clone();
    let mut whole = vec![0.0f32; 128];
    normal::fill(&mut a, &mut whole);
    let mut halves = vec![0.0f32; 128];
    let (h1, h2) = halves.split_at_mut(64);
    normal::fill(&mut b, h1);
    normal::fill(&mut b, h2);
    assert_eq!(whole, halves);
}
