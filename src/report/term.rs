//! The terminal renderer: per workload, one compact table ranked by median throughput, then the
//! warnings. Text from contestants and users has its control characters replaced, so a name
//! cannot move the cursor or recolour the terminal.

use std::fmt::Write;

use super::format::{group, mib, ms, rps_pm, signed_pct, us};
use super::{Exporter, Headline, ReportData};

/// Plain-text tables for a terminal.
#[derive(Debug, Clone, Copy, Default)]
pub struct Term;

/// Column alignment.
#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Right,
}

const COLUMNS: [(&str, Align); 9] = [
    ("#", Align::Right),
    ("contestant", Align::Left),
    ("req/s ± CI", Align::Right),
    ("p50", Align::Right),
    ("p99", Align::Right),
    ("CPU-ms/1k", Align::Right),
    ("PSS MiB", Align::Right),
    ("errors", Align::Right),
    ("within noise of #1", Align::Left),
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
            let rows: Vec<[String; 9]> = w
                .results
                .iter()
                .map(|r| {
                    [
                        r.rank.to_string(),
                        format!("{} ({})", clean(&r.display_name), clean(&r.stack)),
                        rps_pm(&r.rps),
                        us(r.p50_us),
                        us(r.p99_us),
                        ms(r.cpu_ms_per_1k),
                        mib(r.pss_mean_bytes),
                        group(r.errors),
                        match r.within_noise_of_first {
                            None => "—".to_string(),
                            Some(true) => "yes".to_string(),
                            Some(false) => format!("no ({})", signed_pct(r.ratio_to_first - 1.0)),
                        },
                    ]
                })
                .collect();
            table(&mut out, &rows);
        }
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
        Ok(out.into_bytes())
    }
}

/// One line about a workload's leader.
pub(super) fn headline_text(h: &Headline) -> String {
    match (&h.winner, &h.runner_up, h.margin_rel) {
        (None, _, _) => "nothing measured".to_string(),
        (Some(w), None, _) => format!("{} (only contestant measured)", clean(&w.display_name)),
        (Some(w), Some(r), margin) => {
            let margin = margin.map(signed_pct).unwrap_or_else(|| "?".into());
            if h.within_noise {
                format!(
                    "{} and {} are within noise ({margin})",
                    clean(&w.display_name),
                    clean(&r.display_name)
                )
            } else {
                format!(
                    "{} leads by {margin} over {}",
                    clean(&w.display_name),
                    clean(&r.display_name)
                )
            }
        }
    }
}

/// Replaces control characters (escape sequences, newlines) with a visible stand-in.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '�' } else { c })
        .collect()
}

fn table(out: &mut String, rows: &[[String; 9]]) {
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
    fn control_characters_are_replaced() {
        assert_eq!(clean("a\u{1b}[31mb\nc"), "a�[31mb�c");
    }
}
