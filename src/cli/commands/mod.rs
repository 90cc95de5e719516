//! What each subcommand does: reads its flags, calls the library, returns the line to print.

pub mod analyze;
pub mod coverage;
pub mod estimate;
pub mod far_coverage;
pub mod report;
pub mod sample_stable;
pub mod slurm;
pub mod sweep;
pub mod theory;
pub mod train;
