//! Claim 1 on the far tail: SGD − KM paired by chain at matched fractions (index and
//! scale), and the same comparison under a heavy-tailed (Cauchy) label law.

use super::{
    Arm, Design, Estimate, MARGIN, PAIR_RESAMPLES, Point, Section, combine, common_rung,
    exceedances, headline, samples,
};
use crate::config::NoiseLaw;
use crate::error::Result;
use crate::io::StagedDir;
use crate::report::cells::CellResult;
use crate::tail::far::{Pairing, paired_ladder};
use std::fmt::Write as _;
use std::path::PathBuf;

/// The verdict of the one rule: equivalent inside ±δ, different wholly beyond it.
pub fn verdict(e: &Estimate) -> &'static str {
    if e.lo >= -MARGIN && e.hi <= MARGIN {
        "equivalent"
    } else if e.hi < -MARGIN {
        "SGD heavier"
    } else if e.lo > MARGIN {
        "KM heavier"
    } else {
        "undecided"
    }
}

pub fn theory(c: &CellResult) -> Option<f64> {
    c.theory_alpha()
}

/// One setup's paired reading.
struct Pair {
    point: Point,
    fraction: f64,
    diff: Estimate,
    /// log(q_SGD/q_KM) combined, in logs.
    log_ratio: Option<Estimate>,
    sgd: f64,
    km: f64,
}

