//! The standard normal law for the samplers' tests: masses by quadrature and the first
//! moments' check.

fn pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// P(a < Z < b) by composite Simpson (error far below the sampling error used here).
pub fn mass(a: f64, b: f64) -> f64 {
    let n = 200;
    let h = (b - a) / n as f64;
    let inner: f64 = (1..n)
        .map(|k| pdf(a + k as f64 * h) * if k % 2 == 1 { 4.0 } else { 2.0 })
        .sum();
    (pdf(a) + inner + pdf(b)) * h / 3.0
}

/// P(Z > t) for t ≥ 0.
pub fn upper(t: f64) -> f64 {
    0.5 - mass(0.0, t)
}

/// The mean, variance and fourth moment of `x` within four standard errors of N(0, 1)'s
/// (standard errors 1/√n, √2/√n and √96/√n).
pub fn assert_standard_moments(x: &[f32]) {
    let nf = x.len() as f64;
    let m1 = x.iter().map(|&v| f64::from(v)).sum::<f64>() / nf;
    let m2 = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / nf;
    let m4 = x.iter().map(|&v| f64::from(v).powi(4)).sum::<f64>() / nf;
    assert!(m1.abs() < 4.0 / nf.sqrt(), "mean {m1}");
    assert!(
        (m2 - 1.0).abs() < 4.0 * 2f64.sqrt() / nf.sqrt(),
        "variance {m2}"
    );
    assert!(
        (m4 - 3.0).abs() < 4.0 * 96f64.sqrt() / nf.sqrt(),
        "fourth moment {m4}"
    );
}
