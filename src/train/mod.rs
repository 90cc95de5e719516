//! The one training loop: every algorithm, every backend.

mod far_tail;
mod monitor;

pub(crate) use far_tail::FarTailRecorder;
use monitor::{DivergenceMonitor, RunningAverage};

use crate::backend::BackendKind;
use crate::config::{Algorithm, DataRng, Model, Resolved};
use crate::data::{self, DataSource, DeviceSource};
use crate::error::Result;
use crate::io::NpyStream;
use crate::io::Progress;
use crate::model::{Mlp, ReluGate};
use crate::nets::eval::{Scores, evaluate};
use crate::nets::{self, Net};
use crate::optim;
use burn::module::Module;
use burn::tensor::{Bool, Device, Tensor, TensorData};
use std::path::Path;
use std::time::Instant;

/// What a run leaves behind, on the host.
#[derive(Debug, Clone)]
pub struct Trained {
    /// Final iterates `[chains, P]` row-major (P = parameters per chain: d for the gate
    /// and the linear model, all layers in order for the MLP).
    pub final_weights: Vec<f32>,
    /// Running mean of the iterates after the burn-in, `[chains, P]`.
    pub average_weights: Vec<f32>,
    /// Chains that diverged (frozen at their last value when found).
    pub diverged: Vec<bool>,
    /// The teacher direction w* the labels were made with.
    pub teacher: Vec<f32>,
    /// The least-squares solution of the fixed dataset (offline linear runs).
    pub least_squares: Option<Vec<f64>>,
    /// The nets' training curves and test scores (`fcn`, `cnn`).
    pub net: Option<NetOutcome>,
    /// The far tail's exceedances, when the run recorded them.
    pub far_tail: Option<crate::tail::far::Recording>,
    /// Wall time of the training loop.
    pub wall_seconds: f64,
}

/// What a net run measured besides its weights.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NetOutcome {
    /// Per-chain loss and accuracy on the first [`CURVE_IMAGES`] training images, every
    /// `log_every` steps (and at step 0).
    pub curve: Vec<CurvePoint>,
    /// Per-chain loss and accuracy on the whole test split after the last step.
    pub test: Scores,
    /// Images in the training split.
    pub train_images: usize,
    /// Images in the test split.
    pub test_images: usize,
    /// Pixels p become (p/255 − mean)/std with the training split's constants.
    pub pixel_mean: f64,
    /// See `pixel_mean`.
    pub pixel_std: f64,
}

/// One point of the training curves.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CurvePoint {
    /// The step after which the point was measured (0: the initial weights).
    pub step: usize,
    /// Each chain's mean cross-entropy on the curve's images (NaN for a diverged chain).
    #[serde(deserialize_with = "crate::nets::eval::nan_for_null")]
    pub loss: Vec<f64>,
    /// Each chain's accuracy on the curve's images, in [0, 1].
    #[serde(deserialize_with = "crate::nets::eval::nan_for_null")]
    pub accuracy: Vec<f64>,
}

/// Training images the curves are evaluated on (a fixed subset: the curve is a trend, the
/// test split gives the final score).
pub const CURVE_IMAGES: usize = 1000;

