//! The audit as a terminal table and as Markdown: one row per contestant (grade, findings,
//! hostile-input passes, dependency counts), then every finding with its evidence. Missing
//! figures show as `-`, never as zero; a contestant a run did not audit shows as "not
//! audited" with the reason, never with a grade.

use std::fmt::Write as _;

use super::deps::Advisories;
use super::{AuditStatus, ContestantAudit, FindingKind};
use crate::report::term::clean;

/// The columns of the summary table.
pub const COLUMNS: [&str; 8] = [
    "contestant",
    "grade",
    "score",
    "findings",
    "hostile input",
    "deps direct",
    "deps total",
    "installed MiB",
];

/// One contestant's place in the audit: its audit, or why it has none.
#[derive(Debug, Clone, Copy)]
pub enum Entry<'a> {
    /// It was audited (or its audit says why it could not be probed).
    Audited(&'a ContestantAudit),
    /// A run did not audit it.
    NotAudited {
        /// Machine name.
        name: &'a str,
        /// Name for tables.
        display_name: &'a str,
        /// Why, one sentence.
        reason: &'a str,
    },
}

impl Entry<'_> {
    fn name(&self) -> &str {
        match self {
            Entry::Audited(a) => &a.name,
            Entry::NotAudited { name, .. } => name,
        }
    }

    fn display_name(&self) -> &str {
        match self {
            Entry::Audited(a) => &a.display_name,
            Entry::NotAudited { display_name, .. } => display_name,
        }
    }
}

/// Every audit as an entry.
pub fn entries(audits: &[ContestantAudit]) -> Vec<Entry<'_>> {
    audits.iter().map(Entry::Audited).collect()
}

fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
}

/// The summary cells of one contestant, in [`COLUMNS`] order.
pub fn cells(e: &Entry<'_>) -> [String; 8] {
    let a = match e {
        Entry::Audited(a) => a,
        Entry::NotAudited { name, .. } => {
            let mut row: [String; 8] = Default::default();
            row[0] = name.to_string();
            row[1] = "not audited".into();
            for c in row.iter_mut().skip(2) {
                *c = "-".into();
            }
            return row;
        }
    };
    let d = &a.dependencies;
    [
        a.name.clone(),
        match a.status {
            AuditStatus::Audited => or_dash(a.grade.as_deref()),
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

/// How a finding's kind is named in tables.
pub fn kind_label(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Header => "header",
        FindingKind::Disclosure => "disclosure",
        FindingKind::Probe => "hostile input",
        FindingKind::Health => "health after",
        FindingKind::Advisory => "advisory",
    }
}

/// Known advisories in one line, or why they were not checked.
pub fn advisories_line(a: &ContestantAudit) -> String {
    match &a.dependencies.advisories {
        Advisories::Checked { source, list } => format!("{} known ({source})", list.len()),
        Advisories::NotChecked { reason } => format!("not checked: {reason}"),
    }
}

/// The terminal table and findings.
pub fn term(audits: &[ContestantAudit]) -> String {
    let entries = entries(audits);
    let mut out = table(&entries);
    out.push_str(&details(&entries));
    out
}

/// The terminal summary table: one row per entry.
pub fn table(entries: &[Entry<'_>]) -> String {
    let rows: Vec<[String; 8]> = entries
        .iter()
        .map(|e| cells(e).map(|c| clean(&c)))
        .collect();
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
    out
}

/// Per entry, every finding with its evidence (or why it was not audited), for a terminal.
pub fn details(entries: &[Entry<'_>]) -> String {
    let mut out = String::new();
    for e in entries {
        let _ = writeln!(
            out,
            "\n{} ({}):",
            clean(e.name()),
            e.display_name().escape_debug()
        );
        let a = match e {
            Entry::Audited(a) => a,
            Entry::NotAudited { reason, .. } => {
                let _ = writeln!(out, "  not audited: {}", clean(reason));
                continue;
            }
        };
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
        for l in &a.left_out {
            let _ = writeln!(out, "  not run: {}: {}", l.probe, l.reason.escape_debug());
        }
        if let Advisories::Checked { .. } = a.dependencies.advisories {
            let _ = writeln!(out, "  advisories: {}", advisories_line(a));
        }
    }
    // The same reason for every contestant, said once.
    let reasons: std::collections::BTreeSet<&str> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Audited(a) => match &a.dependencies.advisories {
                Advisories::NotChecked { reason } => Some(reason.as_str()),
                Advisories::Checked { .. } => None,
            },
            Entry::NotAudited { .. } => None,
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
    markdown_of(&entries(audits))
}

/// [`markdown`] of entries, some of which may not have been audited.
pub fn markdown_of(entries: &[Entry<'_>]) -> String {
    let mut out = String::from("## Security audit\n\n");
    out.push_str(
        "Headers scored with Mozilla HTTP Observatory's rubric (HSTS n/a over plain HTTP); \
         hostile input sent to 127.0.0.1 only; dependencies from each lockfile.\n\n",
    );
    let _ = writeln!(out, "| {} |", COLUMNS.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(COLUMNS.len()));
    for e in entries {
        let c: Vec<String> = cells(e).iter().map(|s| cell(s)).collect();
        let _ = writeln!(out, "| {} |", c.join(" | "));
    }
    for e in entries {
        let _ = writeln!(out, "\n### {}\n", cell(e.name()));
        let a = match e {
            Entry::Audited(a) => a,
            Entry::NotAudited { reason, .. } => {
                let _ = writeln!(out, "Not audited: {}", cell(reason));
                continue;
            }
        };
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
        for l in &a.left_out {
            let _ = writeln!(out, "- not run: {}: {}", cell(&l.probe), cell(&l.reason));
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
