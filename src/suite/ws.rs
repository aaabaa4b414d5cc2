//! WebSocket workloads in suite files (issue 10): `kind = "ws-echo"` (round trips on `/ws`)
//! and `kind = "ws-room"` (fan-out on `/ws/room`), with their `ws = { ... }` table. Their rules
//! live here; `validate.rs` calls [`build_kind`] and reports what it finds.
//!
//! ```toml
//! [[workload]]
//! name = "ws-room"
//! kind = "ws-room"
//! rate = 1000                                # messages per second over all publishers
//! ws = { publishers = 1, subscribers = 64 }  # message_bytes = 32 by default
//! ```

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::LoadShape;

/// Bytes of each message unless `message_bytes` says otherwise.
pub const DEFAULT_MESSAGE_BYTES: u32 = 32;
const MAX_MESSAGE_BYTES: i64 = 1 << 20;
const DEFAULT_PUBLISHERS: u32 = 1;
const DEFAULT_SUBSCRIBERS: u32 = 64;
const MAX_MEMBERS: i64 = 100_000;

/// What a workload loads: plain HTTP requests (the default), a WebSocket endpoint, or idle
/// connections held while a probe measures (`suite/scale.rs`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum WorkloadKind {
    /// The request mix over HTTP/1.1.
    #[default]
    Http,
    /// Each connection sends a text message on `/ws` and waits for it back (closed loop, or
    /// the workload's `rate` in messages per second).
    WsEcho {
        /// Bytes of each message.
        message_bytes: u32,
    },
    /// Publishers send at the workload's `rate` on `/ws/room`; every subscriber records every
    /// broadcast.
    WsRoom {
        /// Publishing connections.
        publishers: u32,
        /// Subscribing connections.
        subscribers: u32,
        /// Bytes of each message.
        message_bytes: u32,
    },
    /// Idle connections held open, count after count, while a probe sends the request mix at
    /// the workload's (low) constant rate.
    Idle(super::scale::IdleSpec),
}

impl WorkloadKind {
    /// The contract endpoint it loads, also what a contestant must declare (`ws`, `ws-room`);
    /// `None` for HTTP.
    pub fn endpoint(&self) -> Option<&'static str> {
        match self {
            WorkloadKind::Http => None,
            WorkloadKind::Idle(spec) => match spec.protocol {
                super::IdleProtocol::Http => None,
                super::IdleProtocol::Ws => Some("ws"),
            },
            WorkloadKind::WsEcho { .. } => Some("ws"),
            WorkloadKind::WsRoom { .. } => Some("ws-room"),
        }
    }

    /// The name written in suite files.
    pub fn name(&self) -> &'static str {
        match self {
            WorkloadKind::Http => "http",
            WorkloadKind::Idle(spec) => match spec.protocol {
                super::IdleProtocol::Http => "idle",
                super::IdleProtocol::Ws => "idle-ws",
            },
            WorkloadKind::WsEcho { .. } => "ws-echo",
            WorkloadKind::WsRoom { .. } => "ws-room",
        }
    }
}

/// The `ws = { ... }` table of a workload, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWs {
    pub publishers: Option<Spanned<i64>>,
    pub subscribers: Option<Spanned<i64>>,
    pub message_bytes: Option<Spanned<i64>>,
}

/// A problem at a byte offset of the suite file.
pub(super) type Problem = (usize, String);

/// Builds the kind of workload `what` from its `kind` and `ws` values. A room's shape is set
/// to its rate over publishers + subscribers connections. Problems are pushed to `problems`.
pub(super) fn build_kind(
    kind: Option<&Spanned<String>>,
    ws: Option<&Spanned<RawWs>>,
    shape: &mut LoadShape,
    has_requests: bool,
    what: &str,
    at: usize,
    problems: &mut Vec<Problem>,
) -> WorkloadKind {
    let name = kind.map_or("http", |k| k.get_ref().as_str());
    let kind_at = kind.map_or(at, |k| k.span().start);
    let empty = RawWs::default();
    let table = ws.map_or(&empty, |w| w.get_ref());
    let ws_at = ws.map_or(at, |w| w.span().start);
    let mut number =
        |value: &Option<Spanned<i64>>, key: &str, min: i64, max: i64, default: u32| match value {
            None => default,
            Some(v) if (min..=max).contains(v.get_ref()) => *v.get_ref() as u32,
            Some(v) => {
                problems.push((
                    v.span().start,
                    format!(
                        "{what}: ws.{key} must be between {min} and {max}, not {}",
                        v.get_ref()
                    ),
                ));
                default
            }
        };
    let message_bytes = number(
        &table.message_bytes,
        "message_bytes",
        crate::load::ws::MIN_MESSAGE_BYTES as i64,
        MAX_MESSAGE_BYTES,
        DEFAULT_MESSAGE_BYTES,
    );
    let built = match name {
        // An idle workload's own settings are checked in `scale.rs`.
        "http" | "idle" | "idle-ws" => WorkloadKind::Http,
        "ws-echo" => WorkloadKind::WsEcho { message_bytes },
        "ws-room" => WorkloadKind::WsRoom {
            publishers: number(
                &table.publishers,
                "publishers",
                1,
                MAX_MEMBERS,
                DEFAULT_PUBLISHERS,
            ),
            subscribers: number(
                &table.subscribers,
                "subscribers",
                1,
                MAX_MEMBERS,
                DEFAULT_SUBSCRIBERS,
            ),
            message_bytes,
        },
        // `scale.rs` reports an unknown kind, naming every known one.
        _ => return WorkloadKind::Http,
    };
    match built {
        WorkloadKind::Http if ws.is_some() => problems.push((
            ws_at,
            format!("{what}: the ws table applies to kind = \"ws-echo\" or \"ws-room\" only"),
        )),
        WorkloadKind::Http | WorkloadKind::Idle(_) => {}
        _ if has_requests => problems.push((
            kind_at,
            format!(
                "{what}: a {name} workload sends WebSocket messages on {}; remove its \
                 [[workload.request]] tables",
                if name == "ws-echo" { "/ws" } else { "/ws/room" }
            ),
        )),
        WorkloadKind::WsEcho { .. }
            if table.publishers.is_some() || table.subscribers.is_some() =>
        {
            problems.push((
                ws_at,
                format!(
                    "{what}: ws.publishers and ws.subscribers apply to kind = \"ws-room\" only"
                ),
            ))
        }
        WorkloadKind::WsRoom {
            publishers,
            subscribers,
            ..
        } => match *shape {
            LoadShape::Rate { per_s, .. } => {
                *shape = LoadShape::Rate {
                    per_s,
                    connections: publishers + subscribers,
                }
            }
            LoadShape::Closed { .. } => problems.push((
                kind_at,
                format!(
                    "{what}: a ws-room workload needs rate = R, the messages per second its \
                     publishers send in total"
                ),
            )),
        },
        WorkloadKind::WsEcho { .. } => {}
    }
    built
}
