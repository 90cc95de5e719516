//! The config after resolution: every default decided once, every value checked, and the
//! per-model and per-engine settings typed — what the engines run and run.json records.

use super::{DatasetSpec, FAR_TAIL_MIN_STEPS, Model, TrainConfig};
use crate::error::Result;
use serde::{Serialize, Serializer};
use std::ops::Deref;

/// A [`TrainConfig`] that [`TrainConfig::resolve`] has checked and completed. Only
/// `resolve` makes one, so an engine handed a `Resolved` never meets a missing default.
///
/// It reads as the flat config it came from (`Deref`) and serialises exactly as that
/// config, so run.json and cell ids keep their bytes; the typed accessors are the one
/// place each default lives.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    config: TrainConfig,
    burn_in: usize,
    record_from: usize,
    init_std: f64,
    net: Option<NetSettings>,
    far_tail: Option<FarTailSettings>,
    estimation: EstimationSettings,
}

/// The nets' block (`fcn`, `cnn`): the images and the per-layer protocol's window.
#[derive(Debug, Clone, PartialEq)]
pub struct NetSettings {
    /// The images the nets train on.
    pub dataset: DatasetSpec,
    /// Units per hidden layer of the `fcn` (`None` for the `cnn`, whose shape is fixed).
    pub width: Option<usize>,
    /// The last steps whose iterates are averaged for the per-layer protocol.
    pub late_window: usize,
    /// Steps between evaluations of the training curves.
    pub log_every: usize,
}

/// The far-tail recording of a run that records it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FarTailSettings {
    /// Fraction of the chains above the recording threshold at the end of burn-in.
    pub keep: f64,
    /// Most exceedances kept.
    pub cap: usize,
}

/// How the run's summary estimates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EstimationSettings {
    /// Half-sample subsamples of every interval.
    pub subsamples: usize,
    /// Synthetic samples of the power-law fit's goodness-of-fit p-value.
    pub gof_resamples: usize,
}

impl Resolved {
    /// Completes and checks `config` (the body of [`TrainConfig::resolve`]).
    pub(super) fn new(config: TrainConfig) -> Result<Self> {
        let config = config.fill_and_check()?;
        // `fill_and_check` wrote the burn-in (default K/2).
        let burn_in = config.burn_in.unwrap_or_default();
        const FILLED: &str = "the resolution fills it";
        let net = config.model.is_net().then(|| NetSettings {
            dataset: config.dataset.clone().expect(FILLED),
            width: config.width,
            late_window: config.steps - burn_in,
            log_every: config.log_every.expect(FILLED),
        });
        let far_tail = far_tail_on(&config, burn_in).then(|| FarTailSettings {
            keep: config
                .far_tail_keep
                .unwrap_or(crate::tail::far::DEFAULT_KEEP),
            cap: config.far_tail_cap.unwrap_or(crate::tail::far::DEFAULT_CAP),
        });
        let estimation = EstimationSettings {
            subsamples: config.subsamples.unwrap_or(crate::estimate::SUBSAMPLES),
            gof_resamples: config
                .gof_resamples
                .unwrap_or(crate::estimate::GOF_RESAMPLES),
        };
        Ok(Resolved {
            record_from: config.record_from.expect(FILLED),
            init_std: config.init_std.expect(FILLED),
            burn_in,
            net,
            far_tail,
            estimation,
            config,
        })
    }

    /// The flat config, as run.json records it.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The flat config back, to edit and resolve again.
    pub fn into_config(self) -> TrainConfig {
        self.config
    }

    /// Steps before the running average (and the far-tail recording) starts.
    pub fn burn_in(&self) -> usize {
        self.burn_in
    }

    /// Steps after the burn-in.
    pub fn after_burn_in(&self) -> usize {
        self.config.steps - self.burn_in
    }

    /// First step of the recording window.
    pub fn record_from(&self) -> usize {
        self.record_from
    }

