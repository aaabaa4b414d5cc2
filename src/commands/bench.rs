//! `faceoff bench URL`: the load engine on its own, pointed at one local server.

use std::io::{IsTerminal, Write};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};

use super::bench_output::Outputs;
use crate::cli::BenchArgs;
use crate::load::summary::Summary;
use crate::load::{self, http1, LoadPlan, Pacing, Request, Stop};
use crate::units::{bytes, group, rps, us_int};

/// Runs the benchmark described by `args` and prints its summary.
pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let target = Target::parse(&args.url, args.allow_remote)?;
    if target.websocket {
        return super::bench_ws::run(args, target);
    }
    super::bench_ws::refuse_ws_flags(&args)?;
    let plan = plan(&args, &target)?;
    let outputs = Outputs::open(&args)?;

    let cancel = super::cancel_on_interrupt()?;

    let progress = Progress::new(
        &plan,
        outputs.human_on_stdout() && std::io::stdout().is_terminal(),
    );
    let recording = load::run(&plan, cancel.flag(), |snap| progress.update(snap))?;
    progress.finish();

    outputs.finish(&args, &recording, &cancel, &|mut out, summary| {
        write_human(&mut out, &args, &target, &plan, summary)
    })
}

/// A parsed, resolved, permitted target.
#[derive(Debug, Clone)]
pub struct Target {
    /// The socket address load goes to.
    pub addr: SocketAddr,
    /// The `Host` header value.
    pub host: String,
    /// Path and query sent in the request line.
    pub path_and_query: String,
    /// A `ws://` URL: WebSocket load (`load::ws`).
    pub websocket: bool,
}

impl Target {
    /// Parses `url`, resolves its host, and refuses non-loopback targets unless allowed.
    pub fn parse(url: &str, allow_remote: bool) -> anyhow::Result<Self> {
        if let Some(suggestion) = with_scheme(url) {
            bail!("'{url}' has no scheme; write {suggestion}");
        }
        let parsed = url::Url::parse(url).with_context(|| {
            format!("'{url}' is not a valid URL; write it like http://127.0.0.1:8080/path")
        })?;
        if !matches!(parsed.scheme(), "http" | "ws") {
            bail!(
                "'{url}': only http:// and ws:// URLs are supported (scheme '{}'); faceoff measures plain HTTP/1.1 and WebSocket servers",
                parsed.scheme()
            );
        }
        let host = parsed.host_str().with_context(|| {
            format!("'{url}' has no host; write it like http://127.0.0.1:8080/path")
        })?;
        let port = parsed.port_or_known_default().unwrap_or(80);
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let candidates: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => (bare, port)
                .to_socket_addrs()
                .with_context(|| format!("could not resolve host '{host}' of '{url}'"))?
                .collect(),
        };
        let addr = if allow_remote {
            *candidates
                .first()
                .with_context(|| format!("host '{host}' of '{url}' resolved to no address"))?
        } else {
            let loopback: Vec<_> = candidates.iter().filter(|a| a.ip().is_loopback()).collect();
            if loopback.is_empty() || loopback.len() != candidates.len() {
                bail!(
                    "refusing to send load to '{host}': faceoff only targets loopback addresses \
                     (127.0.0.0/8, ::1, localhost) unless --allow-remote is given, and only for machines you own"
                );
            }
            // Prefer IPv4 loopback: servers under test usually listen on 127.0.0.1.
            **loopback
                .iter()
                .find(|a| a.is_ipv4())
                .unwrap_or(&loopback[0])
        };
        let mut path_and_query = parsed.path().to_string();
        if let Some(q) = parsed.query() {
            path_and_query.push('?');
            path_and_query.push_str(q);
        }
        let host_header = match parsed.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        Ok(Self {
            addr,
            host: host_header,
            path_and_query,
            websocket: parsed.scheme() == "ws",
        })
    }
}

/// `url` with the scheme it lacks (`localhost:8080` → `http://localhost:8080`; a path under
/// `/ws` → `ws://`), or `None` when it has one or adding one does not make a URL with a host.
pub fn with_scheme(url: &str) -> Option<String> {
    if url.contains("://") {
        return None;
    }
    let path = url.find('/').map_or("", |i| &url[i..]);
    let scheme = if path == "/ws" || path.starts_with("/ws/") || path.starts_with("/ws?") {
        "ws"
    } else {
        "http"
    };
    let candidate = format!("{scheme}://{url}");
    let parsed = url::Url::parse(&candidate).ok()?;
    parsed
        .host_str()
        .is_some_and(|h| !h.is_empty())
        .then_some(candidate)
}

