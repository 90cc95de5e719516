//! `summary.csv`: one row per finished cell, loadable by pandas and numpy.

use super::cells::CellResult;
use crate::error::{Error, Result};
use crate::io::write_atomically;
use crate::study::kappa;
use serde::Serialize;
use std::path::Path;

/// One row of `summary.csv`.
#[derive(Debug, Default, Serialize)]
pub struct CsvRow<'a> {
    /// The cell's id: a hash of its resolved config, also its folder name under `cells/`.
    pub cell: &'a str,
    /// The algorithm: `sgd` or `km` (Karmakar–Mukherjee).
    pub algorithm: &'static str,
    /// The label model: `realizable`, `binary01`, `binary_pm1` or `mixture`.
    pub labels: &'static str,
    /// σ, the scale of the noise added to every label (its standard deviation when `noise_law` is `normal`).
    pub label_noise: f64,
    /// What was trained: `relu_gate`, `linear`, `mlp`, `fcn` or `cnn`.
    pub model: &'static str,
    /// Input dimension d.
    pub d: usize,
    /// Mini-batch size b.
    pub b: usize,
    /// Step size η (absolute).
    pub eta: f64,
    /// The step size on the κ scale, κ = η·(d + b + 1)/b (κ ≈ 2 is where linear regression's α reaches 2).
    pub kappa: f64,
    /// The predicted α the theory placed η at (`alpha_target`; empty when η was given).
    pub alpha_target: Option<f64>,
    /// The cell's seed.
    pub seed: u64,
    /// Independent chains trained, diverged ones included.
    pub chains: usize,
    /// Iterations K of every chain.
    pub steps: usize,
    /// What the chains did: `ok`, `partially_diverged`, `diverged` or `converged_to_floor`.
    pub status: &'static str,
    /// The headline α̂: the power-law fit on ‖w − centre‖ of the final iterates; empty where the cell diverged, collapsed or has no estimate.
    pub alpha: Option<f64>,
    /// Lower end of `alpha`'s symmetric half-sample subsampling interval (95 % by default); empty with `alpha`.
    pub alpha_lo: Option<f64>,
    /// Upper end of `alpha`'s interval; empty with `alpha`.
    pub alpha_hi: Option<f64>,
    /// The power-law fit on the running averages (after `burn_in`); empty with `alpha`.
    pub alpha_average: Option<f64>,
    /// The Mohammadi block estimator (the field's protocol; ≤ 2 by construction).
    pub alpha_mohammadi: Option<f64>,
    /// Lower end of `alpha_mohammadi`'s interval; empty for a diverged or collapsed cell.
    pub alpha_mohammadi_lo: Option<f64>,
    /// Upper end of `alpha_mohammadi`'s interval; empty for a diverged or collapsed cell.
    pub alpha_mohammadi_hi: Option<f64>,
    /// The headline power-law fit's threshold, tail size, KS distance and p-value.
    pub powerlaw_xmin: Option<f64>,
    /// Samples (chains) at or above `powerlaw_xmin`; empty with `alpha`.
    pub powerlaw_n_tail: Option<usize>,
    /// KS distance between the data and the fitted power law above `powerlaw_xmin`; empty with `alpha`.
    pub powerlaw_ks: Option<f64>,
    /// Goodness-of-fit p-value (semi-parametric bootstrap, Clauset et al.): small values reject a power law above `powerlaw_xmin`; empty with `alpha` or without resamples.
    pub powerlaw_p_value: Option<f64>,
    /// Hill's α̂ on the norms at a data-driven k; empty for a diverged or collapsed cell.
    pub hill_alpha: Option<f64>,
    /// The number k of top order statistics behind `hill_alpha`; empty with it.
    pub hill_k: Option<usize>,
    /// Chains that diverged (crossed `divergence_norm` or went non-finite), left out of every estimate.
    pub diverged_chains: usize,
    /// Chains that did not diverge.
    pub finite_chains: usize,
    /// Some chains diverged: every α̂ of the row is of the survivors (biased light).
    pub from_survivors: bool,
    /// Fraction of the chains the estimates used, in [0, 1] (1 when none diverged, 0 when all did).
    pub surviving_fraction: f64,
    /// The chains collapsed onto one point (no stationary spread): no α̂.
    pub converged_to_floor: bool,
    /// The GSZ21 theory's α (linear model only; empty where the theory says it diverges).
    pub theory_alpha: Option<f64>,
    /// The theory says the chain diverges (E log‖M e₁‖ ≥ 0); empty where there is no theory.
    pub theory_diverges: Option<bool>,
    /// The theory's root exceeds `theory::ALPHA_MAX` (a light tail).
    pub theory_light_tail: Option<bool>,
    /// Wall-clock seconds the training (or simulation) took, the estimates after it not included.
    pub wall_seconds: f64,
    /// `burn` or `reduced`: which engine ran the cell.
    pub engine: &'static str,
    /// Steps before the running average and the far-tail window start (0 when unset).
    pub burn_in: usize,
    /// The law of w₀: `normal`, `zeros` or `pareto`.
    pub init: &'static str,
    /// The theory's tilted drift μ at its root and the deepest exceedance fraction whose
    /// tail the burn-in had time to build, 10^(−α·μ·burn_in/ln 10).
    pub theory_tilted_drift: Option<f64>,
    /// e^{−α·μ·burn_in} (see `theory_tilted_drift`); empty without a theory α and drift.
    pub equilibrium_fraction: Option<f64>,
    /// The far tail (time samples): the headline (deepest rung with ≥ 1000 clusters from
    /// ≥ 100 chains), its rung, and why there is none.
    pub far_alpha: Option<f64>,
    /// Lower end of `far_alpha`'s chain-bootstrap percentile interval; empty without it.
    pub far_lo: Option<f64>,
    /// Upper end of `far_alpha`'s interval; empty without it.
    pub far_hi: Option<f64>,
    /// The exceedance fraction p of the headline's rung (its top p of the N·T time samples).
    pub far_fraction: Option<f64>,
    /// Independent clusters (extremal index × exceedances) at the headline's rung: its effective sample size.
    pub far_clusters: Option<f64>,
    /// Distinct chains among the exceedances at the headline's rung.
    pub far_chains: Option<usize>,
    /// Why the far tail has no headline; empty where it has one or there is no far tail.
    pub far_reason: Option<String>,
    /// N·T: the post-burn-in time samples the fractions are of; empty without a far tail.
    pub far_samples: Option<u64>,
    /// Hill above the top 10⁻³, 10⁻⁴, 10⁻⁵ of the time samples, with chain-bootstrap
    /// intervals, clusters and chains behind each.
    pub hill_1e3: Option<f64>,
    /// Lower end of `hill_1e3`'s chain-bootstrap interval.
    pub hill_1e3_lo: Option<f64>,
    /// Upper end of `hill_1e3`'s chain-bootstrap interval.
    pub hill_1e3_hi: Option<f64>,
    /// Independent clusters behind `hill_1e3`.
    pub clusters_1e3: Option<f64>,
    /// Distinct chains behind `hill_1e3`.
    pub chains_1e3: Option<usize>,
    /// Hill above the top 10⁻⁴ of the time samples; empty where the ladder stopped before it.
    pub hill_1e4: Option<f64>,
    /// Lower end of `hill_1e4`'s chain-bootstrap interval.
    pub hill_1e4_lo: Option<f64>,
    /// Upper end of `hill_1e4`'s chain-bootstrap interval.
    pub hill_1e4_hi: Option<f64>,
    /// Independent clusters behind `hill_1e4`.
    pub clusters_1e4: Option<f64>,
    /// Distinct chains behind `hill_1e4`.
    pub chains_1e4: Option<usize>,
    /// Hill above the top 10⁻⁵ of the time samples; empty where the ladder stopped before it.
    pub hill_1e5: Option<f64>,
    /// Lower end of `hill_1e5`'s chain-bootstrap interval.
    pub hill_1e5_lo: Option<f64>,
    /// Upper end of `hill_1e5`'s chain-bootstrap interval.
    pub hill_1e5_hi: Option<f64>,
    /// Independent clusters behind `hill_1e5`.
    pub clusters_1e5: Option<f64>,
    /// Distinct chains behind `hill_1e5`.
    pub chains_1e5: Option<usize>,
    /// Second half of the window minus the first, Hill at the top 10⁻³ / 10⁻⁴ of each half
    /// (paired chain bootstrap), and the fewer chains of the two halves behind it.
    pub halves_1e3: Option<f64>,
    /// Lower end of `halves_1e3`'s paired chain-bootstrap interval.
    pub halves_1e3_lo: Option<f64>,
    /// Upper end of `halves_1e3`'s paired chain-bootstrap interval.
    pub halves_1e3_hi: Option<f64>,
    /// The fewer of the two halves' chains with an exceedance at 10⁻³.
    pub halves_1e3_chains: Option<usize>,
    /// Hill at the top 10⁻⁴ of the second half minus that of the first; empty where not read.
    pub halves_1e4: Option<f64>,
    /// Lower end of `halves_1e4`'s paired chain-bootstrap interval.
    pub halves_1e4_lo: Option<f64>,
    /// Upper end of `halves_1e4`'s paired chain-bootstrap interval.
    pub halves_1e4_hi: Option<f64>,
    /// The fewer of the two halves' chains with an exceedance at 10⁻⁴.
    pub halves_1e4_chains: Option<usize>,
    /// `normal` or `cauchy`: the label noise's law.
    pub noise_law: &'static str,
    /// Whether the far-tail headline's rung is no deeper than `equilibrium_fraction` (the
    /// far-tail report uses a headline only then).
    pub far_in_equilibrium: Option<bool>,
}

