//! The rules of a suite file: raw TOML values checked one by one and built into a [`Plan`].
//! Every problem is collected with the span of the value at fault, so the user sees all of
//! them at once, each with its file:line:column.

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};
use toml::Spanned;

use super::raw::{RawConnections, RawDuration, RawKnobs, RawRequest, RawSuite, RawWorkload};
use super::{Error, LoadShape, Plan, Problem, RequestSpec, Workload, WorkloadKind};

/// Trial settings that apply when neither the workload nor `[defaults]` sets them.
const DEFAULT_WARMUP: Duration = Duration::from_secs(3);
const DEFAULT_TRIAL: Duration = Duration::from_secs(5);
const DEFAULT_MIN_ROUNDS: usize = 3;
const DEFAULT_MAX_ROUNDS: usize = 10;
const DEFAULT_TARGET_CI: f64 = 0.03;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_CONNECTIONS: u32 = 64;

/// Limits that catch typos ("5ms" for "5s", an extra zero) rather than real needs.
const MIN_TRIAL: Duration = Duration::from_millis(100);
const MAX_DURATION: Duration = Duration::from_secs(3600);
const MAX_ROUNDS: i64 = 1000;
pub(super) const MAX_CONNECTIONS: i64 = 100_000;
pub(super) const MAX_RATE_PER_S: f64 = 10_000_000.0;
const MAX_WEIGHT: i64 = 1_000_000;
const MAX_NAME_LEN: usize = 64;

/// Headers faceoff writes itself; setting them in a suite would send them twice.
const MANAGED_HEADERS: &[&str] = &["host", "content-length", "transfer-encoding"];

/// Methods whose lowercase spelling is surely a mistake (methods are case-sensitive).
const STANDARD_METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// Parses and validates `text`, read from `path`.
pub(super) fn parse(text: &str, path: &Path, builtin: bool) -> Result<Plan, Error> {
    let mut ctx = Ctx {
        path,
        text,
        problems: Vec::new(),
    };
    let raw: RawSuite = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let offset = e.span().map_or(0, |s| s.start);
            ctx.at(offset, e.message().trim_end().to_owned());
            return Err(ctx.into_error());
        }
    };
    let plan = build_plan(raw, &mut ctx, builtin);
    if ctx.problems.is_empty() {
        Ok(plan)
    } else {
        Err(ctx.into_error())
    }
}

/// A problem at byte `offset` of `text`.
pub(crate) fn problem_at(path: &Path, text: &str, offset: usize, message: String) -> Problem {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Problem {
        path: path.to_owned(),
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
        message,
    }
}

pub(super) struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
    problems: Vec<Problem>,
}

impl Ctx<'_> {
    /// A problem at byte `offset` of the file.
    pub(super) fn at_offset(&mut self, offset: usize, message: String) {
        self.at(offset, message);
    }

    fn at(&mut self, offset: usize, message: String) {
        let problem = problem_at(self.path, self.text, offset, message);
        self.problems.push(problem);
    }

    pub(super) fn span(&mut self, span: &Range<usize>, message: String) {
        self.at(span.start, message);
    }

    fn into_error(mut self) -> Error {
        self.problems.sort_by_key(|p| (p.line, p.column));
        Error::Invalid {
            problems: self.problems,
        }
    }
}

/// A checked setting and where it was written (`None` for a built-in default).
#[derive(Clone, Copy)]
struct Setting<T> {
    value: T,
    at: Option<usize>,
}

/// The trial settings of `[defaults]` or of one workload, each checked on its own.
#[derive(Default)]
struct Knobs {
    warmup: Option<Setting<Duration>>,
    trial: Option<Setting<Duration>>,
    min_rounds: Option<Setting<usize>>,
    max_rounds: Option<Setting<usize>>,
    target_ci: Option<Setting<f64>>,
    timeout: Option<Setting<Duration>>,
    connections: Option<Setting<u32>>,
}

