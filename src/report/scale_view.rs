//! The scale sections ([`ScaleReport`]) in each format: terminal text, Markdown, and HTML with
//! inline SVG charts (throughput and p99 against connections, PSS against idle connections)
//! drawn with `svg.rs`'s helpers. Missing figures read "—" (never zero); every name is
//! escaped for its format.

use std::fmt::Write;

use super::format::{group, mib, or_missing, rps, us};
use super::scale::{CapacityRow, IdleRow, ScaleReport};
use super::svg::{self, escape, PALETTE_SIZE, WIDE};

/// The capacity as text: `1,234 req/s [1,234, 1,400)`, `≥ 1,234` when even the search's
/// maximum met the SLO, or `not found`.
fn capacity_text(c: &CapacityRow) -> String {
    let r = &c.record;
    match (r.rate_per_s, r.interval_high_per_s) {
        (Some(rate), Some(high)) => format!("{} [{}, {})", rps(rate), rps(rate), rps(high)),
        (Some(rate), None) => format!("≥ {}", rps(rate)),
        (None, _) => "not found".into(),
    }
}

/// A capacity row's figures, formatted once for every format: capacity with its interval, the
/// SLO, p99 at capacity, server CPUs busy there, PSS there (MiB). Plain text, to be escaped.
fn capacity_cells(c: &CapacityRow) -> [String; 5] {
    let r = &c.record;
    [
        capacity_text(c),
        format!(
            "p99 < {}, errors < {:.2}%",
            us(r.slo_p99_us),
            r.max_error_rate * 100.0
        ),
        or_missing(r.p99_us, us),
        or_missing(r.server_cpu_share, cpu_share),
        or_missing(r.pss_bytes, mib),
    ]
}

/// An idle row's figures, formatted once for every format: idle count, held, refused, dropped,
/// PSS (MiB), PSS per 1,000, probe p50, probe p99. Plain text, to be escaped.
fn idle_cells(r: &IdleRow) -> [String; 8] {
    [
        group(u64::from(r.target)),
        held_text(r),
        or_missing(r.refused, group),
        or_missing(r.dropped, group),
        or_missing(r.pss_bytes, mib),
        or_missing(r.pss_per_1k_bytes, pss_per_1k),
        or_missing(r.probe_p50_us, us),
        or_missing(r.probe_p99_us, us),
    ]
}

fn cpu_share(v: f64) -> String {
    format!("{v:.2}")
}

fn pss_per_1k(v: f64) -> String {
    if v < 0.0 {
        // The group's memory fell while the connections were held (a collector ran).
        "below baseline".into()
    } else {
        format!("{} KiB", group((v / 1024.0).round() as u64))
    }
}

fn held_text(r: &IdleRow) -> String {
    match (&r.not_reached, r.held) {
        (Some(_), _) => "not reached".into(),
        (None, Some(h)) => format!("{} of {}", group(h), group(u64::from(r.target))),
        (None, None) => "—".into(),
    }
}

