//! The slopes of α̂ over the design: ∂α/∂log η within each (d, b), and the partial slopes
//! in log η, log b and log d of one weighted fit over every design point, each beside the
//! same fit of the prediction.

use super::claim1::{arm_estimate, theory};
use super::{Arm, Design, Point};
use std::fmt::Write as _;

/// The slopes' markdown and findings: within each (d, b), then over the whole design.
pub fn section(design: &Design) -> (String, Vec<String>) {
    let (mut body, mut findings) = within(design);
    let (b2, f2) = partial(design);
    body.push_str(&b2);
    findings.extend(f2);
    (body, findings)
}

/// A factor of the design fit: its name, and its regressor at a point.
type Factor = (&'static str, fn(&Point) -> f64);

/// The factors of the design fit.
const FACTORS: [Factor; 3] = [
    ("log η", |p| p.eta().ln()),
    ("log b", |p| (p.batch as f64).ln()),
    ("log d", |p| (p.dim as f64).ln()),
];

/// One weighted fit α = c + Σ β_f · factor_f over the design points of an arm, and the
/// same fit (same points, same weights) of the prediction: the measured partial slopes
/// beside the predicted ones.
struct DesignFit {
    points: usize,
    /// The measured fit's χ²/dof (its lack of fit; the errors are scaled by it above 1).
    chi2_dof: f64,
    /// Per factor: the measured slope and its standard error, and the predicted slope
    /// (None where the factor takes one value in the points used).
    slopes: Vec<Option<(f64, f64, f64)>>,
}

fn design_fit(design: &Design, arm: Arm, max_dim: usize) -> Option<DesignFit> {
    let mut rows = Vec::new();
    for p in design.points() {
        if p.dim > max_dim {
            continue;
        }
        let th = design.arm(p, arm).first().and_then(|c| theory(c));
        if let (Some(e), Some(t)) = (arm_estimate(design, p, arm), th) {
            rows.push((p, e.value, t, e.se()));
        }
    }
    // Only factors that vary among the points enter the fit.
    let varies = |f: usize| {
        let v: Vec<f64> = rows.iter().map(|r| FACTORS[f].1(&r.0)).collect();
        v.iter().any(|x| (x - v[0]).abs() > 1e-12)
    };
    let used: Vec<usize> = (0..FACTORS.len()).filter(|&f| varies(f)).collect();
    if rows.len() < used.len() + 2 {
        return None;
    }
    let x: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| {
            std::iter::once(1.0)
                .chain(used.iter().map(|&f| FACTORS[f].1(&r.0)))
                .collect()
        })
        .collect();
    let w: Vec<f64> = rows.iter().map(|r| 1.0 / r.3.powi(2).max(1e-12)).collect();
    let measured: Vec<f64> = rows.iter().map(|r| r.1).collect();
    let predicted: Vec<f64> = rows.iter().map(|r| r.2).collect();
    let (beta, cov, chi2_dof) = weighted_fit(&x, &measured, &w)?;
    let (beta_t, _, _) = weighted_fit(&x, &predicted, &w)?;
    let mut slopes = vec![None; FACTORS.len()];
    for (j, &f) in used.iter().enumerate() {
        slopes[f] = Some((beta[j + 1], cov[j + 1].sqrt(), beta_t[j + 1]));
    }
    Some(DesignFit {
        points: rows.len(),
        chi2_dof,
        slopes,
    })
}

/// R² of log η on (1, log b, log d) over the design points: how far the design lets the
/// partial slopes be told apart (1 = not at all).
fn collinearity(design: &Design) -> Option<f64> {
    let points = design.points();
    let x: Vec<Vec<f64>> = points
        .iter()
        .map(|p| vec![1.0, (p.batch as f64).ln(), (p.dim as f64).ln()])
        .collect();
    let y: Vec<f64> = points.iter().map(|p| p.eta().ln()).collect();
    let w = vec![1.0; y.len()];
    let (beta, _, _) = weighted_fit(&x, &y, &w)?;
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let total: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
    let residual: f64 = x
        .iter()
        .zip(&y)
        .map(|(row, v)| (v - row.iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>()).powi(2))
        .sum();
    (total > 0.0).then(|| 1.0 - residual / total)
}

