//! The scale settings of a workload (issue 10): its kind (plain HTTP, or idle connections held
//! while a probe measures: HTTP keep-alive with `kind = "idle"`, WebSocket with
//! `kind = "idle-ws"`), a concurrency sweep (`connections = [1, 16, 64]`) and a capacity
//! search under an SLO (`capacity = { p99 = "50ms" }`), checked here so `validate.rs` keeps one
//! hook line.

use super::ws::WorkloadKind;
use serde::Serialize;
use toml::Spanned;

use super::raw::{RawCapacity, RawConnections, RawDuration, RawWorkload};
use super::validate::{Ctx, MAX_CONNECTIONS, MAX_RATE_PER_S};
pub use crate::load::idle::IdleProtocol;
use crate::stats::{CapacitySearch, Slo, CAPACITY_MAX_ERROR_RATE};

/// An idle workload: how many connections to hold, and of which protocol.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdleSpec {
    /// What each idle connection speaks.
    pub protocol: IdleProtocol,
    /// Idle connections to hold, one step after another, ascending.
    pub counts: Vec<u32>,
}

/// Capacity under an SLO: the highest constant rate whose p99 stays under `slo.p99_us` with an
/// error rate under `slo.max_error_rate` ("Capacity" in DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CapacityTarget {
    /// The objective.
    pub slo: Slo,
    /// Where and how long the search looks.
    pub search: CapacitySearch,
    /// Trials repeated at the rate the search found, all of which must meet the SLO for it to
    /// be the capacity (see `runner::scale::capacity`).
    pub confirm: u32,
}

/// Defaults of a capacity search: a first probe at 500 req/s, doubling up to 200,000 req/s,
/// bisected to within 10%, at most 14 probes.
const DEFAULT_START_PER_S: f64 = 500.0;
const DEFAULT_MAX_PER_S: f64 = 200_000.0;
const MIN_PER_S: f64 = 1.0;
const MAX_PROBES: usize = 14;
const RESOLUTION_REL: f64 = 0.10;
/// Five confirmations that all meet the SLO: a rate whose trials meet it less than half of the
/// time passes five in a row with probability below 1/32 (3.1%).
const DEFAULT_CONFIRM: u32 = 5;
const MAX_CONFIRM: i64 = 50;

/// A workload's scale settings, checked.
pub(super) struct Scale {
    pub kind: WorkloadKind,
    pub sweep: Vec<u32>,
    pub capacity: Option<CapacityTarget>,
}