/// Terminal text (names already cleaned by `clean`).
pub(super) fn term(s: &ScaleReport, clean: fn(&str) -> String) -> String {
    let mut out = String::new();
    for w in &s.sweeps {
        let _ = writeln!(
            out,
            "\n{}: throughput (req/s) / p99 by connections",
            clean(&w.workload)
        );
        for series in &w.series {
            let points: Vec<String> = series
                .points
                .iter()
                .map(|p| {
                    format!(
                        "{}: {} / {}",
                        p.connections,
                        or_missing(p.rps, rps),
                        or_missing(p.p99_us, us)
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "  {}  knee {}  ·  {}",
                clean(&series.display_name),
                or_missing(series.knee_connections, |c| c.to_string()),
                points.join("  ")
            );
        }
    }
    for w in &s.idle {
        let _ = writeln!(
            out,
            "\n{}: idle {} connections",
            clean(&w.workload),
            w.protocol.label()
        );
        for r in &w.rows {
            let [idle, held, refused, dropped, pss, per_1k, p50, p99] = idle_cells(r);
            let _ = writeln!(
                out,
                "  {} @ {idle}: held {held}, refused {refused}, dropped {dropped}, PSS {pss} MiB, +{per_1k} per 1,000, probe p50 {p50} p99 {p99}{}",
                clean(&r.display_name),
                r.not_reached
                    .as_ref()
                    .map(|n| format!(" ({})", clean(n)))
                    .unwrap_or_default()
            );
        }
    }
    if !s.capacities.is_empty() {
        let _ = writeln!(out, "\ncapacity under SLO (req/s [confirmed, missed at])");
        for c in &s.capacities {
            let [capacity, slo, p99, cpu, pss] = capacity_cells(c);
            let _ = writeln!(
                out,
                "  {} / {}: {capacity} · {slo} · p99 there {p99} · server CPUs busy {cpu} · PSS {pss} MiB",
                clean(&c.record.workload),
                clean(&c.display_name),
            );
        }
    }
    out
}

/// Markdown sections.
pub(super) fn markdown(s: &ScaleReport, esc: fn(&str) -> String) -> String {
    let mut out = String::new();
    for w in &s.sweeps {
        let _ = writeln!(
            out,
            "\n## Throughput and p99 by connections: {}\n",
            esc(&w.workload)
        );
        let heads: Vec<String> = w.connections.iter().map(|c| c.to_string()).collect();
        let _ = writeln!(out, "| contestant | knee | {} |", heads.join(" | "));
        let _ = writeln!(out, "|---|--:|{}", "--:|".repeat(w.connections.len()));
        for series in &w.series {
            let cells: Vec<String> = series
                .points
                .iter()
                .map(|p| format!("{} / {}", or_missing(p.rps, rps), or_missing(p.p99_us, us)))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                esc(&series.display_name),
                or_missing(series.knee_connections, |c| c.to_string()),
                cells.join(" | ")
            );
        }
        let _ = writeln!(
            out,
            "\nEach cell: median req/s / median p99. The knee is the fewest connections at which \
             the median throughput reaches 90% of the contestant's best in the sweep."
        );
    }
    for w in &s.idle {
        let _ = writeln!(
            out,
            "\n## Idle {} connections: {}\n",
            w.protocol.label(),
            esc(&w.workload)
        );
        let _ = writeln!(
            out,
            "| contestant | idle | held | refused | dropped | PSS (MiB) | PSS per 1,000 | probe p50 | probe p99 |"
        );
        let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|--:|");
        for r in &w.rows {
            let cells = idle_cells(r).map(|c| esc(&c));
            let _ = writeln!(out, "| {} | {} |", esc(&r.display_name), cells.join(" | "));
        }
        for r in w.rows.iter().filter(|r| r.not_reached.is_some()) {
            let _ = writeln!(
                out,
                "\n{} at {}: {}",
                esc(&r.display_name),
                group(u64::from(r.target)),
                esc(r.not_reached.as_deref().unwrap_or_default())
            );
        }
    }
    if !s.capacities.is_empty() {
        let _ = writeln!(out, "\n## Capacity under an SLO\n");
        let _ = writeln!(
            out,
            "| workload | contestant | capacity (req/s) [confirmed, missed at) | SLO | p99 there | server CPUs busy | PSS (MiB) | note |"
        );
        let _ = writeln!(out, "|---|---|--:|---|--:|--:|--:|---|");
        for c in &s.capacities {
            let cells = capacity_cells(c).map(|c| esc(&c));
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                esc(&c.record.workload),
                esc(&c.display_name),
                cells.join(" | "),
                esc(&c.record.note),
            );
        }
        let _ = writeln!(
            out,
            "\nThe capacity is the highest constant rate at which every confirmation trial met the \
             SLO; the interval runs from it to the lowest rate any trial missed the SLO at."
        );
    }
    out
}

/// One series of an x/y chart.
struct Series {
    label: String,
    color: usize,
    points: Vec<(f64, f64)>,
}

