//! `faceoff bench ws://...`: the WebSocket side of the load engine on its own (echo, room
//! fan-out, or idle connections held), with the same output conventions as HTTP bench.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;

use super::bench::{cpus_and_threads, errors_text, percentile_row, Progress, Target};
use super::bench_output::Outputs;
use crate::cli::BenchArgs;
use crate::load::summary::{Percentiles, Summary};
use crate::load::ws::{self, WsMode, WsPlan};
use crate::load::{Pacing, Stop};
use crate::units::{bytes, group, rps, us_int};

/// Refuses the WebSocket options on an http:// URL.
pub fn refuse_ws_flags(args: &BenchArgs) -> anyhow::Result<()> {
    if args.ws.room || args.ws.hold {
        bail!(
            "--room and --hold are WebSocket loads; give a ws:// URL, e.g. ws://127.0.0.1:8080/ws/room"
        );
    }
    Ok(())
}

/// Runs a WebSocket load against `target` and prints its summary.
pub fn run(args: BenchArgs, target: Target) -> anyhow::Result<ExitCode> {
    let plan = plan(&args, &target)?;
    let outputs = Outputs::open(&args)?;
    let cancel = super::cancel_on_interrupt()?;
    let progress = Progress::with_stop(
        Stop::After(plan.duration),
        outputs.human_on_stdout() && std::io::stdout().is_terminal(),
    );
    let recording = ws::run(&plan, cancel.flag(), |snap| progress.update(snap))?;
    progress.finish();

    outputs.finish(&args, &recording, &cancel, &|mut out, summary| {
        write_human(&mut out, &args, &target, &plan, summary)
    })
}

/// Builds the WebSocket plan from the command line; HTTP-only options are refused.
fn plan(args: &BenchArgs, target: &Target) -> anyhow::Result<WsPlan> {
    if args.requests.is_some() {
        bail!("-n/--requests is not supported for ws:// loads; give a --duration instead");
    }
    let http_only = [
        (!args.method.eq_ignore_ascii_case("GET"), "--method"),
        (!args.headers.is_empty(), "--header"),
        (args.body.is_some() || args.body_file.is_some(), "--body"),
    ];
    if let Some((_, flag)) = http_only.iter().find(|(given, _)| *given) {
        bail!("{flag} is an HTTP option; a ws:// load sends WebSocket text messages (see --message-bytes)");
    }
    if target.path_and_query.contains('?') {
        bail!(
            "'{}': a ws:// target takes a path only, e.g. ws://127.0.0.1:8080/ws",
            args.url
        );
    }
    let w = &args.ws;
    let mode = if w.room {
        let Some(rate_per_s) = args.rate else {
            bail!("--room needs --rate: the total messages per second the publishers send, e.g. --rate 1000");
        };
        WsMode::Room {
            publishers: w.publishers,
            subscribers: w.subscribers,
            rate_per_s,
        }
    } else if w.hold {
        if args.rate.is_some() {
            bail!("--hold sends nothing, so --rate does not apply");
        }
        WsMode::Hold {
            connections: args.connections,
        }
    } else {
        WsMode::Echo {
            connections: args.connections,
            pacing: match args.rate {
                Some(rate_per_s) => Pacing::ConstantRate { rate_per_s },
                None => Pacing::ClosedLoop,
            },
        }
    };
    let (cpus, threads) = cpus_and_threads(args)?;
    let plan = WsPlan {
        addr: target.addr,
        host: target.host.clone(),
        path: target.path_and_query.clone(),
        mode,
        message_bytes: w.message_bytes,
        duration: args.duration.unwrap_or(Duration::from_secs(10)),
        timeout: args.timeout,
        threads,
        cpus,
    };
    plan.validate()?;
    Ok(plan)
}

