//! A run folder and its record: `run.json`, the one type that `train` writes and `report`
//! reads, and [`train_into`], the one path from a resolved config to a finished folder.
//!
//! A run folder holds `run.json`, `final.npy` and `average.npy` (`[chains, parameters]`),
//! `diverged.npy` (`[chains]`), and optionally `iterates.npy` (burn engine) or
//! `coords.npy` / `average_coords.npy` (reduced engine).

mod far_tail;
mod write;

pub use far_tail::{FarTailSummary, HALF_FRACTIONS, far_tail_phrase, halves, write_far_tail};

pub use write::{Finished, theory, train_into};

use crate::config::TrainConfig;
use crate::error::{Error, Result};
use crate::io::read_json;
use crate::summary::{CheckpointSummary, LayerSummary, NetLayerSummary, RunStatus, TailSummary};
use crate::tail::Center;
use crate::theory::TailTheory;
use crate::train::NetOutcome;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The burn release this crate is pinned to (`=0.22.1` in Cargo.toml).
pub const BURN_VERSION: &str = "0.22.1";

/// `run.json`: the resolved config, the teacher, versions and the summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// The resolved config the run trained (every default filled in).
    pub config: TrainConfig,
    /// The teacher w* behind the synthetic labels: a unit vector of `dim` values.
    pub teacher: Vec<f32>,
    /// The least-squares solution of the fixed dataset (offline linear runs).
    #[serde(default)]
    pub least_squares: Option<Vec<f64>>,
    /// What produced the run.
    pub versions: Versions,
    /// What the run measured: chains, timing and the tail estimates.
    pub summary: RunSummary,
}

/// What produced a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Versions {
    /// This crate's version (`CARGO_PKG_VERSION`).
    pub tailgate: String,
    /// The burn release ([`BURN_VERSION`]).
    pub burn: String,
    /// The backend's name (`ndarray`, `flex`, `wgpu`), or `none (reduced engine)`.
    pub backend: String,
    /// The device as burn prints it, or the CPU threads of a reduced-engine run.
    pub device: String,
}

impl Versions {
    /// This tailgate and its burn, with the backend and device that ran.
    pub fn new(backend: &str, device: String) -> Self {
        Versions {
            tailgate: env!("CARGO_PKG_VERSION").into(),
            burn: BURN_VERSION.into(),
            backend: backend.into(),
            device,
        }
    }
}

/// `summary` of run.json.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSummary {
    /// Chains that did not diverge.
    pub finite_chains: usize,
    /// Wall-clock seconds of the training (or simulation), the estimates after it not included.
    pub wall_seconds: f64,
    /// chains × steps over `wall_seconds`.
    pub chain_steps_per_second: f64,
    /// The tail estimates of the final iterates (flattened into `summary`).
    #[serde(flatten)]
    pub tail: TailSummary,
    /// The GSZ21 theory's α for the `linear` model; the asymptotic prediction for the gate
    /// on fresh isotropic data without momentum or weight decay (`null` otherwise).
    pub theory: Option<TailTheory>,
    /// Per-layer tail indices of the `mlp` model (`null` otherwise).
    pub layers: Option<Vec<LayerSummary>>,
    /// The nets on real images: training curves, test scores, per-layer tail indices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net: Option<NetSummary>,
    /// What a reduced-engine run wrote and estimated from (absent for burn runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduced: Option<ReducedOutputs>,
    /// The estimates again at each of `config.checkpoints` (reduced engine): α̂ against
    /// steps. The last entry is this summary itself when the last checkpoint is `steps`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checkpoints: Vec<CheckpointSummary>,
    /// The far tail from time samples (every post-burn-in step of every chain): the
    /// tail index where the theory speaks; absent when the run did not record it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub far_tail: Option<FarTailSummary>,
    /// What `alpha` (and `alpha_ci`) is: the final-iterate fit, a finite-range slope.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alpha_estimand: String,
}

/// `summary.alpha_estimand`.
pub const FINAL_ITERATE_ESTIMAND: &str = "final-iterate power-law fit: a slope over the top \
    n_tail of the N chains' final iterates (a finite range, often the bulk; the tail index \
    where the theory speaks is far_tail.alpha)";

/// `summary.net` of an `fcn` or `cnn` run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetSummary {
    /// Half-sample subsamples of the per-layer intervals and goodness-of-fit resamples.
    pub subsamples: usize,
    /// Synthetic samples of every power-law goodness-of-fit test.
    pub gof_resamples: usize,
    /// GSZ21's per-layer protocol (late window of `config.late_window` steps).
    pub layers: Vec<NetLayerSummary>,
    /// Training curves, test scores and the image counts and pixel normalisation (flattened into `summary.net`).
    #[serde(flatten)]
    pub outcome: NetOutcome,
}

impl NetSummary {
    /// The median test accuracy over the chains that did not diverge.
    pub fn test_accuracy(&self) -> Option<f64> {
        crate::nets::eval::median(self.outcome.test.accuracy.iter().copied())
    }
}

/// `summary.reduced` of a reduced-engine run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReducedOutputs {
    /// What the coordinate files hold.
    pub coordinates: String,
    /// Whether final.npy and average.npy were written (chains·d ≤ 10⁸).
    pub rows_written: bool,
    /// The rows every estimate in this summary was computed from.
    pub estimated_from: String,
    /// Values per row of those rows.
    pub estimated_row_width: usize,
}

