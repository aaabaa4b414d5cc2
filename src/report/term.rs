//! The terminal renderer: per workload, one compact table ranked by median throughput, then the
//! warnings. Text from contestants and users has its control characters replaced, so a name
//! cannot move the cursor or recolour the terminal.

use std::fmt::Write;

use super::format::{
    coverage, group, mib, ms, or_missing, result_rps, signed_pct, standing, trials, unanswered, us,
};
use super::{Exporter, Headline, ReportData, Verdict};
use crate::units::us_int;

/// Plain-text tables for a terminal.
#[derive(Debug, Clone, Copy, Default)]
pub struct Term;

/// Column alignment.
#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Right,
}

const COLUMNS: [(&str, Align); 13] = [
    ("#", Align::Right),
    ("contestant", Align::Left),
    ("req/s ± CI", Align::Right),
    ("trials", Align::Right),
    ("min", Align::Right),
    ("p50", Align::Right),
    ("p95", Align::Right),
    ("p99", Align::Right),
    ("CPU-ms/1k", Align::Right),
    ("PSS MiB", Align::Right),
    ("errors", Align::Right),
    ("unanswered", Align::Right),
    ("vs #1", Align::Left),
];

impl Exporter for Term {
    fn render(&self, data: &ReportData) -> anyhow::Result<Vec<u8>> {
        let mut out = String::new();
        writeln!(
            out,
            "run {} · suite {} · {}",
            data.run.id,
            clean(&data.run.suite_name),
            serde_json::to_value(data.run.status)?
                .as_str()
                .unwrap_or_default()
        )?;
        for (w, head) in data.workloads.iter().zip(&data.headline) {
            writeln!(out)?;
            writeln!(out, "{}: {}", clean(&w.name), headline_text(head))?;
            let rows: Vec<[String; 13]> = w
                .results
                .iter()
                .map(|r| {
                    [
                        or_missing(r.rank, |n| n.to_string()),
                        format!("{} ({})", clean(&r.display_name), clean(&r.stack)),
                        result_rps(r),
                        trials(r),
                        or_missing(r.min_us, us_int),
                        or_missing(r.p50_us, us),
                        or_missing(r.p95_us, us),
                        or_missing(r.p99_us, us),
                        or_missing(r.cpu_ms_per_1k, ms),
                        or_missing(r.pss_mean_bytes, mib),
                        group(r.errors),
                        unanswered(r),
                        clean(&standing(r)),
                    ]
                })
                .collect();
            table(&mut out, &rows);
            room_table(&mut out, w)?;
            if let Some(e) = w.results.iter().find_map(|r| {
                r.rps
                    .filter(|e| e.short_of_confidence)
                    .map(|e| (e, r.trials))
            }) {
                writeln!(out, "interval: {}", coverage(&e.0, e.1))?;
            }
        }
        out.push_str(&super::scale_view::term(&data.scale, clean));
        out.push_str(&super::cores::term(&data.cores, &clean));
        out.push_str(&super::compare::term(
            data.comparison.as_ref(),
            data.run.id,
            clean,
        ));
        if !data.warnings.is_empty() {
            writeln!(out)?;
            for w in &data.warnings {
                let about: Vec<&str> = [w.contestant.as_deref(), w.workload.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                let about = if about.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", clean(&about.join(" / ")))
                };
                writeln!(out, "warning{about}: {}", clean(&w.message))?;
            }
        }
        out.push_str(&super::audit::term(&data.audit));
        if let Some(gates) = &data.gates {
            out.push_str(&super::gates::term(gates, clean));
        }
        Ok(out.into_bytes())
    }
}

/// A WebSocket workload's note and, for a room, its fan-out table (`report/ws.rs`).
fn room_table(out: &mut String, w: &super::WorkloadReport) -> std::fmt::Result {
    if let Some(note) = super::ws::note(w) {
        writeln!(out, "{note}")?;
    }
    let rows = super::ws::room_rows(w);
    if rows.is_empty() {
        return Ok(());
    }
    let header = super::ws::ROOM_COLUMNS.map(str::to_string);
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                let cell = clean(cell);
                if c == 0 {
                    format!("{cell:<w$}", w = widths[c])
                } else {
                    format!("{cell:>w$}", w = widths[c])
                }
            })
            .collect();
        writeln!(out, "  {}", cells.join("  ").trim_end())?;
    }
    Ok(())
}

/// One line about a workload's leader: "leads" only when the 95% intervals separate.
pub(super) fn headline_text(h: &Headline) -> String {
    let name = |w: &Option<super::Who>| {
        w.as_ref()
            .map(|w| clean(&w.display_name))
            .unwrap_or_default()
    };
    let margin = h.margin_rel.map(signed_pct).unwrap_or_else(|| "?".into());
    let (w, r) = (name(&h.winner), name(&h.runner_up));
    let mut text = match h.verdict {
        Verdict::NothingRanked => "nothing ranked".to_string(),
        Verdict::OnlyOne => format!("{w} (only contestant ranked)"),
        Verdict::Ahead => format!("{w} leads by {margin} over {r} (95% intervals apart)"),
        Verdict::WithinNoise => format!("{w} and {r} are within noise ({margin})"),
        Verdict::Indicative => {
            format!("indicative: {w} {margin} over {r} (too few trials for 95% confidence)")
        }
    };
    if h.not_ranked > 0 {
        text.push_str(&format!(" · {} not ranked (see below)", h.not_ranked));
    }
    text
}

/// Makes text from a contestant safe for one terminal line: line breaks and tabs become
/// spaces, other control characters (escape sequences) a visible stand-in, so a name or a log
/// line cannot move the cursor or recolour the terminal.
pub(crate) fn clean(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect()
}

fn table(out: &mut String, rows: &[[String; 13]]) {
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([COLUMNS[i].0.chars().count()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..COLUMNS.len()).map(width).collect();
    let mut line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if i > 0 {
                text.push_str("  ");
            }
            if COLUMNS[i].1 == Align::Right {
                text.push_str(&" ".repeat(pad));
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(COLUMNS.iter().map(|c| c.0).collect());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_replaced_and_line_breaks_become_spaces() {
        assert_eq!(clean("a\u{1b}[31mb\nc"), "a�[31mb c");
        assert_eq!(clean("log:\r\n\tline"), "log:   line");
    }
}