/// A line chart of `series` over a log-2 x axis (connection counts), y from zero.
fn xy_chart(title: &str, x_label: &str, series: &[Series], y_tick: fn(f64) -> String) -> String {
    const LEFT: f64 = 80.0;
    const RIGHT: f64 = 24.0;
    const TOP: f64 = 14.0;
    const PLOT_H: f64 = 220.0;
    let plot_w = WIDE - LEFT - RIGHT;
    let axis_y = TOP + PLOT_H;
    let xs: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    let (lo, hi) = xs.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &x| {
        (lo.min(x), hi.max(x))
    });
    let (lo, hi) = if lo.is_finite() && lo > 0.0 {
        (lo.log2(), hi.log2().max(lo.log2() + 1.0))
    } else {
        (0.0, 1.0)
    };
    let x = |v: f64| LEFT + (v.max(1e-9).log2() - lo) / (hi - lo) * plot_w;
    let top = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let (max, step) = svg::nice_scale(top);
    let y = |v: f64| axis_y - (v.max(0.0) / max).min(1.0) * PLOT_H;
    let legend_top = axis_y + 50.0;
    let height = legend_top + 20.0 * series.len().div_ceil(3) as f64 + 6.0;

    let mut out = String::new();
    svg::open(&mut out, "xy", WIDE, height, title);
    for v in svg::ticks(max, step) {
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT + plot_w,
            LEFT - 8.0,
            y(v) + 4.0,
            escape(&y_tick(v)),
            y = y(v)
        );
    }
    let mut xticks: Vec<f64> = xs.clone();
    xticks.sort_by(f64::total_cmp);
    xticks.dedup();
    for v in xticks {
        let _ = write!(
            out,
            r#"<line class="grid" x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{axis_y}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            axis_y + 16.0,
            escape(&group(v as u64)),
            x = x(v)
        );
    }
    let _ = write!(
        out,
        r#"<path class="axis" d="M{LEFT} {TOP}V{axis_y}H{:.1}"/><text class="axis-label" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        LEFT + plot_w,
        LEFT + plot_w / 2.0,
        axis_y + 36.0,
        escape(x_label)
    );
    for s in series.iter().filter(|s| !s.points.is_empty()) {
        let color = s.color % PALETTE_SIZE;
        let mut d = String::new();
        for (i, p) in s.points.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1} {:.1}",
                if i == 0 { 'M' } else { 'L' },
                x(p.0),
                y(p.1)
            );
        }
        let _ = write!(
            out,
            r#"<g class="series"><title>{}</title><path class="mark line c{color}" d="{d}"/>"#,
            escape(&s.label)
        );
        for p in &s.points {
            let _ = write!(
                out,
                r#"<circle class="mark dot c{color}" cx="{:.1}" cy="{:.1}" r="3"/>"#,
                x(p.0),
                y(p.1)
            );
        }
        out.push_str("</g>");
    }
    for (k, s) in series.iter().enumerate() {
        let lx = LEFT + (k % 3) as f64 * 210.0;
        let ly = legend_top + 20.0 * (k / 3) as f64;
        let _ = write!(
            out,
            r#"<path class="mark line c{}" d="M{lx:.1} {ly:.1}h26"/><text class="legend" x="{:.1}" y="{:.1}">{}</text>"#,
            s.color % PALETTE_SIZE,
            lx + 32.0,
            ly + 4.0,
            escape(&svg::shorten(&s.label, 26))
        );
    }
    out.push_str("</svg>");
    out
}

fn figure(out: &mut String, caption: &str, chart: &str) {
    let _ = write!(
        out,
        r#"<figure class="wide"><figcaption>{}</figcaption>{chart}</figure>"#,
        escape(caption)
    );
}

fn ms_tick(v: f64) -> String {
    format!("{} ms", super::format::plain(v / 1e3))
}

fn rps_tick(v: f64) -> String {
    group(v as u64)
}

fn mib_tick(v: f64) -> String {
    format!("{} MiB", super::format::plain(v))
}