/// Weighted least squares y ≈ Xβ (weights w): β, the variances of its entries scaled by
/// the residual χ²/dof when above 1, and χ²/dof; None for a singular design.
fn weighted_fit(x: &[Vec<f64>], y: &[f64], w: &[f64]) -> Option<(Vec<f64>, Vec<f64>, f64)> {
    let k = x.first()?.len();
    // The normal equations [XᵀWX | XᵀWy | I], reduced by Gauss–Jordan with partial pivoting.
    let mut a = vec![vec![0.0; 2 * k + 1]; k];
    for ((row, &yi), &wi) in x.iter().zip(y).zip(w) {
        for i in 0..k {
            for j in 0..k {
                a[i][j] += wi * row[i] * row[j];
            }
            a[i][k] += wi * row[i] * yi;
        }
    }
    for (i, r) in a.iter_mut().enumerate() {
        r[k + 1 + i] = 1.0;
    }
    for col in 0..k {
        let pivot = (col..k).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        let scale = a[col][col].abs().max(a[pivot][col].abs());
        if a[pivot][col].abs() <= 1e-10 * scale.max(1.0) {
            return None;
        }
        a.swap(col, pivot);
        let p = a[col][col];
        a[col].iter_mut().for_each(|v| *v /= p);
        for i in 0..k {
            if i != col {
                let f = a[i][col];
                let pivot_row = a[col].clone();
                a[i].iter_mut()
                    .zip(&pivot_row)
                    .for_each(|(v, pv)| *v -= f * pv);
            }
        }
    }
    let beta: Vec<f64> = a.iter().map(|r| r[k]).collect();
    let chi2: f64 = x
        .iter()
        .zip(y)
        .zip(w)
        .map(|((row, &yi), &wi)| {
            let fit: f64 = row.iter().zip(&beta).map(|(a, b)| a * b).sum();
            wi * (yi - fit).powi(2)
        })
        .sum();
    let dof = (y.len() - k).max(1) as f64;
    let inflate = (chi2 / dof).max(1.0);
    let var = (0..k).map(|i| a[i][k + 1 + i] * inflate).collect();
    Some((beta, var, chi2 / dof))
}

/// The partial slopes over the whole design, and over d ≤ 10 where the far tail reaches
/// the prediction.
fn partial(design: &Design) -> (String, Vec<String>) {
    let mut body = String::from(
        "### Partial slopes over the design\n\nOne weighted least-squares fit per arm, \
         α̂ = c + β_η log η + β_b log b + β_d log d over every design point with a far-tail \
         α̂ (weights 1/se²; the standard errors scaled by χ²/dof when above 1), beside the \
         same fit of the predicted α on the same points with the same weights — the slope the \
         arm would show if every α̂ equalled its prediction. η was placed by the gate's \
         prediction at each (d, b), so log η is nearly a function of log b and log d (R² \
         below the table): the three partial slopes are poorly separated. Each partial slope tests one property \
         GSZ21 proved for linear regression: β_η < 0, heavier with a larger step; β_b > 0, \
         lighter with a larger batch; β_d < 0, heavier in higher dimension. α is far from \
         linear in these logs (the within-(d, b) slopes above range over a factor 20), so \
         the fit is a summary with a large lack of fit (χ²/dof) and wide intervals: it shows \
         the signs and whether the arm departs from its prediction, not a law.\n\n\
         | arm | points | χ²/dof | β_η measured [95 %] | β_η predicted | β_b measured [95 %] | β_b predicted | β_d measured [95 %] | β_d predicted |\n\
         |---|---|---:|---|---:|---|---:|---|---:|\n",
    );
    let mut findings = Vec::new();
    let mut chi2 = Vec::new();
    let mut agree_by_scope = Vec::new();
    let mut signs = (0, 0);
    for (max_dim, scope) in [(usize::MAX, "all d"), (10, "d ≤ 10")] {
        let mut agree = (0, 0);
        for arm in [Arm::GateSgd, Arm::GateKm, Arm::Linear] {
            let Some(fit) = design_fit(design, arm, max_dim) else {
                continue;
            };
            let cells: Vec<String> = fit
                .slopes
                .iter()
                .map(|s| match s {
                    Some((m, se, t)) => {
                        agree.1 += 1;
                        if (m - 1.96 * se) <= *t && *t <= m + 1.96 * se {
                            agree.0 += 1;
                        }
                        format!(
                            "{m:+.2} [{:+.2}, {:+.2}] | {t:+.2}",
                            m - 1.96 * se,
                            m + 1.96 * se
                        )
                    }
                    None => "— | —".into(),
                })
                .collect();
            let _ = writeln!(
                body,
                "| {} | {} ({scope}) | {:.1} | {} |",
                arm.name(),
                fit.points,
                fit.chi2_dof,
                cells.join(" | ")
            );
            chi2.push(fit.chi2_dof);
            // GSZ21's signs: β_η < 0, β_b > 0, β_d < 0, each interval excluding 0.
            let signed = fit
                .slopes
                .iter()
                .zip([-1.0, 1.0, -1.0])
                .all(|(s, sign)| s.is_some_and(|(m, se, _)| sign * m - 1.96 * se > 0.0));
            signs.1 += 1;
            if signed {
                signs.0 += 1;
            }
        }
        if agree.1 > 0 {
            agree_by_scope.push(format!("{} of {} ({scope})", agree.0, agree.1));
        }
    }
    let r2 = collinearity(design);
    let _ = writeln!(
        body,
        "\nlog η regressed on (1, log b, log d) over the design points: R² = {}.",
        r2.map(|r| format!("{r:.3}")).unwrap_or_else(|| "—".into())
    );
    if !agree_by_scope.is_empty() {
        chi2.sort_by(f64::total_cmp);
        findings.push(format!(
            "- **Partial slopes in log η, log b, log d** (one weighted fit per arm over the \
             design): {} of {} fits have all three of GSZ21's signs (heavier with larger η \
             and d, lighter with larger b; intervals excluding 0); the measured slope's \
             interval contains the prediction's for {} (arm, factor) pairs — an \
             uninformative test: the fits' χ²/dof is {:.0}–{:.0} and log η is nearly collinear \
             with (log b, log d), R² = {}.",
            signs.0,
            signs.1,
            agree_by_scope.join(", "),
            chi2.first().unwrap_or(&f64::NAN),
            chi2.last().unwrap_or(&f64::NAN),
            r2.map(|r| format!("{r:.3}")).unwrap_or_else(|| "—".into())
        ));
    }
    body.push('\n');
    (body, findings)
}

