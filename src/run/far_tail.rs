//! A run's far tail on disk and in run.json: `far_tail.npy` `[kept, 3]` float64 (value,
//! chain, step) and `summary.far_tail`, the ladder read from it.

use crate::config::Resolved;
use crate::error::Result;
use crate::io::{StagedDir, write_npy_iter};
use crate::tail::far::{
    Exceedance, FarTail, LadderOptions, PairedRung, Pairing, Recording, TimeSamples, ladder,
    paired_ladder,
};
use serde::{Deserialize, Serialize};

/// `summary.far_tail`: the ladder and how the samples behind it were recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FarTailSummary {
    /// The ladder and its headline (flattened into `summary.far_tail`).
    #[serde(flatten)]
    pub reading: FarTail,
    /// What r is, and its centre.
    pub statistic: String,
    /// The file holding every kept exceedance.
    pub file: String,
    /// The fraction of the burn-in cross-section above the recording threshold.
    pub keep: f64,
    /// The threshold fixed at the end of burn-in (`threshold` is higher where the cap
    /// raised it).
    #[serde(deserialize_with = "crate::tail::far::nan_for_null")]
    pub recording_threshold: f64,
    /// At most this many exceedances kept; when more would be, the threshold is raised to the cap-th largest value.
    pub cap: usize,
    /// The cap was reached: values between `recording_threshold` and `threshold` dropped.
    pub raised: bool,
    /// Chains left out (diverged): their exceedances are dropped and N counts the others.
    pub excluded_chains: usize,
    /// Stationarity on the far tail: the second half of the post-burn-in window against the
    /// first (a = second, b = first) at the fractions of [`HALF_FRACTIONS`], each half read
    /// at its own top p, the same chains resampled in both.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub halves: Vec<PairedRung>,
}

/// The rungs the two halves of the window are compared at.
pub const HALF_FRACTIONS: [f64; 3] = [1e-3, 1e-4, 1e-5];

/// The second half of the window against the first, paired by chain (empty when the
/// window has fewer than 2 steps).
pub fn halves(
    exceedances: &[Exceedance],
    threshold: f64,
    chains: usize,
    last_step: usize,
    window: usize,
    options: &LadderOptions,
) -> Vec<PairedRung> {
    let half = window / 2;
    if half == 0 {
        return Vec::new();
    }
    // Steps are counted from the start: the first half ends `window − half` before the end.
    let cut = (last_step - (window - half)) as u32;
    let (first, second): (Vec<Exceedance>, Vec<Exceedance>) =
        exceedances.iter().partition(|e| e.step <= cut);
    fn set(
        exceedances: &[Exceedance],
        threshold: f64,
        chains: usize,
        steps: usize,
    ) -> TimeSamples<'_> {
        TimeSamples {
            exceedances,
            threshold,
            chains,
            steps,
        }
    }
    paired_ladder(
        &set(&second, threshold, chains, half),
        &set(&first, threshold, chains, window - half),
        &HALF_FRACTIONS,
        Pairing::SameChains,
        options.resamples,
        options.seed,
        options.level,
    )
}

/// Writes `far_tail.npy` and reads the ladder (seeded from the run's seed).
pub fn write_far_tail(
    out: &StagedDir,
    config: &Resolved,
    recording: &Recording,
) -> Result<FarTailSummary> {
    let kept = &recording.kept;
    // Streamed: at 10⁷ exceedances the table would be 240 MB more in memory.
    write_npy_iter(
        &out.path("far_tail.npy"),
        &[kept.exceedances.len(), 3],
        kept.exceedances
            .iter()
            .flat_map(|e| [e.value, f64::from(e.chain), f64::from(e.step)]),
    )?;
    let samples = TimeSamples {
        exceedances: &kept.exceedances,
        threshold: kept.threshold,
        chains: recording.chains,
        steps: recording.steps,
    };
    let options = LadderOptions {
        seed: config.seed,
        ..LadderOptions::default()
    };
    Ok(FarTailSummary {
        reading: ladder(&samples, &options),
        halves: halves(
            &kept.exceedances,
            kept.threshold,
            recording.chains,
            config.steps,
            recording.steps,
            &options,
        ),
        statistic: recording.statistic.clone(),
        file: "far_tail.npy [kept, 3] float64: value r, chain, step (after that many steps)".into(),
        keep: recording.keep,
        recording_threshold: kept.initial_threshold,
        cap: kept.cap,
        raised: kept.raised,
        excluded_chains: recording.excluded_chains,
    })
}

/// The far tail's part of the result line: `far-tail α̂ = … [lo, hi] (…)`, or why there is none.
pub fn far_tail_phrase(far: &FarTailSummary) -> String {
    let r = &far.reading;
    match (r.alpha, r.fraction) {
        (Some(a), Some(p)) => {
            let rung = r.ladder.iter().find(|x| x.fraction == p);
            let ci = match (r.alpha_lo, r.alpha_hi) {
                (Some(lo), Some(hi)) => {
                    format!(
                        " [{lo:.3}, {hi:.3}] ({:.0} %, chain bootstrap)",
                        100.0 * r.level
                    )
                }
                _ => String::new(),
            };
            let behind = rung.map_or(String::new(), |x| {
                format!(", {:.0} clusters from {} chains", x.clusters, x.chains)
            });
            format!(
                "far-tail α̂ = {a:.3}{ci} (Hill above the top {p:e} of {} time samples{behind})",
                sci(r.samples as f64)
            )
        }
        _ => format!(
            "no far-tail α̂ ({})",
            r.reason.as_deref().unwrap_or("no rung qualifies")
        ),
    }
}

/// `1.6·10⁶`.
fn sci(x: f64) -> String {
    if x <= 0.0 {
        return "0".into();
    }
    let e = x.log10().floor() as i32;
    let m = x / 10f64.powi(e);
    let sup: String = e
        .to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            d => "⁰¹²³⁴⁵⁶⁷⁸⁹"
                .chars()
                .nth(d.to_digit(10).unwrap_or(0) as usize)
                .unwrap_or('?'),
        })
        .collect();
    format!("{m:.1}·10{sup}")
}