/// Builds the engine's plan from the command line.
fn plan(args: &BenchArgs, target: &Target) -> anyhow::Result<LoadPlan> {
    let mut headers = Vec::with_capacity(args.headers.len());
    for h in &args.headers {
        let (name, value) = h.split_once(':').with_context(|| {
            format!("header '{h}' has no ':'; write it like -H 'Accept: text/plain'")
        })?;
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            bail!("header '{h}' has an invalid name; write it like -H 'Accept: text/plain'");
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }
    let body = match (&args.body, &args.body_file) {
        (Some(b), _) => b.clone().into_bytes(),
        (None, Some(path)) => std::fs::read(path)
            .with_context(|| format!("could not read --body-file '{}'", path.display()))?,
        (None, None) => Vec::new(),
    };
    let method = args.method.to_ascii_uppercase();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        bail!(
            "'{}' is not an HTTP method; use e.g. GET or POST",
            args.method
        );
    }
    let bytes = http1::serialize_request(
        &method,
        &target.path_and_query,
        &target.host,
        &headers,
        &body,
    );
    let stop = match (args.requests, args.duration) {
        (Some(n), _) => Stop::Requests(n),
        (None, Some(d)) => Stop::After(d),
        (None, None) => Stop::After(Duration::from_secs(10)),
    };
    let pacing = match args.rate {
        Some(rate_per_s) => Pacing::ConstantRate { rate_per_s },
        None => Pacing::ClosedLoop,
    };
    let (cpus, threads) = cpus_and_threads(args)?;
    let plan = LoadPlan {
        addr: target.addr,
        requests: vec![Request {
            bytes,
            head: method == "HEAD",
            weight: 1,
        }],
        connections: args.connections,
        pacing,
        stop,
        timeout: args.timeout,
        threads,
        cpus,
        warm: args.warm,
    };
    plan.validate()?;
    Ok(plan)
}

/// The load CPUs (`--cpus`, checked against those faceoff may use) and the thread count
/// (`--threads`, else one per CPU).
pub(super) fn cpus_and_threads(args: &BenchArgs) -> anyhow::Result<(Vec<usize>, usize)> {
    let cpus = args.cpus.as_ref().map(|c| c.0.clone()).unwrap_or_default();
    if let Some(bad) = cpus
        .iter()
        .find(|c| !crate::sys::allowed_cpus().contains(c))
    {
        bail!(
            "CPU {bad} in --cpus is not available to faceoff; it may use {:?}",
            crate::sys::allowed_cpus()
        );
    }
    let threads = args.threads.unwrap_or(if cpus.is_empty() {
        crate::sys::allowed_cpus().len()
    } else {
        cpus.len()
    });
    Ok((cpus, threads))
}

/// One line of latency percentiles, or why they are missing (no `what` was answered).
pub(super) fn percentile_row(p: &Option<load::summary::Percentiles>, what: &str) -> String {
    match p {
        Some(p) => format!(
            "min {}  p50 {}  p90 {}  p95 {}  p99 {}  p99.9 {}  max {}",
            us_int(p.min),
            us_int(p.p50),
            us_int(p.p90),
            us_int(p.p95),
            us_int(p.p99),
            us_int(p.p999),
            us_int(p.max)
        ),
        None => format!("missing: no {what} was answered"),
    }
}

/// The non-zero error counts by kind (`reset 3, timeout 1`), or `none`.
pub(super) fn errors_text(s: &Summary) -> String {
    let errors: Vec<String> = s
        .errors
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(k, n)| format!("{k} {}", group(*n)))
        .collect();
    if errors.is_empty() {
        "none".into()
    } else {
        errors.join(", ")
    }
}

/// The live progress line (stderr, only when stdout is a terminal).
pub(super) struct Progress {
    bar: indicatif::ProgressBar,
    by_count: bool,
}

impl Progress {
    pub(super) fn new(plan: &LoadPlan, visible: bool) -> Self {
        Self::with_stop(plan.stop, visible)
    }

    /// A progress line for a load that ends at `stop`.
    pub(super) fn with_stop(stop: Stop, visible: bool) -> Self {
        let (len, by_count) = match stop {
            Stop::After(d) => (d.as_millis() as u64, false),
            Stop::Requests(n) => (n, true),
        };
        let bar = if visible {
            indicatif::ProgressBar::with_draw_target(
                Some(len),
                indicatif::ProgressDrawTarget::stderr(),
            )
        } else {
            indicatif::ProgressBar::hidden()
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {elapsed:>4} {msg}")
                .expect("static template"),
        );
        Self { bar, by_count }
    }

    pub(super) fn update(&self, snap: load::Snapshot) {
        let secs = snap.elapsed.as_secs_f64().max(1e-3);
        self.bar.set_position(if self.by_count {
            snap.finished
        } else {
            snap.elapsed.as_millis() as u64
        });
        self.bar.set_message(format!(
            "{} requests, {} req/s",
            group(snap.finished),
            rps(snap.finished as f64 / secs)
        ));
    }