/// Within each (d, b): the slope of α̂ in log η (weighted least squares over the three η)
/// against the slope of the prediction over the same η.
fn within(design: &Design) -> (String, Vec<String>) {
    let mut body = String::from(
        "### Slopes\n\n∂α/∂log η within each (d, b): weighted least squares of the far-tail α̂ \
         on log η over the three η (weights 1/se²), its 95 % interval from the fit's standard \
         error, beside the same slope of the predicted α. The η were placed by the gate's \
         prediction, so the predicted slope is fixed by design; the test is whether the \
         measured one matches it — a Kendall τ of such a series would be set by the design \
         and is not given.\n\n| d | b | gate predicted | gate SGD [95 %] | gate KM [95 %] | \
         linear predicted | linear [95 %] |\n|---:|---:|---:|---|---|---:|---|\n",
    );
    let mut findings = Vec::new();
    let mut by_db: std::collections::BTreeMap<(usize, usize), Vec<Point>> = Default::default();
    for p in design.points() {
        by_db.entry((p.dim, p.batch)).or_default().push(p);
    }
    let mut matched = (0, 0);
    for ((d, b), points) in &by_db {
        // Per arm: (measured, its se, predicted), where three η have an α̂.
        let fits: Vec<Option<(f64, f64, f64)>> = [Arm::GateSgd, Arm::GateKm, Arm::Linear]
            .iter()
            .map(|&arm| {
                let mut xs = Vec::new();
                let mut txs = Vec::new();
                for &p in points {
                    let th = design.arm(p, arm).first().and_then(|c| theory(c));
                    if let (Some(e), Some(t)) = (arm_estimate(design, p, arm), th) {
                        xs.push((p.eta().ln(), e.value, e.se()));
                        txs.push((p.eta().ln(), t, 1.0));
                    }
                }
                (xs.len() >= 3).then(|| {
                    let (m, se) = wls(&xs);
                    (m, se, wls(&txs).0)
                })
            })
            .collect();
        for (m, se, t) in fits.iter().flatten() {
            matched.1 += 1;
            if (m - 1.96 * se) <= *t && *t <= m + 1.96 * se {
                matched.0 += 1;
            }
        }
        if fits.iter().all(Option::is_none) {
            continue;
        }
        let show = |f: &Option<(f64, f64, f64)>| {
            f.map(|(m, se, _)| format!("{m:.1} [{:.1}, {:.1}]", m - 1.96 * se, m + 1.96 * se))
                .unwrap_or_else(|| "—".into())
        };
        let predicted = |f: &Option<(f64, f64, f64)>| {
            f.map(|f| format!("{:.1}", f.2))
                .unwrap_or_else(|| "—".into())
        };
        let _ = writeln!(
            body,
            "| {d} | {b} | {} | {} | {} | {} | {} |",
            predicted(&fits[0].or(fits[1])),
            show(&fits[0]),
            show(&fits[1]),
            predicted(&fits[2]),
            show(&fits[2])
        );
    }
    body.push('\n');
    findings.push(format!(
        "- **∂α/∂log η** (within each (d, b), three η): the measured slope's interval contains \
         the predicted slope in {} of {} (d, b, arm) series.",
        matched.0, matched.1
    ));
    (body, findings)
}