/// Checks the scale settings of `raw` (its kind, connection list, idle counts and capacity).
pub(super) fn check(raw: &mut RawWorkload, what: &str, ctx: &mut Ctx) -> Scale {
    let idle = raw.idle.take();
    let kind_at = raw.kind.as_ref().map(|k| k.span());
    let kind = match raw.kind.as_ref().map(|k| k.get_ref().as_str()) {
        // The others are checked in `ws.rs`.
        None | Some("http") | Some("ws-echo") | Some("ws-room") => None,
        Some("idle") => Some(IdleProtocol::Http),
        Some("idle-ws") => Some(IdleProtocol::Ws),
        Some(other) => {
            ctx.span(
                &kind_at.clone().unwrap_or_default(),
                format!(
                    "{what}: kind '{other}' is not known; use \"http\" (the default), \"idle\", \"idle-ws\", \"ws-echo\" or \"ws-room\""
                ),
            );
            None
        }
    };
    let sweep = match raw.connections.as_ref() {
        Some(c) => match c.get_ref() {
            RawConnections::Many(list) => counts(list, &c.span(), "connections", what, ctx),
            RawConnections::One(_) => Vec::new(),
        },
        None => Vec::new(),
    };
    let capacity = raw
        .capacity
        .take()
        .map(|c| (c.span(), check_capacity(c.into_inner(), what, ctx)));

    let kind = match (kind, idle) {
        (Some(protocol), Some(list)) => {
            let values: Vec<i64> = list.get_ref().iter().map(|v| *v.get_ref()).collect();
            let counts = counts(&values, &list.span(), "idle", what, ctx);
            if !sweep.is_empty() {
                ctx.span(
                    &raw.name.span(),
                    format!(
                        "{what}: an idle workload lists its idle counts in `idle`; \
                         `connections` is the probe's one count"
                    ),
                );
            }
            WorkloadKind::Idle(IdleSpec { protocol, counts })
        }
        (Some(_), None) => {
            ctx.span(
                &kind_at.unwrap_or_default(),
                format!(
                    "{what}: an idle workload needs the counts to hold, e.g. \
                     idle = [1000, 5000, 10000]"
                ),
            );
            WorkloadKind::Http
        }
        (None, Some(list)) => {
            ctx.span(
                &list.span(),
                format!("{what}: `idle` needs kind = \"idle\" or \"idle-ws\""),
            );
            WorkloadKind::Http
        }
        (None, None) => WorkloadKind::Http,
    };

    let capacity = match capacity {
        None => None,
        Some((span, target)) => {
            if raw.rate.is_some() {
                ctx.span(
                    &span,
                    format!("{what}: a capacity search sets the rate itself; remove `rate`"),
                );
            }
            if !sweep.is_empty() {
                ctx.span(
                    &span,
                    format!(
                        "{what}: give a capacity search one connection count, not a sweep \
                         (make two workloads)"
                    ),
                );
            }
            if kind != WorkloadKind::Http {
                ctx.span(
                    &span,
                    format!("{what}: a capacity search applies to an HTTP workload"),
                );
            }
            target
        }
    };
    Scale {
        kind,
        sweep,
        capacity,
    }
}

/// A list of connection counts: at least two, each 1..=MAX_CONNECTIONS, ascending.
fn counts(
    list: &[i64],
    span: &std::ops::Range<usize>,
    field: &str,
    what: &str,
    ctx: &mut Ctx,
) -> Vec<u32> {
    if list.is_empty() {
        ctx.span(
            span,
            format!("{what}: {field} lists no count; give at least one, e.g. [1000, 5000]"),
        );
        return Vec::new();
    }
    if let Some(bad) = list.iter().find(|n| !(1..=MAX_CONNECTIONS).contains(*n)) {
        ctx.span(
            span,
            format!("{what}: every count in {field} must be at least 1 and at most {MAX_CONNECTIONS}, not {bad}"),
        );
        return Vec::new();
    }
    if list.windows(2).any(|w| w[0] >= w[1]) {
        ctx.span(
            span,
            format!("{what}: the counts in {field} must rise, each given once, e.g. [1, 16, 64]"),
        );
        return Vec::new();
    }
    list.iter().map(|n| *n as u32).collect()
}

fn check_capacity(raw: RawCapacity, what: &str, ctx: &mut Ctx) -> Option<CapacityTarget> {
    let mut ok = true;
    let p99 = match raw.p99.get_ref() {
        RawDuration::Text(t) => crate::duration::parse_duration(t).ok(),
        RawDuration::Seconds(s) if s.is_finite() && *s > 0.0 && *s < 3600.0 => {
            Some(std::time::Duration::from_secs_f64(*s))
        }
        RawDuration::Seconds(_) => None,
    };
    let p99 = match p99 {
        Some(d) if !d.is_zero() && d.as_secs() < 3600 => d,
        _ => {
            ctx.span(
                &raw.p99.span(),
                format!(
                    "{what}: capacity p99 must be a duration above 0 and below 1h, e.g. \"50ms\""
                ),
            );
            ok = false;
            std::time::Duration::from_millis(50)
        }
    };
    let errors = fraction(raw.errors.as_ref(), what, ctx, &mut ok);
    let confirm = match &raw.confirm {
        None => DEFAULT_CONFIRM,
        Some(c) if (1..=MAX_CONFIRM).contains(c.get_ref()) => *c.get_ref() as u32,
        Some(c) => {
            ctx.span(
                &c.span(),
                format!(
                    "{what}: capacity confirm must be at least 1 and at most {MAX_CONFIRM}, not {}",
                    c.get_ref()
                ),
            );
            ok = false;
            DEFAULT_CONFIRM
        }
    };
    let start = rate(
        raw.start.as_ref(),
        DEFAULT_START_PER_S,
        "start",
        what,
        ctx,
        &mut ok,
    );
    let max = rate(
        raw.max.as_ref(),
        DEFAULT_MAX_PER_S,
        "max",
        what,
        ctx,
        &mut ok,
    );
    if start > max {
        let at = raw.start.as_ref().map_or(raw.p99.span(), |s| s.span());
        ctx.span(
            &at,
            format!("{what}: capacity start ({start}) is above its max ({max})"),
        );
        ok = false;
    }
    ok.then_some(CapacityTarget {
        slo: Slo {
            p99_us: p99.as_secs_f64() * 1e6,
            max_error_rate: errors,
        },
        search: CapacitySearch {
            start_per_s: start,
            min_per_s: MIN_PER_S.min(start),
            max_per_s: max,
            max_probes: MAX_PROBES,
            resolution_rel: RESOLUTION_REL,
        },
        confirm,
    })
}

