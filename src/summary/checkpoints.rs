//! α̂ against steps (`summary.checkpoints`): the run's estimates again at earlier steps,
//! so that a reader sees whether the law had stopped moving before the last step.

use super::{RunStatus, TailSummary};
use serde::{Deserialize, Serialize};

/// The tail of a run as it stood after `step` steps: the same estimators, centring and
/// settings as the run's own summary, on the chains' iterates at that step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointSummary {
    /// Steps done when the iterates were taken.
    pub step: usize,
    /// What the chains had done by then, in one word.
    pub status: RunStatus,
    /// The headline (power-law fit) with its interval and goodness-of-fit p-value.
    pub alpha: Option<f64>,
    /// `alpha`'s symmetric half-sample subsampling interval.
    pub alpha_ci: Option<[f64; 2]>,
    /// Why `alpha` is `null`, where it is.
    pub alpha_reason: Option<String>,
    /// The power-law fit's goodness-of-fit p-value.
    pub p_value: Option<f64>,
    /// Mohammadi's block estimator (≤ 2 by construction) and its interval.
    pub alpha_mohammadi: Option<f64>,
    /// `alpha_mohammadi`'s interval.
    pub alpha_mohammadi_ci: Option<[f64; 2]>,
    /// Hill's α̂ at a data-driven k.
    pub hill_alpha: Option<f64>,
    /// Chains the estimates used (finite, not diverged by this step).
    pub estimated_chains: usize,
    /// Chains gone by this step.
    pub diverged_chains: usize,
    /// Quantiles 5/25/50/75/95/100 % of ‖w − centre‖.
    pub norm_quantiles: Option<[f64; 6]>,
}

impl CheckpointSummary {
    /// The parts of a summary at `step` that the series keeps.
    pub fn new(step: usize, s: &TailSummary) -> Self {
        CheckpointSummary {
            step,
            status: s.status,
            alpha: s.alpha,
            alpha_ci: s.alpha_ci,
            alpha_reason: s.alpha_reason.clone(),
            p_value: s.estimates.get(super::HEADLINE).and_then(|e| e.p_value),
            alpha_mohammadi: s.alpha_mohammadi,
            alpha_mohammadi_ci: s.alpha_mohammadi_ci,
            hill_alpha: s.hill_alpha,
            estimated_chains: s.estimated_chains,
            diverged_chains: s.diverged_chains,
            norm_quantiles: s.norm_quantiles,
        }
    }
}
