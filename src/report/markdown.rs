//! The report's markdown: renders the statistics of [`super::compare`] and the cells.

use super::cells::{CellResult, short};
use super::compare::{Comparison, Differences, Trend};
use crate::study::kappa;
use std::fmt::Write as _;

/// The "SGD and KM" section of a setup (empty when no pair has both algorithms).
pub fn comparison(cmp: &Comparison) -> String {
    if cmp.is_empty() {
        return String::new();
    }
    let rows = &cmp.pairs;
    let one_sided = &cmp.one_sided;
    let mut s = String::from("### SGD and KM\n\n");
    let differ = cmp.differing();
    let sgd_heavier = cmp.sgd_heavier();
    let with_ci = cmp.with_interval();
    let _ = writeln!(
        s,
        "{} cell pairs with the same d, b, η and seed have an α̂ for both algorithms: the \
         per-seed inputs of the findings, which judge each (d, b, η) over its seeds against \
         the margin (report.md). The per-seed 95 % paired subsampling interval of \
         α̂_SGD − α̂_KM excludes 0 in {differ} of the {with_ci} pairs with an interval (below 0 \
         in {sgd_heavier}).{}\n",
        rows.len(),
        differences(cmp.differences())
    );
    if !one_sided.is_empty() {
        let _ = writeln!(
            s,
            "In {} pairs only one algorithm has an α̂ — the algorithms separate there:\n",
            one_sided.len()
        );
        for (sgd, km) in one_sided {
            let _ = writeln!(
                s,
                "- {}: SGD {}, KM {}",
                short(sgd),
                describe_alpha(sgd),
                describe_alpha(km)
            );
        }
        s.push('\n');
    }
    if !rows.is_empty() {
        s.push_str("| d | b | η | seed | α̂ SGD | α̂ KM | SGD − KM [95 % CI] |\n| --- | --- | --- | --- | --- | --- | --- |\n");
        for p in rows {
            let cfg = p.sgd.config();
            let (a, b) = (p.alpha_sgd, p.alpha_km);
            let interval =
                p.ci.as_ref()
                    .map_or("—".into(), |ci| format!("[{:+.3}, {:+.3}]", ci.lo, ci.hi));
            let _ = writeln!(
                s,
                "| {} | {} | {:.4} | {} | {a:.3} | {b:.3} | {:+.3} {interval} |",
                cfg.dim,
                cfg.batch,
                cfg.eta,
                cfg.seed,
                a - b
            );
        }
        s.push('\n');
    }
    s
}

/// The "How α̂ moves" section (empty without trends).
pub fn trends(trends: &[Trend]) -> String {
    if trends.is_empty() {
        return String::new();
    }
    let mut s = String::from("### How α̂ moves\n\n");
    for t in trends {
        let _ = writeln!(
            s,
            "- {}: as {} grows, α̂ falls in {} of {} series, rises in {}, \
             neither in {} (sign of Kendall's τ over cells with an α̂).",
            t.algorithm,
            t.axis,
            t.falls,
            t.series(),
            t.rises,
            t.flat
        );
    }
    s.push('\n');
    s
}

pub fn unestimated(group: &[&CellResult]) -> String {
    let bad: Vec<&&CellResult> = group.iter().filter(|c| c.alpha().is_none()).collect();
    if bad.is_empty() {
        return String::new();
    }
    let mut s = format!("Cells without an α̂ ({}):\n\n", bad.len());
    for c in bad {
        let _ = writeln!(
            s,
            "- `{}` {} {}: **{}** ({} of {} chains diverged)",
            c.id,
            c.config().algorithm.name(),
            short(c),
            c.run.summary.tail.status.name(),
            c.run.summary.tail.diverged_chains,
            c.config().chains
        );
    }
    s.push('\n');
    s
}

fn describe_alpha(c: &CellResult) -> String {
    match c.alpha() {
        Some(a) => format!("α̂ = {a:.3}"),
        None => format!(
            "{} ({} of {} chains diverged)",
            c.run.summary.tail.status.name(),
            c.run.summary.tail.diverged_chains,
            c.config().chains
        ),
    }
}

pub fn cell_table(cells: &[CellResult]) -> String {
    let mut s = String::from(
        "| cell | model | algorithm | labels | σ | d | b | η | κ | seed | status | α̂ [95 % CI] | Hill α̂ (k) | theory α | diverged |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for c in cells {
        let cfg = c.config();
        let sm = &c.run.summary.tail;
        let alpha = match (c.alpha(), sm.alpha_ci) {
            (Some(a), Some([lo, hi])) => format!("{a:.3} [{lo:.3}, {hi:.3}]"),
            (Some(a), None) => format!("{a:.3}"),
            _ => "—".into(),
        };
        let hill = match (c.alpha().and(sm.hill_alpha), sm.hill_k) {
            (Some(h), Some(k)) => format!("{h:.3} ({k})"),
            _ => "—".into(),
        };
        let theory = match &c.run.summary.theory {
            Some(t) => match t.alpha {
                Some(a) => format!("{a:.3}"),
                None if t.light_tail => format!("> {}", crate::theory::ALPHA_MAX),
                None => "diverges".into(),
            },
            None => "—".into(),
        };
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {} | {} | {:.4} | {:.3} | {} | {} | {} | {} | {} | {} |",
            c.id,
            cfg.model.name(),
            cfg.algorithm.name(),
            cfg.labels.name(),
            cfg.label_noise,
            cfg.dim,
            cfg.batch,
            cfg.eta,
            kappa(cfg),
            cfg.seed,
            sm.status.name(),
            alpha,
            hill,
            theory,
            sm.diverged_chains
        );
    }
    s
}

/// The median and mean of α̂_SGD − α̂_KM, the mean also over the pairs where neither cell
/// lost a chain when some did (a survivors-only α̂ can sit far from both).
fn differences(d: Option<Differences>) -> String {
    let Some(d) = d else {
        return String::new();
    };
    let mut s = format!(
        " Difference α̂_SGD − α̂_KM: median {:+.3}, mean {:+.3}",
        d.median, d.mean
    );
    if d.intact_pairs < d.pairs {
        let _ = write!(
            s,
            "; in {} of the {} pairs a cell lost chains (its α̂ is of the survivors only), \
             over the other {} the mean is {}",
            d.pairs - d.intact_pairs,
            d.pairs,
            d.intact_pairs,
            d.intact_mean
                .map_or_else(|| "—".to_string(), |m| format!("{m:+.3}"))
        );
    }
    s.push('.');
    s
}
