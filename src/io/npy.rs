//! Writing `.npy` arrays, whole or streamed in slabs.

use crate::error::{Error, Result};
use npyz::WriterBuilder;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Writes a C-order array (float32, float64 or bool).
pub fn write_npy<T: npyz::AutoSerialize + Copy>(
    path: &Path,
    shape: &[usize],
    data: &[T],
) -> Result<()> {
    write_npy_iter(path, shape, data.iter().copied())
}

/// [`write_npy`] from an iterator of the values in C order (nothing held in memory).
pub fn write_npy_iter<T: npyz::AutoSerialize>(
    path: &Path,
    shape: &[usize],
    data: impl Iterator<Item = T>,
) -> Result<()> {
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&shape.iter().map(|&s| s as u64).collect::<Vec<_>>())
        .writer(BufWriter::new(file))
        .begin_nd()
        .map_err(|e| Error::io(path, e))?;
    writer.extend(data).map_err(|e| Error::io(path, e))?;
    writer.finish().map_err(|e| Error::io(path, e))
}

/// A float32 `.npy` written row block by row block, so an array larger than memory can
/// be recorded; the shape is fixed up front and checked at [`NpyStream::finish`].
pub struct NpyStream {
    writer: npyz::NpyWriter<f32, BufWriter<File>>,
    path: PathBuf,
    expected: usize,
    written: usize,
}

impl NpyStream {
    /// Creates `path` and writes the header of a float32 array of `shape` (C order).
    pub fn create(path: &Path, shape: &[usize]) -> Result<Self> {
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        let writer = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&shape.iter().map(|&s| s as u64).collect::<Vec<_>>())
            .writer(BufWriter::new(file))
            .begin_nd()
            .map_err(|e| Error::io(path, e))?;
        Ok(NpyStream {
            writer,
            path: path.to_path_buf(),
            expected: shape.iter().product(),
            written: 0,
        })
    }

    /// Appends `values`, the next ones in C order.
    pub fn push(&mut self, values: &[f32]) -> Result<()> {
        self.writer
            .extend(values.iter().copied())
            .map_err(|e| Error::io(&self.path, e))?;
        self.written += values.len();
        Ok(())
    }

    /// Completes the file; an error unless exactly the header's number of values was pushed.
    pub fn finish(self) -> Result<()> {
        if self.written != self.expected {
            return Err(Error::Input {
                path: self.path,
                message: format!(
                    "wrote {} values, header promised {}",
                    self.written, self.expected
                ),
            });
        }
        self.writer.finish().map_err(|e| Error::io(&self.path, e))
    }
}
