//! The tail of any model's weights, tensor by tensor (`tailgate analyze`): the power-law
//! fit with its goodness of fit, Hill on a ladder of top fractions, each with its interval,
//! and a verdict that never calls a rejected fit a tail index.

use crate::estimate::{CenterChoice, EstimateOptions, EstimateReport, EstimatorChoice, estimate};
use crate::tail::{Rows, TailError, center_in_place};
use serde::Serialize;

/// One weight tensor as read from a checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Its name in the checkpoint (`fc1.weight`, `arr_0`, …).
    pub name: String,
    /// Its shape, outermost first.
    pub shape: Vec<usize>,
    /// Its stored element type (`F32`, `BF16`, `float64`, …).
    pub dtype: String,
    /// Its values, row-major, widened to f64.
    pub values: Vec<f64>,
}

/// The top fractions of |w − centre| at which Hill is read: a slope over each range, so a
/// reader sees whether it settles as the range narrows.
pub const LADDER: [f64; 3] = [1e-1, 1e-2, 1e-3];
/// Hill needs at least this many values above a rung's threshold.
pub const MIN_TOP: usize = 50;
/// Goodness-of-fit p-values below this reject the power law.
pub const REJECT_BELOW: f64 = 0.1;

/// How each tensor is analysed.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzeOptions {
    /// Tensors with fewer elements are listed, not estimated.
    pub min_elements: usize,
    /// The centre taken off every weight before |w − centre| (`mean`, `median`, `none`).
    pub center: CenterChoice,
    /// Half-sample subsamples of every interval (0: none).
    pub subsamples: usize,
    /// Synthetic samples of the power-law goodness-of-fit test (0: no p-value, no verdict
    /// on the fit).
    pub gof_resamples: usize,
    /// Level of every interval.
    pub ci: f64,
    /// Seed of every resampling.
    pub seed: u64,
}

impl Default for AnalyzeOptions {
    fn default() -> Self {
        AnalyzeOptions {
            min_elements: crate::estimate::MIN_SAMPLES,
            center: CenterChoice::Median,
            subsamples: 100,
            gof_resamples: 50,
            ci: 0.95,
            seed: 0,
        }
    }
}

/// What the numbers of one tensor allow to be said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The power law above `xmin` is not rejected: `alpha` is the fit's tail index.
    PowerLaw,
    /// The power law is rejected (p < 0.1): there is no tail index, only slopes.
    Rejected,
    /// No goodness of fit was run (`gof_resamples` = 0): the fit is unchecked.
    Unchecked,
    /// Too few elements, non-finite values, or every value equal: nothing estimated.
    NotEstimated,
}

impl Status {
    /// Its name in JSON and CSV.
    pub fn name(self) -> &'static str {
        match self {
            Status::PowerLaw => "power_law",
            Status::Rejected => "rejected",
            Status::Unchecked => "unchecked",
            Status::NotEstimated => "not_estimated",
        }
    }
}

/// Hill at one rung of [`LADDER`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rung {
    /// The top fraction of the values above the rung's threshold.
    pub fraction: f64,
    /// Values above it (Hill's k).
    pub k: usize,
    /// Hill's α̂ over the range.
    pub alpha: Option<f64>,
    /// The interval's lower end (half-sample subsampling at this k).
    pub lo: Option<f64>,
    /// The interval's upper end.
    pub hi: Option<f64>,
}

/// One tensor's analysis: a row of the table, an object of the JSON, a line of the CSV.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TensorReport {
    /// The tensor's name.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its stored element type.
    pub dtype: String,
    /// Its number of elements.
    pub elements: usize,
    /// What the numbers allow.
    pub status: Status,
    /// The one-line verdict.
    pub verdict: String,
    /// The power-law fit's tail index; `null` unless `status` is `power_law` or
    /// `unchecked` (a rejected fit has no α).
    pub alpha: Option<f64>,
    /// Its interval's lower end.
    pub alpha_lo: Option<f64>,
    /// Its interval's upper end.
    pub alpha_hi: Option<f64>,
    /// The fit's threshold on |w − centre|.
    pub xmin: Option<f64>,
    /// Values at or above `xmin`.
    pub n_tail: Option<usize>,
    /// The KS distance at `xmin`.
    pub ks: Option<f64>,
    /// The goodness-of-fit p-value.
    pub p_value: Option<f64>,
    /// The exponent the rejected fit would have given (for diagnosis; not a tail index).
    pub rejected_fit_exponent: Option<f64>,
    /// Hill on the ladder of top fractions.
    pub hill: Vec<Rung>,
    /// The centre taken off: `mean`, `median` or `none`.
    pub center: &'static str,
}

