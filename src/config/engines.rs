//! What each engine can run, decided here — below the engines — so resolving a config
//! needs nothing above the configuration, and a new model or algorithm does not compile
//! until every engine has said whether it runs it (no wildcard arms).

use super::{Algorithm, DataRng, Model, TrainConfig};
use crate::error::{Error, Result};
use crate::tail::Center;

/// Chains the reduced engine accepts: 10⁹ chains hold 40 GB of coordinates.
pub const REDUCED_MAX_CHAINS: usize = 1_000_000_000;

/// Why a config cannot run on the reduced engine, as the one-line config error naming the
/// key at fault; `Ok` when it can.
pub fn check_reduced(config: &TrainConfig) -> Result<()> {
    let refuse = |field, why: &str| Err(Error::config(field, format!("{why} (`engine: reduced`)")));
    if config.dim == 0 {
        return refuse("dim", "must be at least 1");
    }
    if let Err(why) = reduced_step(config.model, config.algorithm) {
        return refuse("model", why);
    }
    if config.dataset_size.is_some() {
        return refuse(
            "dataset_size",
            "a fixed dataset breaks the rotation invariance the reduced chain rests on; use `engine: burn`",
        );
    }
    if config.momentum != 0.0 {
        return refuse(
            "momentum",
            "must be 0: the velocity would be a third vector of the frame; use `engine: burn`",
        );
    }
    if config.record_every != 0 {
        return refuse(
            "record_every",
            "must be 0: the reduced chain has no d-dimensional iterates to record; use `engine: burn`",
        );
    }
    if config.data_rng != DataRng::Xoshiro {
        return refuse(
            "data_rng",
            "`philox` is a generator of the burn engine's inputs; the reduced engine draws its own",
        );
    }
    if matches!(config.center, Center::Vector(_))
        && EstimationRows::for_run(config.chains, config.dim) != EstimationRows::Final
    {
        return refuse(
            "center",
            "a vector centre needs the full rows, and this run's estimates use projected rows (d > 128 or chains·d > 10⁸); use `mean` or `median`",
        );
    }
    if config.chains > REDUCED_MAX_CHAINS {
        return refuse(
            "chains",
            &format!(
                "at most {REDUCED_MAX_CHAINS} on the reduced engine (five f64 per chain are held in memory)"
            ),
        );
    }
    Ok(())
}

/// The step the reduced chain takes for a model and algorithm, or why it has none. A match
/// without a wildcard arm: a new model or algorithm does not compile until this engine
/// decides whether its chain reduces.
pub fn reduced_step(model: Model, algorithm: Algorithm) -> Result<StepKind, &'static str> {
    match (model, algorithm) {
        (Model::ReluGate, Algorithm::Sgd) => Ok(StepKind {
            gradient_mask: true,
            linear: false,
        }),
        (Model::ReluGate, Algorithm::Km) => Ok(StepKind {
            gradient_mask: false,
            linear: false,
        }),
        // No ReLU′ to drop: Karmakar–Mukherjee is SGD on the linear model.
        (Model::Linear, Algorithm::Sgd | Algorithm::Km) => Ok(StepKind {
            gradient_mask: false,
            linear: true,
        }),
        (Model::Mlp, Algorithm::Sgd | Algorithm::Km) => {
            Err("`mlp` has no exact reduced chain; use `engine: burn`")
        }
        (Model::Fcn | Model::Cnn, Algorithm::Sgd | Algorithm::Km) => {
            Err("the nets train on burn only (the reduced chain is the gate's)")
        }
    }
}

/// What distinguishes the reduced chain's steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepKind {
    /// SGD on the gate: the update only where w·x > 0.
    pub gradient_mask: bool,
    /// The label is the linear model's t, not its positive part.
    pub linear: bool,
}

/// `final.npy` and `average.npy` are written when chains·d is at most this (400 MB each).
pub const MATERIALISE_LIMIT: usize = 100_000_000;
/// Above this d (or past [`MATERIALISE_LIMIT`]) the estimates use projected rows.
pub const FULL_ROWS_MAX_DIM: usize = 128;
/// Width of a projected row: `w*` and 15 directions of `w*⊥`.
pub const PROJECTED_WIDTH: usize = 16;

/// Which rows the run's estimates are computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EstimationRows {
    /// The rows of final.npy / average.npy themselves (float32, as written).
    Final,
    /// `(w·w*, w·e₁, …, w·e_p)` for p = width − 1 fixed orthonormal `eⱼ ⊥ w*`.
    Projected {
        /// Values per row, p + 1 (the coordinate on w* and p directions ⊥ w*).
        width: usize,
    },
}

impl EstimationRows {
    /// The rows a run of `chains` chains in dimension `dim` is estimated from.
    pub fn for_run(chains: usize, dim: usize) -> Self {
        if dim <= FULL_ROWS_MAX_DIM && chains.saturating_mul(dim) <= MATERIALISE_LIMIT {
            EstimationRows::Final
        } else {
            EstimationRows::Projected {
                width: PROJECTED_WIDTH.min(dim),
            }
        }
    }

    /// Row width.
    pub fn width(&self, dim: usize) -> usize {
        match *self {
            EstimationRows::Final => dim,
            EstimationRows::Projected { width } => width,
        }
    }

    /// What run.json says these rows are.
    pub fn describe(&self) -> String {
        match *self {
            EstimationRows::Final => {
                "the final (and averaged) rows [chains, d], float32, as in final.npy / average.npy"
                    .into()
            }
            EstimationRows::Projected { width } => format!(
                "an exact projection of the rows on w* and {} fixed orthonormal directions of w*⊥ \
                 ([chains, {width}], float64; any fixed projection keeps the tail index)",
                width - 1
            ),
        }
    }
}
