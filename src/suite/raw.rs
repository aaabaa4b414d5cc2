//! The suite file exactly as written: serde types that mirror the TOML, with the span of every
//! value that validation may complain about. Nothing here is checked beyond TOML types; see
//! `validate.rs` for the rules.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

/// A whole suite file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSuite {
    pub name: Option<Spanned<String>>,
    pub description: Option<String>,
    pub defaults: Option<RawKnobs>,
    #[serde(default, rename = "workload")]
    pub workloads: Vec<RawWorkload>,
    /// Gates on the run's figures (issue 13; see `suite/thresholds.rs`).
    #[serde(default, rename = "threshold")]
    pub thresholds: Vec<super::thresholds::RawThreshold>,
}

/// Trial settings that `[defaults]` and each workload may set. Kept as a separate struct for
/// `[defaults]` because serde cannot combine `flatten` with `deny_unknown_fields`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawKnobs {
    pub warmup: Option<Spanned<RawDuration>>,
    pub trial: Option<Spanned<RawDuration>>,
    pub min_rounds: Option<Spanned<i64>>,
    pub max_rounds: Option<Spanned<i64>>,
    pub target_ci: Option<Spanned<f64>>,
    pub timeout: Option<Spanned<RawDuration>>,
    pub connections: Option<Spanned<RawConnections>>,
}

/// One `[[workload]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWorkload {
    pub name: Spanned<String>,
    pub rate: Option<Spanned<f64>>,
    pub requires: Option<Spanned<Vec<Spanned<String>>>>,
    /// `"http"` (the default), `"idle"` or `"idle-ws"` (see `suite/scale.rs`), `"ws-echo"` or
    /// `"ws-room"` (see `suite/ws.rs`).
    pub kind: Option<Spanned<String>>,
    /// Idle connection counts of an idle workload (issue 10).
    pub idle: Option<Spanned<Vec<Spanned<i64>>>>,
    /// Capacity under an SLO (issue 10).
    pub capacity: Option<Spanned<RawCapacity>>,
    /// The WebSocket settings of a ws workload.
    pub ws: Option<Spanned<super::ws::RawWs>>,
    #[serde(default, rename = "request")]
    pub requests: Vec<RawRequest>,
    // The same fields as `RawKnobs`, written out (see there).
    pub warmup: Option<Spanned<RawDuration>>,
    pub trial: Option<Spanned<RawDuration>>,
    pub min_rounds: Option<Spanned<i64>>,
    pub max_rounds: Option<Spanned<i64>>,
    pub target_ci: Option<Spanned<f64>>,
    pub timeout: Option<Spanned<RawDuration>>,
    pub connections: Option<Spanned<RawConnections>>,
    /// A worker sweep and its CPUs (see `cores.rs`).
    pub workers: Option<Spanned<Vec<Spanned<i64>>>>,
    pub share_engine_cpus: Option<Spanned<bool>>,
}

impl RawWorkload {
    /// Moves the trial settings out into the shape `[defaults]` has.
    pub fn take_knobs(&mut self) -> RawKnobs {
        RawKnobs {
            warmup: self.warmup.take(),
            trial: self.trial.take(),
            min_rounds: self.min_rounds.take(),
            max_rounds: self.max_rounds.take(),
            target_ci: self.target_ci.take(),
            timeout: self.timeout.take(),
            // Kept: a list of counts is read again by `suite::scale`.
            connections: self.connections.clone(),
        }
    }
}

/// One `[[workload.request]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRequest {
    pub method: Option<Spanned<String>>,
    pub path: Spanned<String>,
    pub headers: Option<Spanned<RawHeaders>>,
    pub body: Option<String>,
    pub weight: Option<Spanned<i64>>,
}

/// `connections` as written: one count, or a list of counts (a concurrency sweep).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub(super) enum RawConnections {
    One(i64),
    Many(Vec<i64>),
}

/// `capacity = { p99 = "50ms", errors = 0.001, confirm = 5, start = 500, max = 100000 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCapacity {
    pub p99: Spanned<RawDuration>,
    pub errors: Option<Spanned<f64>>,
    pub confirm: Option<Spanned<i64>>,
    pub start: Option<Spanned<f64>>,
    pub max: Option<Spanned<f64>>,
}

/// A duration as written: `"3s"`, `"250ms"`, or a number of seconds.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum RawDuration {
    Text(String),
    Seconds(f64),
}

impl<'de> Deserialize<'de> for RawDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;

        impl Visitor<'_> for DurationVisitor {
            type Value = RawDuration;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"3s\" or \"500ms\"")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDuration, E> {
                Ok(RawDuration::Text(v.to_owned()))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawDuration, E> {
                Ok(RawDuration::Seconds(v as f64))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawDuration, E> {
                Ok(RawDuration::Seconds(v as f64))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawDuration, E> {
                Ok(RawDuration::Seconds(v))
            }
        }

        deserializer.deserialize_any(DurationVisitor)
    }
}

/// Request headers as written: `{ "Accept" = "text/html" }`. The TOML parser hands them
/// over sorted by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct RawHeaders(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for RawHeaders {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HeadersVisitor;

        impl<'de> Visitor<'de> for HeadersVisitor {
            type Value = RawHeaders;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table of header names to string values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawHeaders, A::Error> {
                let mut headers = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, String>()? {
                    headers.push((name, value));
                }
                Ok(RawHeaders(headers))
            }
        }

        deserializer.deserialize_map(HeadersVisitor)
    }
}