    pub(super) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn write_human(
    out: &mut impl Write,
    args: &BenchArgs,
    target: &Target,
    plan: &LoadPlan,
    s: &Summary,
) -> std::io::Result<()> {
    let pinned = if plan.cpus.is_empty() {
        "not pinned".to_string()
    } else {
        format!(
            "on CPU {}",
            plan.cpus
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    let shape = match plan.pacing {
        Pacing::ClosedLoop => "closed loop".to_string(),
        Pacing::ConstantRate { rate_per_s } => format!("constant rate {rate_per_s} req/s"),
    };
    writeln!(out, "faceoff bench {}  ({})", args.url, target.addr)?;
    writeln!(
        out,
        "  {} connections, {} threads {pinned}, {shape}{}",
        s.connections,
        s.threads,
        if s.interrupted { ", interrupted" } else { "" }
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "  requests     {} in {:.2} s, {} req/s",
        group(s.requests),
        s.duration_s,
        rps(s.rps)
    )?;
    let row = |p: &Option<load::summary::Percentiles>| percentile_row(p, "request");
    if s.target_rate_per_s.is_some() {
        writeln!(
            out,
            "  latency      {}   (from intended send times)",
            row(&s.latency_us)
        )?;
        writeln!(
            out,
            "  uncorrected  {}   (from actual send times)",
            row(&s.latency_uncorrected_us)
        )?;
        writeln!(out, "  late sends   {}", group(s.late_sends))?;
    } else {
        writeln!(out, "  latency      {}", row(&s.latency_us))?;
    }
    if let Some(waited) = &s.unanswered_elapsed_us {
        writeln!(
            out,
            "  unanswered   {} still waiting when the window closed, for at least {} to {}: \
             the latency figures above are incomplete",
            group(s.unanswered),
            us_int(waited.min),
            us_int(waited.max)
        )?;
    }
    let status: Vec<String> = s
        .status
        .iter()
        .map(|(c, n)| format!("{c}: {}", group(*n)))
        .collect();
    writeln!(
        out,
        "  status       {}",
        if status.is_empty() {
            "none".into()
        } else {
            status.join(", ")
        }
    )?;
    writeln!(out, "  errors       {}", errors_text(s))?;
    if let Some(setup) = &s.setup {
        writeln!(
            out,
            "  set-up       {} connections warm{} in {:.2} s, slowest connect {}   (not in the figures above)",
            group(setup.opened),
            if setup.failed > 0 {
                format!(", {} failed", group(setup.failed))
            } else {
                String::new()
            },
            setup.wall_s,
            setup.slowest_connect_us.map_or("none".to_string(), us_int)
        )?;
    }
    writeln!(
        out,
        "  transfer     read {}, written {}, {} connects",
        bytes(s.bytes_read),
        bytes(s.bytes_written),
        group(s.connects)
    )?;
    if let Some(busy) = s.busy_connections {
        writeln!(
            out,
            "  busy         {busy:.1} of {} connections waiting on the server on average (Little's law)",
            s.connections
        )?;
    }
    writeln!(
        out,
        "  engine CPU   {:.2} s, {} per request, busiest thread {:.0}%",
        s.engine_cpu_s,
        s.engine_cpu_us_per_request
            .map_or("missing (no responses)".to_string(), |v| format!(
                "{v:.2} µs"
            )),
        s.engine_busiest_thread * 100.0
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_only_by_default() {
        assert!(Target::parse("http://127.0.0.1:1/x", false).is_ok());
        assert!(Target::parse("http://127.3.2.1:1/", false).is_ok());
        assert!(Target::parse("http://[::1]:1/", false).is_ok());
        assert!(Target::parse("http://localhost:1/", false).is_ok());
        let err = Target::parse("http://10.1.2.3:80/", false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--allow-remote"), "{err}");
        assert!(Target::parse("http://10.1.2.3:80/", true).is_ok());
        assert!(Target::parse("https://127.0.0.1/", false).is_err());
        assert!(Target::parse("127.0.0.1:80", false).is_err());
    }

    #[test]
    fn a_url_without_a_scheme_gets_one_suggested() {
        assert_eq!(
            with_scheme("localhost:8080").as_deref(),
            Some("http://localhost:8080")
        );
        assert_eq!(
            with_scheme("127.0.0.1:8080/json").as_deref(),
            Some("http://127.0.0.1:8080/json")
        );
        assert_eq!(
            with_scheme("localhost:8080/ws/room").as_deref(),
            Some("ws://localhost:8080/ws/room")
        );
        assert_eq!(
            with_scheme("localhost:8080/wsx").as_deref(),
            Some("http://localhost:8080/wsx")
        );
        assert_eq!(with_scheme("http://localhost:8080"), None);
        let err = Target::parse("localhost:8080", false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("write http://localhost:8080"), "{err}");
    }

    #[test]
    fn target_keeps_path_query_and_host() {
        let t = Target::parse("http://localhost:8080/queries?n=20", false).unwrap();
        assert_eq!(t.path_and_query, "/queries?n=20");
        assert_eq!(t.host, "localhost:8080");
        assert!(t.addr.ip().is_loopback());
    }
}
