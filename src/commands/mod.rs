//! One file per subcommand: glue between the CLI and the library modules.

pub mod audit;
pub mod bench;
pub mod report;
pub mod run;
pub mod show;
pub mod verify;

use anyhow::Context as _;

use crate::cancel::Cancel;
pub use crate::contestant::signals::EXIT_INTERRUPTED;

/// The command's cancellation token, set by the first Ctrl-C (or SIGTERM, SIGHUP), which also
/// stops every contestant and install faceoff started; a second one kills them and exits 130.
pub fn cancel_on_interrupt() -> anyhow::Result<Cancel> {
    crate::contestant::signals::cancel_on_interrupt()
        .context("could not install the Ctrl-C handler")
}