/// Analyses every tensor, in order.
pub fn analyze(tensors: &[Tensor], options: &AnalyzeOptions) -> Vec<TensorReport> {
    tensors.iter().map(|t| analyze_tensor(t, options)).collect()
}

/// Analyses one tensor: its values pooled into one sample of |w − centre|.
pub fn analyze_tensor(t: &Tensor, options: &AnalyzeOptions) -> TensorReport {
    let mut report = TensorReport {
        name: t.name.clone(),
        shape: t.shape.clone(),
        dtype: t.dtype.clone(),
        elements: t.values.len(),
        status: Status::NotEstimated,
        verdict: String::new(),
        alpha: None,
        alpha_lo: None,
        alpha_hi: None,
        xmin: None,
        n_tail: None,
        ks: None,
        p_value: None,
        rejected_fit_exponent: None,
        hill: Vec::new(),
        center: options.center.center().name(),
    };
    let n = t.values.len();
    if n == 0 {
        report.verdict = format!("skipped: {} is not a floating-point type", t.dtype);
        return report;
    }
    if n < options.min_elements.max(2) {
        report.verdict = format!(
            "not estimated: {n} elements, fewer than min_elements = {}",
            options.min_elements
        );
        return report;
    }
    if let Some(bad) = t.values.iter().find(|v| !v.is_finite()) {
        report.verdict = format!("not estimated: a non-finite weight ({bad})");
        return report;
    }
    // Centred once: every estimator below then reads the same |w − centre|.
    let centered = match Rows::new(t.values.clone(), 1)
        .and_then(|rows| center_in_place(rows, &options.center.center()))
    {
        Ok(rows) => rows,
        Err(e) => {
            report.verdict = format!("not estimated: {e}");
            return report;
        }
    };
    let fit = match run(&centered, options, "powerlaw", None) {
        Ok(r) => r,
        Err(e) => {
            report.verdict = format!("not estimated: {e}");
            return report;
        }
    };
    report.xmin = fit.xmin;
    report.n_tail = fit.n_tail;
    report.ks = fit.ks;
    report.p_value = fit.p_value;
    report.hill = LADDER
        .iter()
        .filter_map(|&fraction| {
            let k = (fraction * n as f64).floor() as usize;
            (k >= MIN_TOP && k < n).then(|| {
                let r = run(&centered, options, "hill", Some(k)).ok();
                let alpha = r.as_ref().and_then(|r| r.alpha);
                let ci = r.as_ref().and_then(|r| r.ci.as_ref());
                Rung {
                    fraction,
                    k,
                    alpha,
                    lo: ci.map(|c| c.lo),
                    hi: ci.map(|c| c.hi),
                }
            })
        })
        .collect();
    let slopes = report
        .hill
        .iter()
        .filter_map(|r| Some(format!("{:.2} at top {}", r.alpha?, pct(r.fraction))))
        .collect::<Vec<_>>()
        .join(", ");
    let slopes = if slopes.is_empty() {
        String::new()
    } else {
        format!("; Hill slopes {slopes}")
    };
    match (fit.alpha, fit.p_value) {
        (None, _) => {
            report.verdict = format!(
                "no power-law exponent: {}{slopes}",
                fit.reason.as_deref().unwrap_or("the fit failed")
            );
        }
        (Some(a), Some(p)) if p < REJECT_BELOW => {
            report.status = Status::Rejected;
            report.rejected_fit_exponent = Some(a);
            report.verdict = format!(
                "power law rejected (p = {p:.2} < {REJECT_BELOW}): no tail index{slopes} (slopes over finite ranges, not α)"
            );
        }
        (Some(a), p) => {
            report.alpha = Some(a);
            report.alpha_lo = fit.ci.as_ref().map(|c| c.lo);
            report.alpha_hi = fit.ci.as_ref().map(|c| c.hi);
            let ci = match (report.alpha_lo, report.alpha_hi) {
                (Some(lo), Some(hi)) => format!(" [{lo:.2}, {hi:.2}]"),
                _ => String::new(),
            };
            let tail = fit.n_tail.unwrap_or(0);
            match p {
                Some(p) => {
                    report.status = Status::PowerLaw;
                    report.verdict = format!(
                        "power law not rejected (p = {p:.2}) above xmin, {tail} of {n} values: α = {a:.2}{ci}{slopes}"
                    );
                }
                None => {
                    report.status = Status::Unchecked;
                    report.verdict = format!(
                        "power-law fit α = {a:.2}{ci} over {tail} of {n} values, goodness of fit not run{slopes}"
                    );
                }
            }
        }
    }
    report
}

