//! Tail-index estimators on plain slices: no burn, no I/O (docs/theory.md §5–6).
//!
//! Every routine works in f64 whatever the caller's storage type, and takes its
//! samples as [`Rows`]: `n` rows of `dim` values (scalars are rows of length 1).
#![deny(missing_docs)]

mod center;
mod error;
mod estimator;
mod extreme;
pub mod far;
mod gather;
mod hill;
mod interval;
mod mohammadi;
mod powerlaw;
mod rows;
mod stable;
mod streams;

pub use center::{Center, center_in_place, center_rows, center_vector};
pub use error::TailError;
pub use estimator::{
    Answer, ESTIMATORS, Estimator, EstimatorSettings, IntervalSettings, Needs, Resampled, Sample,
    estimator,
};
pub use extreme::{
    Moments, Pickands, XiEstimate, moments, moments_alpha, moments_alpha_in_place,
    moments_double_bootstrap_k, moments_xi, pickands, pickands_alpha, pickands_alpha_in_place,
    pickands_xi,
};
pub use hill::{
    Hill, HillEstimate, KChoice, double_bootstrap_k, hill, hill_alpha, hill_alpha_in_place,
    hill_plot,
};
pub use interval::{
    SubsampleCi, mohammadi_subsample_ci, paired_diff_ci, quantile_sorted, scaled_k, subsample_ci,
    subsample_scalar_ci, subsample_size,
};
pub use mohammadi::{
    BlockAlpha, BlockGrid, Mohammadi, MohammadiEstimate, mohammadi, mohammadi_median,
    mohammadi_median_prefix,
};
pub use powerlaw::{
    GoodnessOfFit, PowerLaw, PowerLawFit, PowerLawOptions, powerlaw_alpha_in_place, powerlaw_fit,
    powerlaw_gof,
};
pub use rows::Rows;
pub use stable::{sample_symmetric_stable, symmetric_stable};
pub use streams::stream;

/// Inside the logarithms of the Mohammadi estimator, as in the GSZ21 code (`np.finfo(float).eps`).
pub const LOG_EPS: f64 = 2.220446049250313e-16;

/// The median of a non-empty slice (the mean of the two middle values for an even length),
/// as `numpy.median` computes it.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
