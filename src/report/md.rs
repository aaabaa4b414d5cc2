//! The Markdown renderer: GitHub-flavoured tables of the headline, the stack view and each
//! workload's figures, ready to paste into an issue or a pull request. Names and messages are
//! escaped, so a `|` cannot break a table and `<tag>` stays text.

use std::fmt::Write;

use super::format::{
    coverage, environment, group, half_width, method_facts, mib, ms, or_missing, rps, rps_range,
    signed_pct, standing, trials, unanswered, us, verdict, MISSING, NOT_RECORDED,
};
use super::{Exporter, ReportData, Standing};

/// GitHub-flavoured Markdown.
#[derive(Debug, Clone, Copy, Default)]
pub struct Markdown;

impl Exporter for Markdown {
    fn render(&self, data: &ReportData) -> anyhow::Result<Vec<u8>> {
        let mut out = String::new();
        writeln!(
            out,
            "# faceoff: run {} of suite {}\n",
            data.run.id,
            esc(&data.run.suite_name)
        )?;

        // Issue 13: a gated run says first whether it passed.
        if let Some(gates) = &data.gates {
            super::gates::markdown(&mut out, gates, esc);
            out.push('\n');
        }
        // Issue 12: the answer leads, above the tables it comes from.
        super::answer::markdown(&mut out, &data.claims, &data.verdicts)?;
        writeln!(out, "## Headline\n")?;
        writeln!(
            out,
            "| workload | leader | req/s | margin over next | next | verdict |"
        )?;
        writeln!(out, "|---|---|--:|--:|---|---|")?;
        for h in &data.headline {
            let name = |w: &Option<super::Who>| {
                w.as_ref()
                    .map(|w| format!("{} ({})", esc(&w.display_name), esc(&w.stack)))
                    .unwrap_or_else(|| "—".into())
            };
            let verdict = verdict(h);
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {verdict} |",
                esc(&h.workload),
                name(&h.winner),
                h.winner_rps.map(rps).unwrap_or_else(|| "—".into()),
                h.margin_rel.map(signed_pct).unwrap_or_else(|| "—".into()),
                name(&h.runner_up),
            )?;
        }

        writeln!(
            out,
            "\n*ahead*: both 95% intervals apart; *within noise*: they overlap; *indicative*: apart, \
             but too few trials for 95% confidence. Lower bounds (the load engine was the limit) \
             and results without figures are not ranked."
        )?;

        if !data.stacks.stacks.is_empty() {
            writeln!(out, "\n## Best of each stack (req/s)\n")?;
            let heads: Vec<String> = data.stacks.stacks.iter().map(|s| esc(s)).collect();
            writeln!(out, "| workload | {} |", heads.join(" | "))?;
            writeln!(out, "|---|{}", "--:|".repeat(heads.len()))?;
            for row in &data.stacks.rows {
                let cells: Vec<String> = row
                    .cells
                    .iter()
                    .map(|c| match c {
                        None => "—".to_string(),
                        Some(c) => {
                            let figure = rps(c.rps.median);
                            let figure = if c.leader {
                                format!("**{figure}**")
                            } else {
                                figure
                            };
                            let noise = if c.within_noise_of_leader { " ≈" } else { "" };
                            format!("{figure}{noise} ({})", esc(&c.contestant.display_name))
                        }
                    })
                    .collect();
                writeln!(out, "| {} | {} |", esc(&row.workload), cells.join(" | "))?;
            }
            writeln!(
                out,
                "\n**bold**: best of the stacks; ≈: within noise of it. Lower bounds and results \
                 without figures are left out."
            )?;
        }

