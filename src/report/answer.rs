//! The claims and verdict sections (issue 12), which lead every report: the text of their
//! cells, formatted once here for the terminal (`faceoff claims`, `faceoff verdict`), Markdown
//! and HTML alike. The figures and judgements themselves come from [`crate::verdict`].

use std::fmt::Write;

use serde::Serialize;

use super::format::MISSING;
use super::md::esc;
use super::term::clean;
use crate::verdict::cost::{CostEstimate, Span};
use crate::verdict::judge::{ClaimsReport, JudgedClaim};
use crate::verdict::ProfileVerdict;

/// One contestant's row of a verdict table, as text.
#[derive(Debug, Clone, Serialize)]
pub struct VerdictRow {
    /// Place, or "—" when unranked.
    pub place: String,
    /// Display name and stack.
    pub contestant: String,
    /// Score with its interval.
    pub score: String,
    /// Cost per month with its range, or why there is none.
    pub per_month: String,
    /// Cost per million requests.
    pub per_million: String,
    /// Instances and their size.
    pub instances: String,
    /// Why it stands there.
    pub reasons: String,
    /// Caveats, joined.
    pub caveats: String,
}

/// The rows of one verdict's table.
pub fn verdict_rows(v: &ProfileVerdict) -> Vec<VerdictRow> {
    v.ranking
        .iter()
        .map(|r| VerdictRow {
            place: r.place.map_or_else(|| MISSING.into(), |p| p.to_string()),
            contestant: format!("{} ({})", r.display_name, r.stack),
            score: match (r.score, r.score_lo, r.score_hi) {
                (Some(s), Some(lo), Some(hi)) => format!("{s:.2} [{lo:.2} – {hi:.2}]"),
                _ => "no figures".into(),
            },
            per_month: r.cost.as_ref().map_or_else(
                || r.cost_missing.clone().unwrap_or_else(|| MISSING.into()),
                |c| money_span(c, &c.per_month, 2),
            ),
            per_million: r
                .cost
                .as_ref()
                .map_or_else(|| MISSING.into(), |c| money_span(c, &c.per_million, 4)),
            instances: r.cost.as_ref().map_or_else(
                || MISSING.into(),
                |c| {
                    format!(
                        "{} × {} vCPU / {} GB",
                        count_span(&c.instances),
                        c.vcpu,
                        c.memory_gb
                    )
                },
            ),
            reasons: r.reasons.join("; "),
            caveats: r.caveat_text.join("; "),
        })
        .collect()
}

/// The settings line of a verdict.
pub fn verdict_settings(v: &ProfileVerdict) -> String {
    let p = &v.profile;
    format!(
        "SLO p99 < {} ms · target {} req/s · headroom {}% · security weight {}% · priced on {} ({})",
        p.slo_p99_us / 1000.0,
        super::format::group(p.target_rps.round() as u64),
        (p.headroom * 100.0).round(),
        (p.security_weight * 100.0).round(),
        v.pricing,
        v.pricing_source
    )
}

fn money(c: &CostEstimate, v: f64, decimals: usize) -> String {
    let sign = if c.currency == "USD" { "$" } else { "" };
    let unit = if c.currency == "USD" {
        String::new()
    } else {
        format!(" {}", c.currency)
    };
    format!("{sign}{v:.decimals$}{unit}")
}

fn money_span(c: &CostEstimate, s: &Span, decimals: usize) -> String {
    let hi =
        s.hi.map_or_else(|| "unbounded".into(), |h| money(c, h, decimals));
    if s.hi == Some(s.lo) && s.lo == s.point {
        money(c, s.point, decimals)
    } else {
        format!(
            "{} [{} – {hi}]",
            money(c, s.point, decimals),
            money(c, s.lo, decimals)
        )
    }
}

fn count_span(s: &Span) -> String {
    match s.hi {
        Some(hi) if hi == s.lo => format!("{}", s.point),
        Some(hi) => format!("{} [{}–{hi}]", s.point, s.lo),
        None => format!("{} [{}–unbounded]", s.point, s.lo),
    }
}

/// `faceoff claims`: the judged claims as plain text.
pub fn claims_text(report: &ClaimsReport) -> String {
    let mut out = String::new();
    let runs: Vec<String> = report
        .runs
        .iter()
        .map(|r| format!("{} ({})", r.id, clean(&r.suite)))
        .collect();
    let _ = writeln!(
        out,
        "Claims: {} ({}), judged on run{} {}",
        clean(&report.title),
        clean(&report.file),
        if runs.len() == 1 { "" } else { "s" },
        runs.join(", ")
    );
    if !report.source.is_empty() {
        let _ = writeln!(out, "source: {}", clean(&report.source));
    }
    for c in &report.claims {
        claim_text(&mut out, c);
    }
    if !report.not_measurable.is_empty() {
        let _ = writeln!(out, "\nNot measurable by faceoff:");
        for c in &report.not_measurable {
            let _ = writeln!(
                out,
                "  {} ({}): {}",
                clean(&c.id),
                clean(&c.topic),
                clean(&c.reason)
            );
        }
    }
    out
}

