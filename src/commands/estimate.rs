//! `tailgate estimate`: every estimator on an `.npy` or CSV sample, as text or JSON.

use crate::cli::{EstimateArgs, Format};
use crate::error::{Error, Result};
pub use crate::estimate::EstimateReport;
use crate::estimate::{EstimateOptions, estimate};
use crate::io::progress_bar;
use crate::io::{read_npy_mask, read_samples, write_atomically};
use crate::tail::{self, Rows, TailError, center_rows};

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
    let rows = Rows::new(values, dim).map_err(with_file)?;
    let options = EstimateOptions {
        estimator: args.estimator,
        block_sizes: args.block_sizes.clone(),
        grid: args.grid,
        k: args.k,
        center: args.center,
        pooled: args.pooled,
        ci: args.ci,
        subsamples: args.subsamples,
        seed: args.seed,
        min_samples: args.min_samples,
        k_resamples: args.k_resamples,
        gof_resamples: args.gof_resamples,
        powerlaw: tail::PowerLawOptions {
            min_tail: args.min_tail,
            max_candidates: args.xmin_candidates,
        },
    };
    if let Some(path) = &args.hill_plot {
        let rows = if args.pooled {
            rows.pooled()
        } else {
            rows.clone()
        };
        let centered = center_rows(&rows, &args.center.center()).map_err(with_file)?;
        write_hill_plot(path, &centered.norms())?;
    }
    // Each subsample costs a pass over half the samples: minutes for 10⁷ samples.
    let bar = progress_bar(
        (args.subsamples * options.estimators()) as u64,
        "subsamples, eta {eta}",
        args.quiet,
    );
    let reports = estimate(rows, &options, &|| bar.inc(1)).map_err(with_file);
    bar.finish_and_clear();
    reports
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
                                "  {:.0}% CI [{:.4}, {:.4}] ({} half-samples)",
                                c.level * 100.0,
                                c.lo,
                                c.hi,
                                c.subsamples
                            )
                        })
                        .unwrap_or_default();
                let alpha = match (r.alpha, &r.reason) {
                    (Some(a), _) => format!("{a:.4}"),
                    (None, Some(why)) => format!("none ({why})"),
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
                if let (Some(xmin), Some(n_tail), Some(ks)) = (r.xmin, r.n_tail, r.ks) {
                    let p = r
                        .p_value
                        .map_or("not computed".into(), |p| format!("{p:.3}"));
                    out += &format!(
                        "          xmin = {xmin:.6} ({n_tail} samples in the tail), KS distance {ks:.4}, goodness-of-fit p = {p}\n"
                    );
                }
            }
            out
        }
    }
}
