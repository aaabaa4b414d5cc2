//! The HTML renderer: one self-contained page (inline CSS and SVG, no script, no external
//! request) from the embedded template `report.html`, rendered by minijinja with HTML
//! autoescaping. Everything from contestants and users is escaped by the template engine, or by
//! [`super::svg::escape`] inside charts; only chart SVG built by [`super::svg`] is marked safe.
//! A Content-Security-Policy meta tag forbids scripts and remote loads as a second line of
//! defence.

use std::collections::BTreeMap;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{context, Environment, UndefinedBehavior, Value};

use super::format;
use super::svg::{self, Bar, Curve};
use super::{ContestantResult, Exporter, ReportData, WorkloadReport, CONFIDENCE};

/// The page template, embedded at build time.
const TEMPLATE: &str = include_str!("report.html");

/// A self-contained HTML page with charts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Html;

impl Exporter for Html {
    fn render(&self, data: &ReportData) -> anyhow::Result<Vec<u8>> {
        let env = environment()?;
        // One colour per contestant, in the run's order, the same in every chart and table.
        // Results of a name missing from the contestant list come last.
        let mut colors: BTreeMap<&str, usize> = BTreeMap::new();
        let names = data.contestants.iter().map(|c| c.name.as_str()).chain(
            data.workloads
                .iter()
                .flat_map(|w| w.results.iter().map(|r| r.name.as_str())),
        );
        for name in names {
            let next = colors.len() % svg::PALETTE_SIZE;
            colors.entry(name).or_insert(next);
        }
        let color = |name: &str| colors.get(name).copied().unwrap_or(0);
        let charts: Vec<Value> = data.workloads.iter().map(|w| charts(w, &color)).collect();
        let page = env.get_template("report.html")?.render(context! {
            data => Serde(data),
            charts => charts,
            colors => Serde(colors),
            confidence_pct => (CONFIDENCE * 100.0).round() as u32,
            method_facts => format::method_facts(&data.method),
            environment => data.method.environment.as_ref().map(format::environment).unwrap_or_default(),
        })?;
        Ok(page.into_bytes())
    }
}

fn environment() -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()?,
    );
    env.add_filter("rps", format::rps);
    env.add_filter("us", format::us);
    env.add_filter("signed_pct", format::signed_pct);
    env.add_filter("pm_pct", format::pm_pct);
    env.add_filter("mib", format::mib);
    env.add_filter("ms", format::ms);
    env.add_filter("group", format::group);
    env.add_function("trial_range", format::trial_range);
    env.add_template("report.html", TEMPLATE)?;
    Ok(env)
}

fn label(r: &ContestantResult) -> String {
    format!("{} ({})", r.display_name, r.stack)
}

/// The charts of one workload, as SVG markup marked safe for the template: `throughput`,
/// `latency`, `cpu` and `memory`.
fn charts(w: &WorkloadReport, color: &dyn Fn(&str) -> usize) -> Value {
    let bars = |value: &dyn Fn(&ContestantResult) -> Bar| w.results.iter().map(value).collect();
    let throughput: Vec<Bar> = bars(&|r| Bar {
        label: label(r),
        color: color(&r.name),
        value: r.rps.median,
        interval: Some((r.rps.lo, r.rps.hi)),
        marker: None,
        value_text: format::rps_pm(&r.rps),
    });
    let cpu: Vec<Bar> = bars(&|r| Bar {
        label: label(r),
        color: color(&r.name),
        value: r.cpu_ms_per_1k,
        interval: None,
        marker: None,
        value_text: format!("{} ms", format::ms(r.cpu_ms_per_1k)),
    });
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let memory: Vec<Bar> = bars(&|r| Bar {
        label: label(r),
        color: color(&r.name),
        value: mib(r.pss_mean_bytes),
        interval: None,
        marker: Some(mib(r.pss_peak_bytes)),
        value_text: format!(
            "{} MiB (peak {})",
            format::mib(r.pss_mean_bytes),
            format::mib(r.pss_peak_bytes)
        ),
    });
    let curves: Vec<Curve> = w
        .results
        .iter()
        .map(|r| Curve {
            label: label(r),
            color: color(&r.name),
            points: r
                .latency_curve
                .iter()
                .map(|p| (p.percentile, p.corrected_us as f64, p.uncorrected_us as f64))
                .collect(),
        })
        .collect();
    let safe = Value::from_safe_string;
    context! {
        throughput => safe(svg::bar_chart(
            &format!(
                "{}: requests per second, median over trials with its interval",
                w.name
            ),
            "requests per second",
            &throughput,
            format::plain,
            svg::WIDE,
        )),
        latency => safe(svg::latency_chart(
            &format!("{}: latency by percentile, all trials merged", w.name),
            &curves,
            format::us_tick,
        )),
        cpu => safe(svg::bar_chart(
            &format!("{}: server CPU milliseconds per 1,000 requests", w.name),
            "CPU ms per 1,000 requests",
            &cpu,
            format::plain,
            svg::NARROW,
        )),
        memory => safe(svg::bar_chart(
            &format!("{}: memory (PSS), mean with the peak marked", w.name),
            "PSS MiB (tick: peak)",
            &memory,
            format::plain,
            svg::NARROW,
        )),
    }
}
