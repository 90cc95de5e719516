//! The threshold-stability figure of a run's far tail: α̂ (Hill and GPD, with their
//! chain-bootstrap intervals) against the exceedance fraction, the theory's α as a line,
//! and the final-iterate fit as a marker at the fraction of the chains it fits.

use super::plot::{Chart, Series, draw};
use crate::error::{Error, Result};
use crate::run::RunRecord;
use std::path::{Path, PathBuf};

/// The chart of `record`'s far tail; an error naming the run when it recorded none.
pub fn far_tail_chart(record: &RunRecord, run: &Path) -> Result<Chart> {
    let far = record
        .summary
        .far_tail
        .as_ref()
        .ok_or_else(|| Error::Input {
            path: run.join("run.json"),
            message: "this run recorded no far tail (`far_tail`: on for the gate and the linear \
                  model with ≥ 1000 steps after burn-in; `--far-tail` forces it)"
                .into(),
        })?;
    let ladder = &far.reading.ladder;
    let theory = record.summary.theory.as_ref().and_then(|t| t.alpha);
    let fit = record.summary.tail.estimates.get("powerlaw");
    let final_point = match (record.summary.tail.alpha, fit.and_then(|e| e.n_tail)) {
        (Some(a), Some(n)) => {
            let p = n as f64 / record.summary.tail.estimated_chains.max(1) as f64;
            Some((
                p.log10(),
                a,
                record.summary.tail.alpha_ci.map(|[l, h]| (l, h)),
            ))
        }
        _ => None,
    };
    // Intervals clipped to a readable range; an unbounded GPD interval runs to the top.
    let mut top: f64 = 1.0;
    for r in ladder {
        // The GPD's upper ends are often far out: they run off the top, not stretch the axis.
        for v in [Some(r.hill), r.hill_hi, r.gpd_alpha].into_iter().flatten() {
            top = top.max(v);
        }
    }
    top = top
        .max(theory.unwrap_or(0.0))
        .max(final_point.map_or(0.0, |p| p.1));
    let top = (top * 1.25).min(10.0);
    let hill: Vec<_> = ladder
        .iter()
        .map(|r| {
            let ci = r.hill_lo.zip(r.hill_hi);
            (r.fraction.log10(), r.hill, ci)
        })
        .collect();
    let gpd: Vec<_> = ladder
        .iter()
        .filter_map(|r| {
            let a = r.gpd_alpha?;
            let ci = r.gpd_lo.map(|lo| (lo, r.gpd_hi.unwrap_or(top)));
            // Beside Hill's marker, not on it.
            Some((r.fraction.log10() + 0.08, a, ci))
        })
        .collect();
    let mut series = vec![
        Series {
            label: "Hill above the rung (95 % chain bootstrap)".into(),
            points: hill,
            line: true,
            color: 0,
            filled: true,
        },
        Series {
            label: "GPD MLE, α = 1/ξ".into(),
            points: gpd,
            line: false,
            color: 3,
            filled: false,
        },
    ];
    if let Some(p) = final_point {
        series.push(Series {
            label: "final-iterate power-law fit (at its n_tail/N)".into(),
            points: vec![p],
            line: false,
            color: 1,
            filled: true,
        });
    }
    let lowest = ladder
        .iter()
        .map(|r| r.fraction.log10())
        .fold(-3.0f64, f64::min);
    let highest = final_point.map_or(-3.0, |p| p.0).max(-3.0);
    Ok(Chart {
        title: format!(
            "Far tail: α̂ against the exceedance fraction ({} chains × {} steps){}",
            far.reading.chains,
            far.reading.steps,
            theory.map_or(String::new(), |a| format!("; line: theory α = {a:.3}"))
        ),
        x_label: "log₁₀ p (top fraction of chains × steps; final fit: of the chains)".into(),
        y_label: "α̂".into(),
        series,
        h_line: theory,
        y_range: Some((0.0, top)),
        x_range: Some((lowest - 0.4, highest + 0.4)),
    })
}

/// Draws the figure of the run in `run` as `<stem>.png` and `.svg` (default
/// `RUN/far_tail`); returns the two paths.
pub fn plot_far_tail(run: &Path, stem: Option<&Path>) -> Result<[PathBuf; 2]> {
    let record = RunRecord::read(run)?;
    let chart = far_tail_chart(&record, run)?;
    let stem = stem.map_or_else(|| run.join("far_tail"), Path::to_path_buf);
    draw(&chart, &stem)
}
