//! tailgate: how heavy-tailed do the iterates of SGD-type algorithms become?
//!
//! A ReLU gate trained by SGD and by the Karmakar–Mukherjee rule on many chains at once
//! (burn 0.22), and the tail-index estimators that measure the stationary law.

#![warn(missing_docs)]

pub mod analyze;
pub mod backend;
pub mod config;
pub mod coverage;
pub mod data;
pub mod error;
pub mod estimate;
pub mod far_coverage;
pub mod io;
pub mod model;
pub mod nets;
pub mod optim;
pub mod reduced;
pub mod report;
pub mod run;
pub mod study;
pub mod summary;
pub mod sweep;
pub use tailgate_tail as tail;
pub mod theory;
pub mod train;

pub use error::{Error, Result};
