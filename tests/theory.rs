//! The linear-regression tail index (docs/theory.md §4.1) and the gate's prediction (§4.3)
//! against independent references.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, StandardNormal};
use tailgate::theory::{gate_log_moment, gate_tail_index, linear_tail_index, log_moment};

/// Monte Carlo of `log E‖M u‖^α` with explicit inputs xᵢ ∈ R^d (no reduction to χ²): the
/// estimate and its standard error (delta method). Linear regression: `u = e₁`,
/// `M = I − (η/b) Σᵢ xᵢxᵢᵀ`. The gate (`gate`): a random unit `u` (the law must be the same
/// for every direction) and `M = I − (η/b) Σᵢ 1{u·xᵢ > 0} xᵢxᵢᵀ`.
fn monte_carlo(dim: usize, batch: usize, eta: f64, alpha: f64, n: usize, gate: bool) -> (f64, f64) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(if gate { 7 } else { 42 });
    let mut u = vec![0.0f64; dim];
    if gate {
        u.iter_mut()
            .for_each(|a| *a = StandardNormal.sample(&mut rng));
        let norm = u.iter().map(|a| a * a).sum::<f64>().sqrt();
        u.iter_mut().for_each(|a| *a /= norm);
    } else {
        u[0] = 1.0;
    }
    let (mut sum, mut sum_sq) = (0.0, 0.0);
    let mut x = vec![0.0f64; dim];
    for _ in 0..n {
        let mut v = u.clone();
        for _ in 0..batch {
            x.iter_mut()
                .for_each(|a| *a = StandardNormal.sample(&mut rng));
            let p: f64 = x.iter().zip(&u).map(|(a, b)| a * b).sum();
            if !gate || p > 0.0 {
                for (vj, xj) in v.iter_mut().zip(&x) {
                    *vj -= eta / batch as f64 * xj * p;
                }
            }
        }
        let m = v.iter().map(|a| a * a).sum::<f64>().powf(alpha / 2.0);
        sum += m;
        sum_sq += m * m;
    }
    let mean = sum / n as f64;
    let var = sum_sq / n as f64 - mean * mean;
    (mean.ln(), (var / n as f64).sqrt() / mean)
}

#[test]
fn quadrature_matches_the_exact_second_moment() {
    for (d, b, eta) in [
        (10, 1, 0.17),
        (1, 1, 0.5),
        (5, 3, 0.4),
        (100, 20, 0.3),
        (40, 2, 0.01),
        (100_000, 1, 0.00002),
        (100_000, 10, 0.0002),
    ] {
        let exact = 1.0 - 2.0 * eta + eta * eta / b as f64 * (d + b + 1) as f64;
        let quad = log_moment(d, b, eta, 2.0).exp();
        assert!(
            (quad - exact).abs() < 1e-9 * exact.max(1.0),
            "{d} {b} {eta}: {quad} vs {exact}"
        );
        assert!(log_moment(d, b, eta, 0.0).abs() < 1e-12);
    }
}

#[test]
fn quadrature_matches_monte_carlo_with_explicit_inputs() {
    for (d, b, eta, alpha) in [(10, 1, 0.17, 1.5), (5, 3, 0.5, 1.2), (20, 2, 0.1, 3.0)] {
        let (mc, se) = monte_carlo(d, b, eta, alpha, 400_000, false);
        let quad = log_moment(d, b, eta, alpha);
        assert!(
            (quad - mc).abs() < 4.0 * se + 1e-4,
            "d={d} b={b} η={eta} α={alpha}: quadrature {quad}, Monte Carlo {mc} ± {se}"
        );
    }
}

#[test]
fn alpha_is_two_exactly_at_eta_two() {
    for (d, b) in [(10, 1), (5, 5), (100, 10)] {
        let eta2 = 2.0 * b as f64 / (d + b + 1) as f64;
        let t = linear_tail_index(d, b, eta2).unwrap();
        assert!((t.alpha.unwrap() - 2.0).abs() < 1e-6, "{t:?}");
        assert!((t.eta_alpha_2 - eta2).abs() < 1e-15);
    }
}

