use clap::Parser;
use tailgate::cli::{Cli, Command};
use tailgate::commands;

fn main() {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Train(args) => commands::train::run(args).map(|dir| {
            println!("wrote {}", dir.display());
        }),
        Command::Estimate(args) => commands::estimate::run(args).map(|reports| {
            println!(
                "{}",
                commands::estimate::render(&reports, args.format).trim_end()
            );
        }),
        Command::SampleStable(args) => commands::sample_stable::run(args).map(|path| {
            println!("wrote {}", path.display());
        }),
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}
