//! A run's tail summary never carries an impossible number: α̂ is a finite positive number
//! inside its interval, or `null` with a reason; survivors are marked as such.

use tailgate::summary::{EstimateSettings, RunStatus, summarize};
use tailgate::tail::sample_symmetric_stable;

fn rows(alpha: f64, chains: usize, dim: usize, seed: u64) -> Vec<f32> {
    sample_symmetric_stable(alpha, chains * dim, seed)
        .iter()
        .map(|&v| v as f32)
        .collect()
}

#[test]
fn a_handful_of_survivors_gives_no_alpha_and_says_why() {
    let (chains, dim) = (1000, 3);
    let finals = rows(1.5, chains, dim, 1);
    let mut diverged = vec![true; chains];
    diverged[10] = false;
    diverged[500] = false;
    let s = summarize(
        &finals,
        &finals,
        dim,
        &diverged,
        &EstimateSettings::default(),
    );
    assert_eq!(s.status, RunStatus::PartiallyDiverged);
    assert_eq!(s.alpha, None);
    assert!(
        s.alpha_reason
            .as_deref()
            .unwrap()
            .contains("min_samples = 300"),
        "{:?}",
        s.alpha_reason
    );
    assert!(s.from_survivors);
    assert!((s.surviving_fraction - 0.002).abs() < 1e-12);
    assert_eq!(s.alpha_mohammadi, None);
    assert!(s.estimates.values().all(|e| e.alpha.is_none()));
    // One survivor is not a collapse onto a point.
    diverged[10] = true;
    let one = summarize(
        &finals,
        &finals,
        dim,
        &diverged,
        &EstimateSettings::default(),
    );
    assert_eq!(one.status, RunStatus::PartiallyDiverged);
    assert!(!one.converged_to_floor);
}

#[test]
fn every_estimate_is_positive_and_inside_its_interval() {
    let (chains, dim) = (3000, 2);
    let finals = rows(1.5, chains, dim, 2);
    let mut diverged = vec![false; chains];
    for d in diverged.iter_mut().step_by(100) {
        *d = true;
    }
    let settings = EstimateSettings {
        subsamples: 60,
        gof_resamples: 20,
        ..EstimateSettings::default()
    };
    let s = summarize(&finals, &finals, dim, &diverged, &settings);
    assert_eq!(s.status, RunStatus::PartiallyDiverged);
    assert!(s.from_survivors && (s.surviving_fraction - 0.99).abs() < 1e-12);
    let headline = &s.estimates["powerlaw"];
    assert_eq!(s.alpha, headline.alpha);
    assert_eq!(s.alpha_ci, headline.ci);
    assert!(headline.xmin.is_some() && headline.n_tail.is_some());
    let p = headline.p_value.unwrap();
    assert!((0.0..=1.0).contains(&p));
    assert_eq!(s.estimates.len(), tailgate::tail::ESTIMATORS.len());
    for (name, e) in &s.estimates {
        let a = e.alpha.unwrap_or_else(|| panic!("{name}: {e:?}"));
        assert!(a.is_finite() && a > 0.0, "{name}: {a}");
        let [lo, hi] = e.ci.unwrap_or_else(|| panic!("{name}: no interval"));
        assert!(lo <= a && a <= hi, "{name}: {a} outside [{lo}, {hi}]");
    }
    // Stable(1.5) rows: the headline is near 1.5 at 3000 rows.
    assert!((s.alpha.unwrap() - 1.5).abs() < 0.3, "{:?}", s.alpha);
}

/// Gaussian rows have a light tail: the power-law fit reads it as light (well above 2),
/// the block estimator cannot (≤ 2 by construction).
#[test]
fn a_light_tail_reads_light() {
    let (chains, dim) = (20_000, 2);
    let finals = rows(2.0, chains, dim, 3);
    let diverged = vec![false; chains];
    let settings = EstimateSettings {
        subsamples: 20,
        gof_resamples: 0,
        ..EstimateSettings::default()
    };
    let s = summarize(&finals, &finals, dim, &diverged, &settings);
    assert!(s.alpha.unwrap() > 3.0, "{:?}", s.alpha);
    assert!(s.alpha_mohammadi.unwrap() < 2.2, "{:?}", s.alpha_mohammadi);
}
