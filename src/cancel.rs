//! The cancellation token of one command: set by the first Ctrl-C (see
//! [`crate::contestant::signals`]), read by every long wait (install, health wait, verify checks,
//! the load engine, the runner) so each can stop within about 100 ms and say "interrupted"
//! rather than fail.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How often a wait that cannot block on the token looks at it.
pub const POLL: Duration = Duration::from_millis(50);

/// A shared "stop now" flag; clones share it. The load engine takes the flag itself
/// ([`Cancel::flag`]), so `load` needs no knowledge of this type.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A token that is not set.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Sets the token; every holder sees it.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether the token is set.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// The underlying flag, for the load engine.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.0.clone()
    }

    /// Sleeps for `total` in slices of [`POLL`]; returns false (early) if the token is set.
    pub fn sleep(&self, total: Duration) -> bool {
        let deadline = std::time::Instant::now() + total;
        loop {
            if self.is_cancelled() {
                return false;
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(POLL));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_flag() {
        let a = Cancel::new();
        let b = a.clone();
        let flag = a.flag();
        assert!(!b.is_cancelled());
        a.cancel();
        assert!(b.is_cancelled());
        assert!(flag.load(Ordering::SeqCst));
        assert!(
            !b.sleep(Duration::from_secs(60)),
            "a set token ends a sleep"
        );
    }
}
