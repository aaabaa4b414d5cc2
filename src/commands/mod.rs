//! One file per subcommand: glue between the CLI and the library modules.

pub mod bench;
pub mod report;
pub mod run;
pub mod show;
pub mod verify;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::Context as _;

/// A flag set by Ctrl-C and SIGTERM, so a command can stop its work and keep what it measured;
/// a second Ctrl-C exits at once (code 130).
pub fn interrupt_flag() -> anyhow::Result<Arc<AtomicBool>> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let flag = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register_conditional_shutdown(SIGINT, 130, flag.clone())
        .context("could not install the Ctrl-C handler")?;
    for signal in [SIGINT, SIGTERM] {
        signal_hook::flag::register(signal, flag.clone())
            .context("could not install the Ctrl-C handler")?;
    }
    Ok(flag)
}
