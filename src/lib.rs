//! faceoff: measure which backend stack serves a workload best on this machine.
//!
//! The binary is a thin shell around [`run`]; tests call it in-process.

pub mod cli;
pub mod commands;
pub mod contestant;
pub mod contract;
pub mod load;
pub mod report;
pub mod runner;
pub mod settings;
pub mod stats;
pub mod store;
pub mod suite;
pub mod sys;
pub mod warnings;

use std::process::ExitCode;

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
    }
}

/// Errors that know how the user can fix them.
pub trait Hint {
    /// One line of advice, if there is one.
    fn hint(&self) -> Option<String>;
}

/// Collects the hints of every error in the chain.
pub fn hints(err: &anyhow::Error) -> Vec<String> {
    err.chain()
        .filter_map(|cause| {
            if let Some(e) = cause.downcast_ref::<load::Error>() {
                return e.hint();
            }
            if let Some(e) = cause.downcast_ref::<contestant::Error>() {
                return e.hint();
            }
            if let Some(e) = cause.downcast_ref::<suite::Error>() {
                return e.hint();
            }
            None
        })
        .collect()
}
