//! What each subcommand does, as library functions the tests can call.

pub mod estimate;
pub mod sample_stable;
pub mod train;