fn build_plan(raw: RawSuite, ctx: &mut Ctx, builtin: bool) -> Plan {
    let name = match &raw.name {
        Some(name) => {
            check_name(name, "suite name", ctx);
            name.get_ref().clone()
        }
        None => ctx
            .path
            .file_stem()
            .map_or_else(|| "suite".into(), |s| s.to_string_lossy().into_owned()),
    };

    let defaults = check_knobs(&raw.defaults.unwrap_or_default(), "defaults", ctx);
    if let (Some(min), Some(max)) = (defaults.min_rounds, defaults.max_rounds) {
        if min.value > max.value {
            let msg = format!(
                "defaults: max_rounds ({}) is below min_rounds ({})",
                max.value, min.value
            );
            ctx.at(max.at.unwrap_or(0), msg);
        }
    }

    if raw.workloads.is_empty() {
        ctx.at(
            ctx.text.len(),
            "the suite has no workloads; add a [[workload]] table with at least one \
             [[workload.request]]"
                .into(),
        );
    }
    let mut seen: Vec<(String, usize)> = Vec::new();
    let mut workloads = Vec::new();
    for mut w in raw.workloads {
        let mut sweep_problems = Vec::new();
        let sweep = super::cores::take_sweep(&mut w, &mut sweep_problems);
        for (at, message) in sweep_problems {
            ctx.at(at, message);
        }
        let name = w.name.get_ref().clone();
        let start = w.name.span().start;
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
            let line = problem_at(ctx.path, ctx.text, *first, String::new()).line;
            ctx.at(
                start,
                format!("workload name '{name}' is already used on line {line}"),
            );
        }
        seen.push((name, start));
        workloads.extend(super::cores::expand(
            build_workload(w, &defaults, ctx),
            sweep,
        ));
    }

    let thresholds = super::thresholds::build(raw.thresholds, &workloads, ctx);
    Plan {
        name,
        description: raw.description,
        source_path: ctx.path.to_owned(),
        builtin,
        source_sha256: sha256_hex(ctx.text.as_bytes()),
        source_text: ctx.text.to_owned(),
        workloads,
        thresholds,
    }
}

fn build_workload(mut raw: RawWorkload, defaults: &Knobs, ctx: &mut Ctx) -> Workload {
    let name = raw.name.get_ref().clone();
    check_name(&raw.name, "workload name", ctx);
    let what = format!("workload '{name}'");
    let own = check_knobs(&raw.take_knobs(), &what, ctx);
    let scale = super::scale::check(&mut raw, &what, ctx);

    let min_rounds = pick(own.min_rounds, defaults.min_rounds, DEFAULT_MIN_ROUNDS);
    let max_rounds = pick(own.max_rounds, defaults.max_rounds, DEFAULT_MAX_ROUNDS);
    // A conflict within [defaults] is reported there, once; here only if this workload is
    // part of it.
    if min_rounds.value > max_rounds.value && (own.min_rounds.is_some() || own.max_rounds.is_some())
    {
        let at = own
            .max_rounds
            .or(own.min_rounds)
            .and_then(|s| s.at)
            .unwrap_or(raw.name.span().start);
        let origin = |own: bool, default: bool| match (own, default) {
            (true, _) => "",
            (false, true) => " from [defaults]",
            (false, false) => " by default",
        };
        ctx.at(
            at,
            format!(
                "{what}: max_rounds ({}{}) is below min_rounds ({}{})",
                max_rounds.value,
                origin(own.max_rounds.is_some(), defaults.max_rounds.is_some()),
                min_rounds.value,
                origin(own.min_rounds.is_some(), defaults.min_rounds.is_some()),
            ),
        );
    }

    let connections = pick(own.connections, defaults.connections, DEFAULT_CONNECTIONS).value;
    let shape = match &raw.rate {
        None => LoadShape::Closed { connections },
        Some(rate) => {
            let per_s = *rate.get_ref();
            if !(per_s.is_finite() && per_s > 0.0 && per_s <= MAX_RATE_PER_S) {
                ctx.span(
                    &rate.span(),
                    format!(
                        "{what}: rate must be above 0 and at most {MAX_RATE_PER_S} requests \
                         per second, not {per_s}"
                    ),
                );
            }
            LoadShape::Rate { per_s, connections }
        }
    };

    // A sweep's stored shape names its first point.
    let shape = match (shape, scale.sweep.first()) {
        (LoadShape::Closed { .. }, Some(&connections)) => LoadShape::Closed { connections },
        (shape, _) => shape,
    };

    let mut shape = shape;
    let mut problems = Vec::new();
    let ws_kind = super::ws::build_kind(
        raw.kind.as_ref(),
        raw.ws.as_ref(),
        &mut shape,
        !raw.requests.is_empty(),
        &what,
        raw.name.span().start,
        &mut problems,
    );
    for (at, message) in problems {
        ctx.at(at, message);
    }
    // An idle workload is scale's; the others are http or WebSocket.
    let kind = if scale.kind == WorkloadKind::Http {
        ws_kind
    } else {
        scale.kind.clone()
    };
    if raw.requests.is_empty() && kind == WorkloadKind::Http {
        ctx.span(
            &raw.name.span(),
            format!(
                "{what}: has no requests; add a [[workload.request]] table with at least a path"
            ),
        );
    }
    let requests = raw
        .requests
        .iter()
        .enumerate()
        .map(|(i, r)| build_request(r, &format!("{what}, request {}", i + 1), ctx))
        .collect();

    let mut requires: Vec<String> = Vec::new();
    for feature in raw.requires.iter().flat_map(|r| r.get_ref()) {
        let f = feature.get_ref();
        let ok = !f.is_empty()
            && f.len() <= MAX_NAME_LEN
            && f.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            ctx.span(
                &feature.span(),
                format!(
                    "{what}: feature '{f}' must be lowercase letters, digits and '-', e.g. \"ws\""
                ),
            );
        } else if !requires.contains(f) {
            requires.push(f.clone());
        }
    }
    if let Some(endpoint) = kind.endpoint().filter(|e| !requires.iter().any(|r| r == e)) {
        requires.push(endpoint.to_string());
    }

    Workload {
        name,
        requests,
        shape,
        warmup: pick(own.warmup, defaults.warmup, DEFAULT_WARMUP).value,
        trial: pick(own.trial, defaults.trial, DEFAULT_TRIAL).value,
        min_rounds: min_rounds.value,
        max_rounds: max_rounds.value,
        target_ci_rel: pick(own.target_ci, defaults.target_ci, DEFAULT_TARGET_CI).value,
        timeout: pick(own.timeout, defaults.timeout, DEFAULT_TIMEOUT).value,
        requires,
        kind,
        sweep: scale.sweep,
        capacity: scale.capacity,
        workers: None,
    }
}

