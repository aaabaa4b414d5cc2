//! Ctrl-C, SIGTERM and SIGHUP: the one interrupt path of every command.
//!
//! Contestants and install commands run in their own process groups, so a terminal's Ctrl-C
//! does not reach them; faceoff must stop them itself or they outlive it.
//! - The first signal sets the command's [`Cancel`] token *before* anything is killed (so a
//!   wait that then sees its child die already knows why, and reports "interrupted" rather
//!   than an error), then stops every live group in the background: SIGTERM, a grace period,
//!   SIGKILL. The command notices the token, keeps what it finished and exits 130.
//! - A second signal sends SIGKILL to every live group at once and exits 130 immediately.

use std::sync::Mutex;
use std::time::Duration;

use crate::cancel::Cancel;

use super::group;

/// Exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Time between SIGTERM and SIGKILL when the first interrupt stops the live groups.
pub const INTERRUPT_GRACE: Duration = Duration::from_secs(2);

/// The token of the command now running; the signal thread sets it.
static CURRENT: Mutex<Option<Cancel>> = Mutex::new(None);

/// A fresh token for one command, set by the next SIGINT, SIGTERM or SIGHUP. The handler
/// thread is installed by the first call.
pub fn cancel_on_interrupt() -> std::io::Result<Cancel> {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    let mut installed = INSTALLED.lock().unwrap_or_else(|e| e.into_inner());
    let cancel = Cancel::new();
    *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = Some(cancel.clone());
    if !*installed {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
        std::thread::Builder::new()
            .name("faceoff-signals".into())
            .spawn(move || {
                for _ in signals.forever() {
                    on_signal();
                }
            })?;
        *installed = true;
    }
    Ok(cancel)
}

fn on_signal() {
    let current = CURRENT.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match current {
        Some(cancel) if !cancel.is_cancelled() => {
            cancel.cancel();
            eprintln!("interrupted: stopping contestants (Ctrl-C again to kill them at once)");
            // In its own thread, so a second signal is heard during the grace period.
            let _ = std::thread::Builder::new()
                .name("faceoff-stop".into())
                .spawn(|| group::stop_live_groups(INTERRUPT_GRACE));
        }
        _ => {
            // Held until exit: no group can start after this kill.
            let _groups = group::kill_live_groups();
            eprintln!("interrupted again: contestants killed");
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
    }
}
