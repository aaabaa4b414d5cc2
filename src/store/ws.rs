//! What a WebSocket trial stores beside the HTTP figures (issue 10): an optional part of
//! [`super::TrialMetrics`], absent for HTTP trials and for runs stored before it existed.
//! For a WebSocket trial `requests` counts messages answered (echoes back, or room
//! deliveries), so `rps` is messages per second and the histograms hold per-message latency.

use serde::{Deserialize, Serialize};

/// The WebSocket figures of one trial.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WsTrial {
    /// Messages written in full in the window (echo: sent; room: published).
    pub messages_sent: u64,
    /// Room trials only: the fan-out counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<RoomCounts>,
}

/// A room trial's fan-out, over every subscriber.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RoomCounts {
    /// Publishing connections.
    pub publishers: u64,
    /// Subscribing connections.
    pub subscribers: u64,
    /// Deliveries owed: every published message to every subscriber.
    pub expected: u64,
    /// First deliveries.
    pub delivered: u64,
    /// Deliveries skipped by the server (a later message of the same publisher arrived, or the
    /// subscriber was dropped).
    pub lost: u64,
    /// Repeated deliveries.
    pub duplicated: u64,
    /// First deliveries after a later message of the same publisher.
    pub out_of_order: u64,
    /// Deliveries still owed after the drain (not counted as lost).
    pub in_flight: u64,
}

impl RoomCounts {
    /// Adds another trial's counts (publishers and subscribers are kept, not summed).
    pub fn add(&mut self, other: &RoomCounts) {
        self.publishers = other.publishers;
        self.subscribers = other.subscribers;
        self.expected += other.expected;
        self.delivered += other.delivered;
        self.lost += other.lost;
        self.duplicated += other.duplicated;
        self.out_of_order += other.out_of_order;
        self.in_flight += other.in_flight;
    }

    /// `delivered / expected`; `None` when nothing was owed.
    pub fn delivery_ratio(&self) -> Option<f64> {
        (self.expected > 0).then(|| self.delivered as f64 / self.expected as f64)
    }
}
