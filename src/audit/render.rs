//! The audit as a terminal table and as Markdown: one row per contestant (grade, findings,
//! hostile-input passes, dependency counts), then every finding with its evidence. Missing
//! figures show as `-`, never as zero.

use std::fmt::Write as _;

use super::deps::Advisories;
use super::{AuditStatus, ContestantAudit, FindingKind};

/// The columns of the summary table.
const COLUMNS: [&str; 8] = [
    "contestant",
    "grade",
    "score",
    "findings",
    "hostile input",
    "deps direct",
    "deps total",
    "installed MiB",
];

fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

/// The summary cells of one contestant, in [`COLUMNS`] order.
fn cells(a: &ContestantAudit) -> [String; 8] {
    let d = &a.dependencies;
    [
        a.name.clone(),
        match a.status {
            AuditStatus::Audited => or_dash(a.grade),
            AuditStatus::Skipped => "skipped".into(),
            AuditStatus::Error => "error".into(),
        },
        or_dash(a.score),
        a.findings.len().to_string(),
        a.probes_passed()
            .map(|(p, n)| format!("{p}/{n} passed"))
            .unwrap_or_else(|| "-".into()),
        or_dash(d.direct),
        or_dash(d.total),
        or_dash(
            d.installed_bytes
                .map(|b| format!("{:.1}", b as f64 / (1024.0 * 1024.0))),
        ),
    ]
}

fn kind_label(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Header => "header",
        FindingKind::Disclosure => "disclosure",
        FindingKind::Probe => "hostile input",
        FindingKind::Health => "health after",
        FindingKind::Advisory => "advisory",
    }
}

fn advisories_line(a: &ContestantAudit) -> String {
    match &a.dependencies.advisories {
        Advisories::Checked { source, list } => format!("{} known ({source})", list.len()),
        Advisories::NotChecked { reason } => format!("not checked: {reason}"),
    }
}

/// The terminal table and findings.
pub fn term(audits: &[ContestantAudit]) -> String {
    let rows: Vec<[String; 8]> = audits.iter().map(cells).collect();
    let widths: Vec<usize> = (0..COLUMNS.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([COLUMNS[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    let line = |cells: &[String]| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            let pad = w.saturating_sub(c.chars().count());
            if i == 0 {
                l.push_str(c);
                l.push_str(&" ".repeat(pad));
            } else {
                l.push_str("  ");
                l.push_str(&" ".repeat(pad));
                l.push_str(c);
            }
        }
        l.trim_end().to_string()
    };
    let header: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
    let _ = writeln!(out, "{}", line(&header));
    for r in &rows {
        let _ = writeln!(out, "{}", line(r));
    }
    for a in audits {
        let _ = writeln!(out, "\n{} ({}):", a.name, a.display_name.escape_debug());
        if let Some(m) = &a.message {
            let _ = writeln!(out, "  {m}");
        }
        for f in &a.findings {
            let _ = writeln!(out, "  [{}] {}: {}", kind_label(f.kind), f.name, f.detail);
            let _ = writeln!(out, "      evidence: {}", f.evidence.escape_debug());
        }
        if a.findings.is_empty() && a.status == AuditStatus::Audited {
            let _ = writeln!(out, "  no findings");
        }
        if let Advisories::Checked { .. } = a.dependencies.advisories {
            let _ = writeln!(out, "  advisories: {}", advisories_line(a));
        }
    }
    // The same reason for every contestant, said once.
    let reasons: std::collections::BTreeSet<&str> = audits
        .iter()
        .filter_map(|a| match &a.dependencies.advisories {
            Advisories::NotChecked { reason } => Some(reason.as_str()),
            Advisories::Checked { .. } => None,
        })
        .collect();
    for reason in reasons {
        let _ = writeln!(out, "\nadvisories not checked: {reason}");
    }
    out
}

/// Escapes text for a Markdown table cell or list item: every ASCII punctuation character
/// becomes a numeric HTML entity, so neither Markdown nor HTML reads anything in it.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            c if c.is_ascii_punctuation()
                && !matches!(
                    c,
                    '.' | ','
                        | ':'
                        | ';'
                        | '/'
                        | '-'
                        | '('
                        | ')'
                        | '='
                        | '?'
                        | '\''
                        | '"'
                        | '%'
                        | '+'
                        | '@'
                ) =>
            {
                let _ = write!(out, "&#{};", c as u32);
            }
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The audit as a Markdown section (its own `##` heading).
pub fn markdown(audits: &[ContestantAudit]) -> String {
    let mut out = String::from("## Security audit\n\n");
    out.push_str(
        "Headers scored with Mozilla HTTP Observatory's rubric (HSTS n/a over plain HTTP); \
         hostile input sent to 127.0.0.1 only; dependencies from each lockfile.\n\n",
    );
    let _ = writeln!(out, "| {} |", COLUMNS.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(COLUMNS.len()));
    for a in audits {
        let c: Vec<String> = cells(a).iter().map(|s| cell(s)).collect();
        let _ = writeln!(out, "| {} |", c.join(" | "));
    }
    for a in audits {
        let _ = writeln!(out, "\n### {}\n", cell(&a.name));
        if let Some(m) = &a.message {
            let _ = writeln!(out, "{}\n", cell(m));
        }
        if a.findings.is_empty() && a.status == AuditStatus::Audited {
            out.push_str("No findings.\n\n");
        }
        for f in &a.findings {
            let _ = writeln!(
                out,
                "- **{}** {}: {}  \n  evidence: {}",
                kind_label(f.kind),
                cell(&f.name),
                cell(&f.detail),
                cell(&f.evidence)
            );
        }
        let _ = writeln!(out, "\nAdvisories: {}", cell(&advisories_line(a)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_markdown() {
        let s = cell("<script>|a*b_`x`\nnext");
        assert!(
            !s.contains('<') && !s.contains('|') && !s.contains('`') && !s.contains('\n'),
            "{s}"
        );
        assert_eq!(cell("GET /json -> 200"), "GET /json -&#62; 200");
    }
}