pub fn claim1(design: &Design, staged: &StagedDir, files: &mut Vec<PathBuf>) -> Result<Section> {
    let mut pairs = Vec::new();
    let mut csv_rows = vec![
        "noise_law,d,b,eta,seed,fraction,pairing,hill_sgd,hill_km,diff,diff_lo,diff_hi,quantile_ratio,ratio_lo,ratio_hi,chains_sgd,chains_km".to_string(),
    ];
    let mut no_rung = 0;
    let mut cauchy = Vec::new();
    for point in design.points() {
        match pair_point(design, point, NoiseLaw::Normal, &mut csv_rows)? {
            Paired::Read(p) => pairs.push(p),
            Paired::NoRung => no_rung += 1,
            Paired::Absent => {}
        }
    }
    for point in design.points() {
        if let Paired::Read(p) = pair_point(design, point, NoiseLaw::Cauchy, &mut csv_rows)? {
            cauchy.push(p);
        }
    }
    super::write_table(staged, "pairs.csv", &csv_rows, files)?;

    let mut body = String::from("## Claim 1 — SGD and KM have the same tail index\n\n");
    body.push_str(&format!(
        "**The prediction.** Far out both algorithms step as w′ = M w with the same \
         M = I − (η/b) Σ 1{{w·xᵢ > 0}} xᵢxᵢᵀ; they differ only in the additive part (the \
         labels, O(1)). So the Kesten index is the same for SGD and KM for every label law \
         with these updates; what could break it is an additive part with a heavier tail \
         than α* (Grey 1994: then α = min(α*, ν) for both) or a chain that never reaches \
         the far-out regime. What may differ is the **scale** of the tail.\n\n\
         **The measurement.** Per (d, b, η) and seed, SGD and KM share their random streams, \
         so chain i of one is paired with chain i of the other: Hill's α̂ at the same \
         exceedance fraction p of each arm's samples, SGD − KM bootstrapped over chains \
         resampled jointly (`pairs.csv`). p is the deepest of 10⁻³, 10⁻⁴, 10⁻⁵ where every \
         cell of the setup has ≥ 1000 clusters from ≥ 100 chains and is in equilibrium by \
         the tilted-drift rule. Seeds (independent) are combined as in the header. \
         **Verdict**: *equivalent* when the interval lies inside ±δ = ±{MARGIN} (fixed \
         before the run), *heavier* when it lies wholly beyond δ, *undecided* otherwise. \
         The scale is the ratio of SGD's to KM's threshold at p (its 1 − p quantile).\n\n"
    ));
    body.push_str(
        "*At α\\**: whether both arms' far-tail headlines (seeds combined) reach within δ of \
         the prediction. Where they do not, both arms are still in their pre-asymptotic range \
         at the rungs that have enough clusters, and a verdict there compares slopes over \
         that range, not indices.\n\n",
    );
    body.push_str("| d | b | η | theory α | p | Hill SGD at p | Hill KM at p | SGD − KM [95 %] | verdict | at α\\* | quantile SGD/KM [95 %] | seeds |\n|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|---:|\n");
    let mut counts = std::collections::BTreeMap::new();
    let mut asymptotic = std::collections::BTreeMap::new();
    let mut half_widths = Vec::new();
    let mut ratio_range = (f64::INFINITY, f64::NEG_INFINITY);
    let mut ratio_excl = 0;
    for pr in &pairs {
        let th = design
            .arm(pr.point, Arm::GateSgd)
            .first()
            .and_then(|c| theory(c));
        let v = verdict(&pr.diff);
        *counts.entry(v).or_insert(0) += 1;
        let at_theory = th.is_some_and(|t| {
            [Arm::GateSgd, Arm::GateKm].iter().all(|&a| {
                arm_estimate(design, pr.point, a)
                    .is_some_and(|e| e.lo <= t + MARGIN && e.hi >= t - MARGIN)
            })
        });
        if at_theory {
            *asymptotic.entry(v).or_insert(0) += 1;
        }
        half_widths.push((pr.diff.hi - pr.diff.lo) / 2.0);
        let ratio = pr.log_ratio.map(|r| {
            let (v, lo, hi) = (r.value.exp(), r.lo.exp(), r.hi.exp());
            ratio_range = (ratio_range.0.min(v), ratio_range.1.max(v));
            if lo > 1.0 || hi < 1.0 {
                ratio_excl += 1;
            }
            format!("{v:.3} [{lo:.3}, {hi:.3}]")
        });
        let _ = writeln!(
            body,
            "| {} | {} | {:.4} | {} | {:e} | {:.2} | {:.2} | {} | {v} | {} | {} | {} |",
            pr.point.dim,
            pr.point.batch,
            pr.point.eta(),
            th.map(|t| format!("{t:.2}")).unwrap_or_else(|| "—".into()),
            pr.fraction,
            pr.sgd,
            pr.km,
            pr.diff.show(),
            if at_theory { "yes" } else { "no" },
            ratio.unwrap_or_else(|| "—".into()),
            pr.diff.n
        );
    }
    half_widths.sort_by(f64::total_cmp);
    let n = half_widths.len();
    let median_half = (n > 0).then(|| (half_widths[(n - 1) / 2] + half_widths[n / 2]) / 2.0);
    // The sign of SGD − KM over the setups: a systematic difference the ±δ verdicts may
    // hide (two-sided sign test).
    let negative = pairs.iter().filter(|p| p.diff.value < 0.0).count();
    let sign_p = sign_test(negative, pairs.len());
    let decidable = half_widths.iter().filter(|&&h| h < MARGIN).count();
    let _ = writeln!(
        body,
        "\n{} setups had no common rung. **Power**: the median interval half-width is {}; \
         equivalence within ±{MARGIN} is reachable only where the half-width is below δ \
         ({decidable} of {} setups); a difference smaller than about the half-width cannot be \
         seen at all.\n",
        no_rung,
        median_half
            .map(|h| format!("{h:.3}"))
            .unwrap_or_else(|| "—".into()),
        pairs.len()
    );
    let mut findings = vec![format!(
        "- **Claim 1 (far tail, SGD − KM paired by chain, δ = {MARGIN})**: of {} setups, \
         {} equivalent, {} SGD heavier, {} KM heavier, {} undecided (median half-width {}; \
         {decidable} setups could reach equivalence). The scale differs: SGD's quantile is \
         {:.3}–{:.3}× KM's at the matched fraction, the interval excluding 1 in {ratio_excl} \
         setups.",
        pairs.len(),
        counts.get("equivalent").unwrap_or(&0),
        counts.get("SGD heavier").unwrap_or(&0),
        counts.get("KM heavier").unwrap_or(&0),
        counts.get("undecided").unwrap_or(&0),
        median_half
            .map(|h| format!("{h:.3}"))
            .unwrap_or_else(|| "—".into()),
        ratio_range.0,
        ratio_range.1
    )];
    let at: usize = asymptotic.values().sum();
    findings.push(format!(
        "  Where both arms' far-tail α̂ intervals come within δ of α* ({at} of {}): {}. \
         Elsewhere a verdict compares slopes over a pre-asymptotic range. SGD − KM is \
         negative in {negative} of {} setups (sign test p {}): {}.{}",
        pairs.len(),
        if at == 0 {
            "none".to_string()
        } else {
            ["equivalent", "SGD heavier", "KM heavier", "undecided"]
                .iter()
                .map(|v| format!("{} {v}", asymptotic.get(v).unwrap_or(&0)))
                .collect::<Vec<_>>()
                .join(", ")
        },
        pairs.len(),
        if sign_p < 0.001 {
            "< 0.001".to_string()
        } else {
            format!("= {sign_p:.3}")
        },
        if sign_p < 0.05 {
            "at the rungs read, SGD's tail is systematically a little heavier than KM's, so \
             Claim 1 (equal indices) is not established there"
        } else {
            "no systematic sign"
        },
        if no_rung > 0 {
            format!(" {no_rung} setups have no common rung in equilibrium with enough clusters (no verdict).")
        } else {
            String::new()
        }
    ));
    findings.extend(cauchy_section(design, &cauchy, &mut body));
    Ok(Section { body, findings })
}

