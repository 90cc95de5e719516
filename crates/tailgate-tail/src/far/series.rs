//! A user's time series of a scalar statistic, `[steps, chains]` or `[chains, steps]`: its
//! post-burn-in exceedances over the exact top `keep` fraction of the samples.

use super::{Exceedance, FarTail, LadderOptions, TimeSamples, ladder};
use crate::TailError;

/// How a 2-D series is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// Rows are steps, columns chains (`[steps, chains]`).
    #[default]
    StepsChains,
    /// Rows are chains, columns steps (`[chains, steps]`).
    ChainsSteps,
}

/// The exceedances of a series `values` (row-major, `rows × cols`) after `burn_in` steps
/// over the threshold that the top `keep` of the post-burn-in samples exceed, with that
/// threshold, the chains and the steps counted.
pub fn exceedances_of_series(
    values: &[f64],
    [rows, cols]: [usize; 2],
    layout: Layout,
    burn_in: usize,
    keep: f64,
) -> Result<(Vec<Exceedance>, f64, usize, usize), TailError> {
    let (steps, chains) = match layout {
        Layout::StepsChains => (rows, cols),
        Layout::ChainsSteps => (cols, rows),
    };
    if values.len() != rows * cols {
        return Err(TailError::ShapeMismatch {
            what: "the series".into(),
            got: values.len(),
            expected: rows * cols,
        });
    }
    if chains < 2 {
        return Err(TailError::Invalid(format!(
            "{chains} chain(s): the chain bootstrap needs at least 2 (is the layout right? --layout)"
        )));
    }
    if burn_in >= steps {
        return Err(TailError::Invalid(format!(
            "burn-in {burn_in} leaves no steps of the {steps}"
        )));
    }
    if !(keep > 0.0 && keep < 1.0) {
        return Err(TailError::Invalid(format!(
            "keep fraction {keep} must lie in (0, 1)"
        )));
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(TailError::NonFinite {
            row: i / cols,
            col: i % cols,
        });
    }
    let at = |chain: usize, step: usize| match layout {
        Layout::StepsChains => values[step * cols + chain],
        Layout::ChainsSteps => values[chain * cols + step],
    };
    let kept_steps = steps - burn_in;
    let total = chains * kept_steps;
    let mut all: Vec<f64> = (0..chains)
        .flat_map(|c| (burn_in..steps).map(move |s| (c, s)))
        .map(|(c, s)| at(c, s))
        .collect();
    let k = ((keep * total as f64).round() as usize).clamp(1, total - 1);
    all.select_nth_unstable_by(k, |a, b| b.total_cmp(a));
    let threshold = all[k];
    if threshold.is_nan() || threshold <= 0.0 {
        return Err(TailError::Invalid(format!(
            "the top {keep} of the samples reach down to {threshold}: the far tail needs a positive \
             threshold (pass a magnitude, e.g. |x − centre|)"
        )));
    }
    let mut out = Vec::new();
    for chain in 0..chains {
        for step in burn_in..steps {
            let value = at(chain, step);
            if value > threshold {
                out.push(Exceedance {
                    value,
                    chain: chain as u32,
                    step: step as u32,
                });
            }
        }
    }
    Ok((out, threshold, chains, kept_steps))
}

/// The far-tail ladder of a series: [`exceedances_of_series`] read by [`ladder`] — what
/// `tailgate estimate --far-tail` and Python's `far_tail` return.
pub fn far_tail_of_series(
    values: &[f64],
    shape: [usize; 2],
    layout: Layout,
    burn_in: usize,
    keep: f64,
    options: &LadderOptions,
) -> Result<FarTail, TailError> {
    let (exceedances, threshold, chains, steps) =
        exceedances_of_series(values, shape, layout, burn_in, keep)?;
    let samples = TimeSamples {
        exceedances: &exceedances,
        threshold,
        chains,
        steps,
    };
    Ok(ladder(&samples, options))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_layouts_give_the_same_exceedances() {
        let (steps, chains) = (50, 4);
        let v: Vec<f64> = (0..steps * chains)
            .map(|i| ((i * 37) % 101) as f64 + 1.0)
            .collect();
        let mut t = vec![0.0; v.len()];
        for s in 0..steps {
            for c in 0..chains {
                t[c * steps + s] = v[s * chains + c];
            }
        }
        let a = exceedances_of_series(&v, [steps, chains], Layout::StepsChains, 10, 0.1).unwrap();
        let b = exceedances_of_series(&t, [chains, steps], Layout::ChainsSteps, 10, 0.1).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.0.len(), 16, "the top 10 % of 160 samples");
        assert!(a.0.iter().all(|e| e.step >= 10));
    }

    #[test]
    fn bad_input_is_refused_with_its_reason() {
        let v = vec![1.0; 20];
        let e = |r: Result<_, TailError>| r.unwrap_err().to_string();
        assert!(
            e(exceedances_of_series(
                &v,
                [20, 1],
                Layout::StepsChains,
                0,
                0.1
            ))
            .contains("chain")
        );
        assert!(
            e(exceedances_of_series(
                &v,
                [10, 2],
                Layout::StepsChains,
                10,
                0.1
            ))
            .contains("burn-in")
        );
        assert!(
            e(exceedances_of_series(
                &v,
                [10, 2],
                Layout::StepsChains,
                0,
                1.0
            ))
            .contains("keep")
        );
        let mut n = v.clone();
        n[7] = f64::NAN;
        assert!(
            e(exceedances_of_series(
                &n,
                [10, 2],
                Layout::StepsChains,
                0,
                0.1
            ))
            .contains("row 3, column 1")
        );
    }
}
