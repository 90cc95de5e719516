//! Stationarity on the far tail: each window's second half against its first (same chains,
//! paired bootstrap), pooled into a drift test per arm, and a heavy-tailed start meeting the
//! normal start from above.

use super::{Arm, Design, Estimate, PAIR_RESAMPLES, Section, exceedances, ladder_points, samples};
use crate::config::Init;
use crate::error::Result;
use crate::io::StagedDir;
use crate::report::charts::embed;
use crate::report::plot::{Chart, Series};
use crate::tail::far::{Pairing, paired_ladder};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Halves read where each half has at least this many chains above its threshold.
const MIN_HALF_CHAINS: usize = 100;

/// The drift test of one arm at one fraction: Δ = second − first half over its cells.
struct Drift {
    cells: usize,
    covering_zero: usize,
    /// Inverse-variance mean of Δ with its 95 % interval.
    mean: Option<Estimate>,
}

fn drift(design: &Design, arm: Arm, fraction: f64, small: bool) -> Drift {
    let mut parts = Vec::new();
    for ((point, a, init, law), cells) in &design.cells {
        if *a != arm
            || *init != Init::Normal
            || *law != crate::config::NoiseLaw::Normal
            || (point.dim <= 10) != small
        {
            continue;
        }
        for c in cells {
            let Some(far) = c.run.summary.far_tail.as_ref() else {
                continue;
            };
            for h in &far.halves {
                if h.fraction != fraction || h.chains_a.min(h.chains_b) < MIN_HALF_CHAINS {
                    continue;
                }
                if let (Some(lo), Some(hi)) = (h.diff_lo, h.diff_hi) {
                    parts.push(Estimate {
                        value: h.diff,
                        lo,
                        hi,
                        n: 1,
                    });
                }
            }
        }
    }
    let covering_zero = parts.iter().filter(|p| p.lo <= 0.0 && p.hi >= 0.0).count();
    let weights: Vec<f64> = parts
        .iter()
        .map(|p| 1.0 / p.se().powi(2).max(1e-12))
        .collect();
    let total: f64 = weights.iter().sum();
    let mean = (!parts.is_empty()).then(|| {
        let m = parts
            .iter()
            .zip(&weights)
            .map(|(p, w)| p.value * w)
            .sum::<f64>()
            / total;
        let se = total.sqrt().recip();
        Estimate {
            value: m,
            lo: m - 1.96 * se,
            hi: m + 1.96 * se,
            n: parts.len(),
        }
    });
    Drift {
        cells: parts.len(),
        covering_zero,
        mean,
    }
}

pub fn section(design: &Design, staged: &StagedDir, files: &mut Vec<PathBuf>) -> Result<Section> {
    let mut body = String::from("## Stationarity on the far tail\n\n");
    body.push_str(
        "Each cell's post-burn-in window is cut in two; Hill's α̂ is read at the top p of each \
         half's own samples and the second half's minus the first's is bootstrapped over the \
         same chains (`halves_*` in summary.csv). A cell enters at a fraction where each half \
         has ≥ 100 chains above its threshold. Per arm, the inverse-variance mean of Δ is the \
         drift test: an unsettled tail shows as a mean away from 0 (in either direction), \
         which overlapping intervals of single cells would hide.\n\n",
    );
    body.push_str("| arm | d | p | cells | intervals covering 0 | mean Δ (second − first) [95 %] |\n|---|---|---:|---:|---:|---|\n");
    let mut findings = Vec::new();
    let mut worst: Option<(Arm, f64, Estimate)> = None;
    let (mut inside, mut total, mut moving) = (0, 0, Vec::new());
    for arm in [Arm::GateSgd, Arm::GateKm, Arm::Linear] {
        for (small, range) in [(true, "≤ 10"), (false, "≥ 20")] {
            for p in [1e-3, 1e-4] {
                let d = drift(design, arm, p, small);
                let Some(m) = d.mean else { continue };
                let _ = writeln!(
                    body,
                    "| {} | {range} | {p:e} | {} | {} | {:+.3} [{:+.3}, {:+.3}] |",
                    arm.name(),
                    d.cells,
                    d.covering_zero,
                    m.value,
                    m.lo,
                    m.hi
                );
                total += 1;
                if m.lo >= -super::MARGIN && m.hi <= super::MARGIN {
                    inside += 1;
                }
                if m.lo > 0.0 || m.hi < 0.0 {
                    moving.push(format!(
                        "{} d {range} p = {p:e} {:+.3} [{:+.3}, {:+.3}]",
                        arm.name(),
                        m.value,
                        m.lo,
                        m.hi
                    ));
                }
                if worst.is_none_or(|w: (Arm, f64, Estimate)| m.value.abs() > w.2.value.abs()) {
                    worst = Some((arm, p, m));
                }
            }
        }
    }
    body.push('\n');
    if worst.is_some() {
        findings.push(format!(
            "- **Stationarity (halves of each window, pooled per arm and d range)**: the pooled \
             drift's interval lies within ±δ in {inside} of {total} rows; it excludes 0 in {}{}.",
            moving.len(),
            if moving.is_empty() {
                String::new()
            } else {
                format!(
                    " — {} — so the tail was still moving there and those cells' α̂ is not \
                     shown stationary",
                    moving.join("; ")
                )
            }
        ));
    }
    let (heavy_body, heavy_findings) = heavy_start(design, staged, files)?;
    body.push_str(&heavy_body);
    findings.extend(heavy_findings);
    Ok(Section { body, findings })
}