/// Weighted least-squares slope of y on x (weights 1/se²) and its standard error (scaled
/// by the residual χ²/dof when above 1).
fn wls(points: &[(f64, f64, f64)]) -> (f64, f64) {
    let w: Vec<f64> = points
        .iter()
        .map(|p| 1.0 / p.2.powi(2).max(1e-12))
        .collect();
    let sw: f64 = w.iter().sum();
    let mx = points.iter().zip(&w).map(|(p, w)| p.0 * w).sum::<f64>() / sw;
    let my = points.iter().zip(&w).map(|(p, w)| p.1 * w).sum::<f64>() / sw;
    let sxx: f64 = points
        .iter()
        .zip(&w)
        .map(|(p, w)| w * (p.0 - mx).powi(2))
        .sum();
    let sxy: f64 = points
        .iter()
        .zip(&w)
        .map(|(p, w)| w * (p.0 - mx) * (p.1 - my))
        .sum();
    let slope = sxy / sxx;
    let chi2: f64 = points
        .iter()
        .zip(&w)
        .map(|(p, w)| w * (p.1 - my - slope * (p.0 - mx)).powi(2))
        .sum();
    let dof = points.len().saturating_sub(2).max(1) as f64;
    (slope, (chi2 / dof).max(1.0).sqrt() / sxx.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_slope_recovers_a_line() {
        let pts = [(0.0, 1.0, 0.1), (1.0, 3.0, 0.1), (2.0, 5.0, 0.1)];
        let (m, se) = wls(&pts);
        assert!((m - 2.0).abs() < 1e-12);
        assert!((se - 0.1 / 2f64.sqrt()).abs() < 1e-12);
    }

    /// An exact plane in two regressors comes back exactly, with the variances of
    /// (XᵀWX)⁻¹; a regressor that never varies makes the design singular.
    #[test]
    fn the_design_fit_recovers_a_plane_and_refuses_a_singular_design() {
        let pts = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (2.0, 1.0)];
        let x: Vec<Vec<f64>> = pts.iter().map(|&(a, b)| vec![1.0, a, b]).collect();
        let y: Vec<f64> = pts.iter().map(|&(a, b)| 0.5 - 2.0 * a + 3.0 * b).collect();
        let w = vec![4.0; pts.len()];
        let (beta, var, chi2) = weighted_fit(&x, &y, &w).unwrap();
        assert!(chi2 < 1e-20, "an exact plane leaves no residual: {chi2}");
        for (b, t) in beta.iter().zip([0.5, -2.0, 3.0]) {
            assert!((b - t).abs() < 1e-12, "{beta:?}");
        }
        // One regressor: var(slope) = 1/(w Σ(a − ā)²) by hand (an exact line: no inflation).
        let x1: Vec<Vec<f64>> = [0.0, 1.0, 2.0].iter().map(|&a| vec![1.0, a]).collect();
        let (_, v1, _) = weighted_fit(&x1, &[1.0, 3.0, 5.0], &[100.0; 3]).unwrap();
        assert!((v1[1] - 1.0 / (100.0 * 2.0)).abs() < 1e-12);
        assert!(var.iter().all(|v| v.is_finite() && *v > 0.0));
        let flat: Vec<Vec<f64>> = pts.iter().map(|&(a, _)| vec![1.0, a, 2.0]).collect();
        assert!(weighted_fit(&flat, &y, &w).is_none());
    }
}
