//! The far-tail report's header, the threshold-stability figure, and the far tail set
//! against the final-iterate slope (the pre-asymptotic finding it replaces).

use super::{Arm, Design, MARGIN, headline, heaviest, ladder_points};
use crate::config::Init;
use crate::error::Result;
use crate::io::StagedDir;
use crate::report::cells::CellResult;
use crate::report::charts::embed_figure;
use crate::report::plot::{Chart, Figure, Series};
use crate::sweep::StudyRecord;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;

pub fn header(record: &StudyRecord, cells: &[CellResult], design: &Design) -> String {
    let mut md = String::new();
    let wall: f64 = cells.iter().map(|c| c.run.summary.wall_seconds).sum();
    let seeds: BTreeSet<u64> = cells.iter().map(|c| c.config().seed).collect();
    let _ = writeln!(
        md,
        "{} of {} cells finished; tailgate {}. Wall time: the cells' simulations sum to \
         {:.1} min; {} (the sweep's and this report's timings, with machine and command, are \
         in the project's BENCHMARKS.md). Every number below is computed from the cells' \
         `run.json`, `far_tail.npy` and `coords.npy`: one row per cell in `summary.csv`, \
         the paired SGD − KM readings in `pairs.csv`, the heavy start in \
         `heavy_start.csv`, the local exponents in `local_exponent.csv`.\n",
        cells.len(),
        record.cells.len(),
        env!("CARGO_PKG_VERSION"),
        wall / 60.0,
        sweep_span(cells)
            .map(|m| format!(
                "the sweep wrote its first cell's run.json {m:.1} min before its last, \
                 simulation and estimation together"
            ))
            .unwrap_or_else(|| "the cells' write times could not be read".into())
    );
    let _ = writeln!(
        md,
        "- **Design**: gate SGD, gate KM and linear regression at identical (d, b, η), \
         realizable labels with N(0, 1) noise σ = 1, x ~ N(0, I), the reduced engine; seeds \
         {:?} (independent; SGD and KM of one seed share their streams, so they pair chain by \
         chain). Points (d, b): {}.",
        seeds,
        design
            .points()
            .iter()
            .map(|p| (p.dim, p.batch))
            .collect::<BTreeSet<_>>()
            .iter()
            .map(|(d, b)| format!("({d}, {b})"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(rule) = &record.study.length {
        let _ = writeln!(
            md,
            "- **Run length from the theory**: burn-in = log₁₀(1/p)/max(α*, 1) · ln 10/μ \
             steps for p = {:e}, μ the tilted drift E[‖Me₁‖^α log‖Me₁‖] at the predicted \
             root α* (after T steps the tail is in equilibrium up to about bulk·e^{{μT}}), \
             clamped to [{}, {}]; the window after it is as long again (≥ {}). A rung deeper \
             than the fraction e^{{−α*·μ·burn-in}} is not in equilibrium and is never used \
             (`equilibrium_fraction` in summary.csv).",
            rule.deepest_fraction, rule.min_burn_in, rule.max_burn_in, rule.min_window
        );
    }
    let mut kinds: BTreeSet<(usize, usize, usize, usize, usize)> = BTreeSet::new();
    for c in cells {
        let cfg = c.config();
        kinds.insert((
            cfg.dim,
            cfg.batch,
            cfg.chains,
            cfg.burn_in.unwrap_or_default(),
            cfg.steps,
        ));
    }
    let mut by_db: std::collections::BTreeMap<(usize, usize), Vec<String>> = Default::default();
    for (d, b, n, burn, steps) in kinds {
        by_db
            .entry((d, b))
            .or_default()
            .push(format!("{n} × {burn}+{}", steps - burn));
    }
    let _ = writeln!(
        md,
        "- **Chains × (burn-in + window)** per (d, b): {}.",
        by_db
            .iter()
            .map(|((d, b), v)| format!("({d}, {b}) {}", v.join(" / ")))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let _ = writeln!(
        md,
        "- **α̂**: the far-tail headline — Hill above the top p of all post-burn-in (chain, \
         step) samples of ‖w − c‖, at the deepest p of 10⁻³…10⁻⁷ with ≥ 1000 clusters \
         (θ̂·k, Ferro–Segers) from ≥ 100 chains, 95 % chain-bootstrap interval; a cell \
         without such a rung in equilibrium has no α̂. Its error on laws of known α is \
         measured in the project's docs/validation/far_tail (pooled coverage of the nominal \
         95 % interval 0.91 there). Seeds are combined by their mean, with the wider of the \
         propagated interval and the between-seed t interval.\n- **Margin** δ = {MARGIN} for \
         every equivalence, an effect size fixed before the run.\n- **Terms**: r = ‖w − c‖, \
         c the centre the cell's `center` sets, fixed at the end of burn-in; (a, c) in the \
         local-exponent sections are the iterate's coordinate along the teacher and the norm \
         of the rest (the reduced engine's exact two-number chain); a *rung* is Hill's α̂ at \
         one exceedance fraction p; the *headline* is the deepest rung meeting the rule \
         above; \"—\" marks a value that does not exist (no rung qualifies, or too few \
         samples).\n- **Theory α***: the \
         Kesten–Goldie root of E‖Me₁‖^α = 1 — GSZ21's theorem for linear regression, an \
         asymptotic prediction for the gate (the same for SGD and KM).\n"
    );
    md
}

/// Minutes from the first cell's `run.json` to the last, by their modification times: the
/// sweep's wall time less its first cell (cells copied into the folder keep theirs).
fn sweep_span(cells: &[CellResult]) -> Option<f64> {
    let times: Vec<std::time::SystemTime> = cells
        .iter()
        .filter_map(|c| {
            std::fs::metadata(c.dir.join("run.json"))
                .ok()?
                .modified()
                .ok()
        })
        .collect();
    let (first, last) = (times.iter().min()?, times.iter().max()?);
    Some(last.duration_since(*first).ok()?.as_secs_f64() / 60.0)
}

/// The one sentence on the final-iterate fit.
pub fn finite_range_finding(design: &Design) -> String {
    let mut gaps = Vec::new();
    for ((_, arm, init, law), cells) in &design.cells {
        if *arm == Arm::Linear || *init != Init::Normal || *law != crate::config::NoiseLaw::Normal {
            continue;
        }
        for c in cells {
            if let (Some(far), Some(fin)) = (headline(c), c.alpha()) {
                gaps.push(fin - far.value);
            }
        }
    }
    gaps.sort_by(f64::total_cmp);
    match (gaps.first(), gaps.last()) {
        (Some(lo), Some(hi)) => format!(
            "- **The final-iterate fit is a finite-range slope**: on the gate cells the \
             final-iterate fit minus the far-tail α̂ is {:+.2} to {:+.2} (median {:+.2}, {} \
             cells), positive in {} — a \
             pre-asymptotic finding about the bulk, not the index (table at the end).",
            lo,
            hi,
            gaps[gaps.len() / 2],
            gaps.len(),
            gaps.iter().filter(|&&g| g > 0.0).count()
        ),
        _ => "- No gate cell has both a far-tail α̂ and a final-iterate fit.".into(),
    }
}

/// The far tail beside the final-iterate fit (seed 0), and the threshold-stability figure.
pub fn far_against_final(
    design: &Design,
    staged: &StagedDir,
    files: &mut Vec<PathBuf>,
) -> Result<String> {
    let mut md = String::from(
        "## The far tail and the finite-range slope\n\nSeed 0 of each gate cell: the far-tail \
         α̂ and the final-iterate power-law fit, named for what it is — a finite-range slope \
         over the top n_tail/N of the chains' final iterates, where the threshold sits in the \
         bulk.\n\n| d | b | η | α* | SGD far tail | SGD finite-range slope (top %) | KM far tail | KM finite-range slope (top %) |\n|---:|---:|---:|---:|---|---|---|---|\n",
    );
    for point in design.points() {
        let cell = |arm| design.arm(point, arm).first().copied();
        let (Some(s), Some(k)) = (cell(Arm::GateSgd), cell(Arm::GateKm)) else {
            continue;
        };
        let _ = writeln!(
            md,
            "| {} | {} | {:.4} | {} | {} | {} | {} | {} |",
            point.dim,
            point.batch,
            point.eta(),
            s.theory_alpha()
                .map(|t| format!("{t:.2}"))
                .unwrap_or_else(|| "—".into()),
            far(s),
            slope(s),
            far(k),
            slope(k)
        );
    }
    md.push('\n');
    md.push_str(
        "Threshold stability: Hill α̂ against the exceedance fraction for the design points \
         placed at the gate's α* = 1.5 (seed 0), one panel per (d, b); the dashed line is the \
         gate's prediction. A tail index shows as a flat stretch over a decade or more.\n\n",
    );
    let mut panels = Vec::new();
    for ((d, b), p) in heaviest(design) {
        let mut series = Vec::new();
        let mut h = None;
        for (i, arm) in [Arm::GateSgd, Arm::GateKm, Arm::Linear].iter().enumerate() {
            let Some(c) = design.arm(p, *arm).first() else {
                continue;
            };
            if *arm == Arm::GateSgd {
                h = c.theory_alpha();
            }
            if c.run.summary.far_tail.is_none() {
                continue;
            }
            series.push(Series {
                label: arm.name().into(),
                points: ladder_points(c),
                line: true,
                color: i * 3,
                filled: i != 1,
            });
        }
        panels.push(Chart {
            title: format!("d = {d}, b = {b}, η = {:.4}", p.eta()),
            x_label: "log₁₀ p".into(),
            y_label: "Hill α̂".into(),
            series,
            h_line: h,
            y_range: Some((0.0, 4.0)),
            x_range: Some((-7.5, -2.5)),
        });
    }
    let figure = Figure {
        title: "Threshold stability of the far tail (seed 0)".into(),
        panels,
        cols: 4,
    };
    embed_figure(&figure, &staged.path("threshold_stability"), &mut md, files)?;
    Ok(md)
}

fn far(c: &CellResult) -> String {
    headline(c).map(|e| e.show()).unwrap_or_else(|| {
        c.run
            .summary
            .far_tail
            .as_ref()
            .and_then(|f| f.reading.reason.as_ref())
            .map(|_| "no rung qualifies".into())
            .unwrap_or_else(|| "—".into())
    })
}

fn slope(c: &CellResult) -> String {
    let n_tail = c
        .run
        .summary
        .tail
        .estimates
        .get("powerlaw")
        .and_then(|p| p.n_tail);
    match (c.alpha(), n_tail) {
        (Some(a), Some(n)) => format!(
            "{a:.2} ({:.0} %)",
            100.0 * n as f64 / c.config().chains as f64
        ),
        (Some(a), None) => format!("{a:.2}"),
        _ => "—".into(),
    }
}