fn fraction(v: Option<&Spanned<f64>>, what: &str, ctx: &mut Ctx, ok: &mut bool) -> f64 {
    match v {
        None => CAPACITY_MAX_ERROR_RATE,
        Some(e) if *e.get_ref() > 0.0 && *e.get_ref() < 1.0 => *e.get_ref(),
        Some(e) => {
            ctx.span(
                &e.span(),
                format!(
                    "{what}: capacity errors is a fraction between 0 and 1 (0.001 means 0.1%), not {}",
                    e.get_ref()
                ),
            );
            *ok = false;
            CAPACITY_MAX_ERROR_RATE
        }
    }
}

fn rate(
    v: Option<&Spanned<f64>>,
    default: f64,
    field: &str,
    what: &str,
    ctx: &mut Ctx,
    ok: &mut bool,
) -> f64 {
    match v {
        None => default,
        Some(r)
            if r.get_ref().is_finite()
                && *r.get_ref() >= MIN_PER_S
                && *r.get_ref() <= MAX_RATE_PER_S =>
        {
            *r.get_ref()
        }
        Some(r) => {
            ctx.span(
                &r.span(),
                format!(
                    "{what}: capacity {field} must be at least {MIN_PER_S} and at most {MAX_RATE_PER_S} requests per second, not {}",
                    r.get_ref()
                ),
            );
            *ok = false;
            default
        }
    }
}

/// Extra time an idle step takes besides its probe's trial: the baseline PSS sample (0.3 s)
/// and opening and releasing the connections (about 0.5 s for 10,000 on this machine).
pub const IDLE_STEP_EXTRA: std::time::Duration = std::time::Duration::from_millis(800);

/// Trials one contestant runs on `w` at most (its rounds for each point, or a capacity search's
/// probes and confirmations), and the time each takes besides its length and the usual
/// overhead. For [`super::Plan::expected_measure_time`].
pub(super) fn trials_per_contestant(w: &super::Workload) -> (u32, std::time::Duration) {
    let rounds = w.max_rounds as u32;
    match (&w.kind, &w.capacity) {
        (WorkloadKind::Idle(spec), _) => (spec.counts.len() as u32 * rounds, IDLE_STEP_EXTRA),
        (_, Some(c)) => {
            // Bracketing doubles from the start to the maximum at worst, then bisection; then
            // the confirmations (a failed one adds more, rarely).
            let doublings = (c.search.max_per_s / c.search.start_per_s)
                .log2()
                .ceil()
                .max(0.0);
            let bisections = (1.0f64 / c.search.resolution_rel).log2().ceil();
            let probes = ((doublings + 1.0 + bisections) as usize).min(c.search.max_probes);
            (probes as u32 + c.confirm, std::time::Duration::ZERO)
        }
        (_, None) => (
            w.sweep.len().max(1) as u32 * rounds,
            std::time::Duration::ZERO,
        ),
    }
}