/// The far-tail columns of a row (empty without a far tail).
fn far_columns(c: &CellResult, row: &mut CsvRow<'_>) {
    let theory = c.run.summary.theory.as_ref();
    row.theory_tilted_drift = theory.and_then(|t| t.tilted_drift);
    row.equilibrium_fraction = equilibrium_fraction(c);
    let Some(far) = c.run.summary.far_tail.as_ref() else {
        return;
    };
    let r = &far.reading;
    row.far_alpha = r.alpha;
    row.far_lo = r.alpha_lo;
    row.far_hi = r.alpha_hi;
    row.far_fraction = r.fraction;
    row.far_reason = r.reason.clone();
    row.far_samples = Some(r.samples);
    row.far_in_equilibrium = r
        .fraction
        .map(|p| row.equilibrium_fraction.is_none_or(|eq| p >= eq));
    if let Some(rung) = r
        .fraction
        .and_then(|p| r.ladder.iter().find(|g| g.fraction == p))
    {
        row.far_clusters = Some(rung.clusters);
        row.far_chains = Some(rung.chains);
    }
    for g in &r.ladder {
        let v = (
            Some(g.hill),
            g.hill_lo,
            g.hill_hi,
            Some(g.clusters),
            Some(g.chains),
        );
        let slot = match g.fraction {
            1e-3 => (
                &mut row.hill_1e3,
                &mut row.hill_1e3_lo,
                &mut row.hill_1e3_hi,
                &mut row.clusters_1e3,
                &mut row.chains_1e3,
            ),
            1e-4 => (
                &mut row.hill_1e4,
                &mut row.hill_1e4_lo,
                &mut row.hill_1e4_hi,
                &mut row.clusters_1e4,
                &mut row.chains_1e4,
            ),
            1e-5 => (
                &mut row.hill_1e5,
                &mut row.hill_1e5_lo,
                &mut row.hill_1e5_hi,
                &mut row.clusters_1e5,
                &mut row.chains_1e5,
            ),
            _ => continue,
        };
        (*slot.0, *slot.1, *slot.2, *slot.3, *slot.4) = v;
    }
    for h in &far.halves {
        let v = (
            Some(h.diff),
            h.diff_lo,
            h.diff_hi,
            Some(h.chains_a.min(h.chains_b)),
        );
        let slot = match h.fraction {
            1e-3 => (
                &mut row.halves_1e3,
                &mut row.halves_1e3_lo,
                &mut row.halves_1e3_hi,
                &mut row.halves_1e3_chains,
            ),
            1e-4 => (
                &mut row.halves_1e4,
                &mut row.halves_1e4_lo,
                &mut row.halves_1e4_hi,
                &mut row.halves_1e4_chains,
            ),
            _ => continue,
        };
        (*slot.0, *slot.1, *slot.2, *slot.3) = v;
    }
}