/// The workload's own setting, else the one in `[defaults]`, else the built-in default.
fn pick<T>(own: Option<Setting<T>>, default: Option<Setting<T>>, builtin: T) -> Setting<T> {
    own.or(default).unwrap_or(Setting {
        value: builtin,
        at: None,
    })
}

fn build_request(raw: &RawRequest, what: &str, ctx: &mut Ctx) -> RequestSpec {
    let method = match &raw.method {
        None => "GET".to_owned(),
        Some(m) => {
            let text = m.get_ref();
            let upper = text.to_ascii_uppercase();
            if text.is_empty() || !text.bytes().all(is_tchar) {
                ctx.span(
                    &m.span(),
                    format!("{what}: method '{text}' is not an HTTP method token, e.g. \"GET\""),
                );
            } else if *text != upper && STANDARD_METHODS.contains(&upper.as_str()) {
                ctx.span(
                    &m.span(),
                    format!(
                        "{what}: methods are case-sensitive; write \"{upper}\", not \"{text}\""
                    ),
                );
            }
            text.clone()
        }
    };

    let path = raw.path.get_ref();
    if !path.starts_with('/') {
        ctx.span(
            &raw.path.span(),
            format!("{what}: path must start with '/', e.g. \"/json\", not \"{path}\""),
        );
    } else if let Some(c) = path.chars().find(|c| !c.is_ascii_graphic() || *c == '#') {
        ctx.span(
            &raw.path.span(),
            format!(
                "{what}: path may not contain {c:?}; percent-encode it (a space is %20) and \
                 leave out any #fragment"
            ),
        );
    }

    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(raw_headers) = &raw.headers {
        let span = raw_headers.span();
        for (name, value) in &raw_headers.get_ref().0 {
            let lower = name.to_ascii_lowercase();
            if name.is_empty() || !name.bytes().all(is_tchar) {
                ctx.span(
                    &span,
                    format!("{what}: '{name}' is not a valid header name"),
                );
            } else if MANAGED_HEADERS.contains(&lower.as_str()) {
                ctx.span(
                    &span,
                    format!("{what}: header '{name}' is set by faceoff itself; remove it"),
                );
            } else if headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                ctx.span(
                    &span,
                    format!("{what}: header '{name}' is given twice (names ignore case)"),
                );
            }
            if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
                ctx.span(
                    &span,
                    format!("{what}: the value of header '{name}' contains a control character"),
                );
            }
            headers.push((name.clone(), value.clone()));
        }
    }

    let weight = match &raw.weight {
        None => 1,
        Some(w) => match u32::try_from(*w.get_ref()) {
            Ok(v) if (1..=MAX_WEIGHT).contains(&i64::from(v)) => v,
            _ => {
                ctx.span(
                    &w.span(),
                    format!(
                        "{what}: weight must be between 1 and {MAX_WEIGHT}, not {}",
                        w.get_ref()
                    ),
                );
                1
            }
        },
    };

    RequestSpec {
        method,
        path: path.clone(),
        headers,
        body: raw.body.clone(),
        weight,
    }
}