        for w in &data.workloads {
            writeln!(out, "\n## {}\n", esc(&w.name))?;
            writeln!(
                out,
                "| # | contestant | stack | req/s | ± | interval | trials | min | p50 | p95 | p99 | CPU-ms/1k req | PSS MiB (peak) | errors | unanswered | vs #1 |"
            )?;
            writeln!(
                out,
                "|--:|---|---|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"
            )?;
            for r in &w.results {
                let (pm, range) = match (&r.rps, r.standing) {
                    (Some(e), Standing::LowerBound) => {
                        (MISSING.to_string(), format!("≥ {}", rps(e.lo)))
                    }
                    (Some(e), _) => (half_width(e), rps_range(e)),
                    (None, _) => (MISSING.to_string(), MISSING.to_string()),
                };
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {pm} | {range} | {} | {} | {} | {} | {} | {} | {} ({}) | {} | {} | {} |",
                    or_missing(r.rank, |n| n.to_string()),
                    esc(&r.display_name),
                    esc(&r.stack),
                    match (&r.rps, r.standing) {
                        (None, _) => "no data".to_string(),
                        (Some(e), Standing::LowerBound) => format!("≥ {}", rps(e.median)),
                        (Some(e), _) => rps(e.median),
                    },
                    trials(r),
                    or_missing(r.min_us, crate::units::us_int),
                    or_missing(r.p50_us, us),
                    or_missing(r.p95_us, us),
                    or_missing(r.p99_us, us),
                    or_missing(r.cpu_ms_per_1k, ms),
                    or_missing(r.pss_mean_bytes, mib),
                    or_missing(r.pss_peak_bytes, mib),
                    group(r.errors),
                    unanswered(r),
                    esc(&standing(r)),
                )?;
            }
            let mut kinds: Vec<String> = w
                .results
                .iter()
                .filter_map(|r| Some(coverage(r.rps.as_ref()?, r.trials)))
                .collect();
            let mut seen = Vec::new();
            kinds.retain(|k| {
                let new = !seen.contains(k);
                seen.push(k.clone());
                new
            });
            if !kinds.is_empty() {
                writeln!(out, "\nInterval: {}.", kinds.join("; "))?;
            }
            room_table(&mut out, w)?;
        }

        out.push_str(&super::scale_view::markdown(&data.scale, esc));
        out.push_str(&super::cores::markdown(&data.cores, &esc));
        out.push_str(&super::compare::markdown(
            data.comparison.as_ref(),
            data.run.id,
            esc,
        ));

        if !data.contestants.is_empty() {
            writeln!(out, "\n## Contestants\n")?;
            writeln!(out, "| contestant | runtime | deployment | why | doc |")?;
            writeln!(out, "|---|---|---|---|---|")?;
            for c in &data.contestants {
                let (server, why, doc) = match &c.deployment {
                    Some(d) => (esc(&d.server), esc(&d.why), esc(&d.doc)),
                    None => ("—".into(), "—".into(), "—".into()),
                };
                writeln!(
                    out,
                    "| {} | {} | {server} | {why} | {doc} |",
                    esc(&c.display_name),
                    c.runtime.as_deref().map(esc).unwrap_or_else(|| "—".into()),
                )?;
            }
        }

        if !data.warnings.is_empty() {
            writeln!(out, "\n## Warnings\n")?;
            for w in &data.warnings {
                let about: Vec<&str> = [w.contestant.as_deref(), w.workload.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                let about = if about.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", esc(&about.join(" / ")))
                };
                writeln!(out, "- **{}**{about}: {}", esc(&w.kind), esc(&w.message))?;
            }
        }

        out.push_str(&super::audit::markdown(&data.audit));
        let m = &data.method;
        writeln!(out, "\n## Method\n")?;
        writeln!(
            out,
            "Throughput is the median over trials with the distribution-free interval of the median; \
             latency and CPU figures are medians over trials.\n"
        )?;
        for (label, value) in method_facts(m) {
            writeln!(out, "- {}: {}", esc(&label), esc(&value))?;
        }
        match &m.environment {
            Some(e) => {
                for (label, value) in environment(e) {
                    writeln!(out, "- {}: {}", esc(&label), esc(&value))?;
                }
            }
            None => writeln!(out, "- environment: {NOT_RECORDED}")?,
        }
        writeln!(
            out,
            "- suite: {} (sha256 {})\n- faceoff {}",
            esc(&data.run.suite_path),
            esc(&data.run.suite_sha256),
            esc(&data.faceoff_version)
        )?;
        writeln!(
            out,
            "\n## How to read this report\n\nThe terms are explained in `{}` in the faceoff repository. In short:\n",
            super::format::GUIDE_PATH
        )?;
        for line in super::format::GLOSSARY {
            writeln!(out, "- {}", esc(line))?;
        }
        Ok(out.into_bytes())
    }
}

/// A WebSocket workload's note and, for a room, its fan-out table (`report/ws.rs`).
fn room_table(out: &mut String, w: &super::WorkloadReport) -> std::fmt::Result {
    if let Some(note) = super::ws::note(w) {
        writeln!(out, "\n{note}")?;
    }
    let rows = super::ws::room_rows(w);
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(out, "\n| {} |", super::ws::ROOM_COLUMNS.join(" | "))?;
    writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|")?;
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| esc(c)).collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    Ok(())
}

/// Escapes text for a Markdown table cell: HTML-significant characters become entities and
/// Markdown punctuation is backslash-escaped; line breaks become spaces.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '|' | '`' | '*' | '_' | '[' | ']' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_table_breakers_and_markup() {
        assert_eq!(esc("a|b"), "a\\|b");
        assert_eq!(esc("<script>x</script>"), "&lt;script&gt;x&lt;/script&gt;");
        assert_eq!(esc("fast_api *v2*"), "fast\\_api \\*v2\\*");
        assert_eq!(esc("two\nlines"), "two lines");
    }
}