/// The deepest exceedance fraction in equilibrium after the burn-in by the tilted-drift
/// rule: the tail is built up to e^{μ·burn_in} above the bulk, which holds the top
/// (e^{μ·burn_in})^{−α}.
pub fn equilibrium_fraction(c: &CellResult) -> Option<f64> {
    let t = c.run.summary.theory.as_ref()?;
    let (alpha, mu) = (t.alpha?, t.tilted_drift?);
    let burn_in = c.config().burn_in.unwrap_or_default() as f64;
    Some((-alpha * mu * burn_in).exp())
}

/// summary.csv's columns, in order (the header `csv` writes for [`CsvRow`]).
pub fn columns() -> Vec<String> {
    let mut header = csv::Writer::from_writer(vec![]);
    header
        .serialize(CsvRow::default())
        .expect("a default row serialises");
    let bytes = header.into_inner().expect("a Vec takes every byte");
    let text = String::from_utf8(bytes).expect("column names are UTF-8");
    let line = text.lines().next().unwrap_or_default();
    line.split(',').map(str::to_owned).collect()
}

/// `summary.csv`: one row per finished cell, empty fields where a value does not exist.
pub fn write_csv(path: &Path, cells: &[CellResult]) -> Result<()> {
    write_atomically(path, |tmp| {
        let mut w = csv::Writer::from_path(tmp).map_err(|e| csv_error(tmp, e))?;
        if cells.is_empty() {
            // The header comes with the first row; without one, pandas and numpy would get an
            // empty file instead of a table with no rows.
            w.write_record(columns()).map_err(|e| csv_error(tmp, e))?;
        }
        for c in cells {
            let cfg = c.config();
            let s = &c.run.summary.tail;
            let theory = c.run.summary.theory.as_ref();
            let alpha = c.alpha();
            // The other estimators where the run describes a stationary law at all.
            let usable = c.run.usable().then_some(());
            let powerlaw = s.estimates.get("powerlaw");
            let mut row = CsvRow {
                cell: &c.id,
                algorithm: cfg.algorithm.name(),
                labels: cfg.labels.name(),
                label_noise: cfg.label_noise,
                model: cfg.model.name(),
                d: cfg.dim,
                b: cfg.batch,
                eta: cfg.eta,
                kappa: kappa(cfg),
                alpha_target: cfg.alpha_target,
                seed: cfg.seed,
                chains: cfg.chains,
                steps: cfg.steps,
                status: s.status.name(),
                alpha,
                alpha_lo: alpha.and(s.alpha_ci.map(|c| c[0])),
                alpha_hi: alpha.and(s.alpha_ci.map(|c| c[1])),
                alpha_average: alpha.and(s.alpha_average),
                alpha_mohammadi: usable.and(s.alpha_mohammadi),
                alpha_mohammadi_lo: usable.and(s.alpha_mohammadi_ci.map(|c| c[0])),
                alpha_mohammadi_hi: usable.and(s.alpha_mohammadi_ci.map(|c| c[1])),
                powerlaw_xmin: alpha.and(powerlaw.and_then(|p| p.xmin)),
                powerlaw_n_tail: alpha.and(powerlaw.and_then(|p| p.n_tail)),
                powerlaw_ks: alpha.and(powerlaw.and_then(|p| p.ks)),
                powerlaw_p_value: alpha.and(powerlaw.and_then(|p| p.p_value)),
                hill_alpha: usable.and(s.hill_alpha),
                hill_k: usable.and(s.hill_k),
                diverged_chains: s.diverged_chains,
                finite_chains: c.run.summary.finite_chains,
                from_survivors: s.from_survivors,
                surviving_fraction: s.surviving_fraction,
                converged_to_floor: s.converged_to_floor,
                theory_alpha: theory.and_then(|t| t.alpha),
                theory_diverges: theory.map(|t| t.diverges),
                theory_light_tail: theory.map(|t| t.light_tail),
                wall_seconds: c.run.summary.wall_seconds,
                engine: cfg.engine.name(),
                burn_in: cfg.burn_in.unwrap_or_default(),
                init: cfg.init.name(),
                noise_law: cfg.noise_law.name(),
                ..CsvRow::default()
            };
            far_columns(c, &mut row);
            w.serialize(row).map_err(|e| csv_error(tmp, e))?;
        }
        w.flush().map_err(|e| Error::io(tmp, e))
    })
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    /// Every study axis that names a summary.csv column has it, so a study that varies the
    /// axis can be read back from the table.
    #[test]
    fn every_study_axis_names_a_real_column() {
        let columns = super::columns();
        assert!(columns.len() > 50, "{columns:?}");
        for axis in crate::study::AXES {
            if let Some(column) = axis.column {
                assert!(
                    columns.iter().any(|c| c == column),
                    "axis `{}` names summary.csv column `{column}`, which does not exist",
                    axis.name
                );
            }
        }
    }
}