/// Trains `config.chains` chains of `config.model` for `config.steps` steps on `device`;
/// with `iterates`, streams snapshots `[snapshots, chains, P]` there.
pub fn train(
    config: &Resolved,
    device: &Device,
    iterates: Option<&Path>,
    progress: &Progress,
) -> Result<Trained> {
    let start = Instant::now();
    let chains = config.chains;
    let width = config.params_per_chain();
    let teacher = data::teacher(config);
    let mut learner = Learner::new(config, device);
    let dataset = data::dataset(config, &teacher);
    let least_squares = match (&dataset, config.model) {
        (Some(d), Model::Linear) => d.least_squares(),
        _ => None,
    };
    let images = match config.model.is_net() {
        true => Some(crate::data::idx::load(
            config.dataset.as_ref().unwrap_or(&Default::default()),
        )?),
        false => None,
    };
    let mut image_source = images.as_ref().map(|d| {
        crate::data::images::ImageSource::new(
            d.train.clone(),
            chains,
            config.batch,
            config.sampling,
            config.seed,
        )
    });
    let mut curve = Vec::new();
    let mut source = DataSource::new(config, teacher.clone()).with_dataset(dataset);
    let mut monitor = DivergenceMonitor::new(config, device);
    let mut average = RunningAverage::new(chains, width, device);
    let mut recorder = match iterates {
        Some(path) if config.record_every > 0 => Some(NpyStream::create(
            path,
            &[config.snapshot_steps(), chains, width],
        )?),
        _ => None,
    };
    let burn_in = config.burn_in();
    let far_on = config.far_tail().is_some();
    // Armed from the iterates at the end of burn-in (before the first step when it is 0).
    let arm_far_tail = |flat: Tensor<2>, diverged: &[bool]| {
        FarTailRecorder::start(
            config,
            &to_host(flat),
            diverged,
            least_squares.as_deref(),
            device,
        )
    };
    let mut far_tail =
        (far_on && burn_in == 0).then(|| arm_far_tail(learner.flat(), &monitor.diverged));

    let input = learner.input_device();
    // `philox` data on a GPU are drawn there: at 10⁵ chains an upload per step cannot feed
    // it. CPU backends draw the same numbers faster on host threads.
    let on_device = config.data_rng == DataRng::Philox && config.backend == BackendKind::Wgpu;
    let mut device_source = on_device.then(|| DeviceSource::new(config, &teacher, &input));

    // The data never depend on the iterates, so a large batch is drawn on another thread
    // while the previous one steps (a bounded queue: at most two batches wait). Drawing
    // dominates a CPU step (BENCHMARKS.md); the numbers are the same as drawn in line.
    // Small batches are drawn in line: the hand-off would cost more than the drawing.
    let learner = std::thread::scope(|scope| -> Result<Learner> {
        let mut next_batch: Box<dyn FnMut() -> (Tensor<3>, Tensor<2>)> =
            if let Some(device_source) = device_source.as_mut() {
                Box::new(|| device_source.next_batch())
            } else if let Some(images) = image_source.as_mut() {
                let input = &input;
                Box::new(move || images.next_batch().into_device(input))
            } else if source.is_large() {
                let (queue, batches) = std::sync::mpsc::sync_channel(1);
                let steps = config.steps;
                scope.spawn(move || {
                    for _ in 0..steps {
                        // A closed queue means the loop stopped early (an error): stop drawing.
                        if queue.send(source.next_batch()).is_err() {
                            break;
                        }
                    }
                });
                let input = &input;
                Box::new(move || {
                    let batch = batches.recv().expect("the data thread draws every batch");
                    batch.into_device(input)
                })
            } else {
                let input = &input;
                Box::new(move || source.next_batch().into_device(input))
            };
        let mut log_curve = |learner: &Learner, step: usize| {
            if let (Some(data), Learner::Net { model, .. }) = (images.as_ref(), learner) {
                let scores = evaluate(&model.valid(), &data.train, Some(CURVE_IMAGES), device);
                let loss =
                    crate::nets::eval::median(scores.loss.iter().copied()).unwrap_or(f64::NAN);
                progress.bar().set_message(format!("train loss {loss:.3}"));
                curve.push(CurvePoint {
                    step,
                    loss: scores.loss,
                    accuracy: scores.accuracy,
                });
            }
        };
        log_curve(&learner, 0);
        for step in 1..=config.steps {
            let batch = next_batch();
            learner = learner.step(batch, config.eta, &monitor);
            let check = step % config.check_every == 0 || step == config.steps;
            let snapshot = recorder.is_some() && config.is_snapshot_step(step);
            let arm = far_on && step == burn_in;
            if check || step > burn_in || snapshot || arm {
                // One view of the parameters per step (for the MLP it is a concatenation).
                let flat = learner.flat();
                if check {
                    monitor.check(flat.clone(), step, progress.bar());
                }
                if arm {
                    far_tail = Some(arm_far_tail(flat.clone(), &monitor.diverged));
                }
                if let Some(recorder) = far_tail.as_mut().filter(|_| step > burn_in) {
                    recorder.observe(flat.clone(), step, &monitor.diverged);
                }
                if step > burn_in {
                    average.add(flat.clone());
                }
                if let Some(rec) = recorder.as_mut().filter(|_| snapshot) {
                    rec.push(&to_host(flat))?;
                }
            }
            if config
                .net()
                .is_some_and(|n| step % n.log_every == 0 || step == config.steps)
            {
                log_curve(&learner, step);
            }
            progress.inc(1);
            progress.check()?;
        }
        Ok(learner)
    })?;
    let net = match (&learner, images) {
        (Learner::Net { model, .. }, Some(data)) => Some(NetOutcome {
            curve,
            test: evaluate(&model.valid(), &data.test, None, device).without(&monitor.diverged),
            train_images: data.train.len(),
            test_images: data.test.len(),
            pixel_mean: data.pixel_mean,
            pixel_std: data.pixel_std,
        }),
        _ => None,
    };
    if let Some(rec) = recorder {
        rec.finish()?;
    }
    let far_tail = far_tail.map(|r| r.finish(&monitor.diverged));
    Ok(Trained {
        final_weights: to_host(learner.flat()),
        average_weights: average.mean(),
        diverged: monitor.diverged,
        teacher,
        least_squares,
        net,
        far_tail,
        wall_seconds: start.elapsed().as_secs_f64(),
    })
}