impl RunRecord {
    /// Reads `dir/run.json`.
    pub fn read(dir: &Path) -> Result<Self> {
        read_json(&dir.join("run.json"))
    }

    /// The centre the summary used, with `least_squares` resolved to its vector.
    pub fn center(&self) -> Result<Center> {
        resolve_center(&self.config.center, self.least_squares.as_deref())
    }

    /// The run's chains describe a stationary law (not diverged, not collapsed).
    pub fn usable(&self) -> bool {
        matches!(
            self.summary.tail.status,
            RunStatus::Ok | RunStatus::PartiallyDiverged
        )
    }

    /// α̂ when the run has one that describes a stationary law: not diverged, not
    /// collapsed (a partially diverged run's α̂ is of its survivors).
    pub fn alpha(&self) -> Option<f64> {
        match self.summary.tail.status {
            RunStatus::Ok | RunStatus::PartiallyDiverged => self.summary.tail.alpha,
            RunStatus::Diverged | RunStatus::ConvergedToFloor => None,
        }
    }
}

/// `center` as a vector where it names the fixed dataset's least-squares solution.
pub fn resolve_center(center: &Center, least_squares: Option<&[f64]>) -> Result<Center> {
    match (center, least_squares) {
        (Center::LeastSquares, Some(w)) => Ok(Center::Vector(w.to_vec())),
        (Center::LeastSquares, None) => Err(Error::config(
            "center",
            "`least_squares`: the dataset's XᵀX is singular; no unique solution",
        )),
        (c, _) => Ok(c.clone()),
    }
}

impl RunRecord {
    /// One line a person can read: status, α̂ with its interval and the theory where
    /// there is one, diverged chains.
    pub fn headline(&self) -> String {
        if let Some(net) = &self.summary.net {
            return self.net_headline(net);
        }
        let s = &self.summary.tail;
        let chains = self.config.chains;
        let diverged = format!("{} of {chains} chains diverged", s.diverged_chains);
        let theory = match &self.summary.theory {
            Some(t) => match t.alpha {
                Some(a) => format!("; theory α = {a:.3}"),
                None if t.light_tail => format!("; theory α > {}", crate::theory::ALPHA_MAX),
                None => "; theory: diverges".into(),
            },
            None => String::new(),
        };
        // With a far tail it leads, beside the theory; the final-iterate fit follows.
        let (far, theory) = match &self.summary.far_tail {
            Some(f) => (format!("{}{theory}; ", far_tail_phrase(f)), String::new()),
            None => (String::new(), theory),
        };
        match (self.alpha(), s.alpha_ci) {
            (Some(a), ci) => {
                let ci = ci.map_or(String::new(), |[lo, hi]| {
                    format!(" [{lo:.3}, {hi:.3}] ({:.0} % CI)", 100.0 * s.alpha_ci_level)
                });
                let survivors = if s.from_survivors {
                    format!(
                        " of the {:.1} % surviving chains (biased light)",
                        100.0 * s.surviving_fraction
                    )
                } else {
                    String::new()
                };
                let fit = s.estimates.get("powerlaw");
                // The fit's own test: a rejected power law is said, not left in run.json.
                let rejected = fit
                    .and_then(|e| e.p_value)
                    .filter(|&p| p < 0.1)
                    .map_or(String::new(), |p| {
                        format!(
                            "; power law rejected above xmin (goodness of fit p = {p:.2}): α̂ fits the bulk, not a power-law tail"
                        )
                    });
                let range = fit.and_then(|e| e.n_tail).map_or(String::new(), |n| {
                    format!(
                        ", a finite-range slope over the top {:.0} % of the chains",
                        100.0 * n as f64 / s.estimated_chains.max(1) as f64
                    )
                });
                let mohammadi = s.alpha_mohammadi.map_or(String::new(), |m| {
                    format!("; Mohammadi {m:.3}, ≤ 2 by construction")
                });
                let name = if self.summary.far_tail.is_some() {
                    "final-iterate α̂"
                } else {
                    "α̂"
                };
                format!(
                    "{}: {far}{name} = {a:.3}{ci}{survivors} (power-law fit{range}{theory}{mohammadi}{rejected}), {diverged}",
                    s.status.name()
                )
            }
            (None, _) => format!(
                "{}: {far}no final-iterate α̂ ({}){theory}, {diverged}",
                s.status.name(),
                s.alpha_reason.as_deref().unwrap_or("not estimable")
            ),
        }
    }
}

impl RunRecord {
    /// A net's line: test accuracy, then α̂ per layer (late window, power-law fit).
    fn net_headline(&self, net: &NetSummary) -> String {
        let s = &self.summary.tail;
        let accuracy = net.test_accuracy().map_or("no test accuracy".into(), |a| {
            format!("test accuracy {:.1} %", 100.0 * a)
        });
        let layers: Vec<String> = net
            .layers
            .iter()
            .map(|l| match (l.alpha, l.alpha_ci) {
                (Some(a), Some([lo, hi])) => format!("{} {a:.2} [{lo:.2}, {hi:.2}]", l.name),
                (Some(a), None) => format!("{} {a:.2}", l.name),
                (None, _) => format!("{} –", l.name),
            })
            .collect();
        format!(
            "{}: {accuracy} (median of {} chains); per-layer α̂ (late window, power-law fit): {}; {} of {} chains diverged",
            s.status.name(),
            self.config.chains,
            layers.join(", "),
            s.diverged_chains,
            self.config.chains
        )
    }
}
