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
use super::{ContestantResult, Exporter, ReportData, Standing, WorkloadReport, CONFIDENCE};

/// The page template, embedded at build time.
const TEMPLATE: &str = include_str!("report.html");

/// The audit section's template, included by the page.
const AUDIT_TEMPLATE: &str = include_str!("audit.html");

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
        // Text of each result's cells, formatted once in Rust like every other format.
        let cells: Vec<Vec<Value>> = data
            .workloads
            .iter()
            .map(|w| w.results.iter().map(cells).collect())
            .collect();
        // Built by `scale_view` with every text escaped, as the other charts are.
        let scale = super::scale_view::html(&data.scale, &color);
        let cores = super::cores::html(&data.cores, &color);
        let page = env.get_template("report.html")?.render(context! {
            cores => cores,
            guide_path => format::GUIDE_PATH,
            glossary => format::GLOSSARY,
            // Its own name: `data.cores` is left out of the JSON when empty.
            cores_sweeps => Serde(&data.cores),
            data => Serde(data),
            charts => charts,
            cells => cells,
            room_rows => data.workloads.iter().map(super::ws::room_rows).collect::<Vec<_>>(),
            ws_notes => data.workloads.iter().map(super::ws::note).collect::<Vec<_>>(),
            room_columns => super::ws::ROOM_COLUMNS,
            rows_within_10pct => format::rows_within_10pct(&data.method),
            colors => Serde(colors),
            confidence_pct => (CONFIDENCE * 100.0).round() as u32,
            method_facts => format::method_facts(&data.method),
            scale => Value::from_safe_string(scale),
            compare => Value::from_safe_string(super::compare::html(data.comparison.as_ref(), data.run.id)),
            environment => data.method.environment.as_ref().map(format::environment).unwrap_or_default(),
            audit_rows => Serde(super::audit::html_rows(&data.audit)),
            audit_depth => data.audit.depth.map(super::audit::depth_text),
            answer => super::answer::html_context(data),
            gates => data.gates.as_ref().map(super::gates::html_context),
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
    env.add_template("audit.html", AUDIT_TEMPLATE)?;
    env.add_template("answer.html", super::answer::TEMPLATE)?;
    Ok(env)
}

/// The table cells of one result, as text (escaped by the template).
fn cells(r: &ContestantResult) -> Value {
    context! {
        rank => format::or_missing(r.rank, |n: u32| n.to_string()),
        rps => match (&r.rps, r.standing) {
            (None, _) => "no data".to_string(),
            (Some(e), Standing::LowerBound) => format!("≥ {}", format::rps(e.median)),
            (Some(e), _) => format::rps(e.median),
        },
        interval => match (&r.rps, r.standing) {
            (Some(e), Standing::LowerBound) => format!("lower bound, ≥ {}", format::rps(e.lo)),
            (Some(e), _) => format!("{} – {}", format::rps(e.lo), format::rps(e.hi)),
            (None, _) => format::MISSING.to_string(),
        },
        pm => format::or_missing(r.rps.filter(|_| r.standing != Standing::LowerBound), |e: super::Estimate| format::half_width(&e)),
        trials => format::trials(r),
        min => format::or_missing(r.min_us, crate::units::us_int),
        p50 => format::or_missing(r.p50_us, format::us),
        p95 => format::or_missing(r.p95_us, format::us),
        p99 => format::or_missing(r.p99_us, format::us),
        cpu => format::or_missing(r.cpu_ms_per_1k, format::ms),
        pss => match (r.pss_mean_bytes, r.pss_peak_bytes) {
            (Some(mean), Some(peak)) => format!("{} ({})", format::mib(mean), format::mib(peak)),
            _ => format::MISSING.to_string(),
        },
        errors => format::group(r.errors),
        unanswered => format::unanswered(r),
        standing => format::standing(r),
        flagged => !matches!(r.standing, Standing::Leader | Standing::Behind | Standing::WithinNoise | Standing::Indicative),
    }
}

fn label(r: &ContestantResult) -> String {
    format!("{} ({})", r.display_name, r.stack)
}

/// The charts of one workload, as SVG markup marked safe for the template: `throughput`,
/// `latency`, `cpu` and `memory`.
fn charts(w: &WorkloadReport, color: &dyn Fn(&str) -> usize) -> Value {
    // Results without figures have no bar and no curve; the table says why.
    let with_figures: Vec<&ContestantResult> =
        w.results.iter().filter(|r| r.rps.is_some()).collect();
    let bars = |value: &dyn Fn(&ContestantResult) -> Option<Bar>| {
        with_figures.iter().filter_map(|r| value(r)).collect()
    };
    let throughput: Vec<Bar> = bars(&|r| {
        let e = r.rps?;
        let lower_bound = r.standing == Standing::LowerBound;
        Some(Bar {
            label: label(r),
            color: color(&r.name),
            value: e.median,
            interval: (!lower_bound).then_some((e.lo, e.hi)),
            marker: None,
            value_text: format::result_rps(r),
        })
    });
    let cpu: Vec<Bar> = bars(&|r| {
        let v = r.cpu_ms_per_1k?;
        Some(Bar {
            label: label(r),
            color: color(&r.name),
            value: v,
            interval: None,
            marker: None,
            value_text: format!("{} ms", format::ms(v)),
        })
    });
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let memory: Vec<Bar> = bars(&|r| {
        let (mean, peak) = (r.pss_mean_bytes?, r.pss_peak_bytes?);
        Some(Bar {
            label: label(r),
            color: color(&r.name),
            value: mib(mean),
            interval: None,
            marker: Some(mib(peak)),
            value_text: format!("{} MiB (peak {})", format::mib(mean), format::mib(peak)),
        })
    });
    let curves: Vec<Curve> = with_figures
        .iter()
        .filter(|r| !r.latency_curve.is_empty())
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