/// Two-sided sign test: the probability of a split at least as uneven as `k` of `n` under
/// a fair coin.
fn sign_test(k: usize, n: usize) -> f64 {
    if n == 0 {
        return 1.0;
    }
    let tail = k.min(n - k);
    let mut c = 1.0f64; // C(n, 0)
    let mut sum = 0.0;
    for i in 0..=tail {
        if i > 0 {
            c *= (n - i + 1) as f64 / i as f64;
        }
        sum += c;
    }
    (2.0 * sum / 2f64.powi(n as i32)).min(1.0)
}

/// What pairing a point's SGD and KM cells gave.
enum Paired {
    Read(Pair),
    NoRung,
    Absent,
}

/// SGD − KM at one point and noise law, every seed paired by chain; rows go to pairs.csv.
fn pair_point(
    design: &Design,
    point: Point,
    law: NoiseLaw,
    csv_rows: &mut Vec<String>,
) -> Result<Paired> {
    let (sgd, km) = (
        design.arm_with(point, Arm::GateSgd, law),
        design.arm_with(point, Arm::GateKm, law),
    );
    if sgd.is_empty() || km.is_empty() {
        return Ok(Paired::Absent);
    }

    let all: Vec<&CellResult> = sgd.iter().chain(km).copied().collect();
    let Some(p) = common_rung(&all) else {
        return Ok(Paired::NoRung);
    };
    let mut diffs = Vec::new();
    let mut ratios = Vec::new();
    let (mut hs, mut hk) = (0.0, 0.0);
    for s in sgd {
        let Some(k) = km.iter().find(|k| k.config().seed == s.config().seed) else {
            continue;
        };
        let (es, ek) = (exceedances(s)?, exceedances(k)?);
        let (Some(ss), Some(sk)) = (samples(s, &es), samples(k, &ek)) else {
            continue;
        };
        // The same streams drive chain i of both; a chain lost by one breaks the count.
        let pairing = if ss.chains == sk.chains {
            Pairing::SameChains
        } else {
            Pairing::Independent
        };
        let rungs = paired_ladder(
            &ss,
            &sk,
            &[p],
            pairing,
            PAIR_RESAMPLES,
            s.config().seed,
            0.95,
        );
        let Some(r) = rungs.first() else { continue };
        csv_rows.push(format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            law.name(),
            point.dim,
            point.batch,
            point.eta(),
            s.config().seed,
            p,
            if pairing == Pairing::SameChains {
                "same_chains"
            } else {
                "independent"
            },
            r.hill_a,
            r.hill_b,
            r.diff,
            opt(r.diff_lo),
            opt(r.diff_hi),
            r.ratio,
            opt(r.ratio_lo),
            opt(r.ratio_hi),
            r.chains_a,
            r.chains_b
        ));
        hs += r.hill_a;
        hk += r.hill_b;
        if let (Some(lo), Some(hi)) = (r.diff_lo, r.diff_hi) {
            diffs.push(Estimate {
                value: r.diff,
                lo,
                hi,
                n: 1,
            });
        }
        if let (Some(lo), Some(hi)) = (r.ratio_lo, r.ratio_hi) {
            ratios.push(Estimate {
                value: r.ratio.ln(),
                lo: lo.ln(),
                hi: hi.ln(),
                n: 1,
            });
        }
    }
    Ok(match combine(&diffs) {
        Some(diff) => {
            let n = diffs.len() as f64;
            Paired::Read(Pair {
                point,
                fraction: p,
                diff,
                log_ratio: combine(&ratios),
                sgd: hs / n,
                km: hk / n,
            })
        }
        None => Paired::NoRung,
    })
}

