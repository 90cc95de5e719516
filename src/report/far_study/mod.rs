//! The report of a study whose cells recorded their far tail: every α̂ is the far-tail
//! headline (time samples, chain bootstrap); Claim 1 is read on SGD − KM paired by chain at
//! matched exceedance fractions, Claim 2 on gate and linear at identical (d, b, η) and on
//! partial slopes over the design; stationarity on the halves of each window and on a
//! heavy-tailed start. The final-iterate fit appears only as the finite-range slope it is.

mod claim1;
mod claim2;
mod local;
mod slopes;
mod stationarity;
mod tables;

use super::cells::CellResult;
use super::csv::equilibrium_fraction;
use crate::config::{Algorithm, Init, Model, NoiseLaw};
use crate::error::Result;
use crate::io::{StagedDir, read_npy_f64};
use crate::sweep::StudyRecord;
use crate::tail::far::{Exceedance, TimeSamples};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The margin of every equivalence, fixed before the study as an effect size.
pub const MARGIN: f64 = 0.1;
/// Fractions the pairs are matched at (each arm's own top p of its N·T samples).
pub const MATCHED: [f64; 3] = [1e-3, 1e-4, 1e-5];
/// Bootstrap resamples of the paired comparisons.
pub const PAIR_RESAMPLES: usize = 200;

/// Whether a study is reported on the far tail: some gate or linear cell recorded one.
pub fn applies(cells: &[CellResult]) -> bool {
    cells.iter().any(|c| c.run.summary.far_tail.is_some())
}

/// One arm of a design point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Arm {
    GateSgd,
    GateKm,
    Linear,
}

impl Arm {
    fn of(c: &CellResult) -> Option<Arm> {
        match (c.config().model, c.config().algorithm) {
            (Model::ReluGate, Algorithm::Sgd) => Some(Arm::GateSgd),
            (Model::ReluGate, Algorithm::Km) => Some(Arm::GateKm),
            (Model::Linear, _) => Some(Arm::Linear),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Arm::GateSgd => "gate SGD",
            Arm::GateKm => "gate KM",
            Arm::Linear => "linear",
        }
    }
}

/// A design point: (d, b, η) with η's bits (cells at identical η share them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Point {
    pub dim: usize,
    pub batch: usize,
    pub eta_bits: u64,
}

impl Point {
    pub fn eta(&self) -> f64 {
        f64::from_bits(self.eta_bits)
    }
}

/// What a design point's cells are keyed by besides (d, b, η).
pub type Key = (Point, Arm, Init, NoiseLaw);

/// The cells of the study by design point, arm, start and noise law, each list ordered by
/// seed.
pub struct Design<'a> {
    pub cells: BTreeMap<Key, Vec<&'a CellResult>>,
}

impl<'a> Design<'a> {
    pub fn of(cells: &'a [CellResult]) -> Self {
        let mut map: BTreeMap<Key, Vec<&CellResult>> = BTreeMap::new();
        for c in cells {
            let Some(arm) = Arm::of(c) else { continue };
            let cfg = c.config();
            let point = Point {
                dim: cfg.dim,
                batch: cfg.batch,
                eta_bits: cfg.eta.to_bits(),
            };
            map.entry((point, arm, cfg.init, cfg.noise_law))
                .or_default()
                .push(c);
        }
        for v in map.values_mut() {
            v.sort_by_key(|c| c.config().seed);
        }
        Design { cells: map }
    }

    pub fn points(&self) -> Vec<Point> {
        let mut p: Vec<Point> = self.cells.keys().map(|k| k.0).collect();
        p.dedup();
        p
    }

    /// The normal-start, normal-noise cells of an arm at a point.
    pub fn arm(&self, point: Point, arm: Arm) -> &[&'a CellResult] {
        self.arm_with(point, arm, NoiseLaw::Normal)
    }

    /// The normal-start cells of an arm at a point with the given noise law.
    pub fn arm_with(&self, point: Point, arm: Arm, law: NoiseLaw) -> &[&'a CellResult] {
        self.cells
            .get(&(point, arm, Init::Normal, law))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// A far-tail α̂ with a 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub lo: f64,
    pub hi: f64,
    /// Seeds (or cells) behind it.
    pub n: usize,
}

impl Estimate {
    /// The standard error an interval implies (normal approximation).
    pub fn se(&self) -> f64 {
        (self.hi - self.lo) / (2.0 * 1.96)
    }

