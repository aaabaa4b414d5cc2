//! The WebSocket side of a report (issue 10): per contestant of a ws workload, the messages
//! sent and, for a room, the fan-out counts summed over its counted trials; and the extra
//! table every renderer shows under such a workload (delivery ratio, losses, duplicates, out
//! of order, in flight). Cells are formatted here once, so every format writes the same.

use serde::Serialize;

use super::format::{group, MISSING};
use super::WorkloadReport;
use crate::store::{RoomCounts, TrialRecord};

/// A contestant's WebSocket figures on one workload, over its counted trials.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WsResult {
    /// Messages written in full (echo: sent; room: published).
    pub messages_sent: u64,
    /// Room workloads only: the fan-out counts summed over trials.
    pub room: Option<RoomCounts>,
    /// `room.delivered / room.expected`; `None` for an echo or when nothing was owed.
    pub delivery_ratio: Option<f64>,
}

/// The WebSocket figures of `trials`; `None` when none of them is a WebSocket trial.
pub fn summarize(trials: &[&TrialRecord]) -> Option<WsResult> {
    let ws: Vec<_> = trials
        .iter()
        .filter_map(|t| t.metrics.ws.as_ref())
        .collect();
    if ws.is_empty() {
        return None;
    }
    let mut room: Option<RoomCounts> = None;
    for r in ws.iter().filter_map(|w| w.room.as_ref()) {
        room.get_or_insert_with(RoomCounts::default).add(r);
    }
    Some(WsResult {
        messages_sent: ws.iter().map(|w| w.messages_sent).sum(),
        delivery_ratio: room.as_ref().and_then(RoomCounts::delivery_ratio),
        room,
    })
}

/// Headers of the fan-out table.
pub const ROOM_COLUMNS: [&str; 8] = [
    "contestant",
    "delivered",
    "expected",
    "delivery",
    "lost",
    "duplicated",
    "out of order",
    "in flight",
];

/// The fan-out table's rows of a workload (empty when it is not a room workload): the
/// contestant's display name (unescaped; each renderer escapes it) then the figures.
pub fn room_rows(w: &WorkloadReport) -> Vec<[String; 8]> {
    w.results
        .iter()
        .filter_map(|r| {
            let ws = r.ws.as_ref()?;
            let room = ws.room?;
            Some([
                format!("{} ({})", r.display_name, r.stack),
                group(room.delivered),
                group(room.expected),
                ratio(ws.delivery_ratio),
                group(room.lost),
                group(room.duplicated),
                group(room.out_of_order),
                group(room.in_flight),
            ])
        })
        .collect()
}

/// One line saying what a WebSocket workload's throughput and latency count; `None` for HTTP.
pub fn note(w: &WorkloadReport) -> Option<&'static str> {
    let ws = w.results.iter().find_map(|r| r.ws.as_ref())?;
    Some(if ws.room.is_some() {
        "WebSocket room: throughput is deliveries per second over all subscribers, latency is \
         per delivery from the intended send time; messages still in flight after the drain \
         are unanswered, not lost."
    } else {
        "WebSocket echo: throughput is messages echoed per second, latency is per round trip."
    })
}

/// A delivery ratio as a percentage, rounded down to three decimals so that a single loss
/// in 100,000 never reads as 100%.
fn ratio(r: Option<f64>) -> String {
    match r {
        None => MISSING.to_string(),
        Some(r) if r >= 1.0 => "100%".to_string(),
        Some(r) => format!("{:.3}%", (r * 100_000.0).floor() / 1000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{TrialMetrics, WsTrial};

    fn trial(room: Option<RoomCounts>) -> TrialRecord {
        let metrics: TrialMetrics = serde_json::from_value(serde_json::json!({
            "duration_s": 1.0, "requests": 10, "rps": 10.0, "errors": 0,
            "errors_by_kind": {}, "status": {}, "latency_us": [1,1,1,1,1],
            "latency_uncorrected_us": [1,1,1,1,1], "latency_mean_us": 1.0, "late_sends": 0,
            "server_cpu_s": 0.1, "cpu_ms_per_1k": 1.0, "pss_mean_bytes": 1, "pss_peak_bytes": 1,
            "rss_peak_bytes": 1, "engine_cpu_s": 0.1, "engine_busiest": 0.1,
            "timeline_rps": [], "crashed": false,
        }))
        .unwrap();
        TrialRecord {
            workload: "ws-room".into(),
            contestant: "x".into(),
            round: 1,
            started_at: String::new(),
            metrics: TrialMetrics {
                ws: Some(WsTrial {
                    messages_sent: 100,
                    room,
                }),
                ..metrics
            },
            histogram: Vec::new(),
            histogram_uncorrected: Vec::new(),
        }
    }

    #[test]
    fn room_counts_add_over_trials_and_missing_stays_missing() {
        let counts = RoomCounts {
            publishers: 1,
            subscribers: 10,
            expected: 1000,
            delivered: 990,
            lost: 4,
            duplicated: 2,
            out_of_order: 1,
            in_flight: 6,
        };
        let (a, b) = (trial(Some(counts)), trial(Some(counts)));
        let r = summarize(&[&a, &b]).unwrap();
        assert_eq!(r.messages_sent, 200);
        let room = r.room.unwrap();
        assert_eq!((room.expected, room.delivered, room.lost), (2000, 1980, 8));
        assert_eq!(room.subscribers, 10);
        assert_eq!(r.delivery_ratio, Some(0.99));
        let echo = trial(None);
        let r = summarize(&[&echo]).unwrap();
        assert_eq!((r.room, r.delivery_ratio), (None, None));
        let mut http = trial(None);
        http.metrics.ws = None;
        assert_eq!(summarize(&[&http]), None);
        assert_eq!(ratio(None), MISSING);
        assert_eq!(ratio(Some(0.99995)), "99.995%");
        assert_eq!(ratio(Some(0.999999)), "99.999%");
        assert_eq!(ratio(Some(1.0)), "100%");
    }
}
