//! A study: a grid of runs over the axes of [`AXES`] (engine × model × algorithm × … × seed ×
//! …), expanded into cells, each an ordinary resolved config with a content-hash id.

use crate::config::{Algorithm, Engine, Init, Labels, Model, NoiseLaw, Resolved, TrainConfig};
use crate::error::{Error, Result};
use crate::tail::Center;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::Path;

/// A study file (`configs/paper/*.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    /// A short name for reports and Slurm job names.
    pub name: String,
    /// Values of every run field the grid does not vary (defaults as in `train`).
    #[serde(default)]
    pub base: TrainConfig,
    /// One grid, or a list of grids whose cells are joined (duplicates counted once).
    pub grid: Grids,
    /// Burn-in and steps of every cell set from the theory's tilted drift instead of
    /// `steps`/`burn_in` (see [`LengthRule`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<LengthRule>,
}

/// Run length from the theory: after T steps the stationary tail is in equilibrium up to
/// about (bulk scale)·e^{μT} (μ the tilted drift at the root α), and the top p of the
/// samples sits about log₁₀(1/p)/α decades above the bulk. So the burn-in is
/// `log₁₀(1/p)/max(α, 1) · ln 10/μ` steps for the deepest fraction p wanted (below α = 1
/// the formula asks for tens of decades: such cells get at most log₁₀(1/p) decades, and a
/// report reads which rungs are in equilibrium from the real α), clamped to
/// [`min_burn_in`, `max_burn_in`], and the window after it is as long again (at least
/// `min_window`). Cells the theory gives no root for (divergent, light) get the minima.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LengthRule {
    /// The deepest exceedance fraction that should be in equilibrium (e.g. 1e-4).
    pub deepest_fraction: f64,
    /// Smallest burn-in (≥ 1), also that of cells without a root.
    pub min_burn_in: usize,
    /// Largest burn-in (≥ `min_burn_in`).
    pub max_burn_in: usize,
    /// Smallest window of steps after the burn-in.
    pub min_window: usize,
}

impl LengthRule {
    /// (burn-in, steps) for a resolved config.
    pub fn lengths(&self, config: &TrainConfig) -> Result<(usize, usize)> {
        if !(self.deepest_fraction > 0.0 && self.deepest_fraction < 1.0) {
            return Err(Error::config(
                "length.deepest_fraction",
                format!("must lie in (0, 1), got {}", self.deepest_fraction),
            ));
        }
        if self.min_burn_in == 0 || self.min_burn_in > self.max_burn_in {
            return Err(Error::config(
                "length.min_burn_in",
                "must be ≥ 1 and ≤ length.max_burn_in",
            ));
        }
        let theory = match config.model {
            Model::Linear => crate::theory::linear_tail_index(config.dim, config.batch, config.eta),
            Model::ReluGate => crate::theory::gate_tail_index(config.dim, config.batch, config.eta),
            Model::Mlp | Model::Fcn | Model::Cnn => {
                return Err(Error::config(
                    "length",
                    "has a theory only for `linear` and `relu_gate`",
                ));
            }
        }?;
        let wanted = match (theory.alpha, theory.steps_per_decade()) {
            (Some(alpha), Some(per_decade)) => {
                (1.0 / self.deepest_fraction).log10() / alpha.max(1.0) * per_decade
            }
            _ => 0.0,
        };
        let burn_in = (wanted.ceil() as usize).clamp(self.min_burn_in, self.max_burn_in);
        Ok((burn_in, burn_in + burn_in.max(self.min_window)))
    }
}

/// `grid` is one object or an array of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Grids {
    /// A single grid.
    One(Box<Grid>),
    /// Several grids, their cells joined.
    Many(Vec<Grid>),
}