fn claim_text(out: &mut String, c: &JudgedClaim) {
    let _ = writeln!(
        out,
        "\n[{}] {}: {}",
        c.outcome.word(),
        clean(&c.id),
        clean(&c.topic)
    );
    let _ = writeln!(out, "  {}", clean(&c.quote));
    let _ = writeln!(out, "  = {}", clean(&c.summary));
    for t in &c.tests {
        let at = match t.size {
            Some(n) => format!("{} (n = {})", t.workload, super::format::group(n)),
            None => t.workload.clone(),
        };
        let from = t
            .run
            .as_ref()
            .map(|r| format!(" (run {}, {})", r.id, clean(&r.suite)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    {} on {}{from}: {}: {}",
            t.measure.name(),
            clean(&at),
            t.outcome.word(),
            clean(&t.why)
        );
        if let Some(note) = &t.framework_note {
            let _ = writeln!(out, "      {}", clean(note));
        }
    }
}

/// `faceoff verdict`: one profile's ranking as plain text.
pub fn verdict_text(v: &ProfileVerdict) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Verdict for profile {} on run {}: {}",
        clean(&v.profile.name),
        v.run_id,
        clean(&v.profile.description)
    );
    let _ = writeln!(out, "{}", clean(&verdict_settings(v)));
    for row in verdict_rows(v) {
        let _ = writeln!(
            out,
            "\n{:>2}. {}  score {}",
            row.place,
            clean(&row.contestant),
            row.score
        );
        let why = if row.reasons.is_empty() {
            "no figure on any workload the profile weighs"
        } else {
            &row.reasons
        };
        let _ = writeln!(out, "    why: {}", clean(why));
        if row.per_million == MISSING {
            let _ = writeln!(out, "    cost: {}", clean(&row.per_month));
        } else {
            let _ = writeln!(
                out,
                "    cost: {} a month, {} per million requests, {} instances",
                clean(&row.per_month),
                row.per_million,
                row.instances
            );
        }
        if !row.caveats.is_empty() {
            let _ = writeln!(out, "    caveats: {}", clean(&row.caveats));
        }
    }
    for note in &v.notes {
        let _ = writeln!(out, "note: {}", clean(note));
    }
    out
}

/// The claims and verdict sections of the Markdown report.
pub(super) fn markdown(
    out: &mut String,
    claims: &ClaimsReport,
    verdicts: &[ProfileVerdict],
) -> std::fmt::Result {
    writeln!(out, "## Claims\n")?;
    writeln!(
        out,
        "*{}* ({}), judged on this run. Supported or refuted only when the figures clear the \
         claim's margin (95% intervals where there are any); otherwise inconclusive, saying \
         what is missing.\n",
        esc(&claims.title),
        esc(&claims.file)
    )?;
    writeln!(out, "| claim | outcome | measured |")?;
    writeln!(out, "|---|---|---|")?;
    for c in &claims.claims {
        writeln!(
            out,
            "| **{}**: {} | {} | {} |",
            esc(&c.topic),
            esc(&c.quote),
            c.outcome.word(),
            esc(&c.summary)
        )?;
    }
    for c in &claims.claims {
        let judged: Vec<_> = c.tests.iter().filter(|t| t.missing.is_none()).collect();
        if judged.is_empty() {
            continue;
        }
        writeln!(out, "\n**{}** ({})\n", esc(&c.topic), c.outcome.word())?;
        for t in judged {
            writeln!(
                out,
                "- {} on {}: {}: {}",
                t.measure.name(),
                esc(&t.workload),
                t.outcome.word(),
                esc(&t.why)
            )?;
            if let Some(note) = &t.framework_note {
                writeln!(out, "  - {}", esc(note))?;
            }
        }
    }
    if !claims.not_measurable.is_empty() {
        writeln!(out, "\nNot measurable by faceoff:\n")?;
        for c in &claims.not_measurable {
            writeln!(out, "- **{}**: {}", esc(&c.topic), esc(&c.reason))?;
        }
    }
    writeln!(out, "\n## Verdict per project profile\n")?;
    for v in verdicts {
        writeln!(
            out,
            "### {}: {}\n\n{}\n",
            esc(&v.profile.name),
            esc(&v.profile.description),
            esc(&verdict_settings(v))
        )?;
        writeln!(
            out,
            "| # | contestant | score | per month | per million requests | caveats |"
        )?;
        writeln!(out, "|--:|---|--:|--:|--:|---|")?;
        for row in verdict_rows(v) {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                row.place,
                esc(&row.contestant),
                row.score,
                esc(&row.per_month),
                row.per_million,
                esc(&row.caveats)
            )?;
        }
        for note in &v.notes {
            writeln!(out, "\n*{}*", esc(note))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// The HTML of both sections, included at the top of `report.html`.
pub(super) const TEMPLATE: &str = include_str!("answer.html");

/// What `answer.html` needs beyond the data: the verdict tables' text and, per workload, the
/// anchor of its section, so each figure links to the row it came from.
pub(super) fn html_context(data: &super::ReportData) -> minijinja::Value {
    let anchors: std::collections::BTreeMap<&str, String> = data
        .workloads
        .iter()
        .enumerate()
        .map(|(i, w)| (w.name.as_str(), format!("workload-{}", i + 1)))
        .collect();
    let verdicts: Vec<minijinja::Value> = data
        .verdicts
        .iter()
        .map(|v| {
            minijinja::context! {
                settings => verdict_settings(v),
                rows => minijinja::value::Serde(verdict_rows(v)),
            }
        })
        .collect();
    minijinja::context! {
        anchors => anchors,
        verdicts => verdicts,
    }
}
