//! Charts as inline SVG strings: horizontal bars (with interval whiskers or a peak marker) and
//! HDR-style latency percentile curves. No JavaScript: the page's CSS colours them (classes `c0`
//! to `c7` for series, `axis`, `grid`, `whisker`, `mark`), so they follow light, dark and print.
//!
//! Every text that reaches the SVG passes through [`escape`]; callers hand in plain text.

use std::fmt::Write;

/// Width of a full-width chart's view box; the page scales it to the column width.
pub const WIDE: f64 = 720.0;
/// Width of a chart meant for half a column, so its text keeps about the same size.
pub const NARROW: f64 = 480.0;
/// Series colours available in the stylesheet (`c0`..`c7`).
pub const PALETTE_SIZE: usize = 8;

/// Escapes text for SVG (XML) content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Cuts `s` to `max` characters, ending with an ellipsis when cut.
pub(super) fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

/// The smallest "nice" number (1, 2, 2.5 or 5 times a power of ten) at or above `v`.
fn nice_ceiling(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|n| *n >= v * (1.0 - 1e-9))
        .unwrap_or(10.0 * p)
}

/// An axis from 0 to a round maximum at or above `top`, in 3 to 5 round steps: `(max, step)`.
pub(super) fn nice_scale(top: f64) -> (f64, f64) {
    let step = nice_ceiling(top / 4.0);
    let max = ((top / step).ceil() * step).max(step);
    (max, step)
}

/// The ticks of a [`nice_scale`].
pub(super) fn ticks(max: f64, step: f64) -> impl Iterator<Item = f64> {
    let n = (max / step).round() as usize;
    (0..=n).map(move |i| step * i as f64)
}

/// Opens an `<svg>` with its accessible title.
pub(super) fn open(out: &mut String, class: &str, width: f64, height: f64, title: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart {class}" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}"><title>{}</title>"#,
        escape(title)
    );
}

/// One bar of a bar chart.
#[derive(Debug, Clone)]
pub struct Bar {
    /// Label left of the bar (plain text).
    pub label: String,
    /// Series colour index (taken modulo [`PALETTE_SIZE`]).
    pub color: usize,
    /// Length of the bar.
    pub value: f64,
    /// Interval drawn as a whisker, if any.
    pub interval: Option<(f64, f64)>,
    /// A second value drawn as a tick across the bar (a peak), if any.
    pub marker: Option<f64>,
    /// Text written after the bar.
    pub value_text: String,
}

/// A horizontal bar chart `width` wide ([`WIDE`] or [`NARROW`]), one bar per row, with an x
/// axis of round ticks formatted by `tick`.
pub fn bar_chart(
    title: &str,
    axis_label: &str,
    bars: &[Bar],
    tick: fn(f64) -> String,
    width: f64,
) -> String {
    const ROW: f64 = 30.0;
    const TOP: f64 = 10.0;
    let narrow = width < WIDE;
    let (left, right, label_chars) = if narrow {
        (150.0, 125.0, 20)
    } else {
        (190.0, 130.0, 26)
    };
    let plot_w = width - left - right;
    let height = TOP + ROW * bars.len().max(1) as f64 + 44.0;
    let axis_y = TOP + ROW * bars.len().max(1) as f64;
    let top_value = bars
        .iter()
        .map(|b| {
            let hi = b.interval.map_or(b.value, |(_, hi)| hi);
            hi.max(b.marker.unwrap_or(0.0)).max(b.value)
        })
        .fold(0.0, f64::max);
    let (max, step) = nice_scale(top_value);
    let x = |v: f64| left + (v.max(0.0) / max).min(1.0) * plot_w;

    let mut out = String::new();
    open(&mut out, "bars", width, height, title);
    for v in ticks(max, step) {
        let _ = write!(
            out,
            r#"<line class="grid" x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{axis_y}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            axis_y + 16.0,
            escape(&tick(v)),
            x = x(v)
        );
    }
    let _ = write!(
        out,
        r#"<line class="axis" x1="{left}" y1="{axis_y}" x2="{:.1}" y2="{axis_y}"/><text class="axis-label" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        left + plot_w,
        left + plot_w / 2.0,
        axis_y + 36.0,
        escape(axis_label)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let mid = y + ROW / 2.0;
        let color = b.color % PALETTE_SIZE;
        let _ = write!(
            out,
            r#"<g class="bar"><title>{full}: {value}</title><text class="label" x="{lx:.1}" y="{ty:.1}" text-anchor="end">{short}</text><rect class="mark c{color}" x="{left}" y="{by:.1}" width="{bw:.1}" height="{bh:.1}" rx="2"/>"#,
            full = escape(&b.label),
            value = escape(&b.value_text),
            short = escape(&shorten(&b.label, label_chars)),
            lx = left - 8.0,
            ty = mid + 4.0,
            by = y + 6.0,
            bw = (x(b.value) - left).max(1.0),
            bh = ROW - 12.0,
        );
        let mut text_x = x(b.value);
        if let Some((lo, hi)) = b.interval {
            let (x1, x2) = (x(lo), x(hi));
            let _ = write!(
                out,
                r#"<path class="whisker" d="M{x1:.1} {mid:.1}H{x2:.1}M{x1:.1} {a:.1}V{z:.1}M{x2:.1} {a:.1}V{z:.1}"/>"#,
                a = mid - 6.0,
                z = mid + 6.0
            );
            text_x = text_x.max(x2);
        }
        if let Some(m) = b.marker {
            let xm = x(m);
            let _ = write!(
                out,
                r#"<path class="peak" d="M{xm:.1} {a:.1}V{z:.1}"/>"#,
                a = y + 3.0,
                z = y + ROW - 3.0
            );
            text_x = text_x.max(xm);
        }
        let _ = write!(
            out,
            r#"<text class="value" x="{:.1}" y="{:.1}">{}</text></g>"#,
            text_x + 6.0,
            mid + 4.0,
            escape(&b.value_text)
        );
    }
    out.push_str("</svg>");
    out
}