/// The model and its update rule: the gate (or linear model) with its optimizer, or the
/// MLP student with burn's SGD.
enum Learner {
    Gate {
        model: ReluGate,
        optimizer: Box<dyn optim::GateOptimizer>,
        mask: Frozen<Tensor<2, Bool>>,
    },
    Mlp {
        model: Mlp,
        optimizer: optim::MlpSgd,
        masks: Frozen<Vec<Tensor<3, Bool>>>,
    },
    Net {
        model: Net,
        optimizer: optim::NetSgd,
        masks: Frozen<optim::NetMasks>,
    },
}

/// Masks of the frozen (diverged) chains with the count they were built for: rebuilt only
/// when more chains diverge, absent while none has.
type Frozen<T> = Option<Box<(usize, T)>>;

fn refresh<T>(cache: &mut Frozen<T>, frozen: usize, build: impl FnOnce() -> T) {
    if frozen > 0 && cache.as_deref().is_none_or(|(n, _)| *n != frozen) {
        *cache = Some(Box::new((frozen, build())));
    }
}

/// A mask of shape `dims` (chains first) that is true on every entry of a diverged chain.
fn frozen_mask<const D: usize>(
    diverged: &[bool],
    dims: [usize; D],
    device: &Device,
) -> Tensor<D, Bool> {
    // Chain-major layouts: `[chains, …]`, or a grouped kernel's `[chains·out, …]`.
    let per_chain = dims.iter().product::<usize>() / diverged.len();
    let mask: Vec<bool> = diverged
        .iter()
        .flat_map(|&d| std::iter::repeat_n(d, per_chain))
        .collect();
    Tensor::from_data(TensorData::new(mask, dims), device)
}