fn opt(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// An arm's combined far-tail headline at a point (seeds with one).
pub fn arm_estimate(design: &Design, point: Point, arm: Arm) -> Option<Estimate> {
    arm_estimate_with(design, point, arm, NoiseLaw::Normal)
}

/// [`arm_estimate`] for cells with the given noise law.
pub fn arm_estimate_with(
    design: &Design,
    point: Point,
    arm: Arm,
    law: NoiseLaw,
) -> Option<Estimate> {
    let parts: Vec<Estimate> = design
        .arm_with(point, arm, law)
        .iter()
        .filter_map(|c| headline(c))
        .collect();
    combine(&parts)
}

/// Claim 1 (c): Cauchy label noise, an additive part of tail index 1 < α*.
fn cauchy_section(design: &Design, pairs: &[Pair], body: &mut String) -> Vec<String> {
    if pairs.is_empty() {
        return Vec::new();
    }
    body.push_str(
        "### A heavy-tailed label law\n\nWith Cauchy label noise (ξ = z₁/z₂, Student t with \
         ν = 1) the additive part has tail index 1, below α*; Grey (1994) then gives \
         α = min(α*, ν) = 1 for both algorithms (and for linear regression). Centre: the \
         median; a chain counts as diverged only past ‖w‖ = 10¹⁵.\n\n\
         | d | b | η | α* | predicted | α̂ SGD | α̂ KM | α̂ linear | SGD − KM paired [95 %] \
         | verdict |\n|---:|---:|---:|---:|---:|---|---|---|---|---|\n",
    );
    let mut within = (0, 0);
    for pr in pairs {
        let th = design
            .arm_with(pr.point, Arm::GateSgd, NoiseLaw::Cauchy)
            .first()
            .and_then(|c| theory(c));
        let pred = th.map(|t| t.min(1.0));
        let est: Vec<Option<Estimate>> = [Arm::GateSgd, Arm::GateKm, Arm::Linear]
            .iter()
            .map(|&a| arm_estimate_with(design, pr.point, a, NoiseLaw::Cauchy))
            .collect();
        for e in est.iter().flatten() {
            within.1 += 1;
            if pred.is_some_and(|p| (e.value - p).abs() <= MARGIN) {
                within.0 += 1;
            }
        }
        let show = |e: &Option<Estimate>| e.map(|e| e.show()).unwrap_or_else(|| "—".into());
        let _ = writeln!(
            body,
            "| {} | {} | {:.4} | {} | {} | {} | {} | {} | {} | {} |",
            pr.point.dim,
            pr.point.batch,
            pr.point.eta(),
            th.map(|t| format!("{t:.2}")).unwrap_or_else(|| "—".into()),
            pred.map(|t| format!("{t:.2}"))
                .unwrap_or_else(|| "—".into()),
            show(&est[0]),
            show(&est[1]),
            show(&est[2]),
            pr.diff.show(),
            verdict(&pr.diff)
        );
    }
    body.push('\n');
    vec![format!(
        "- **Claim 1 with Cauchy label noise** (index 1 < α*): {} of {} arm estimates lie within δ of the predicted min(α*, 1) = 1; SGD − KM: {}.",
        within.0,
        within.1,
        pairs
            .iter()
            .map(|p| format!(
                "{} at α* {:.1}",
                verdict(&p.diff),
                design
                    .arm_with(p.point, Arm::GateSgd, NoiseLaw::Cauchy)
                    .first()
                    .and_then(|c| theory(c))
                    .unwrap_or(f64::NAN)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verdict_follows_the_margin() {
        let e = |lo, hi| Estimate {
            value: (lo + hi) / 2.0,
            lo,
            hi,
            n: 1,
        };
        assert_eq!(verdict(&e(-0.05, 0.08)), "equivalent");
        assert_eq!(verdict(&e(-0.5, -0.2)), "SGD heavier");
        assert_eq!(verdict(&e(0.15, 0.3)), "KM heavier");
        assert_eq!(verdict(&e(-0.05, 0.3)), "undecided");
    }

    #[test]
    fn sign_test_matches_hand_computed_binomial_tails() {
        // 15 of 18 negative: 2·(1 + 18 + 153 + 816)/2¹⁸ = 0.00754.
        assert!((sign_test(15, 18) - 1976.0 / 262144.0).abs() < 1e-12);
        assert_eq!(sign_test(5, 10), 1.0);
        assert!((sign_test(0, 3) - 0.25).abs() < 1e-12);
    }
}
