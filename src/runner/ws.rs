//! The load of one trial, HTTP or WebSocket (issue 10): the runner builds a [`TrialPlan`] from
//! a workload and runs it without caring which engine drives it; both give a
//! [`crate::load::Recording`], a WebSocket one with its figures in `Recording::ws`.

use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use crate::load::ws::{WsFigures, WsMode, WsPlan};
use crate::load::{self, LoadPlan, Pacing, Recording};
use crate::store::{RoomCounts, WsTrial};
use crate::suite::{LoadShape, Workload, WorkloadKind};

/// What one trial (or warm-up) loads.
#[derive(Debug, Clone)]
pub enum TrialPlan {
    /// The workload's HTTP request mix.
    Http(LoadPlan),
    /// A WebSocket echo or room.
    Ws(WsPlan),
}

impl TrialPlan {
    /// Runs the load to its end (or until `interrupt` is set).
    pub fn run(
        &self,
        interrupt: Arc<AtomicBool>,
        on_progress: impl FnMut(load::Snapshot),
    ) -> Result<Recording, load::Error> {
        match self {
            TrialPlan::Http(plan) => load::run(plan, interrupt, on_progress),
            TrialPlan::Ws(plan) => load::ws::run(plan, interrupt, on_progress),
        }
    }

    /// The CPUs the load runs on.
    pub fn cpus(&self) -> &[usize] {
        match self {
            TrialPlan::Http(plan) => &plan.cpus,
            TrialPlan::Ws(plan) => &plan.cpus,
        }
    }
}

/// The WebSocket plan of `workload` against `addr` for `length`; `None` for an HTTP workload.
pub fn ws_plan(
    workload: &Workload,
    addr: SocketAddr,
    length: Duration,
    load_cpus: &[usize],
) -> Option<WsPlan> {
    let (mode, path, message_bytes) = match workload.kind {
        WorkloadKind::Http | WorkloadKind::Idle(_) => return None,
        WorkloadKind::WsEcho { message_bytes } => {
            let (connections, pacing) = match workload.shape {
                LoadShape::Closed { connections } => (connections, Pacing::ClosedLoop),
                LoadShape::Rate { per_s, connections } => {
                    (connections, Pacing::ConstantRate { rate_per_s: per_s })
                }
            };
            let mode = WsMode::Echo {
                connections: connections as usize,
                pacing,
            };
            (mode, "/ws", message_bytes)
        }
        WorkloadKind::WsRoom {
            publishers,
            subscribers,
            message_bytes,
        } => {
            let rate_per_s = match workload.shape {
                LoadShape::Rate { per_s, .. } => per_s,
                // Validation requires a rate; a closed shape cannot reach here.
                LoadShape::Closed { .. } => 1.0,
            };
            let mode = WsMode::Room {
                publishers: publishers as usize,
                subscribers: subscribers as usize,
                rate_per_s,
            };
            (mode, "/ws/room", message_bytes)
        }
    };
    Some(WsPlan {
        addr,
        host: addr.to_string(),
        path: path.to_string(),
        mode,
        message_bytes: message_bytes as usize,
        duration: length,
        timeout: workload.timeout,
        threads: load_cpus.len().max(1),
        cpus: load_cpus.to_vec(),
    })
}

/// Why `workload` is left out of a run whose contestants get `workers` processes: a room must
/// reach members connected to other processes through a backplane (e.g. Redis pub/sub) that
/// faceoff does not start yet, so multi-worker runs leave ws-room out (DESIGN.md, API
/// contract). `None` when it runs.
pub fn left_out(workload: &Workload, workers: u32) -> Option<String> {
    (matches!(workload.kind, WorkloadKind::WsRoom { .. }) && workers > 1).then(|| {
        format!(
            "{} left out: with WORKERS = {workers} a room's members sit in different processes,              and the backplane that would join them (e.g. Redis pub/sub) is not started by              faceoff yet; run with --workers 1 to measure it",
            workload.name
        )
    })
}

/// What the store keeps of a WebSocket trial's figures.
pub fn trial_figures(ws: &WsFigures) -> WsTrial {
    WsTrial {
        messages_sent: ws.messages_sent,
        room: ws.fanout.map(|f| RoomCounts {
            publishers: f.publishers as u64,
            subscribers: f.subscribers as u64,
            expected: f.expected,
            delivered: f.delivered,
            lost: f.lost,
            duplicated: f.duplicated,
            out_of_order: f.out_of_order,
            in_flight: f.in_flight,
        }),
    }
}
