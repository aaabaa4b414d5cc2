//! faceoff: measure which backend stack serves a workload best on this machine.
//!
//! The binary is a thin shell around [`run`]; tests call it in-process.

pub mod audit;
pub mod bundled;
pub mod cancel;
pub mod cli;
pub mod commands;
pub mod contestant;
pub mod contract;
pub mod database;
pub mod duration;
pub mod gate;
pub mod hint;
pub mod load;
pub mod report;
pub mod runner;
pub mod settings;
pub mod spinner;
pub mod stats;
pub mod store;
pub mod suite;
pub mod sys;
pub mod units;
pub mod verdict;
pub mod warnings;

use std::process::ExitCode;

pub use hint::{hints, Hint};

/// Exit code for any error that ends a command.
pub const EXIT_FAILURE: u8 = 1;

/// Runs one parsed command line.
pub fn run(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        cli::Command::Bench(args) => commands::bench::run(*args),
        cli::Command::Run(args) => commands::run::run(*args),
        cli::Command::History(args) => commands::show::history(args),
        cli::Command::Show(args) => commands::show::show(args),
        cli::Command::Diff(args) => commands::show::diff(args),
        cli::Command::Verify(args) => commands::verify::run(args),
        cli::Command::Report(args) => commands::report::run(args),
        cli::Command::Audit(args) => commands::audit::run(args),
        cli::Command::Claims(args) => commands::claims::run(args),
        cli::Command::Verdict(args) => commands::verdict::run(args),
        cli::Command::NewContestant(args) => commands::new_contestant::run(args),
        cli::Command::Export(args) => commands::export::run(args),
    }
}
