//! Files in and out: atomic output folders, `.npy` arrays, CSV samples, `run.json`.

mod checkpoint;
mod cleanup;
mod json;
mod npy;
mod outdir;
mod progress;
mod samples;

pub use checkpoint::read_checkpoint;
pub use cleanup::install_signal_cleanup;
pub(crate) use cleanup::{create_dir_registered, remove_registered};
pub use json::{parse_json, read_json, write_json};
pub use npy::write_npy;
pub(crate) use npy::{NpyStream, write_npy_iter};
pub use outdir::{StagedDir, write_atomically};
pub use progress::{Progress, progress_bar};
pub use samples::{Array, read_npy_f64, read_npy_mask, read_samples};