/// Checks the settings written in one place; `what` is "defaults" or "workload 'x'".
fn check_knobs(raw: &RawKnobs, what: &str, ctx: &mut Ctx) -> Knobs {
    let mut duration = |field: &str, value: &Option<Spanned<RawDuration>>, min: Duration| {
        let v = value.as_ref()?;
        let at = v.span().start;
        let parsed = match v.get_ref() {
            RawDuration::Text(text) => crate::duration::parse_duration(text),
            RawDuration::Seconds(s) if s.is_finite() && *s >= 0.0 && *s <= 1e9 => {
                Ok(Duration::from_secs_f64(*s))
            }
            RawDuration::Seconds(s) => Err(format!("{s} is not a duration")),
        };
        match parsed {
            Ok(d) if d >= min && d <= MAX_DURATION => Some(Setting {
                value: d,
                at: Some(at),
            }),
            Ok(d) => {
                let low = if min == Duration::from_nanos(1) {
                    "above 0".to_owned()
                } else {
                    format!("at least {min:?}")
                };
                ctx.at(
                    at,
                    format!("{what}: {field} must be {low} and at most 1h, not {d:?}"),
                );
                None
            }
            Err(e) => {
                ctx.at(at, format!("{what}: {field}: {e}"));
                None
            }
        }
    };
    let warmup = duration("warmup", &raw.warmup, Duration::from_nanos(1));
    let trial = duration("trial", &raw.trial, MIN_TRIAL);
    let timeout = duration("timeout", &raw.timeout, Duration::from_nanos(1));

    // A list of counts (a sweep) belongs to one workload; `suite::scale` reads it there.
    let one = raw.connections.as_ref().and_then(|c| match c.get_ref() {
        RawConnections::One(n) => Some(Spanned::new(c.span(), *n)),
        RawConnections::Many(_) => {
            if what == "defaults" {
                ctx.span(
                    &c.span(),
                    "defaults: a list of connection counts (a sweep) belongs in a [[workload]]; \
                     give [defaults] one count"
                        .into(),
                );
            }
            None
        }
    });
    let mut count = |field: &str, value: &Option<Spanned<i64>>, max: i64| {
        let v = value.as_ref()?;
        let n = *v.get_ref();
        if (1..=max).contains(&n) {
            Some(Setting {
                value: n,
                at: Some(v.span().start),
            })
        } else {
            ctx.span(
                &v.span(),
                format!("{what}: {field} must be at least 1 and at most {max}, not {n}"),
            );
            None
        }
    };
    let as_usize = |s: Setting<i64>| Setting {
        value: s.value as usize,
        at: s.at,
    };
    let min_rounds = count("min_rounds", &raw.min_rounds, MAX_ROUNDS).map(as_usize);
    let max_rounds = count("max_rounds", &raw.max_rounds, MAX_ROUNDS).map(as_usize);
    let connections = count("connections", &one, MAX_CONNECTIONS).map(|s| Setting {
        value: s.value as u32,
        at: s.at,
    });

    let target_ci = raw.target_ci.as_ref().and_then(|v| {
        let x = *v.get_ref();
        if x > 0.0 && x < 1.0 {
            Some(Setting {
                value: x,
                at: Some(v.span().start),
            })
        } else {
            ctx.span(
                &v.span(),
                format!(
                    "{what}: target_ci is a fraction of the median between 0 and 1 \
                     (0.03 means +/-3%), not {x}"
                ),
            );
            None
        }
    });

    Knobs {
        warmup,
        trial,
        min_rounds,
        max_rounds,
        target_ci,
        timeout,
        connections,
    }
}

/// Names of suites and workloads: short, and safe in a file name or on a command line.
fn check_name(name: &Spanned<String>, what: &str, ctx: &mut Ctx) {
    let n = name.get_ref();
    let ok = !n.is_empty()
        && n.len() <= MAX_NAME_LEN
        && n.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !ok {
        ctx.span(
            &name.span(),
            format!(
                "{what} '{n}' must start with a letter or digit and use only letters, digits, \
                 '-', '_' and '.' (at most {MAX_NAME_LEN})"
            ),
        );
    }
}

/// A character allowed in an HTTP token (RFC 9110, section 5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