fn write_human(
    out: &mut impl Write,
    args: &BenchArgs,
    target: &Target,
    plan: &WsPlan,
    s: &Summary,
) -> std::io::Result<()> {
    let Some(w) = &s.ws else { return Ok(()) };
    let shape = match plan.mode {
        WsMode::Echo { pacing, .. } => match pacing {
            Pacing::ClosedLoop => "echo, closed loop".to_string(),
            Pacing::ConstantRate { rate_per_s } => format!("echo, constant rate {rate_per_s} msg/s"),
        },
        WsMode::Room {
            publishers,
            subscribers,
            rate_per_s,
        } => format!(
            "room, {publishers} publishers at {rate_per_s} msg/s in total, {subscribers} subscribers"
        ),
        WsMode::Hold { .. } => "idle connections held".to_string(),
    };
    writeln!(out, "faceoff bench {}  ({})", args.url, target.addr)?;
    writeln!(
        out,
        "  {} connections, {} threads, {shape}, {}-byte messages{}",
        s.connections,
        s.threads,
        w.message_bytes,
        if s.interrupted { ", interrupted" } else { "" }
    )?;
    writeln!(out)?;
    let row = |p: &Option<Percentiles>| percentile_row(p, "message");
    if let Some(f) = &w.fanout {
        writeln!(
            out,
            "  deliveries   {} of {} expected ({}), {:.1}/s; {} published",
            group(f.delivered),
            group(f.expected),
            f.delivery_ratio
                .map_or("ratio missing".to_string(), |r| format!(
                    "{:.4}%",
                    r * 100.0
                )),
            s.rps,
            group(f.published)
        )?;
        writeln!(
            out,
            "  fan-out      lost {}, duplicated {}, out of order {}, in flight after a {:.2} s drain {}",
            group(f.lost),
            group(f.duplicated),
            group(f.out_of_order),
            f.drain_s,
            group(f.in_flight)
        )?;
        writeln!(
            out,
            "  delivery     {}   (from intended send times)",
            row(&s.latency_us)
        )?;
        writeln!(
            out,
            "  uncorrected  {}   (from actual send times)",
            row(&s.latency_uncorrected_us)
        )?;
    } else if let (Some(held), Some(dropped)) = (w.held, w.dropped) {
        writeln!(
            out,
            "  held         {} connections open at the close, {} dropped by the server",
            group(held),
            group(dropped)
        )?;
    } else {
        writeln!(
            out,
            "  messages     {} echoed in {:.2} s, {} msg/s",
            group(s.requests),
            s.duration_s,
            rps(s.rps)
        )?;
        writeln!(out, "  latency      {}", row(&s.latency_us))?;
        if s.target_rate_per_s.is_some() {
            writeln!(
                out,
                "  uncorrected  {}   (from actual send times)",
                row(&s.latency_uncorrected_us)
            )?;
            writeln!(out, "  late sends   {}", group(s.late_sends))?;
        }
    }
    if let Some(waited) = &s.unanswered_elapsed_us {
        writeln!(
            out,
            "  unanswered   {} still waiting when the window closed, for at least {} to {}",
            group(s.unanswered),
            us_int(waited.min),
            us_int(waited.max)
        )?;
    }
    writeln!(out, "  errors       {}", errors_text(s))?;
    if let Some(setup) = &s.setup {
        writeln!(
            out,
            "  set-up       {} connections upgraded{} in {:.2} s   (not in the figures above)",
            group(setup.opened),
            if setup.failed > 0 {
                format!(", {} failed", group(setup.failed))
            } else {
                String::new()
            },
            setup.wall_s
        )?;
    }
    writeln!(
        out,
        "  engine       CPU {:.2} s, {} per message, busiest thread {:.0}%; peak RSS {}",
        s.engine_cpu_s,
        s.engine_cpu_us_per_request
            .map_or("missing (no messages)".to_string(), |v| format!(
                "{v:.2} µs"
            )),
        s.engine_busiest_thread * 100.0,
        w.engine_rss_peak_bytes.map_or("missing".to_string(), bytes)
    )?;
    Ok(())
}
