//! `tailgate._tailgate`: the native half of the Python package. Thin wrappers over the
//! library's own paths (the CLI's numbers, bit for bit); values cross as bytes and JSON
//! text, which `python/tailgate/__init__.py` turns into numpy arrays and dicts.

use clap::ValueEnum;
use pyo3::exceptions::{
    PyFileExistsError, PyKeyboardInterrupt, PyOSError, PyRuntimeError, PyValueError,
};
use pyo3::prelude::*;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;
use tailgate::Error;
use tailgate::config::{Resolved, TrainConfig};
use tailgate::estimate::{CenterChoice, EstimateOptions, EstimatorChoice, GridChoice};
use tailgate::io::{Progress, parse_json, read_json};
use tailgate::run::{Finished, RunRecord, train_into};
use tailgate::tail::Rows;
use tailgate::theory::{gate_tail_index, linear_tail_index};

/// The CLI's one-line message, as the Python exception that fits it.
fn to_py(e: Error) -> PyErr {
    let message = e.to_string();
    match e {
        Error::Io { .. } => PyOSError::new_err(message),
        Error::OutputExists(_) => PyFileExistsError::new_err(message),
        Error::Interrupted => PyKeyboardInterrupt::new_err(message),
        Error::Backend(_) => PyRuntimeError::new_err(message),
        _ => PyValueError::new_err(message),
    }
}

/// `value` as one of `T`'s command-line names; the error lists them all.
fn choice<T: ValueEnum>(field: &str, value: &str) -> PyResult<T> {
    T::from_str(value, false).map_err(|_| {
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        PyValueError::new_err(format!(
            "`{field}`: unknown value {value:?}; expected one of {}",
            names.join(", ")
        ))
    })
}