/// Declares the grid's axes once: `Grid`'s fields, [`AXES`] and the expansion's order all
/// come from this list. `each` axes set the config field of the same name to each value;
/// `step` axes are the step-size scales, of which a grid gives one, expanded at the
/// position of the first (`eta`) because κ and the targets need the cell's d and b.
macro_rules! axes {
    ($( $(#[doc = $doc:literal])* $kind:ident $name:ident: $ty:ty => $column:expr ),* $(,)?) => {
        /// The axes of one grid; an axis left out takes the `base` value.
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Grid {
            $( $(#[doc = $doc])* pub $name: Option<Vec<$ty>>, )*
        }

        /// Every axis a grid can vary, outermost first (the order cells are expanded in),
        /// with the summary.csv column that shows it.
        pub const AXES: &[Axis] = &[ $( Axis { name: stringify!($name), column: $column } ),* ];

        impl Grid {
            /// Each axis's setters, outermost first.
            fn levels(&self, base: &TrainConfig) -> Result<Vec<Vec<Setter>>> {
                let mut levels = Vec::new();
                $( axes!(@level $kind $name, self, base, levels); )*
                Ok(levels)
            }
        }
    };
    (@level each $name:ident, $grid:ident, $base:ident, $levels:ident) => {
        $levels.push(
            axis(stringify!($name), &$grid.$name, $base.$name.clone())?
                .into_iter()
                .map(|v| -> Setter {
                    Box::new(move |c: &mut TrainConfig| {
                        c.$name = v.clone();
                        Ok(())
                    })
                })
                .collect(),
        );
    };
    (@level step eta, $grid:ident, $base:ident, $levels:ident) => {
        $levels.push($grid.step_level($base)?);
    };
    (@level step $name:ident, $grid:ident, $base:ident, $levels:ident) => {};
}

/// One axis of [`Grid`]: its key in a study file and the summary.csv column that shows its
/// value (`None`: the column is not in summary.csv; run.json's config has it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Axis {
    /// The key in `grid` (and the config field it sets).
    pub name: &'static str,
    /// Its summary.csv column, where there is one.
    pub column: Option<&'static str>,
}

/// Sets one axis's value in a cell's config.
type Setter = Box<dyn Fn(&mut TrainConfig) -> Result<()>>;

axes! {
    /// Engines (`burn`, `reduced`).
    each engine: Engine => Some("engine"),
    /// Models trained.
    each model: Model => Some("model"),
    /// Algorithms (`sgd`, `km`).
    each algorithm: Algorithm => Some("algorithm"),
    /// Label models.
    each labels: Labels => Some("labels"),
    /// Label-noise scales σ.
    each label_noise: f64 => Some("label_noise"),
    /// Input dimensions d.
    each dim: usize => Some("d"),
    /// Mini-batch sizes b.
    each batch: usize => Some("b"),
    /// Absolute step sizes η.
    step eta: f64 => Some("eta"),
    /// Step sizes on the scale of the divergence step: η = κ·b/(d + b + 1) (docs/theory.md §2.5).
    step kappa: f64 => Some("kappa"),
    /// Step sizes placed by the theory: the η whose predicted tail index is α (gate or
    /// linear; 0 = the edge of divergence). Sets each cell's `alpha_target`.
    step alpha_target: f64 => Some("alpha_target"),
    /// Step sizes where the *gate's* prediction is α, for every model of the grid: linear
    /// cells run at the gate's η, so the two are compared at identical (d, b, η).
    step gate_alpha_target: f64 => Some("eta"),
    /// Seeds.
    each seed: u64 => Some("seed"),
    /// Numbers of chains (a sample-size axis: estimators against the number of chains).
    each chains: usize => Some("chains"),
    /// Iterations K (e.g. a longer arm for the stationarity check).
    each steps: usize => Some("steps"),
    /// Lists of checkpoints (reduced engine: α̂ against steps).
    each checkpoints: Vec<usize> => None,
    /// Initial laws (e.g. a heavy-tailed `pareto` start beside the `normal` one, to see
    /// both reach the same stationary tail).
    each init: Init => Some("init"),
    /// Laws of the label noise (e.g. `cauchy`, a heavy-tailed additive part).
    each noise_law: NoiseLaw => None,
    /// The norm past which a chain counts as diverged (raise it for a tail of index ≤ 1,
    /// which reaches 10⁶ as a matter of course).
    each divergence_norm: f64 => None,
    /// Centres of the tail statistic (`median` where α ≤ 1 makes the mean meaningless).
    each center: Center => None,
}

/// One run of a study.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// First 16 hex digits of the SHA-256 of the resolved config's JSON: the folder name.
    pub id: String,
    /// The cell's resolved, validated config.
    pub config: Resolved,
}

/// κ = η(d + b + 1)/b: where a step size sits relative to the divergence scale.
pub fn kappa(config: &TrainConfig) -> f64 {
    config.eta * (config.dim + config.batch + 1) as f64 / config.batch as f64
}

/// η = κ·b/(d + b + 1).
pub fn eta_from_kappa(kappa: f64, dim: usize, batch: usize) -> f64 {
    kappa * batch as f64 / (dim + batch + 1) as f64
}

/// The id of a resolved config: equal configs, equal ids, on every machine.
pub fn cell_id(config: &TrainConfig) -> String {
    let json = serde_json::to_string(config).expect("a config serialises");
    let digest = Sha256::digest(json.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

impl Study {
    /// Reads a study; malformed JSON and unknown keys name the file, line and column.
    pub fn from_json_file(path: &Path) -> Result<Self> {
        crate::io::read_json(path)
    }

    /// The study's grids, one or many.
    pub fn grids(&self) -> &[Grid] {
        match &self.grid {
            Grids::One(g) => std::slice::from_ref(&**g),
            Grids::Many(v) => v,
        }
    }

    /// Every cell, in a fixed order (grid by grid, axes nested in [`AXES`] order, the
    /// first outermost), each resolved and validated.
    pub fn cells(&self) -> Result<Vec<Cell>> {
        if self.name.trim().is_empty() {
            return Err(Error::config("name", "must not be empty"));
        }
        if self.grids().is_empty() {
            return Err(Error::config(
                "grid",
                "is an empty list: a study needs a grid",
            ));
        }
        let mut cells = Vec::new();
        let mut seen = HashSet::new();
        for grid in self.grids() {
            for config in grid.expand(&self.base)? {
                let config = match &self.length {
                    Some(rule) => {
                        let resolved = config.clone().resolve()?;
                        let (burn_in, steps) = rule.lengths(&resolved)?;
                        TrainConfig {
                            burn_in: Some(burn_in),
                            steps,
                            ..config
                        }
                        .resolve()?
                    }
                    None => config.resolve()?,
                };
                let id = cell_id(&config);
                if seen.insert(id.clone()) {
                    cells.push(Cell { id, config });
                }
            }
        }
        Ok(cells)
    }
}

/// The values of one axis: the grid's list (refused when empty) or the base value.
fn axis<T: Clone>(field: &'static str, values: &Option<Vec<T>>, base: T) -> Result<Vec<T>> {
    match values {
        Some(v) if v.is_empty() => Err(Error::config(field, "is an empty list in `grid`")),
        Some(v) => Ok(v.clone()),
        None => Ok(vec![base]),
    }
}

/// A step size on one of the scales.
#[derive(Clone, Copy)]
enum Step {
    /// No step-size axis: the base's η (and its `alpha_target`).
    Base,
    Eta(f64),
    Kappa(f64),
    Target(f64),
    GateTarget(f64),
}

impl Grid {
    /// The cells of this grid: every combination of its axes' values, in [`AXES`] order
    /// (the first outermost), each on top of `base`.
    fn expand(&self, base: &TrainConfig) -> Result<Vec<TrainConfig>> {
        let mut cells = vec![base.clone()];
        for level in self.levels(base)? {
            let mut next = Vec::with_capacity(cells.len() * level.len());
            for cell in &cells {
                for set in &level {
                    let mut c = cell.clone();
                    set(&mut c)?;
                    next.push(c);
                }
            }
            cells = next;
        }
        Ok(cells)
    }

    /// The step-size axis: the one scale the grid gives (η, κ, a theory target or the
    /// gate's), or the base's η. Set after d and b, which κ and the targets read.
    fn step_level(&self, base: &TrainConfig) -> Result<Vec<Setter>> {
        let scales = [
            self.eta.is_some(),
            self.kappa.is_some(),
            self.alpha_target.is_some(),
            self.gate_alpha_target.is_some(),
        ];
        if scales.iter().filter(|&&s| s).count() > 1 {
            return Err(Error::config(
                "kappa",
                "`eta`, `alpha_target` and `gate_alpha_target`: give one step-size scale per grid",
            ));
        }
        let steps: Vec<Step> = if self.gate_alpha_target.is_some() {
            axis("gate_alpha_target", &self.gate_alpha_target, 0.0)?
                .into_iter()
                .map(Step::GateTarget)
                .collect()
        } else if self.alpha_target.is_some() {
            axis("alpha_target", &self.alpha_target, 0.0)?
                .into_iter()
                .map(Step::Target)
                .collect()
        } else if self.kappa.is_some() {
            axis("kappa", &self.kappa, 0.0)?
                .into_iter()
                .map(Step::Kappa)
                .collect()
        } else if self.eta.is_some() {
            axis("eta", &self.eta, base.eta)?
                .into_iter()
                .map(Step::Eta)
                .collect()
        } else {
            vec![Step::Base]
        };
        let (base_eta, base_target) = (base.eta, base.alpha_target);
        Ok(steps
            .into_iter()
            .map(|step| -> Setter {
                Box::new(move |c: &mut TrainConfig| {
                    // A target's η is solved when the cell is resolved (TrainConfig::resolve).
                    (c.eta, c.alpha_target) = match step {
                        Step::Base => (base_eta, base_target),
                        Step::Eta(e) => (e, None),
                        Step::Kappa(k) => (eta_from_kappa(k, c.dim, c.batch), None),
                        Step::Target(t) => (base_eta, Some(t)),
                        Step::GateTarget(t) => (
                            crate::theory::eta_for_alpha(true, c.dim, c.batch, t)
                                .map_err(|e| Error::config("gate_alpha_target", e.to_string()))?,
                            None,
                        ),
                    };
                    Ok(())
                })
            })
            .collect())
    }
}

/// A deterministic slice of the cells: shard `index` of `count` takes every cell whose
/// position modulo `count` is `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard's position, 0 ≤ index < count.
    pub index: usize,
    /// The number of shards N (≥ 1).
    pub count: usize,
}

impl Shard {
    /// The whole study: shard 0 of 1.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Parses `I/N` with 0 ≤ I < N.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || {
            Error::config(
                "shard",
                format!("`{text}` is not I/N with 0 ≤ I < N (e.g. 0/4)"),
            )
        };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index = i.trim().parse().map_err(|_| bad())?;
        let count = n.trim().parse().map_err(|_| bad())?;
        Shard::new(index, count).map_err(|_| bad())
    }

    /// Shard `index` of `count`; an error unless 0 ≤ index < count.
    pub fn new(index: usize, count: usize) -> Result<Self> {
        if count == 0 || index >= count {
            return Err(Error::config(
                "shard",
                format!("index {index} is out of range for {count} shards (0 ≤ I < N)"),
            ));
        }
        Ok(Shard { index, count })
    }

    /// The shard of a Slurm array task (`SLURM_ARRAY_TASK_ID` counted from
    /// `SLURM_ARRAY_TASK_MIN`, out of `SLURM_ARRAY_TASK_COUNT`), if those are set.
    pub fn from_slurm_env(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        let (Some(id), Some(count)) = (get("SLURM_ARRAY_TASK_ID"), get("SLURM_ARRAY_TASK_COUNT"))
        else {
            return Ok(None);
        };
        let num = |name: &'static str, v: &str| {
            v.trim()
                .parse::<usize>()
                .map_err(|_| Error::config("shard", format!("{name}={v} is not a number")))
        };
        let id = num("SLURM_ARRAY_TASK_ID", &id)?;
        let min = match get("SLURM_ARRAY_TASK_MIN") {
            Some(m) => num("SLURM_ARRAY_TASK_MIN", &m)?,
            None => 0,
        };
        let count = num("SLURM_ARRAY_TASK_COUNT", &count)?;
        Shard::new(id.saturating_sub(min), count).map(Some)
    }

    /// The cells this shard takes, in study order.
    pub fn select<'a>(&self, cells: &'a [Cell]) -> Vec<&'a Cell> {
        cells
            .iter()
            .enumerate()
            .filter(|(i, _)| i % self.count == self.index)
            .map(|(_, c)| c)
            .collect()
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}
