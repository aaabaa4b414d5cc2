//! Progress of a running load: the per-worker counter the connection tasks bump and the
//! engine reads, and the snapshot it hands to progress displays. Its own module so that
//! `conn` and `engine` both import it and neither imports the other's internals (issue 8).

use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// A counter alone on its cache line, so workers never share a line.
#[repr(align(64))]
#[derive(Debug, Default)]
pub struct Padded(pub AtomicU64);

/// A look at a running load, for progress displays.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot {
    /// Time since the load began.
    pub elapsed: Duration,
    /// Requests finished so far (answered or failed).
    pub finished: u64,
}
