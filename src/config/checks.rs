//! The checks a config must pass before it runs: every value in range, the options that
//! belong together, what each model and engine accepts; and η placed by the theory.

use super::{Algorithm, DataRng, Engine, Init, Labels, MAX_CHECKPOINT_PAIRS, Model, TrainConfig};
use crate::error::{Error, Result};
use crate::tail::Center;

impl TrainConfig {
    /// η where the theory of this model predicts the tail index `target`.
    pub(super) fn eta_for_target(&self, target: f64) -> Result<f64> {
        let gate = match self.model {
            Model::ReluGate => true,
            Model::Linear => false,
            _ => {
                return Err(Error::config(
                    "alpha_target",
                    "places η by a theory that exists for `relu_gate` and `linear` only; give `eta`",
                ));
            }
        };
        if self.dataset_size.is_some()
            || self.labels == Labels::Mixture
            || self.momentum != 0.0
            || self.weight_decay != 0.0
        {
            return Err(Error::config(
                "alpha_target",
                "the theory holds for fresh isotropic data and plain steps (no `dataset_size`, `mixture` labels, momentum or weight decay); give `eta`",
            ));
        }
        crate::theory::eta_for_alpha(gate, self.dim, self.batch, target)
    }

    pub(super) fn validate_checkpoints(&self) -> Result<()> {
        if self.subsamples.is_some_and(|n| n < 2) {
            return Err(Error::config("subsamples", "must be at least 2"));
        }
        if self.checkpoints.is_empty() {
            return Ok(());
        }
        if self.engine != Engine::Reduced {
            return Err(Error::config(
                "checkpoints",
                "are recorded by the reduced engine; the burn engine records with `record_every`",
            ));
        }
        let mut last = 0;
        for &step in &self.checkpoints {
            if step <= last || step > self.steps {
                return Err(Error::config(
                    "checkpoints",
                    format!(
                        "must increase strictly within 1..=steps = {}, got {step} after {last}",
                        self.steps
                    ),
                ));
            }
            last = step;
        }
        if self.checkpoints.len().saturating_mul(self.chains) > MAX_CHECKPOINT_PAIRS {
            return Err(Error::config(
                "checkpoints",
                format!(
                    "record at most {MAX_CHECKPOINT_PAIRS} (a, c) pairs in all (checkpoints × chains)"
                ),
            ));
        }
        Ok(())
    }

