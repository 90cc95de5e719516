//! Files in and out: atomic output folders, `.npy` arrays, CSV samples, `run.json`.

mod npy;
mod outdir;
mod samples;

pub use npy::{NpyStream, write_npy};
pub use outdir::{StagedDir, write_atomically};
pub use samples::{Array, read_npy_f64, read_npy_mask, read_samples};
