//! Tests of the findings' statistics: verdicts, Kendall τ, axis effects, thresholds.

use super::*;

fn arm(points: &[(usize, usize, f64, Option<f64>, bool)]) -> Arm {
    Arm {
        name: "test".into(),
        setup: "s".into(),
        simulated: true,
        obs: points
            .iter()
            .map(|&(d, b, k, alpha, diverged)| Obs {
                d,
                b,
                eta: k * b as f64 / (d + b + 1) as f64,
                seed: 0,
                alpha,
                diverged,
                kappa_alpha_2: None,
            })
            .collect(),
    }
}

#[test]
fn verdicts_follow_the_margin_then_zero() {
    assert_eq!(verdict(Some((-0.05, 0.08))), Verdict::Equivalent);
    // Excludes 0 but inside the margin: equivalent (a difference too small to matter).
    assert_eq!(verdict(Some((0.02, 0.09))), Verdict::Equivalent);
    assert_eq!(verdict(Some((0.02, 0.3))), Verdict::Differ);
    assert_eq!(verdict(Some((-0.4, -0.11))), Verdict::Differ);
    assert_eq!(verdict(Some((-0.2, 0.05))), Verdict::Inconclusive);
    assert_eq!(verdict(None), Verdict::NoInterval);
}

#[test]
fn tau_is_one_for_a_monotone_rise_and_minus_one_for_a_fall() {
    let up = [(1.0, 1.0), (2.0, 3.0), (3.0, 4.0)];
    let down = [(1.0, 4.0), (2.0, 3.0), (3.0, 1.0)];
    assert_eq!(tau(&up), 1.0);
    assert_eq!(tau(&down), -1.0);
    // One discordant pair of three: (1 − 1 + 1)/3.
    assert!((tau(&[(1.0, 1.0), (2.0, 3.0), (3.0, 2.0)]) - 1.0 / 3.0).abs() < 1e-15);
}

#[test]
fn axis_effect_averages_series_with_the_other_axes_fixed() {
    // d = 5: α falls 3 → 1 along κ; d = 10: α rises 1 → 2. Mean τ 0, mean change −0.5.
    let a = arm(&[
        (5, 1, 1.0, Some(3.0), false),
        (5, 1, 2.0, Some(1.0), false),
        (10, 1, 1.0, Some(1.0), false),
        (10, 1, 2.0, Some(2.0), false),
    ]);
    let e = axis_effect(&a, Axis::Kappa);
    assert_eq!((e.series, e.falls, e.rises), (2, 1, 1));
    assert_eq!(e.tau, 0.0);
    assert!((e.change + 0.5).abs() < 1e-15);
    // Along d at fixed κ: κ = 1 falls 3 → 1, κ = 2 rises 1 → 2.
    let d = axis_effect(&a, Axis::Dim);
    assert_eq!((d.series, d.falls, d.rises), (2, 1, 1));
}

#[test]
fn thresholds_interpolate_the_crossing_of_two_and_find_the_first_divergence() {
    // α 3 at κ = 1, 1 at κ = 2: crosses 1.9 at κ = 1.55; divergence first at κ = 2.5.
    let a = arm(&[
        (5, 1, 1.0, Some(3.0), false),
        (5, 1, 2.0, Some(1.0), false),
        (5, 1, 2.5, Some(0.8), true),
        (5, 1, 3.0, None, true),
    ]);
    let t = thresholds(&a)[&(5, 1)];
    assert!((t.alpha_2.unwrap() - 1.55).abs() < 1e-12);
    assert!((t.diverges.unwrap() - 2.5).abs() < 1e-12);
    // Never below 2: no crossing.
    let b = arm(&[(5, 1, 1.0, Some(3.0), false), (5, 1, 2.0, Some(2.5), false)]);
    assert_eq!(thresholds(&b)[&(5, 1)].alpha_2, None);
}