/// One contestant's latency percentile curves.
#[derive(Debug, Clone)]
pub struct Curve {
    /// Legend label (plain text).
    pub label: String,
    /// Series colour index (taken modulo [`PALETTE_SIZE`]).
    pub color: usize,
    /// `(percentile 0..100, corrected µs, uncorrected µs)`, in ascending percentile order.
    pub points: Vec<(f64, f64, f64)>,
}

/// Highest percentile on the x axis: 99.99 (four "nines" of the log scale).
const NINES: f64 = 4.0;

/// Position of a percentile on the log axis: `-log10(1 - p/100)`, so 90 → 1, 99 → 2, 99.9 → 3.
fn nines(percentile: f64) -> f64 {
    let tail = 1.0 - percentile / 100.0;
    if tail <= 0.0 {
        NINES
    } else {
        (-tail.log10()).clamp(0.0, NINES)
    }
}

/// Latency against percentile, the percentile axis log-scaled toward p99.99 as HDR plots are.
/// Corrected latency (from the intended send time) is a solid line, uncorrected a dashed one.
pub fn latency_chart(title: &str, curves: &[Curve], tick: fn(f64) -> String) -> String {
    const LEFT: f64 = 80.0;
    const RIGHT: f64 = 24.0;
    const TOP: f64 = 14.0;
    const PLOT_H: f64 = 240.0;
    let plot_w = WIDE - LEFT - RIGHT;
    let axis_y = TOP + PLOT_H;

    // Legend: contestants, then the two line styles, wrapped into rows.
    struct Key {
        label: String,
        /// A contestant's colour, or `None` for a line-style key.
        color: Option<usize>,
        dashed: bool,
    }
    let key = |label: String, color, dashed| Key {
        label,
        color,
        dashed,
    };
    let mut legend: Vec<Key> = curves
        .iter()
        .map(|c| key(shorten(&c.label, 28), Some(c.color % PALETTE_SIZE), false))
        .collect();
    legend.push(key("corrected (from intended send)".into(), None, false));
    legend.push(key("uncorrected".into(), None, true));
    let mut rows: Vec<Vec<(f64, &Key)>> = vec![Vec::new()];
    let mut cursor = LEFT;
    for item in &legend {
        let w = 34.0 + 7.0 * item.label.chars().count() as f64 + 18.0;
        if cursor + w > WIDE - RIGHT && cursor > LEFT {
            rows.push(Vec::new());
            cursor = LEFT;
        }
        rows.last_mut().expect("one row").push((cursor, item));
        cursor += w;
    }
    let legend_top = axis_y + 50.0;
    let height = legend_top + 22.0 * rows.len() as f64 + 6.0;

    let top_value = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.1.max(p.2)))
        .fold(0.0, f64::max);
    let (max, step) = nice_scale(top_value);
    let x = |p: f64| LEFT + nines(p) / NINES * plot_w;
    let y = |v: f64| axis_y - (v.max(0.0) / max).min(1.0) * PLOT_H;

    let mut out = String::new();
    open(&mut out, "latency", WIDE, height, title);
    for v in ticks(max, step) {
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT + plot_w,
            LEFT - 8.0,
            y(v) + 4.0,
            escape(&tick(v)),
            y = y(v)
        );
    }
    for (p, label) in [
        (0.0, "0%"),
        (50.0, "50%"),
        (90.0, "90%"),
        (99.0, "99%"),
        (99.9, "99.9%"),
        (99.99, "99.99%"),
    ] {
        let _ = write!(
            out,
            r#"<line class="grid" x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{axis_y}"/><text class="tick" x="{x:.1}" y="{:.1}" text-anchor="middle">{label}</text>"#,
            axis_y + 16.0,
            x = x(p)
        );
    }
    let _ = write!(
        out,
        r#"<path class="axis" d="M{LEFT} {TOP}V{axis_y}H{:.1}"/><text class="axis-label" x="{:.1}" y="{:.1}" text-anchor="middle">percentile (log scale toward the tail)</text>"#,
        LEFT + plot_w,
        LEFT + plot_w / 2.0,
        axis_y + 36.0
    );
    for c in curves {
        let color = c.color % PALETTE_SIZE;
        let line = |pick: fn(&(f64, f64, f64)) -> f64| {
            let mut d = String::new();
            for (i, p) in c.points.iter().enumerate() {
                let _ = write!(
                    d,
                    "{}{:.1} {:.1}",
                    if i == 0 { 'M' } else { 'L' },
                    x(p.0),
                    y(pick(p))
                );
            }
            d
        };
        if c.points.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            r#"<g class="series"><title>{}</title><path class="mark line c{color} uncorrected" d="{}"/><path class="mark line c{color}" d="{}"/>"#,
            escape(&c.label),
            line(|p| p.2),
            line(|p| p.1)
        );
        for p in &c.points {
            let _ = write!(
                out,
                r#"<circle class="mark dot c{color}" cx="{:.1}" cy="{:.1}" r="2.5"/>"#,
                x(p.0),
                y(p.1)
            );
        }
        out.push_str("</g>");
    }
    for (row, items) in rows.iter().enumerate() {
        let ly = legend_top + 22.0 * row as f64;
        for (
            lx,
            Key {
                label,
                color,
                dashed,
            },
        ) in items
        {
            let class = match (color, dashed) {
                (Some(c), _) => format!("mark line c{c}"),
                (None, true) => "key uncorrected".to_string(),
                (None, false) => "key".to_string(),
            };
            let _ = write!(
                out,
                r#"<path class="{class}" d="M{lx:.1} {ly:.1}h26"/><text class="legend" x="{:.1}" y="{:.1}">{}</text>"#,
                lx + 32.0,
                ly + 4.0,
                escape(label)
            );
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(1.0), 1.0);
        assert_eq!(nice_ceiling(1.3), 2.0);
        assert_eq!(nice_ceiling(2.2), 2.5);
        assert_eq!(nice_ceiling(4100.0), 5000.0);
        assert_eq!(nice_ceiling(151_000.0), 200_000.0);
    }

    #[test]
    fn nice_scales() {
        assert_eq!(nice_scale(24_900.0), (30_000.0, 10_000.0));
        assert_eq!(nice_scale(152_340.0), (200_000.0, 50_000.0));
        assert_eq!(nice_scale(87.0), (100.0, 25.0));
        assert_eq!(nice_scale(0.0), (1.0, 1.0));
        let t: Vec<f64> = ticks(100.0, 25.0).collect();
        assert_eq!(t, [0.0, 25.0, 50.0, 75.0, 100.0]);
    }

    #[test]
    fn percentile_axis_is_log_nines() {
        assert_eq!(nines(0.0), 0.0);
        assert!((nines(90.0) - 1.0).abs() < 1e-9);
        assert!((nines(99.9) - 3.0).abs() < 1e-9);
        assert_eq!(nines(100.0), NINES);
    }

    #[test]
    fn text_is_escaped() {
        let bars = [Bar {
            label: "<script>alert(1)</script>".into(),
            color: 9,
            value: 10.0,
            interval: Some((8.0, 12.0)),
            marker: None,
            value_text: "\"><img src=x>".into(),
        }];
        let svg = bar_chart("t<i>", "x", &bars, |v| format!("{v}"), NARROW);
        assert!(!svg.contains("<script"), "{svg}");
        assert!(!svg.contains("<img"), "{svg}");
        assert!(!svg.contains("<i>"), "{svg}");
        assert!(svg.contains("c1"), "colour index wraps: {svg}");
    }
}
