//! The `tailgate` binary: parses the command line, runs the subcommand, prints its line or the error (exit 2).

use clap::Parser;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
mod cli;

use cli::{Cli, Command, commands};
use std::io::Write;

fn main() {
    let cli = Cli::parse();
    tailgate::io::install_signal_cleanup();
    let result = match &cli.command {
        Command::Train(args) => commands::train::run(args),
        Command::Estimate(args) if args.far_tail => commands::estimate::run_far_tail(args),
        Command::Estimate(args) => commands::estimate::run(args)
            .map(|reports| commands::estimate::render(&reports, args.format)),
        Command::SampleStable(args) => {
            commands::sample_stable::run(args).map(|path| format!("wrote {}", path.display()))
        }
        Command::Sweep(args) => commands::sweep::run(args),
        Command::Slurm(args) => commands::slurm::run(args).map(|path| {
            format!(
                "wrote {}; submit with: sbatch {}",
                path.display(),
                path.display()
            )
        }),
        Command::Report(args) => commands::report::run(args),
        Command::Theory(args) => commands::theory::run(args),
        Command::Analyze(args) => commands::analyze::run(args),
        Command::Coverage(args) => commands::coverage::run(args),
        Command::FarTailCoverage(args) => commands::far_coverage::run(args),
        Command::Plot(cli::PlotCommand::FarTail { run, out }) => {
            tailgate::report::plot_far_tail(run, out.as_deref())
                .map(|[png, svg]| format!("wrote {} and {}", png.display(), svg.display()))
        }
    };
    match result {
        // A closed pipe (`| head`) is not an error worth a panic.
        Ok(text) => {
            let _ = writeln!(std::io::stdout(), "{}", text.trim_end());
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