    pub fn show(&self) -> String {
        format!("{:.2} [{:.2}, {:.2}]", self.value, self.lo, self.hi)
    }
}

/// Independent estimates of one quantity combined: their mean, with the wider of the
/// intervals propagated from each (√Σse²/n) and the between-replicate t interval.
pub fn combine(parts: &[Estimate]) -> Option<Estimate> {
    let n = parts.len();
    if n == 0 {
        return None;
    }
    let mean = parts.iter().map(|p| p.value).sum::<f64>() / n as f64;
    let propagated = parts.iter().map(|p| p.se().powi(2)).sum::<f64>().sqrt() / n as f64;
    let between = if n > 1 {
        let var = parts.iter().map(|p| (p.value - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        t_quantile(n - 1) * (var / n as f64).sqrt()
    } else {
        0.0
    };
    let half = (1.96 * propagated).max(between);
    Some(Estimate {
        value: mean,
        lo: mean - half,
        hi: mean + half,
        n,
    })
}

/// Student t's 97.5 % quantile for small degrees of freedom.
fn t_quantile(dof: usize) -> f64 {
    match dof {
        1 => 12.706,
        2 => 4.303,
        3 => 3.182,
        4 => 2.776,
        5 => 2.571,
        _ => 2.0 + 2.0 / dof as f64,
    }
}

/// A cell's far-tail headline, where its rung is in equilibrium by the tilted-drift rule.
pub fn headline(c: &CellResult) -> Option<Estimate> {
    let far = c.run.summary.far_tail.as_ref()?;
    let r = &far.reading;
    let (value, lo, hi, p) = (r.alpha?, r.alpha_lo?, r.alpha_hi?, r.fraction?);
    if equilibrium_fraction(c).is_some_and(|eq| p < eq) {
        return None;
    }
    Some(Estimate {
        value,
        lo,
        hi,
        n: 1,
    })
}

/// The deepest fraction of [`MATCHED`] where every cell's ladder meets the headline rule
/// (≥ 1000 clusters from ≥ 100 chains) and is in equilibrium.
pub fn common_rung(cells: &[&CellResult]) -> Option<f64> {
    MATCHED.iter().rev().copied().find(|&p| {
        cells.iter().all(|c| {
            let Some(far) = c.run.summary.far_tail.as_ref() else {
                return false;
            };
            let ok = far.reading.ladder.iter().any(|g| {
                g.fraction == p
                    && g.clusters >= crate::tail::far::MIN_CLUSTERS
                    && g.chains >= crate::tail::far::MIN_CHAINS
            });
            ok && equilibrium_fraction(c).is_none_or(|eq| p >= eq)
        })
    })
}

/// A cell's far-tail ladder as chart points (log₁₀ p, Hill α̂, its interval), rungs with
/// at least 10 chains above their threshold.
pub fn ladder_points(c: &CellResult) -> Vec<crate::report::plot::Point> {
    c.run
        .summary
        .far_tail
        .as_ref()
        .map(|far| {
            far.reading
                .ladder
                .iter()
                .filter(|g| g.chains >= 10)
                .map(|g| (g.fraction.log10(), g.hill, g.hill_lo.zip(g.hill_hi)))
                .collect()
        })
        .unwrap_or_default()
}

/// The largest η of each (d, b) — the placement with the gate's smallest α*.
pub fn heaviest(design: &Design) -> BTreeMap<(usize, usize), Point> {
    let mut by_db: BTreeMap<(usize, usize), Point> = BTreeMap::new();
    for p in design.points() {
        let e = by_db.entry((p.dim, p.batch)).or_insert(p);
        if p.eta() > e.eta() {
            *e = p;
        }
    }
    by_db
}

/// Writes `lines` (a header, then rows) as the table `name` in `staged`, and lists it.
pub fn write_table(
    staged: &StagedDir,
    name: &str,
    lines: &[String],
    files: &mut Vec<PathBuf>,
) -> Result<()> {
    let path = staged.path(name);
    crate::io::write_atomically(&path, |tmp| {
        std::fs::write(tmp, lines.join("\n") + "\n").map_err(|e| crate::error::Error::io(tmp, e))
    })?;
    files.push(path);
    Ok(())
}

/// A cell's kept exceedances, read back from its `far_tail.npy`.
pub fn exceedances(c: &CellResult) -> Result<Vec<Exceedance>> {
    let table = read_npy_f64(&c.dir.join("far_tail.npy"))?;
    Ok(table
        .values
        .chunks_exact(3)
        .map(|r| Exceedance {
            value: r[0],
            chain: r[1] as u32,
            step: r[2] as u32,
        })
        .collect())
}

/// The time samples of a cell over its exceedances.
pub fn samples<'e>(c: &CellResult, exceedances: &'e [Exceedance]) -> Option<TimeSamples<'e>> {
    let far = c.run.summary.far_tail.as_ref()?;
    Some(TimeSamples {
        exceedances,
        threshold: far.reading.threshold,
        chains: far.reading.chains,
        steps: far.reading.steps,
    })
}

/// Everything the far-tail report writes: report.md's body, the findings (also
/// findings.md, which README quotes), and the pairs table.
pub struct FarReport {
    pub body: String,
    pub findings: String,
}

/// Builds the report's sections; figures and `pairs.csv` go into `staged`.
pub fn far_report(
    record: &StudyRecord,
    cells: &[CellResult],
    staged: &StagedDir,
    files: &mut Vec<PathBuf>,
) -> Result<FarReport> {
    let design = Design::of(cells);
    let mut body = String::new();
    let mut findings = Vec::new();
    let _ = writeln!(body, "{}", tables::header(record, cells, &design));
    let st = stationarity::section(&design, staged, files)?;
    let c1 = claim1::claim1(&design, staged, files)?;
    let c2 = claim2::claim2(&design, staged, files)?;
    let lx = local::section(&design, staged, files)?;
    findings.extend(st.findings);
    findings.extend(c1.findings);
    findings.extend(c2.findings);
    findings.extend(lx.findings);
    findings.push(tables::finite_range_finding(&design));
    let findings_md = findings.join("\n");
    body.push_str("## Findings\n\n");
    body.push_str(&findings_md);
    body.push_str("\n\n");
    body.push_str(&st.body);
    body.push_str(&c1.body);
    body.push_str(&c2.body);
    body.push_str(&lx.body);
    body.push_str(&tables::far_against_final(&design, staged, files)?);
    Ok(FarReport {
        body,
        findings: findings_md,
    })
}

/// A section's markdown and its bullets for the findings.
pub struct Section {
    pub body: String,
    pub findings: Vec<String>,
}