/// The `pareto` cells against their `normal` twins (same config and seed otherwise).
fn heavy_start(
    design: &Design,
    staged: &StagedDir,
    files: &mut Vec<PathBuf>,
) -> Result<(String, Vec<String>)> {
    let mut body = String::new();
    let mut findings = Vec::new();
    let mut series = Vec::new();
    let mut rows = Vec::new();
    let mut csv_rows = vec![
        "arm,d,b,eta,seed,fraction,hill_normal,hill_pareto,diff,diff_lo,diff_hi,chains_normal,chains_pareto"
            .to_string(),
    ];
    for ((point, arm, init, _), heavy) in &design.cells {
        if *init != Init::Pareto {
            continue;
        }
        let Some(h) = heavy.first() else { continue };
        let Some(n) = design
            .arm(*point, *arm)
            .iter()
            .find(|c| c.config().seed == h.config().seed)
        else {
            continue;
        };
        let (eh, en) = (exceedances(h)?, exceedances(n)?);
        let (Some(sh), Some(sn)) = (samples(h, &eh), samples(n, &en)) else {
            continue;
        };
        let rungs = paired_ladder(
            &sh,
            &sn,
            &[1e-3, 1e-4],
            Pairing::Independent,
            PAIR_RESAMPLES,
            h.config().seed,
            0.95,
        );
        let label = format!(
            "{}, d = {}, b = {}, η = {:.4}",
            arm.name(),
            point.dim,
            point.batch,
            point.eta()
        );
        for r in &rungs {
            let opt = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
            csv_rows.push(format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{}",
                arm.name(),
                point.dim,
                point.batch,
                point.eta(),
                h.config().seed,
                r.fraction,
                r.hill_b,
                r.hill_a,
                r.diff,
                opt(r.diff_lo),
                opt(r.diff_hi),
                r.chains_b,
                r.chains_a
            ));
            rows.push(format!(
                "| {label} | {:e} | {:.2} | {:.2} | {:+.2} [{}, {}] | {} |",
                r.fraction,
                r.hill_b,
                r.hill_a,
                r.diff,
                fmt(r.diff_lo),
                fmt(r.diff_hi),
                halves_of(h, r.fraction)
            ));
        }
        if let Some(r) = rungs.first() {
            findings.push(format!(
                "- **Heavy-tailed start** ({label}): at p = 10⁻³ it reads {:.2} against the \
                 normal start's {:.2}, Δ {:+.2} [{}, {}] — {}{}{}.",
                r.hill_a,
                r.hill_b,
                r.diff,
                fmt(r.diff_lo),
                fmt(r.diff_hi),
                meeting(r.diff_lo, r.diff_hi),
                rungs
                    .get(1)
                    .map(|q| format!(
                        "; at 10⁻⁴ Δ {:+.2} [{}, {}]",
                        q.diff,
                        fmt(q.diff_lo),
                        fmt(q.diff_hi)
                    ))
                    .unwrap_or_default(),
                still_moving(h, r.fraction)
            ));
        }
        for (cell, start, color) in [
            (n, "normal start", series.len()),
            (h, "pareto start", series.len() + 1),
        ] {
            if cell.run.summary.far_tail.is_none() {
                continue;
            }
            series.push(Series {
                label: format!("{label}, {start}"),
                points: ladder_points(cell),
                line: true,
                color,
                filled: start == "normal start",
            });
        }
    }
    if rows.is_empty() {
        return Ok((body, findings));
    }
    body.push_str(
        "### A heavy-tailed start\n\nA second set of chains starts from `init: pareto` (radius \
         init_std·P, P Pareto of index 1 truncated to [1, 1000]: a start spread over three \
         decades of radius, far beyond the stationary bulk) and is read like its normal-start twin (same config and seed; independent \
         chains, so the interval is an unpaired chain bootstrap). If the window is \
         stationary, both read the same; the heavy start's own halves show whether it was \
         still coming down.\n\n",
    );
    body.push_str("| cell | p | normal start | pareto start | pareto − normal [95 %] | pareto halves Δ [95 %] |\n|---|---:|---:|---:|---|---|\n");
    for r in rows {
        body.push_str(&r);
        body.push('\n');
    }
    body.push_str("\nThe rows are in `heavy_start.csv`.\n\n");
    super::write_table(staged, "heavy_start.csv", &csv_rows, files)?;
    let chart = Chart {
        title: "Heavy-tailed vs normal start: Hill α̂ against the exceedance fraction".into(),
        x_label: "log₁₀ exceedance fraction p".into(),
        y_label: "Hill α̂ (95 % chain bootstrap)".into(),
        series,
        h_line: None,
        y_range: Some((0.0, 4.0)),
        x_range: None,
    };
    embed(
        &chart,
        &staged.path("stationarity_heavy_start"),
        &mut body,
        files,
    )?;
    Ok((body, findings))
}