#[test]
fn reference_cell_and_monotonicity() {
    // docs/theory.md §4.5: a Monte Carlo h puts the root for d = 10, b = 1, η = 0.17 near
    // 1.51; h's slope at the root is about 0.01, so a Monte Carlo error of 1e-4 in h moves
    // the root by 0.01, and agreement is checked to that reference's precision.
    let t = linear_tail_index(10, 1, 0.17).unwrap();
    let a = t.alpha.unwrap();
    assert!((a - 1.51).abs() < 0.03, "{a}");
    // The quadrature has converged: 4× finer panels move the root by less than 1e-6.
    let fine = tailgate::theory::linear_tail_index_with_panels(10, 1, 0.17, 960, 384).unwrap();
    assert!((fine.alpha.unwrap() - a).abs() < 1e-6);
    // α falls as η grows, rises as b grows.
    let mut last = f64::INFINITY;
    for eta in [0.1, 0.12, 0.15, 0.17] {
        let a = linear_tail_index(10, 1, eta).unwrap().alpha.unwrap();
        assert!(a < last, "η = {eta}: {a} ≥ {last}");
        last = a;
    }
    let mut last = 0.0;
    for b in [2, 3, 4] {
        let a = linear_tail_index(10, b, 0.3).unwrap().alpha.unwrap();
        assert!(a > last, "b = {b}: {a} ≤ {last}");
        last = a;
    }
}

#[test]
fn large_steps_diverge_and_bad_input_is_refused() {
    // d = 10, b = 1: E log‖M e₁‖ changes sign between η = 0.17 and η = 0.19.
    let t = linear_tail_index(10, 1, 0.2).unwrap();
    assert!(t.diverges && t.alpha.is_none() && t.lyapunov > 0.0, "{t:?}");
    let t = linear_tail_index(10, 1, 0.17).unwrap();
    assert!(!t.diverges && t.lyapunov < 0.0);
    for (d, b, eta, field) in [(0, 1, 0.1, "dim"), (1, 0, 0.1, "batch"), (1, 1, 0.0, "eta")] {
        let e = linear_tail_index(d, b, eta).unwrap_err().to_string();
        assert!(e.contains(field), "{e}");
    }
}

#[test]
fn small_steps_give_light_tails_and_moderate_roots_are_roots() {
    for (d, b, eta) in [(100, 10, 0.02), (10, 1, 0.01), (100, 20, 0.3)] {
        let t = linear_tail_index(d, b, eta).unwrap();
        assert!(t.light_tail && t.alpha.is_none() && !t.diverges, "{t:?}");
        assert!(log_moment(d, b, eta, tailgate::theory::ALPHA_MAX) < 0.0);
    }
    for (d, b, eta) in [(10, 1, 0.12), (100, 20, 0.32), (5, 2, 0.35)] {
        let t = linear_tail_index(d, b, eta).unwrap();
        let a = t.alpha.unwrap_or_else(|| panic!("{t:?}"));
        assert!(
            a > 2.0 && a < tailgate::theory::ALPHA_MAX && !t.light_tail,
            "{t:?}"
        );
        assert!(log_moment(d, b, eta, a).abs() < 1e-9);
        assert!(log_moment(d, b, eta, a * 0.95) < 0.0 && log_moment(d, b, eta, a * 1.05) > 0.0);
        // Converged in resolution: 4× finer panels give the same root.
        let fine = tailgate::theory::linear_tail_index_with_panels(d, b, eta, 960, 384).unwrap();
        assert!((fine.alpha.unwrap() - a).abs() < 1e-6 * a);
    }
}