    /// Standard deviation of each coordinate of w₀.
    pub fn init_std(&self) -> f64 {
        self.init_std
    }

    /// The nets' settings; `None` for the gate, the linear model and the MLP.
    pub fn net(&self) -> Option<&NetSettings> {
        self.net.as_ref()
    }

    /// The far-tail recording, where the run records one.
    pub fn far_tail(&self) -> Option<FarTailSettings> {
        self.far_tail
    }

    /// The summary's estimation settings.
    pub fn estimation(&self) -> EstimationSettings {
        self.estimation
    }

    /// Steps at which a snapshot is written: multiples of `record_every` in
    /// `(record_from, steps]`.
    pub fn snapshot_steps(&self) -> usize {
        if self.record_every == 0 {
            return 0;
        }
        self.steps / self.record_every - self.record_from / self.record_every
    }

    /// Whether the iterates are recorded after `step` (`record_every`, `record_from`).
    pub fn is_snapshot_step(&self, step: usize) -> bool {
        self.record_every > 0 && step > self.record_from && step.is_multiple_of(self.record_every)
    }
}

/// `far_tail` where set, else on for the gate and the linear model with at least
/// [`FAR_TAIL_MIN_STEPS`] steps after the burn-in.
pub(super) fn far_tail_on(config: &TrainConfig, burn_in: usize) -> bool {
    let after = config.steps - burn_in.min(config.steps);
    config.far_tail.unwrap_or(
        matches!(config.model, Model::ReluGate | Model::Linear) && after >= FAR_TAIL_MIN_STEPS,
    )
}

impl Deref for Resolved {
    type Target = TrainConfig;

    fn deref(&self) -> &TrainConfig {
        &self.config
    }
}

impl Serialize for Resolved {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.config.serialize(s)
    }
}

impl From<Resolved> for TrainConfig {
    fn from(r: Resolved) -> Self {
        r.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults that depend on other fields are decided once, and the resolved config
    /// serialises as the flat one (run.json's bytes).
    #[test]
    fn resolution_decides_every_default_once() {
        let r = TrainConfig {
            dim: 16,
            steps: 3000,
            ..TrainConfig::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(r.burn_in(), 1500);
        assert_eq!(r.record_from(), 1500);
        assert_eq!(r.after_burn_in(), 1500);
        assert_eq!(r.init_std(), 0.25);
        assert_eq!(
            r.config().burn_in,
            Some(1500),
            "run.json records the burn-in"
        );
        assert!(r.net().is_none());
        let far = r
            .far_tail()
            .expect("on by default: 1500 steps after burn-in");
        assert_eq!(far.keep, crate::tail::far::DEFAULT_KEEP);
        assert_eq!(far.cap, crate::tail::far::DEFAULT_CAP);
        assert_eq!(r.estimation().subsamples, crate::estimate::SUBSAMPLES);
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            serde_json::to_string(r.config()).unwrap()
        );
        // Resolving a recorded config again changes nothing.
        assert_eq!(r.clone().into_config().resolve().unwrap(), r);
    }

    #[test]
    fn the_nets_block_is_typed_and_the_gate_has_none() {
        let r = TrainConfig {
            steps: 400,
            ..TrainConfig::net_defaults(Model::Fcn)
        }
        .resolve()
        .unwrap();
        let net = r.net().unwrap();
        assert_eq!(net.dataset, DatasetSpec::FashionMnist);
        assert_eq!(net.width, Some(128));
        assert_eq!(net.late_window, 200);
        assert_eq!(net.log_every, 20);
        assert_eq!(r.burn_in(), 200);
        assert!(r.far_tail().is_none(), "the nets record no far tail");
        let short = TrainConfig {
            steps: 1000,
            burn_in: Some(500),
            ..TrainConfig::default()
        }
        .resolve()
        .unwrap();
        assert!(short.far_tail().is_none(), "500 steps after burn-in: off");
    }
}
