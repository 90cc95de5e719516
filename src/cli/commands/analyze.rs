//! `tailgate analyze`: every weight tensor of a checkpoint, as a table, JSON or CSV.

use crate::cli::{AnalyzeArgs, AnalyzeFormat};
use serde::Serialize;
use tailgate::analyze::{AnalyzeOptions, LADDER, TensorReport, analyze_tensor};
use tailgate::error::{Error, Result};
use tailgate::io::{progress_bar, read_checkpoint, write_atomically};

/// Reads, analyses and renders; writes to `--out` when given (the text returned then says so).
pub fn run(args: &AnalyzeArgs) -> Result<String> {
    if !(args.ci > 0.0 && args.ci < 1.0) {
        return Err(Error::config("ci", "must lie in (0, 1)"));
    }
    if args.subsamples == 1 {
        return Err(Error::config("subsamples", "must be 0 or at least 2"));
    }
    let tensors = read_checkpoint(&args.checkpoint)?;
    let options = AnalyzeOptions {
        min_elements: args.min_elements,
        center: args.center,
        subsamples: args.subsamples,
        gof_resamples: args.gof_resamples,
        ci: args.ci,
        seed: args.seed,
    };
    let bar = progress_bar(tensors.len() as u64, "tensors, eta {eta}", false);
    let reports: Vec<TensorReport> = tensors
        .iter()
        .map(|t| {
            let r = analyze_tensor(t, &options);
            bar.inc(1);
            r
        })
        .collect();
    bar.finish_and_clear();
    let text = render(&reports, args.format)?;
    match &args.out {
        Some(path) => {
            write_atomically(path, |tmp| {
                std::fs::write(tmp, &text).map_err(|e| Error::io(tmp, e))
            })?;
            Ok(format!(
                "wrote {} ({} tensors)",
                path.display(),
                reports.len()
            ))
        }
        None => Ok(text),
    }
}

/// The reports in the chosen format.
pub fn render(reports: &[TensorReport], format: AnalyzeFormat) -> Result<String> {
    Ok(match format {
        AnalyzeFormat::Json => {
            serde_json::to_string_pretty(reports).expect("reports serialise") + "\n"
        }
        AnalyzeFormat::Csv => csv(reports)?,
        AnalyzeFormat::Table => table(reports),
    })
}

fn shape(s: &[usize]) -> String {
    if s.is_empty() {
        "scalar".into()
    } else {
        s.iter().map(usize::to_string).collect::<Vec<_>>().join("×")
    }
}

fn table(reports: &[TensorReport]) -> String {
    let width = reports
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(4)
        .max(6);
    let mut out = format!(
        "{:width$}  {:>14}  {:>10}  verdict\n",
        "tensor", "shape", "elements"
    );
    for r in reports {
        out += &format!(
            "{:width$}  {:>14}  {:>10}  {}\n",
            r.name,
            shape(&r.shape),
            r.elements,
            r.verdict
        );
    }
    out
}

/// One CSV row: the report flattened, the Hill ladder as columns.
#[derive(Serialize)]
struct Row<'a> {
    tensor: &'a str,
    shape: String,
    dtype: &'a str,
    elements: usize,
    status: &'static str,
    alpha: Option<f64>,
    alpha_lo: Option<f64>,
    alpha_hi: Option<f64>,
    xmin: Option<f64>,
    n_tail: Option<usize>,
    ks: Option<f64>,
    p_value: Option<f64>,
    rejected_fit_exponent: Option<f64>,
    hill_1e1: Option<f64>,
    hill_1e1_lo: Option<f64>,
    hill_1e1_hi: Option<f64>,
    hill_1e2: Option<f64>,
    hill_1e2_lo: Option<f64>,
    hill_1e2_hi: Option<f64>,
    hill_1e3: Option<f64>,
    hill_1e3_lo: Option<f64>,
    hill_1e3_hi: Option<f64>,
    center: &'static str,
    verdict: &'a str,
}

fn csv(reports: &[TensorReport]) -> Result<String> {
    let mut w = csv::Writer::from_writer(vec![]);
    for r in reports {
        let rung = |i: usize| {
            let f = LADDER[i];
            let h = r.hill.iter().find(|h| h.fraction == f);
            (
                h.and_then(|h| h.alpha),
                h.and_then(|h| h.lo),
                h.and_then(|h| h.hi),
            )
        };
        let (a1, l1, h1) = rung(0);
        let (a2, l2, h2) = rung(1);
        let (a3, l3, h3) = rung(2);
        w.serialize(Row {
            tensor: &r.name,
            shape: shape(&r.shape),
            dtype: &r.dtype,
            elements: r.elements,
            status: r.status.name(),
            alpha: r.alpha,
            alpha_lo: r.alpha_lo,
            alpha_hi: r.alpha_hi,
            xmin: r.xmin,
            n_tail: r.n_tail,
            ks: r.ks,
            p_value: r.p_value,
            rejected_fit_exponent: r.rejected_fit_exponent,
            hill_1e1: a1,
            hill_1e1_lo: l1,
            hill_1e1_hi: h1,
            hill_1e2: a2,
            hill_1e2_lo: l2,
            hill_1e2_hi: h2,
            hill_1e3: a3,
            hill_1e3_lo: l3,
            hill_1e3_hi: h3,
            center: r.center,
            verdict: &r.verdict,
        })
        .map_err(|e| Error::config("format", e.to_string()))?;
    }
    let bytes = w.into_inner().expect("a Vec takes every byte");
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 fields"))
}