#[test]
fn gate_quadrature_matches_monte_carlo_and_its_second_moment() {
    for (d, b, eta, alpha) in [(10, 1, 0.17, 1.5), (5, 3, 0.5, 1.2), (10, 2, 0.3, 3.0)] {
        let (mc, se) = monte_carlo(d, b, eta, alpha, 300_000, true);
        let quad = gate_log_moment(d, b, eta, alpha);
        assert!(
            (mc - quad).abs() < 4.0 * se + 1e-4,
            "{d} {b} {eta} α={alpha}: MC {mc} ± {se} vs {quad}"
        );
    }
    for (d, b, eta) in [
        (10, 1, 0.17),
        (1, 1, 0.5),
        (5, 3, 0.4),
        (100, 20, 0.3),
        (2, 5, 0.9),
        (100_000, 1, 0.00002),
        (100_000, 4, 0.00008),
    ] {
        let t = gate_tail_index(d, b, eta).unwrap();
        let quad = gate_log_moment(d, b, eta, 2.0).exp();
        assert!(
            (quad - t.second_moment).abs() < 1e-8,
            "{d} {b} {eta}: {quad} vs {}",
            t.second_moment
        );
        assert!(gate_log_moment(d, b, eta, 0.0).abs() < 1e-12);
    }
}

/// b = 1: half the steps do nothing and half are linear regression's, so
/// `E_gate = ½ + ½ E_linear` and the roots coincide (docs/theory.md §4.3).
#[test]
fn gate_at_batch_one_has_linear_regressions_root() {
    for (d, eta) in [(10, 0.17), (5, 0.3), (20, 0.09), (100, 0.019)] {
        for alpha in [0.7, 1.5, 3.0] {
            let gate = gate_log_moment(d, 1, eta, alpha).exp();
            let linear = log_moment(d, 1, eta, alpha).exp();
            assert!(
                (gate - (0.5 + 0.5 * linear)).abs() < 1e-6 * gate,
                "d={d} η={eta} α={alpha}: {gate} vs ½ + ½·{linear}"
            );
        }
        let (g, l) = (
            gate_tail_index(d, 1, eta).unwrap(),
            linear_tail_index(d, 1, eta).unwrap(),
        );
        match (g.alpha, l.alpha) {
            (Some(a), Some(b)) => assert!((a - b).abs() < 1e-4, "d={d} η={eta}: {a} vs {b}"),
            _ => assert_eq!((g.diverges, g.light_tail), (l.diverges, l.light_tail)),
        }
    }
    let t = gate_tail_index(10, 1, 0.17).unwrap();
    assert!((t.alpha.unwrap() - 1.4916).abs() < 1e-3, "{:?}", t.alpha);
}

/// b > 1: the gate's α is larger than linear regression's at the same η, and it diverges
/// later; the root is converged to 1e-4 (4× finer panels).
#[test]
fn gate_tail_is_lighter_than_linear_for_larger_batches() {
    let (g, l) = (
        gate_tail_index(10, 2, 0.3).unwrap(),
        linear_tail_index(10, 2, 0.3).unwrap(),
    );
    let (ga, la) = (g.alpha.unwrap(), l.alpha.unwrap());
    assert!((la - 2.57).abs() < 0.05, "linear {la}");
    assert!(
        (ga - 3.5).abs() < 0.15 && ga > la + 0.5,
        "gate {ga} vs linear {la}"
    );
    // The linear chain's divergence step at d = 10, b = 5 is a stable gate.
    let mut eta = 0.5;
    while !linear_tail_index(10, 5, eta).unwrap().diverges {
        eta += 0.05;
    }
    let gate = gate_tail_index(10, 5, eta).unwrap();
    assert!(
        !gate.diverges && gate.alpha.is_some(),
        "{gate:?} at η = {eta}"
    );
    for (d, b, eta) in [(10, 1, 0.17), (10, 2, 0.3), (5, 5, 0.9), (40, 20, 0.5)] {
        let coarse = gate_tail_index(d, b, eta).unwrap();
        let fine = tailgate::theory::gate_tail_index_with_panels(d, b, eta, 384, 192).unwrap();
        if let (Some(a), Some(f)) = (coarse.alpha, fine.alpha) {
            assert!((a - f).abs() < 1e-4, "{d} {b} {eta}: {a} vs {f}");
        } else {
            assert_eq!(
                (coarse.diverges, coarse.light_tail),
                (fine.diverges, fine.light_tail)
            );
        }
    }
}
