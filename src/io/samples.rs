//! Reading samples: `.npy` (float32/float64, 1-D or 2-D, boolean masks) and CSV.

use crate::error::{Error, Result};
use npyz::{DType, TypeChar};
use std::io::Cursor;
use std::path::Path;

/// An array read from disk: row-major f64 values and their shape (1-D or 2-D).
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// The values in row-major (C) order, widened to f64.
    pub values: Vec<f64>,
    /// The array's dimensions, outermost first.
    pub shape: Vec<usize>,
}

/// One line: the `.npy` header parser's errors span several (a pest diagram).
fn input_err(path: &Path, message: impl Into<String>) -> Error {
    let message: String = message.into();
    Error::Input {
        path: path.to_path_buf(),
        message: message.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// Reads samples from a `.npy` (float32/float64, 1-D or 2-D, C order) or a CSV file
/// (numbers only; a first line that is not numeric is taken as a header).
pub fn read_samples(path: &Path) -> Result<Array> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("npy") => {
            let array = read_npy_f64(path)?;
            if array.shape.is_empty() || array.shape.len() > 2 {
                return Err(input_err(
                    path,
                    format!(
                        "array has {} dimensions (shape {:?}); expected 1-D scalars or 2-D [N, d] rows",
                        array.shape.len(),
                        array.shape
                    ),
                ));
            }
            Ok(array)
        }
        Some("csv") | Some("txt") => read_csv(path),
        _ => Err(input_err(
            path,
            "unknown file type: expected a .npy or .csv file",
        )),
    }
}

/// A `.npy` file read into memory, its header parsed.
type Npy = npyz::NpyFile<Cursor<Vec<u8>>>;

/// A `.npy` file's header parsed, with its shape; the data not yet read.
fn open_npy(path: &Path) -> Result<(Npy, Vec<usize>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    npy_of(path, bytes)
}

/// An `.npy` held in memory (`path` names it in errors).
fn npy_of(path: &Path, bytes: Vec<u8>) -> Result<(Npy, Vec<usize>)> {
    let npy = npyz::NpyFile::new(Cursor::new(bytes))
        .map_err(|e| input_err(path, format!("not a readable .npy file: {e}")))?;
    let shape = npy.shape().iter().map(|&s| s as usize).collect();
    Ok((npy, shape))
}

/// The data of an opened `.npy` as `T` (its dtype already checked).
fn npy_values<T: npyz::Deserialize>(path: &Path, npy: Npy) -> Result<Vec<T>> {
    npy.into_vec()
        .map_err(|e| input_err(path, format!("truncated or unreadable data: {e}")))
}

/// A float32/float64 `.npy` of any shape, widened to f64. Rejects other dtypes,
/// Fortran order and truncated data.
pub fn read_npy_f64(path: &Path) -> Result<Array> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    npy_from_bytes(path, bytes)
}

/// [`read_npy_f64`] on an `.npy` held in memory (an `.npz` entry); `path` names it in errors.
pub(crate) fn npy_from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Array> {
    let (npy, shape) = npy_of(path, bytes)?;
    if npy.order() != npyz::Order::C {
        return Err(input_err(
            path,
            "Fortran-ordered arrays are not supported; save with C order",
        ));
    }
    let (char, size) = match npy.dtype() {
        DType::Plain(ts) => (ts.type_char(), ts.size_field()),
        other => {
            return Err(input_err(
                path,
                format!("unsupported dtype {}", other.descr()),
            ));
        }
    };
    let values: Vec<f64> = match (char, size) {
        (TypeChar::Float, 4) => npy_values::<f32>(path, npy)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Float, 8) => npy_values(path, npy)?,
        _ => {
            return Err(input_err(
                path,
                format!(
                    "unsupported dtype (type '{char:?}', {size} bytes): expected float32 or float64"
                ),
            ));
        }
    };
    let expected: usize = shape.iter().product();
    if values.len() != expected {
        return Err(input_err(
            path,
            format!(
                "truncated data: shape {shape:?} needs {expected} values, found {}",
                values.len()
            ),
        ));
    }
    Ok(Array { values, shape })
}

/// A 1-D bool `.npy` of `len` entries (a run's `diverged.npy`).
pub fn read_npy_mask(path: &Path, len: usize) -> Result<Vec<bool>> {
    let (npy, shape) = open_npy(path)?;
    if shape != [len] {
        return Err(input_err(
            path,
            format!("shape {shape:?}: expected [{len}] (one entry per chain)"),
        ));
    }
    match npy.dtype() {
        DType::Plain(ts) if ts.type_char() == TypeChar::Bool => {}
        other => {
            return Err(input_err(
                path,
                format!("unsupported dtype {}: expected bool", other.descr()),
            ));
        }
    }
    let values: Vec<bool> = npy_values(path, npy)?;
    if values.len() != len {
        return Err(input_err(
            path,
            format!("truncated data: {} of {len} entries", values.len()),
        ));
    }
    Ok(values)
}

fn read_csv(path: &Path) -> Result<Array> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| input_err(path, e.to_string()))?;
    let mut values = Vec::new();
    let mut width = None;
    let mut rows = 0;
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| input_err(path, e.to_string()))?;
        let parsed: std::result::Result<Vec<f64>, _> =
            record.iter().map(|f| f.parse::<f64>()).collect();
        let row = match parsed {
            Ok(row) => row,
            Err(_) if line == 0 => continue, // header
            Err(e) => return Err(input_err(path, format!("line {}: {e}", line + 1))),
        };
        match width {
            None => width = Some(row.len()),
            Some(w) if w != row.len() => {
                return Err(input_err(
                    path,
                    format!(
                        "line {}: {} columns, earlier lines have {w}",
                        line + 1,
                        row.len()
                    ),
                ));
            }
            _ => {}
        }
        values.extend(row);
        rows += 1;
    }
    let width = width.ok_or_else(|| input_err(path, "no numeric rows"))?;
    let shape = if width == 1 {
        vec![rows]
    } else {
        vec![rows, width]
    };
    Ok(Array { values, shape })
}