impl Learner {
    fn new(config: &Resolved, device: &Device) -> Self {
        // Parameters live on an autodiff device: burn's optimizer requires it (burn-0.22.md §2.3).
        let autodiff = device.clone().autodiff();
        match config.model {
            Model::ReluGate | Model::Linear => Learner::Gate {
                model: ReluGate::from_weights(
                    data::initial_weights(config),
                    config.chains,
                    config.dim,
                    &autodiff,
                )
                .into_linear(config.model == Model::Linear),
                optimizer: optim::for_config(config),
                mask: None,
            },
            Model::Mlp => {
                let mut model = Mlp::from_weights(data::initial_mlp_weights(config), &autodiff);
                model.straight_through = config.algorithm == Algorithm::Km;
                Learner::Mlp {
                    model,
                    optimizer: optim::MlpSgd::new(optim::burn_sgd(config)),
                    masks: None,
                }
            }
            Model::Fcn | Model::Cnn => {
                let side = crate::data::idx::SIDE;
                let weights = nets::initial_weights(config, side * side);
                let mut model = Net::from_weights(config, weights, side, &autodiff);
                model.straight_through = config.algorithm == Algorithm::Km;
                Learner::Net {
                    model,
                    optimizer: optim::NetSgd::new(optim::burn_sgd(config)),
                    masks: None,
                }
            }
        }
    }

    /// Where the update reads its batch: the autodiff device for a gradient through the
    /// tape, the plain one otherwise.
    fn input_device(&self) -> Device {
        match self {
            Learner::Gate {
                model, optimizer, ..
            } if !optimizer.on_tape() => model.valid().weight.val().device(),
            Learner::Gate { model, .. } => model.weight.val().device(),
            Learner::Mlp { model, .. } => model.layers[0].val().device(),
            Learner::Net { model, .. } => model.fc[0].val().device(),
        }
    }

    /// One step; chains the monitor found diverged stay where they are.
    fn step(self, batch: (Tensor<3>, Tensor<2>), eta: f64, monitor: &DivergenceMonitor) -> Self {
        let (frozen, diverged, device) = (monitor.count, &monitor.diverged, &monitor.device);
        match self {
            Learner::Gate {
                model,
                mut optimizer,
                mut mask,
            } => {
                refresh(&mut mask, frozen, || {
                    frozen_mask(diverged, model.weight.val().dims(), device)
                });
                Learner::Gate {
                    model: optimizer.step(model, batch, eta, mask.as_deref().map(|(_, m)| m)),
                    optimizer,
                    mask,
                }
            }
            Learner::Mlp {
                model,
                mut optimizer,
                mut masks,
            } => {
                refresh(&mut masks, frozen, || {
                    model
                        .layers
                        .iter()
                        .map(|w| frozen_mask(diverged, w.val().dims(), device))
                        .collect()
                });
                let model = optimizer.step(
                    model,
                    batch,
                    eta,
                    masks.as_deref().map(|(_, m)| m.as_slice()),
                );
                Learner::Mlp {
                    model,
                    optimizer,
                    masks,
                }
            }
            Learner::Net {
                model,
                mut optimizer,
                mut masks,
            } => {
                refresh(&mut masks, frozen, || optim::NetMasks {
                    conv: model
                        .conv
                        .iter()
                        .map(|w| frozen_mask(diverged, w.val().dims(), device))
                        .collect(),
                    fc: model
                        .fc
                        .iter()
                        .map(|w| frozen_mask(diverged, w.val().dims(), device))
                        .collect(),
                });
                let model = optimizer.step(model, batch, eta, masks.as_deref().map(|(_, m)| m));
                Learner::Net {
                    model,
                    optimizer,
                    masks,
                }
            }
        }
    }

    /// Every chain's parameters as one row on the plain device, `[chains, P]`.
    fn flat(&self) -> Tensor<2> {
        match self {
            Learner::Gate { model, .. } => model.valid().weight.val(),
            Learner::Mlp { model, .. } => model.valid().flat(),
            Learner::Net { model, .. } => model.valid().flat(),
        }
    }
}

/// The weights on the host, `[chains, d]` row-major.
pub fn weights(model: &ReluGate) -> Vec<f32> {
    to_host(model.valid().weight.val())
}

pub(super) fn to_host<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .try_into_vec::<f32>()
        .expect("float32 weights")
}
