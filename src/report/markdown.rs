//! The report's markdown: renders the statistics of [`super::compare`] and the cells.

use super::cells::{CellResult, short};
use super::compare::{Comparison, Differences, Trend};
use super::findings::{
    Arm, Axis, AxisEffect, Claim1, HEAVY, MARGIN, axis_effect, eta_over_b_tau, thresholds,
};
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
        "{} cell pairs with the same d, b, η and seed have an α̂ for both algorithms. \
         The 95 % subsampling interval of α̂_SGD − α̂_KM contains 0 (the algorithms agree) \
         in {} of the {with_ci} pairs with an interval and excludes it in {}: SGD has the \
         heavier tail (smaller α̂) in {sgd_heavier} of those, KM in {}.{}\n",
        rows.len(),
        with_ci - differ,
        differ,
        differ - sgd_heavier,
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
        s.push_str("| d | b | η | seed | α̂ SGD | α̂ KM | SGD − KM [95 % CI] | verdict |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for p in rows {
            let cfg = p.sgd.config();
            let (a, b) = (p.alpha_sgd, p.alpha_km);
            let (interval, verdict) = match &p.ci {
                Some(ci) if p.differs() => (
                    format!("[{:+.3}, {:+.3}]", ci.lo, ci.hi),
                    if a < b { "SGD heavier" } else { "KM heavier" },
                ),
                Some(ci) => (format!("[{:+.3}, {:+.3}]", ci.lo, ci.hi), "agree"),
                None => ("—".into(), "no interval"),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {:.4} | {} | {a:.3} | {b:.3} | {:+.3} {interval} | {verdict} |",
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

/// Claim 1, a bullet per setup with pairs (empty when no setup has both algorithms).
pub fn claim1(claims: &[Claim1]) -> String {
    let mut s = String::new();
    for c in claims
        .iter()
        .filter(|c| c.pairs + c.only_km + c.only_sgd > 0)
    {
        let _ = write!(
            s,
            "- **{}**: {} pairs with an α̂ for both algorithms. The paired 95 % interval of \
             α̂_SGD − α̂_KM lies inside ±{MARGIN} (**equivalent**) in {}, excludes 0 beyond the \
             margin (**differ**) in {} (SGD heavier in {}, KM in {}), and is **inconclusive** \
             in {}",
            c.setup,
            c.pairs,
            c.equivalent,
            c.differ,
            c.sgd_heavier,
            c.differ - c.sgd_heavier,
            c.inconclusive
        );
        if c.no_interval > 0 {
            let _ = write!(s, " ({} without an interval)", c.no_interval);
        }
        let _ = write!(s, ".");
        s.push_str(&differences(c.differences));
        let _ = write!(
            s,
            " Only KM has an α̂ (SGD diverged or collapsed) in {} pairs, only SGD in {}.",
            c.only_km, c.only_sgd
        );
        if let Some((gs, gk, n)) = c.theory_gap {
            let _ = write!(
                s,
                " Against the gate theory (one α for both), over the {n} pairs where it predicts \
                 α < 2: median α̂ − α is {gs:+.3} for SGD and {gk:+.3} for KM."
            );
        }
        s.push('\n');
    }
    if !s.is_empty() {
        s.push('\n');
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

fn effect_cell(e: &AxisEffect) -> String {
    if e.series == 0 {
        return "—".into();
    }
    format!(
        "{:+.2} ({}↓ {}↑ of {}; Δ {:+.2})",
        e.tau, e.falls, e.rises, e.series, e.change
    )
}

/// Claim 2's table: every arm's mean Kendall τ along κ, b and d (series with the other
/// axes fixed), and the pooled τ against η/b.
pub fn claim2_table(arms: &[Arm]) -> String {
    let mut s = String::from(
        "| arm | setup | α's | along κ: τ (series ↓ ↑ of n; Δα) | along b | along d | vs η/b: τ (n) |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for arm in arms {
        let n = arm.obs.iter().filter(|o| o.alpha.is_some()).count();
        let cols: Vec<String> = Axis::ALL
            .iter()
            .map(|&a| effect_cell(&axis_effect(arm, a)))
            .collect();
        let (t, m) = eta_over_b_tau(arm);
        let _ = writeln!(
            s,
            "| {} | {} | {n} | {} | {} | {} | {} |",
            arm.name,
            arm.setup,
            cols[0],
            cols[1],
            cols[2],
            if m >= 2 {
                format!("{t:+.2} ({m})")
            } else {
                "—".into()
            }
        );
    }
    s.push('\n');
    s
}

/// One sentence per axis: each arm's mean τ side by side.
pub fn claim2_axes(arms: &[Arm]) -> String {
    let mut s = String::new();
    for axis in Axis::ALL {
        let parts: Vec<String> = arms
            .iter()
            .filter_map(|arm| {
                let e = axis_effect(arm, axis);
                (e.series > 0).then(|| format!("{} ({}) {:+.2}", arm.name, arm.setup, e.tau))
            })
            .collect();
        if !parts.is_empty() {
            let _ = writeln!(
                s,
                "- Along {} (the other axes and the seed fixed), mean Kendall τ of α: {}.",
                axis.name(),
                parts.join("; ")
            );
        }
    }
    let parts: Vec<String> = arms
        .iter()
        .filter_map(|arm| {
            let (t, n) = eta_over_b_tau(arm);
            (n >= 2).then(|| format!("{} ({}) {t:+.2}", arm.name, arm.setup))
        })
        .collect();
    if !parts.is_empty() {
        let _ = writeln!(
            s,
            "- Against η/b over all cells of an arm, Kendall τ of α: {}.",
            parts.join("; ")
        );
    }
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

/// Per (d, b): the κ where α falls below 2 and the first κ with diverged chains, for the
/// arms of one setup.
pub fn thresholds_table(arms: &[&Arm]) -> String {
    let tables: Vec<_> = arms.iter().map(|a| thresholds(a)).collect();
    let keys: std::collections::BTreeSet<(usize, usize)> =
        tables.iter().flat_map(|t| t.keys().copied()).collect();
    if keys.is_empty() {
        return String::new();
    }
    let mut s = String::from("| d | b |");
    for a in arms {
        let crossing = if a.simulated {
            format!("α̂ < {HEAVY} from κ")
        } else {
            "α = 2 at κ".to_string()
        };
        let _ = write!(s, " {}: {crossing} | {}: diverges from κ |", a.name, a.name);
    }
    s.push_str("\n| --- | --- |");
    for _ in arms {
        s.push_str(" --- | --- |");
    }
    s.push('\n');
    let k = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.2}"));
    for (d, b) in keys {
        let _ = write!(s, "| {d} | {b} |");
        for t in &tables {
            let t = t.get(&(d, b)).copied().unwrap_or_default();
            let _ = write!(s, " {} | {} |", k(t.alpha_2), k(t.diverges));
        }
        s.push('\n');
    }
    s.push('\n');
    s
}
