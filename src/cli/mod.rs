//! The command line: the binary's, not the library's. The subcommands and their flags here,
//! each flag documented where it is defined (`args.rs`, `train_args.rs`); what each
//! subcommand does in `commands/`.

mod args;
pub mod commands;
mod train_args;

pub use args::*;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
pub use train_args::*;

#[derive(Debug, Parser)]
#[command(
    name = "tailgate",
    version,
    about = "Measure how heavy-tailed the iterates of SGD-type algorithms become",
    long_about = "Train a ReLU gate y = max(0, w·x) with SGD or the Karmakar–Mukherjee rule on many \
                  independent chains at once (burn 0.22), and estimate the tail index α of the \
                  iterates' stationary law (arXiv 2204.12554)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train chains of ReLU gates and write final.npy, average.npy, diverged.npy and run.json to --out.
    Train(Box<TrainArgs>),
    /// Estimate the tail index of samples in a .npy or .csv file.
    Estimate(EstimateArgs),
    /// Draw symmetric α-stable samples (Chambers–Mallows–Stuck) into a .npy file.
    SampleStable(SampleStableArgs),
    /// Run every cell of a study (a grid of runs) into one folder; resumable, shardable.
    Sweep(SweepArgs),
    /// Write a Slurm job-array script that runs a study's sweep as shards.
    Slurm(SlurmArgs),
    /// Merge a sweep folder into summary.csv, plots (PNG + SVG) and report.md.
    Report(ReportArgs),
    /// The theoretical tail index of SGD on linear regression (GSZ21) for d, b, η.
    Theory(TheoryArgs),
    /// Measure every estimator's error and interval coverage on samples of known α
    /// (Pareto, α-stable, Student t, reduced-engine runs with a theory).
    Coverage(CoverageArgs),
    /// Measure the far-tail ladder's error and interval coverage where α is exact (Kesten
    /// recursions, reduced-engine runs of the linear control), per rung and headline rule.
    FarTailCoverage(FarTailCoverageArgs),
    /// The tail of any model's weights, tensor by tensor: the power-law fit with its
    /// goodness of fit, Hill on a ladder of top fractions, intervals, and a verdict that
    /// never calls a rejected fit a tail index. Reads .safetensors, .npz and .npy.
    Analyze(AnalyzeArgs),
    /// Draw a figure of a finished run (PNG + SVG).
    #[command(subcommand)]
    Plot(PlotCommand),
}

/// What `tailgate plot` draws.
#[derive(Debug, Subcommand)]
pub enum PlotCommand {
    /// The threshold-stability figure of a run's far tail: α̂ (Hill and GPD with their
    /// 95 % chain-bootstrap intervals) against the exceedance fraction on a log axis, the
    /// theory's α as a line where the model has one, the final-iterate fit as a marker.
    FarTail {
        /// The run folder (with run.json recording a far tail).
        run: PathBuf,
        /// Output path without extension [default: RUN/far_tail → far_tail.png, far_tail.svg].
        #[arg(long, value_name = "STEM")]
        out: Option<PathBuf>,
    },
}
