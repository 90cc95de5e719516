//! `tailgate estimate`: every estimator on an `.npy` or CSV sample, as text or JSON.

use crate::cli::{CenterChoice, EstimateArgs, EstimatorChoice, Format, GridChoice};
use crate::error::{Error, Result};
use crate::io::progress_bar;
use crate::io::{read_npy_mask, read_samples, write_atomically};
use crate::tail::{
    self, BlockAlpha, BlockGrid, Center, KChoice, Rows, TailError, bootstrap_ci, center_in_place,
    center_rows, mohammadi_median,
};
use serde::Serialize;

/// One estimator's answer, as printed by `tailgate estimate --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct EstimateReport {
    pub estimator: &'static str,
    /// `null` where the estimate has no finite α (moments or Pickands with ξ ≤ 0).
    pub alpha: Option<f64>,
    /// Moments and Pickands: the extreme-value index ξ (α = 1/ξ where ξ > 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xi: Option<f64>,
    /// Mohammadi: the estimate at each block size (the reported `alpha` is their median).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_block_size: Option<Vec<BlockAlpha>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grid: Option<String>,
    /// Hill: the number of upper order statistics used, and how it was chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k_rule: Option<String>,
    pub ci: Option<Ci>,
    pub n: usize,
    pub dim: usize,
    pub center: &'static str,
    pub pooled: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ci {
    pub level: f64,
    pub lo: f64,
    pub hi: f64,
    pub resamples: usize,
}

