//! `tailgate estimate`: every estimator on an `.npy` or CSV sample, as text or JSON.

use crate::cli::{EstimateArgs, Format, LayoutChoice};
use tailgate::error::{Error, Result};
pub use tailgate::estimate::EstimateReport;
use tailgate::estimate::{EstimateOptions, estimate};
use tailgate::io::progress_bar;
use tailgate::io::{read_npy_mask, read_samples, write_atomically};
use tailgate::tail::far::{FarTail, LadderOptions, Layout, far_tail_of_series};
use tailgate::tail::{self, Rows, TailError, center_rows};

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

/// `tailgate estimate --far-tail`: the ladder of a `[steps, chains]` series, rendered; with
/// `--out`, also written as JSON.
pub fn run_far_tail(args: &EstimateArgs) -> Result<String> {
    let array = read_samples(&args.file)?;
    let input = |message: String| Error::Input {
        path: args.file.clone(),
        message,
    };
    let [rows, cols] = match array.shape[..] {
        [r, c] => [r, c],
        _ => {
            return Err(input(format!(
                "a {}-D array: --far-tail reads a 2-D series [steps, chains] (or --layout chains,steps)",
                array.shape.len()
            )));
        }
    };
    if !(args.ci > 0.0 && args.ci < 1.0) {
        return Err(Error::config(
            "--ci",
            format!("must lie in (0, 1), got {}", args.ci),
        ));
    }
    let layout = match args.layout {
        LayoutChoice::StepsChains => Layout::StepsChains,
        LayoutChoice::ChainsSteps => Layout::ChainsSteps,
    };
    let options = LadderOptions {
        resamples: args.resamples,
        seed: args.seed,
        level: args.ci,
        ..LadderOptions::default()
    };
    let far = far_tail_of_series(
        &array.values,
        [rows, cols],
        layout,
        args.burn_in,
        args.keep,
        &options,
    )
    .map_err(|e| input(e.to_string()))?;
    let json = serde_json::to_string_pretty(&far).unwrap_or_default();
    if let Some(path) = &args.out {
        write_atomically(path, |tmp| {
            std::fs::write(tmp, &json).map_err(|e| Error::io(tmp, e))
        })?;
    }
    Ok(match args.format {
        Format::Json => json,
        Format::Table => render_far_tail(&far),
    })
}

/// The ladder as a table: one line per rung, then the headline.
pub fn render_far_tail(far: &FarTail) -> String {
    let opt = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{v:.3}"));
    let mut out = format!(
        "far tail: {} chains × {} steps = {} time samples, {} kept above {:.6}\n",
        far.chains, far.steps, far.samples, far.kept, far.threshold
    );
    out += &format!(
        "{:>9} {:>12} {:>10} {:>7} {:>7} {:>9} {:>7} {:>17} {:>7} {:>17}\n",
        "fraction",
        "threshold",
        "exceed.",
        "chains",
        "θ̂",
        "clusters",
        "Hill",
        "Hill CI",
        "GPD α",
        "GPD CI"
    );
    for r in &far.ladder {
        out += &format!(
            "{:>9.0e} {:>12.5} {:>10} {:>7} {:>7.4} {:>9.0} {:>7.3} {:>17} {:>7} {:>17}\n",
            r.fraction,
            r.threshold,
            r.exceedances,
            r.chains,
            r.extremal_index,
            r.clusters,
            r.hill,
            format!("[{}, {}]", opt(r.hill_lo), opt(r.hill_hi)),
            opt(r.gpd_alpha),
            format!("[{}, {}]", opt(r.gpd_lo), opt(r.gpd_hi)),
        );
    }
    out += &format!("ladder: {}\n", far.stopped);
    out += &match (far.alpha, far.fraction) {
        (Some(a), Some(p)) => format!(
            "far-tail alpha = {a:.4} [{}, {}] ({:.0} % chain bootstrap) at fraction {p:e}; rule: {}\n",
            opt(far.alpha_lo),
            opt(far.alpha_hi),
            100.0 * far.level,
            far.rule
        ),
        _ => format!(
            "far-tail alpha: none ({})\n",
            far.reason.as_deref().unwrap_or("no rung qualifies")
        ),
    };
    out
}