/// `1 %`, `0.1 %`.
fn pct(fraction: f64) -> String {
    let p = fraction * 100.0;
    if p >= 1.0 {
        format!("{p:.0} %")
    } else {
        format!("{p} %")
    }
}

/// One estimator on the tensor's already centred values, as scalars.
fn run(
    centered: &Rows,
    options: &AnalyzeOptions,
    name: &str,
    k: Option<usize>,
) -> Result<EstimateReport, TailError> {
    let estimate_options = EstimateOptions {
        estimator: EstimatorChoice::named(name).expect("registered"),
        k,
        center: CenterChoice::None,
        ci: options.ci,
        subsamples: options.subsamples,
        seed: options.seed,
        min_samples: options.min_elements.max(2),
        gof_resamples: options.gof_resamples,
        ..EstimateOptions::default()
    };
    estimate(centered.clone(), &estimate_options, &|| {}).map(|mut v| v.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tail::sample_symmetric_stable;

    fn tensor(values: Vec<f64>) -> Tensor {
        Tensor {
            name: "w".into(),
            shape: vec![values.len()],
            dtype: "F64".into(),
            values,
        }
    }

    fn quick() -> AnalyzeOptions {
        AnalyzeOptions {
            subsamples: 20,
            gof_resamples: 20,
            ..AnalyzeOptions::default()
        }
    }

    /// Symmetric Pareto(1.5) weights: the fit is not rejected and reads α near 1.5.
    #[test]
    fn a_pareto_tensor_reads_its_alpha() {
        let mut rng = crate::tail::stream(3, "analyze-test", 0);
        let values: Vec<f64> = (0..20_000)
            .map(|i| {
                let u: f64 = rand::RngExt::random(&mut rng);
                let s = if i % 2 == 0 { 1.0 } else { -1.0 };
                s * (1.0 - u).powf(-1.0 / 1.5)
            })
            .collect();
        let r = analyze_tensor(&tensor(values), &quick());
        assert_eq!(r.status, Status::PowerLaw, "{}", r.verdict);
        let a = r.alpha.unwrap();
        assert!((a - 1.5).abs() < 0.15, "{a}: {}", r.verdict);
        assert!(r.verdict.contains("α = "), "{}", r.verdict);
        // 10⁻³ of 20 000 is 20 values, fewer than MIN_TOP: that rung is left out.
        assert_eq!(r.hill.iter().map(|h| h.k).collect::<Vec<_>>(), [2000, 200]);
    }

    /// Gaussian weights: the power law is rejected, and no α is reported — only slopes.
    #[test]
    fn a_gaussian_tensor_is_never_given_an_alpha() {
        let values = sample_symmetric_stable(2.0, 20_000, 5);
        let r = analyze_tensor(&tensor(values), &quick());
        assert_eq!(r.status, Status::Rejected, "{}", r.verdict);
        assert_eq!(r.alpha, None);
        assert!(r.rejected_fit_exponent.is_some());
        assert!(r.verdict.contains("no tail index"), "{}", r.verdict);
    }

    #[test]
    fn small_and_non_finite_tensors_are_not_estimated() {
        let r = analyze_tensor(&tensor(vec![1.0; 10]), &quick());
        assert_eq!(r.status, Status::NotEstimated);
        assert!(r.verdict.contains("min_elements"), "{}", r.verdict);
        let mut v = sample_symmetric_stable(1.5, 1000, 1);
        v[7] = f64::NAN;
        let r = analyze_tensor(&tensor(v), &quick());
        assert_eq!(r.status, Status::NotEstimated);
        assert!(r.verdict.contains("non-finite"), "{}", r.verdict);
    }
}
