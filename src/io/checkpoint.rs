//! Weight tensors from a checkpoint: safetensors (PyTorch, JAX, Hugging Face), numpy's
//! `.npz` (stored or deflated) and a single `.npy`. Every bad file is one line naming it.

use super::samples::npy_from_bytes;
use crate::analyze::Tensor;
use crate::error::{Error, Result};
use safetensors::{Dtype, SafeTensors};
use std::io::Read;
use std::path::Path;

fn bad(path: &Path, message: impl Into<String>) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// The tensors of a checkpoint, in file order; non-float tensors (integer step counters,
/// masks) are returned with no values and their dtype, for the report to list as skipped.
/// A file with no floating-point tensor is an error.
pub fn read_checkpoint(path: &Path) -> Result<Vec<Tensor>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let tensors = match path.extension().and_then(|e| e.to_str()) {
        Some("safetensors") => read_safetensors(path, &bytes)?,
        Some("npz") => read_npz(path, bytes)?,
        Some("npy") => {
            let a = npy_from_bytes(path, bytes)?;
            vec![Tensor {
                name: path
                    .file_stem()
                    .map_or("array".into(), |s| s.to_string_lossy().into_owned()),
                dtype: "float".into(),
                shape: a.shape,
                values: a.values,
            }]
        }
        _ => {
            return Err(bad(
                path,
                "unsupported checkpoint format: expected .safetensors, .npz or .npy",
            ));
        }
    };
    if tensors.iter().all(|t| t.values.is_empty()) {
        return Err(bad(path, "no floating-point tensors in the file"));
    }
    Ok(tensors)
}

fn read_safetensors(path: &Path, bytes: &[u8]) -> Result<Vec<Tensor>> {
    let st = SafeTensors::deserialize(bytes)
        .map_err(|e| bad(path, format!("not a readable safetensors file: {e}")))?;
    let mut views = st.tensors();
    // File order: by where each tensor's data starts.
    views.sort_by_key(|(_, v)| v.data().as_ptr() as usize);
    let mut out = Vec::with_capacity(views.len());
    for (name, view) in views {
        let data = view.data();
        let values: Vec<f64> = match view.dtype() {
            Dtype::F64 => data
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect(),
            Dtype::F32 => data
                .chunks_exact(4)
                .map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes"))))
                .collect(),
            Dtype::F16 => data
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f64())
                .collect(),
            Dtype::BF16 => data
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f64())
                .collect(),
            _ => Vec::new(),
        };
        out.push(Tensor {
            name,
            shape: view.shape().to_vec(),
            dtype: format!("{:?}", view.dtype()),
            values,
        });
    }
    Ok(out)
}

fn read_npz(path: &Path, bytes: Vec<u8>) -> Result<Vec<Tensor>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| bad(path, format!("not a readable .npz (zip) file: {e}")))?;
    let mut out = Vec::with_capacity(archive.len());
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| bad(path, format!("entry {i}: {e}")))?;
        let entry_name = entry.name().to_owned();
        let Some(name) = entry_name.strip_suffix(".npy") else {
            continue;
        };
        let mut data = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut data)
            .map_err(|e| bad(path, format!("{entry_name}: truncated or unreadable: {e}")))?;
        match npy_from_bytes(path, data) {
            Ok(a) => out.push(Tensor {
                name: name.to_owned(),
                dtype: "float".into(),
                shape: a.shape,
                values: a.values,
            }),
            // Integer and bool arrays are listed as skipped, like safetensors' buffers.
            Err(Error::Input { message, .. }) if message.contains("unsupported dtype") => {
                out.push(Tensor {
                    name: name.to_owned(),
                    dtype: "non-float".into(),
                    shape: Vec::new(),
                    values: Vec::new(),
                })
            }
            Err(Error::Input { message, .. }) => {
                return Err(bad(path, format!("{entry_name}: {message}")));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}
