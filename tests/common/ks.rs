//! Kolmogorov–Smirnov tests with the asymptotic p-value (Numerical Recipes' correction).

/// P(K > λ) of the Kolmogorov distribution.
fn kolmogorov_tail(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0;
    }
    let mut sum = 0.0;
    for k in 1..=100 {
        let kf = k as f64;
        let term = (-2.0 * kf * kf * lambda * lambda).exp();
        sum += if k % 2 == 1 { term } else { -term };
        if term < 1e-12 {
            break;
        }
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

fn p_value(d: f64, effective_n: f64) -> f64 {
    let s = effective_n.sqrt();
    kolmogorov_tail((s + 0.12 + 0.11 / s) * d)
}

/// Two-sample KS p-value of `x` and `y`.
pub fn ks_two_sample(x: &[f64], y: &[f64]) -> f64 {
    let mut a = x.to_vec();
    let mut b = y.to_vec();
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (n, m) = (a.len(), b.len());
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < n && j < m {
        let v = a[i].min(b[j]);
        while i < n && a[i] <= v {
            i += 1;
        }
        while j < m && b[j] <= v {
            j += 1;
        }
        d = d.max((i as f64 / n as f64 - j as f64 / m as f64).abs());
    }
    p_value(d, (n * m) as f64 / (n + m) as f64)
}

/// One-sample KS p-value of `x` against the distribution function `cdf`.
pub fn ks_one_sample(x: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let mut a = x.to_vec();
    a.sort_by(f64::total_cmp);
    let n = a.len() as f64;
    let d = a
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let f = cdf(v);
            (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
        })
        .fold(0.0, f64::max);
    p_value(d, n)
}