/// Every estimator `estimator` names on the rows `values` (float64, native byte order,
/// `n × dim`, row-major): the JSON array `tailgate estimate --format json` prints for
/// `--estimator all` (one element otherwise).
#[pyfunction]
#[pyo3(signature = (values, n, dim, estimator, block_sizes, grid, k, center, pooled, ci, subsamples, seed, min_samples, k_resamples, gof_resamples, min_tail, xmin_candidates))]
#[allow(clippy::too_many_arguments)]
fn estimate(
    py: Python<'_>,
    values: &[u8],
    n: usize,
    dim: usize,
    estimator: &str,
    block_sizes: Option<Vec<usize>>,
    grid: &str,
    k: Option<usize>,
    center: &str,
    pooled: bool,
    ci: f64,
    subsamples: usize,
    seed: u64,
    min_samples: usize,
    k_resamples: usize,
    gof_resamples: usize,
    min_tail: usize,
    xmin_candidates: usize,
) -> PyResult<String> {
    if values.len() != n * dim * 8 {
        return Err(PyValueError::new_err(format!(
            "x: {} bytes for {n} × {dim} float64 values",
            values.len()
        )));
    }
    let options = EstimateOptions {
        estimator: choice::<EstimatorChoice>("estimator", estimator)?,
        block_sizes,
        grid: choice::<GridChoice>("grid", grid)?,
        k,
        center: choice::<CenterChoice>("center", center)?,
        pooled,
        ci,
        subsamples,
        seed,
        min_samples,
        k_resamples,
        gof_resamples,
        powerlaw: tailgate::tail::PowerLawOptions {
            min_tail,
            max_candidates: xmin_candidates,
        },
    };
    let reports = py.detach(|| {
        let values: Vec<f64> = values
            .chunks_exact(8)
            .map(|b| f64::from_ne_bytes(b.try_into().expect("chunks of 8")))
            .collect();
        let rows = Rows::new(values, dim)?;
        tailgate::estimate::estimate(rows, &options, &|| {})
    });
    let reports = reports.map_err(|e| PyValueError::new_err(format!("x: {e}")))?;
    serde_json::to_string(&reports).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// The far-tail ladder of a time series `values` (float64, native byte order, `rows ×
/// cols` row-major, laid out `layout`): the JSON object `tailgate estimate --far-tail
/// --format json` prints.
#[pyfunction]
#[pyo3(signature = (values, rows, cols, layout, burn_in, keep, resamples, seed, ci))]
#[allow(clippy::too_many_arguments)]
fn far_tail(
    py: Python<'_>,
    values: &[u8],
    rows: usize,
    cols: usize,
    layout: &str,
    burn_in: usize,
    keep: f64,
    resamples: usize,
    seed: u64,
    ci: f64,
) -> PyResult<String> {
    use tailgate::tail::far::{LadderOptions, Layout, far_tail_of_series};
    if values.len() != rows * cols * 8 {
        return Err(PyValueError::new_err(format!(
            "x: {} bytes for {rows} × {cols} float64 values",
            values.len()
        )));
    }
    let layout = match layout {
        "steps,chains" => Layout::StepsChains,
        "chains,steps" => Layout::ChainsSteps,
        other => {
            return Err(PyValueError::new_err(format!(
                "`layout`: unknown value {other:?}; expected one of steps,chains, chains,steps"
            )));
        }
    };
    if !(ci > 0.0 && ci < 1.0) {
        return Err(PyValueError::new_err(format!(
            "`ci`: must lie in (0, 1), got {ci}"
        )));
    }
    let options = LadderOptions {
        resamples,
        seed,
        level: ci,
        ..LadderOptions::default()
    };
    let far = py.detach(|| {
        let values: Vec<f64> = values
            .chunks_exact(8)
            .map(|b| f64::from_ne_bytes(b.try_into().expect("chunks of 8")))
            .collect();
        far_tail_of_series(&values, [rows, cols], layout, burn_in, keep, &options)
    });
    let far = far.map_err(|e| PyValueError::new_err(format!("x: {e}")))?;
    serde_json::to_string(&far).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// `tailgate theory --model MODEL --format json` as JSON text.
#[pyfunction]
fn theory(model: &str, dim: usize, batch: usize, eta: f64) -> PyResult<String> {
    let t = match model {
        "linear" => linear_tail_index(dim, batch, eta),
        "relu_gate" | "relu-gate" => gate_tail_index(dim, batch, eta),
        other => {
            return Err(PyValueError::new_err(format!(
                "`model`: unknown value {other:?}; expected one of linear, relu_gate"
            )));
        }
    }
    .map_err(to_py)?;
    serde_json::to_string_pretty(&t).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// The config file at `path` (if any) with the keys of the JSON object `keys` on top,
/// resolved: the config `tailgate train --config PATH` would run.
fn config_from(path: Option<&Path>, keys: &str) -> tailgate::Result<Resolved> {
    let keys: Map<String, Value> = parse_json(Path::new("keys"), keys)?;
    let (mut merged, origin) = match path {
        Some(path) => (read_json::<Map<String, Value>>(path)?, path.to_path_buf()),
        None => (Map::new(), PathBuf::from("config")),
    };
    merged.extend(keys);
    let config: TrainConfig =
        serde_json::from_value(Value::Object(merged)).map_err(|e| Error::Json {
            path: origin,
            message: e.to_string(),
        })?;
    config.resolve()
}

/// Trains into the new folder `out` with the GIL released; returns the run's one-line
/// summary. Ctrl-C stops the run within a step and raises `KeyboardInterrupt`; the
/// unfinished folder is removed.
#[pyfunction]
#[pyo3(signature = (config, keys, out))]
fn train(py: Python<'_>, config: Option<PathBuf>, keys: &str, out: PathBuf) -> PyResult<String> {
    let config = config_from(config.as_deref(), keys).map_err(to_py)?;
    let progress = Progress::hidden();
    let (result, interrupt) = py.detach(|| train_interruptibly(&config, &out, &progress));
    if let Some(interrupt) = interrupt {
        return Err(interrupt);
    }
    Ok(result.map_err(to_py)?.record.headline())
}

/// Trains on a worker thread while this (Python's) thread looks for signals every 50 ms:
/// Python runs its SIGINT handler only when asked, and only on the main thread.
fn train_interruptibly(
    config: &Resolved,
    out: &Path,
    progress: &Progress,
) -> (tailgate::Result<Finished>, Option<PyErr>) {
    let (send, receive) = mpsc::channel();
    std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            let _ = send.send(train_into(config, out, progress));
        });
        let mut interrupt = None;
        loop {
            match receive.recv_timeout(Duration::from_millis(50)) {
                Ok(result) => return (result, interrupt),
                Err(RecvTimeoutError::Timeout) => {
                    if interrupt.is_none()
                        && let Err(e) = Python::attach(|py| py.check_signals())
                    {
                        progress.stop();
                        interrupt = Some(e);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let panic = worker.join().err().map(|p| {
                        p.downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default()
                    });
                    let message = format!("training panicked: {}", panic.unwrap_or_default());
                    return (Err(Error::Backend(message)), interrupt);
                }
            }
        }
    })
}

/// `dir/run.json` checked against the run record's schema, as its JSON text.
#[pyfunction]
fn read_run(dir: PathBuf) -> PyResult<String> {
    RunRecord::read(&dir).map_err(to_py)?;
    let path = dir.join("run.json");
    std::fs::read_to_string(&path)
        .map_err(|e| PyOSError::new_err(format!("{}: {e}", path.display())))
}

#[pymodule]
fn _tailgate(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(estimate, m)?)?;
    m.add_function(wrap_pyfunction!(theory, m)?)?;
    m.add_function(wrap_pyfunction!(far_tail, m)?)?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(read_run, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // The registry's names and lines, so that Python lists exactly what the CLI accepts.
    let estimators: Vec<(&str, &str)> = tailgate::tail::ESTIMATORS
        .iter()
        .map(|e| (e.name(), e.about()))
        .collect();
    m.add("ESTIMATORS", estimators)?;
    Ok(())
}