    pub(super) fn validate(&self) -> Result<()> {
        let positive = |field, v: usize| {
            if v == 0 {
                Err(Error::config(field, "must be at least 1"))
            } else {
                Ok(())
            }
        };
        positive("chains", self.chains)?;
        positive("dim", self.dim)?;
        positive("batch", self.batch)?;
        positive("steps", self.steps)?;
        positive("check_every", self.check_every)?;
        self.validate_far_tail()?;
        if !(self.eta.is_finite() && self.eta > 0.0) {
            return Err(Error::config(
                "eta",
                format!("must be a finite number > 0, got {}", self.eta),
            ));
        }
        if self.noise_law == super::NoiseLaw::Cauchy && self.data_rng == super::DataRng::Philox {
            return Err(Error::config(
                "noise_law",
                "`cauchy` is drawn by the xoshiro streams only: use `data_rng: xoshiro`",
            ));
        }
        if !(self.label_noise.is_finite() && self.label_noise >= 0.0) {
            return Err(Error::config(
                "label_noise",
                format!("must be finite and >= 0, got {}", self.label_noise),
            ));
        }
        if !self.mixture_separation.is_finite() {
            return Err(Error::config("mixture_separation", "must be finite"));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(Error::config(
                "momentum",
                format!("must lie in [0, 1), got {}", self.momentum),
            ));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::config(
                "weight_decay",
                format!("must be finite and >= 0, got {}", self.weight_decay),
            ));
        }
        if !(self.divergence_norm.is_finite() && self.divergence_norm > 0.0) {
            return Err(Error::config(
                "divergence_norm",
                "must be a finite number > 0",
            ));
        }
        match self.init_std {
            Some(s) if !(s.is_finite() && s > 0.0) => {
                return Err(Error::config(
                    "init_std",
                    format!("must be a finite number > 0, got {s}"),
                ));
            }
            _ => {}
        }
        if self.burn_in.is_some_and(|b| b >= self.steps) {
            return Err(Error::config(
                "burn_in",
                format!("must be below steps = {}", self.steps),
            ));
        }
        if self.record_from.is_some_and(|r| r >= self.steps) {
            return Err(Error::config(
                "record_from",
                format!("must be below steps = {}", self.steps),
            ));
        }
        self.validate_net()?;
        if self.model == Model::Mlp && self.depth < 2 {
            return Err(Error::config(
                "depth",
                "an MLP needs at least 2 weight layers",
            ));
        }
        if self.model == Model::Mlp && self.hidden == 0 {
            return Err(Error::config("hidden", "must be at least 1"));
        }
        if self.model == Model::Mlp && self.init == Init::Zeros {
            return Err(Error::config(
                "init",
                "`zeros` gives an MLP no gradient; use `normal`",
            ));
        }
        if let Some(n) = self.dataset_size
            && n < self.batch
        {
            return Err(Error::config(
                "dataset_size",
                format!(
                    "{n} points cannot give a batch of {} distinct points",
                    self.batch
                ),
            ));
        }
        if self.data_rng == DataRng::Philox {
            if self.dataset_size.is_some() {
                return Err(Error::config(
                    "data_rng",
                    "`philox` draws fresh data every step; a fixed dataset (`dataset_size`) is drawn with `xoshiro`",
                ));
            }
            // Philox's counter holds the step and the chain in 32-bit words.
            if self.steps > u32::MAX as usize {
                return Err(Error::config(
                    "steps",
                    format!("`philox` data allow at most {} steps", u32::MAX),
                ));
            }
        }
        if self.center == Center::LeastSquares
            && (self.model != Model::Linear || self.dataset_size.is_none_or(|n| n < self.dim))
        {
            return Err(Error::config(
                "center",
                "`least_squares` needs the `linear` model and a fixed dataset of at least d points (`dataset_size`)",
            ));
        }
        if let Center::Vector(v) = &self.center
            && v.len() != self.params_per_chain()
        {
            return Err(Error::config(
                "center",
                format!(
                    "vector has {} entries, the model has {} parameters per chain",
                    v.len(),
                    self.params_per_chain()
                ),
            ));
        }
        if self.model == Model::Linear && self.algorithm == Algorithm::Km {
            return Err(Error::config(
                "algorithm",
                "`km` on the `linear` model is exactly `sgd` (the derivative it drops is 1); use `sgd`",
            ));
        }
        if self.init == Init::Zeros
            && self.algorithm == Algorithm::Sgd
            && self.model == Model::ReluGate
        {
            return Err(Error::config(
                "init",
                "`zeros` with `sgd` never moves: ReLU′(0) = 0 makes every gradient vanish at w = 0",
            ));
        }
        if self.engine == Engine::Reduced {
            // No [chains, b, d] batch exists: the reduced engine's own limits apply.
            return super::check_reduced(self);
        }
        let elements = self
            .chains
            .checked_mul(self.batch)
            .and_then(|v| v.checked_mul(self.dim));
        if elements.is_none_or(|e| e > (1usize << 31)) {
            return Err(Error::config(
                "chains",
                "chains × batch × dim is too large (over 2³¹ floats per step)",
            ));
        }
        Ok(())
    }

    /// The nets' own fields: only with `fcn`/`cnn`, and then the gate's data fields unused.
    pub(super) fn validate_net(&self) -> Result<()> {
        let net = self.model.is_net();
        if !net {
            for (field, set) in [
                ("dataset", self.dataset.is_some()),
                ("width", self.width.is_some()),
                ("sampling", !self.sampling.is_shuffle()),
                ("late_window", self.late_window.is_some()),
                ("log_every", self.log_every.is_some()),
            ] {
                if set {
                    return Err(Error::config(
                        field,
                        "applies to the nets on real images (`fcn`, `cnn`) only",
                    ));
                }
            }
            return Ok(());
        }
        if self.engine != Engine::Burn {
            return Err(Error::config(
                "engine",
                "the nets train on burn only (the reduced chain is the gate's)",
            ));
        }
        if self.dataset_size.is_some() || self.data_rng != DataRng::Xoshiro {
            return Err(Error::config(
                "dataset_size",
                "nets train on their `dataset`; `dataset_size` and `data_rng` are the gate's",
            ));
        }
        if self.model == Model::Fcn && self.depth < 2 {
            return Err(Error::config(
                "depth",
                "an fcn needs at least 2 weight layers",
            ));
        }
        if self.width == Some(0) {
            return Err(Error::config("width", "must be at least 1"));
        }
        if self.log_every == Some(0) {
            return Err(Error::config("log_every", "must be at least 1"));
        }
        if self.record_every > 0 {
            return Err(Error::config(
                "record_every",
                "nets keep the late-window average, not iterate snapshots",
            ));
        }
        if !matches!(self.center, Center::Mean) {
            return Err(Error::config(
                "center",
                "nets are centred by the per-layer protocol; leave `center` at `mean`",
            ));
        }
        Ok(())
    }
}

impl TrainConfig {
    /// The far tail's keys: a keep fraction in (0, 1), a cap of at least 1, and recording
    /// only where a run has one statistic per chain and steps that fit the record.
    fn validate_far_tail(&self) -> Result<()> {
        if let Some(keep) = self.far_tail_keep
            && !(keep > 0.0 && keep < 1.0)
        {
            return Err(Error::config(
                "far_tail_keep",
                format!("must lie in (0, 1), got {keep}"),
            ));
        }
        if self.far_tail_cap == Some(0) {
            return Err(Error::config("far_tail_cap", "must be at least 1"));
        }
        if self.far_tail == Some(true) {
            if !matches!(self.model, Model::ReluGate | Model::Linear) {
                return Err(Error::config(
                    "far_tail",
                    format!(
                        "is recorded for `relu_gate` and `linear`, not `{}`",
                        self.model.name()
                    ),
                ));
            }
            if self.burn_in.is_some_and(|b| b >= self.steps) {
                return Err(Error::config(
                    "far_tail",
                    "needs steps after the burn-in (burn_in < steps)",
                ));
            }
        }
        if super::resolved::far_tail_on(self, self.burn_in.unwrap_or_default())
            && (self.steps > u32::MAX as usize || self.chains > u32::MAX as usize)
        {
            return Err(Error::config(
                "far_tail",
                "records steps and chains as 32-bit numbers: at most 4 294 967 295 of each",
            ));
        }
        Ok(())
    }
}