/// The HTML sections (empty when there is nothing to show). `color` gives each contestant its
/// colour index, the same as in the rest of the page.
pub(super) fn html(s: &ScaleReport, color: &dyn Fn(&str) -> usize) -> String {
    let mut out = String::new();
    let td = |text: &str| format!(r#"<td class="num">{}</td>"#, escape(text));
    for w in &s.sweeps {
        let _ = write!(
            out,
            r#"<section class="scale"><h2>Throughput and p99 by connections: {}</h2><div class="charts">"#,
            escape(&w.workload)
        );
        let line = |pick: fn(&super::scale::SweepPoint) -> Option<f64>| -> Vec<Series> {
            w.series
                .iter()
                .map(|c| Series {
                    label: c.display_name.clone(),
                    color: color(&c.name),
                    points: c
                        .points
                        .iter()
                        .filter_map(|p| Some((f64::from(p.connections), pick(p)?)))
                        .collect(),
                })
                .collect()
        };
        let title = format!("{}: median requests per second by connections", w.workload);
        figure(
            &mut out,
            &title,
            &xy_chart(
                &title,
                "connections (log scale)",
                &line(|p| p.rps),
                rps_tick,
            ),
        );
        let title = format!("{}: median p99 latency by connections", w.workload);
        figure(
            &mut out,
            &title,
            &xy_chart(
                &title,
                "connections (log scale)",
                &line(|p| p.p99_us),
                ms_tick,
            ),
        );
        out.push_str("</div><table><thead><tr><th>contestant</th><th class=\"num\">knee</th>");
        for c in &w.connections {
            let _ = write!(out, r#"<th class="num">{}</th>"#, group(u64::from(*c)));
        }
        out.push_str("</tr></thead><tbody>");
        for series in &w.series {
            let _ = write!(
                out,
                r#"<tr><td><span class="swatch c{}"></span>{}</td>{}"#,
                color(&series.name) % PALETTE_SIZE,
                escape(&series.display_name),
                td(&or_missing(series.knee_connections, |c| group(u64::from(
                    c
                ))))
            );
            for p in &series.points {
                out.push_str(&td(&format!(
                    "{} / {}",
                    or_missing(p.rps, rps),
                    or_missing(p.p99_us, us)
                )));
            }
            out.push_str("</tr>");
        }
        out.push_str(
            "</tbody><caption>Each cell: median req/s / median p99 at that many connections. The \
             knee is the fewest connections at which the median throughput reaches 90% of the \
             contestant's best in the sweep: past it, more connections mostly add latency.\
             </caption></table></section>",
        );
    }
    for w in &s.idle {
        let _ = write!(
            out,
            r#"<section class="scale"><h2>Idle {} connections: {}</h2><div class="charts">"#,
            w.protocol.label(),
            escape(&w.workload)
        );
        let mut names: Vec<(&str, &str)> = Vec::new();
        for r in &w.rows {
            if !names.iter().any(|(n, _)| *n == r.name) {
                names.push((&r.name, &r.display_name));
            }
        }
        let series: Vec<Series> = names
            .iter()
            .map(|(name, display)| Series {
                label: display.to_string(),
                color: color(name),
                points: w
                    .rows
                    .iter()
                    .filter(|r| r.name == *name)
                    .filter_map(|r| {
                        Some((f64::from(r.target), r.pss_bytes? as f64 / (1024.0 * 1024.0)))
                    })
                    .collect(),
            })
            .collect();
        let title = format!(
            "{}: server PSS while holding idle {} connections",
            w.workload,
            w.protocol.label()
        );
        figure(
            &mut out,
            &title,
            &xy_chart(&title, "idle connections (log scale)", &series, mib_tick),
        );
        out.push_str(
            "</div><table><thead><tr><th>contestant</th><th class=\"num\">idle</th><th class=\"num\">held</th>\
             <th class=\"num\">refused</th><th class=\"num\">dropped</th><th class=\"num\">PSS (MiB)</th>\
             <th class=\"num\">PSS per 1,000</th><th class=\"num\">probe p50</th><th class=\"num\">probe p99</th></tr></thead><tbody>",
        );
        for r in &w.rows {
            let cells: String = idle_cells(r).iter().map(|c| td(c)).collect();
            let _ = write!(
                out,
                r#"<tr><td><span class="swatch c{}"></span>{}</td>{cells}</tr>"#,
                color(&r.name) % PALETTE_SIZE,
                escape(&r.display_name),
            );
        }
        out.push_str("</tbody></table>");
        let missing: Vec<&IdleRow> = w.rows.iter().filter(|r| r.not_reached.is_some()).collect();
        if !missing.is_empty() {
            out.push_str(r#"<ul class="warnings">"#);
            for r in missing {
                let _ = write!(
                    out,
                    r#"<li><span class="kind">not reached</span>{} at {}: {}</li>"#,
                    escape(&r.display_name),
                    group(u64::from(r.target)),
                    escape(r.not_reached.as_deref().unwrap_or_default())
                );
            }
            out.push_str("</ul>");
        }
        out.push_str("</section>");
    }
    if !s.capacities.is_empty() {
        out.push_str(
            r#"<section class="scale"><h2>Capacity under an SLO</h2><table><thead><tr><th>workload</th><th>contestant</th><th class="num">capacity (req/s) [confirmed, missed at)</th><th>SLO</th><th class="num">p99 there</th><th class="num">server CPUs busy</th><th class="num">PSS (MiB)</th><th>note</th></tr></thead><tbody>"#,
        );
        for c in &s.capacities {
            let [capacity, slo, p99, cpu, pss] = capacity_cells(c);
            let _ = write!(
                out,
                r#"<tr><td>{}</td><td><span class="swatch c{}"></span>{}</td>{}<td>{}</td>{}{}{}<td>{}</td></tr>"#,
                escape(&c.record.workload),
                color(&c.record.contestant) % PALETTE_SIZE,
                escape(&c.display_name),
                td(&capacity),
                escape(&slo),
                td(&p99),
                td(&cpu),
                td(&pss),
                escape(&c.record.note),
            );
        }
        out.push_str(
            "</tbody><caption>The capacity is the highest constant rate at which every \
             confirmation trial met the SLO; the interval runs from it to the lowest rate any \
             trial missed the SLO at. Server CPUs busy: CPU-seconds per second at that rate.\
             </caption></table></section>",
        );
    }
    out
}
