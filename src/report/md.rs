//! The Markdown renderer: GitHub-flavoured tables of the headline, the stack view and each
//! workload's figures, ready to paste into an issue or a pull request. Names and messages are
//! escaped, so a `|` cannot break a table and `<tag>` stays text.

use std::fmt::Write;

use super::format::{
    coverage, group, mib, ms, pm_pct, rps, rps_range, signed_pct, trial_range, us,
};
use super::{Exporter, ReportData};

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
            let verdict = match (&h.winner, &h.runner_up) {
                (None, _) => "nothing measured",
                (Some(_), None) => "only one measured",
                _ if h.within_noise => "within noise",
                _ => "ahead",
            };
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
                "\n**bold**: best of the stacks; ≈: within noise of it."
            )?;
        }

        for w in &data.workloads {
            writeln!(out, "\n## {}\n", esc(&w.name))?;
            writeln!(
                out,
                "| # | contestant | stack | req/s | ± | interval | p50 | p99 | CPU-ms/1k req | PSS MiB (peak) | errors | within noise of #1 |"
            )?;
            writeln!(out, "|--:|---|---|--:|--:|---|--:|--:|--:|--:|--:|---|")?;
            for r in &w.results {
                let noise = match r.within_noise_of_first {
                    None => "—".to_string(),
                    Some(true) => "yes".to_string(),
                    Some(false) => format!("no ({})", signed_pct(r.ratio_to_first - 1.0)),
                };
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} ({}) | {} | {noise} |",
                    r.rank,
                    esc(&r.display_name),
                    esc(&r.stack),
                    rps(r.rps.median),
                    pm_pct(r.rps.rel_half_width),
                    rps_range(&r.rps),
                    us(r.p50_us),
                    us(r.p99_us),
                    ms(r.cpu_ms_per_1k),
                    mib(r.pss_mean_bytes),
                    mib(r.pss_peak_bytes),
                    group(r.errors),
                )?;
            }
            let mut kinds: Vec<String> = w
                .results
                .iter()
                .map(|r| coverage(&r.rps, r.trials))
                .collect();
            kinds.dedup();
            if !kinds.is_empty() {
                writeln!(out, "\nInterval: {}.", kinds.join("; "))?;
            }
        }

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

        let m = &data.method;
        writeln!(out, "\n## Method\n")?;
        writeln!(
            out,
            "Throughput is the median over trials with the distribution-free interval of the median; \
             latency and CPU figures are medians over trials. {} trials in all ({} per contestant \
             and workload).\n",
            m.trials_total,
            trial_range(m.trials_min, m.trials_max)
        )?;
        let facts = [
            ("server CPUs", &m.server_cpus),
            ("load engine CPUs", &m.engine_cpus),
            ("warm-up", &m.warmup),
            ("trial duration", &m.trial_duration),
        ];
        for (label, value) in facts {
            if let Some(v) = value {
                writeln!(out, "- {label}: {}", esc(v))?;
            }
        }
        writeln!(
            out,
            "- suite: {} (sha256 {})\n- faceoff {}",
            esc(&data.run.suite_path),
            esc(&data.run.suite_sha256),
            esc(&data.faceoff_version)
        )?;
        Ok(out.into_bytes())
    }
}

/// Escapes text for a Markdown table cell: HTML-significant characters become entities and
/// Markdown punctuation is backslash-escaped; line breaks become spaces.
fn esc(s: &str) -> String {
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
