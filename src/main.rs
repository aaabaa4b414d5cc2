//! The thin binary: parse the command line, call the library, print errors with hints.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = faceoff::cli::Cli::parse();
    match faceoff::run(cli) {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (`faceoff bench ... | head`) is a normal way to stop reading.
            if err.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {}", faceoff::hint::error_line(&err));
            for hint in faceoff::hints(&err) {
                let _ = writeln!(stderr, "hint: {hint}");
            }
            ExitCode::from(faceoff::EXIT_FAILURE)
        }
    }
}