/// `tailgate estimate`: the reports, one per estimator asked for.
pub fn run(args: &EstimateArgs) -> Result<Vec<EstimateReport>> {
    let array = read_samples(&args.file)?;
    let dim = if array.shape.len() == 2 {
        array.shape[1]
    } else {
        1
    };
    let with_file = |e: TailError| Error::Input {
        path: args.file.clone(),
        message: e.to_string(),
    };
    let mut values = array.values;
    if let Some(mask_path) = &args.exclude {
        let n = values.len() / dim;
        let mask = read_npy_mask(mask_path, n)?;
        values = values
            .chunks_exact(dim)
            .zip(&mask)
            .filter(|(_, out)| !**out)
            .flat_map(|(row, _)| row.iter().copied())
            .collect();
    }
    let mut rows = Rows::new(values, dim).map_err(with_file)?;
    if args.pooled {
        rows = rows.pooled();
    }
    if rows.n() < 2 {
        return Err(with_file(TailError::TooFewRows {
            needed: 2,
            got: rows.n(),
        }));
    }
    let center = match args.center {
        CenterChoice::None => Center::None,
        CenterChoice::Mean => Center::Mean,
        CenterChoice::Median => Center::Median,
    };
    let grid = match (&args.block_sizes, args.grid) {
        (Some(sizes), _) => BlockGrid::Explicit(sizes.clone()),
        (None, GridChoice::Network) => BlockGrid::Network,
        (None, GridChoice::Synthetic) => BlockGrid::Synthetic,
        (None, GridChoice::Sqrt) => BlockGrid::Sqrt,
    };
    let centered = center_rows(&rows, &center).map_err(with_file)?;
    let base = |estimator| EstimateReport {
        estimator,
        alpha: None,
        xi: None,
        per_block_size: None,
        grid: None,
        k: None,
        k_rule: None,
        ci: None,
        n: rows.n(),
        dim: rows.dim(),
        center: center.name(),
        pooled: args.pooled,
    };
    let ci = |stat: &(dyn Fn(&Rows) -> std::result::Result<f64, TailError> + Sync)| {
        if args.bootstrap == 0 {
            return Ok(None);
        }
        // Each resample costs a pass over every sample: minutes for 10⁷ samples.
        let bar = progress_bar(
            args.bootstrap as u64,
            "bootstrap resamples, eta {eta}",
            args.quiet,
        );
        let ci = bootstrap_ci(&rows, args.bootstrap, args.ci, args.seed, |r| {
            let value = stat(&center_in_place(r, &center)?);
            bar.inc(1);
            value
        });
        bar.finish_and_clear();
        let ci = ci?;
        Ok::<_, TailError>(Some(Ci {
            level: ci.level,
            lo: ci.lo,
            hi: ci.hi,
            resamples: ci.resamples,
        }))
    };
    let norms = centered.norms();
    if let Some(path) = &args.hill_plot {
        write_hill_plot(path, &norms)?;
    }
    let mut reports = Vec::new();
    if matches!(
        args.estimator,
        EstimatorChoice::Mohammadi | EstimatorChoice::All
    ) {
        let est = mohammadi_median(&centered, &grid).map_err(with_file)?;
        let stat = |r: &Rows| mohammadi_median(r, &grid).map(|e| e.alpha);
        reports.push(EstimateReport {
            alpha: Some(est.alpha),
            per_block_size: Some(est.per_block_size),
            grid: Some(est.grid),
            ci: ci(&stat).map_err(with_file)?,
            ..base("mohammadi")
        });
    }
    if matches!(args.estimator, EstimatorChoice::Hill | EstimatorChoice::All) {
        let choice = match args.k {
            Some(k) => KChoice::Fixed(k),
            None => KChoice::DoubleBootstrap {
                resamples: 50,
                seed: args.seed,
            },
        };
        let est = tail::hill(&norms, choice).map_err(with_file)?;
        let k = est.k;
        let stat = |r: &Rows| tail::hill_alpha(&r.norms(), k);
        reports.push(EstimateReport {
            alpha: Some(est.alpha),
            k: Some(est.k),
            k_rule: Some(est.k_rule),
            ci: ci(&stat).map_err(with_file)?,
            ..base("hill")
        });
    }
    type AlphaAtK = fn(&[f64], usize) -> std::result::Result<f64, TailError>;
    type XiChoose = fn(&[f64], KChoice) -> std::result::Result<tail::XiEstimate, TailError>;
    let order_estimators: [(EstimatorChoice, &'static str, XiChoose, AlphaAtK); 2] = [
        (
            EstimatorChoice::Moments,
            "moments",
            tail::moments,
            tail::moments_alpha,
        ),
        (
            EstimatorChoice::Pickands,
            "pickands",
            tail::pickands,
            tail::pickands_alpha,
        ),
    ];
    for (which, name, estimate, alpha_at) in order_estimators {
        if !matches!(args.estimator, e if e == which || e == EstimatorChoice::All) {
            continue;
        }
        let choice = match args.k {
            Some(k) => KChoice::Fixed(k),
            None => KChoice::DoubleBootstrap {
                resamples: 50,
                seed: args.seed,
            },
        };
        let est = estimate(&norms, choice).map_err(with_file)?;
        let k = est.k;
        // Resamples with ξ ≤ 0 have no α: they count as failed resamples.
        let stat = |r: &Rows| alpha_at(&r.norms(), k);
        reports.push(EstimateReport {
            alpha: est.alpha,
            xi: Some(est.xi),
            k: Some(est.k),
            k_rule: Some(est.k_rule),
            ci: ci(&stat).map_err(with_file)?,
            ..base(name)
        });
    }
    Ok(reports)
}

/// `k,alpha` rows of the Hill plot, written to a sibling and renamed into place.
fn write_hill_plot(path: &std::path::Path, magnitudes: &[f64]) -> Result<()> {
    let mut text = String::from("k,alpha\n");
    for (k, alpha) in tail::hill_plot(magnitudes, 100_000) {
        text += &format!("{k},{alpha}\n");
    }
    write_atomically(path, |tmp| {
        std::fs::write(tmp, text).map_err(|e| Error::io(tmp, e))
    })
}

/// The reports as text: a table, or JSON (one object, or an array for `--estimator all`).
pub fn render(reports: &[EstimateReport], format: Format) -> String {
    match format {
        Format::Json => {
            let text = if reports.len() == 1 {
                serde_json::to_string_pretty(&reports[0])
            } else {
                serde_json::to_string_pretty(reports)
            };
            text.unwrap_or_default()
        }
        Format::Table => {
            let mut out = String::new();
            for r in reports {
                let ci =
                    r.ci.as_ref()
                        .map(|c| {
                            format!(
                                "  {:.0}% CI [{:.4}, {:.4}] ({} resamples)",
                                c.level * 100.0,
                                c.lo,
                                c.hi,
                                c.resamples
                            )
                        })
                        .unwrap_or_default();
                let alpha = match (r.alpha, r.xi) {
                    (Some(a), _) => format!("{a:.4}"),
                    (None, Some(xi)) => format!("none (ξ = {xi:.4} ≤ 0: no finite tail index)"),
                    (None, None) => "none".to_string(),
                };
                out += &format!(
                    "{:<9} alpha = {alpha}{ci}\n          n = {}, dim = {}, center = {}{}\n",
                    r.estimator,
                    r.n,
                    r.dim,
                    r.center,
                    if r.pooled { ", pooled" } else { "" }
                );
                if let Some(per) = &r.per_block_size {
                    let cells: Vec<String> = per
                        .iter()
                        .map(|b| format!("m={}: {:.4}", b.m, b.alpha))
                        .collect();
                    out += &format!(
                        "          grid {} (median of): {}\n",
                        r.grid.as_deref().unwrap_or(""),
                        cells.join(", ")
                    );
                }
                if let (Some(k), Some(rule)) = (r.k, &r.k_rule) {
                    out += &format!("          k = {k} ({rule})\n");
                }
            }
            out
        }
    }
}