/// What an interval of pareto − normal says, read against the margin: only an interval
/// inside ±δ shows the two starts agree; one covering 0 but wider only fails to tell them
/// apart.
fn meeting(lo: Option<f64>, hi: Option<f64>) -> String {
    match lo.zip(hi) {
        Some((lo, hi)) if lo >= -super::MARGIN && hi <= super::MARGIN => {
            format!("the two starts agree within ±δ = {}", super::MARGIN)
        }
        Some((lo, hi)) if lo <= 0.0 && hi >= 0.0 => format!(
            "not told apart, but the interval (half-width {:.2}) is too wide to show they \
             agree",
            (hi - lo) / 2.0
        ),
        Some(_) => "the two starts have not met".into(),
        None => "no interval".into(),
    }
}

/// The heavy start's own halves, where they show it still moving.
fn still_moving(c: &crate::report::cells::CellResult, p: f64) -> String {
    c.run
        .summary
        .far_tail
        .as_ref()
        .and_then(|f| f.halves.iter().find(|h| h.fraction == p))
        .and_then(|h| {
            let (lo, hi) = h.diff_lo.zip(h.diff_hi)?;
            (lo > 0.0 || hi < 0.0).then(|| {
                format!(
                    "; but its own window's halves drift {:+.2} [{:+.2}, {:+.2}]: the heavy \
                     start had not settled, so this check failed",
                    h.diff, lo, hi
                )
            })
        })
        .unwrap_or_default()
}

fn halves_of(c: &crate::report::cells::CellResult, p: f64) -> String {
    c.run
        .summary
        .far_tail
        .as_ref()
        .and_then(|f| f.halves.iter().find(|h| h.fraction == p))
        .map(|h| format!("{:+.2} [{}, {}]", h.diff, fmt(h.diff_lo), fmt(h.diff_hi)))
        .unwrap_or_else(|| "—".into())
}

pub fn fmt(x: Option<f64>) -> String {
    x.map(|v| format!("{v:+.2}")).unwrap_or_else(|| "—".into())
}
