//! The security audit section of a run's report (issue 11): one row per contestant of the run,
//! with the audit `faceoff run` stored for it, or why it has none ("not audited", never a
//! grade). The terminal shows the table, Markdown the table and every finding
//! ([`crate::audit::render`]), HTML a table and each finding's evidence in a collapsible block
//! (`audit.html`).

use serde::Serialize;

use crate::audit::render::{self, Entry};
use crate::audit::AuditDepth;
use crate::store::{ContestantAudit, ContestantStatus, RunDetail, RunStatus};

/// The audit section.
#[derive(Debug, Clone, Serialize)]
pub struct AuditSection {
    /// How deep the run audited; `None` when it did not record it (a run made before run
    /// audits).
    pub depth: Option<AuditDepth>,
    /// One row per contestant of the run, in the run's order.
    pub rows: Vec<AuditRow>,
}

/// One contestant in the audit section.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    /// Short name.
    pub name: String,
    /// Name shown in tables.
    pub display_name: String,
    /// Stack label.
    pub stack: String,
    /// Its audit; `None` when it was not audited.
    pub audit: Option<ContestantAudit>,
    /// Why it was not audited; `None` when it was.
    pub not_audited: Option<String>,
}

impl AuditSection {
    /// Each row as an entry for [`render`].
    fn entries(&self) -> Vec<Entry<'_>> {
        self.rows
            .iter()
            .map(|r| match &r.audit {
                Some(a) => Entry::Audited(a),
                None => Entry::NotAudited {
                    name: &r.name,
                    display_name: &r.display_name,
                    reason: r.not_audited.as_deref().unwrap_or("no audit stored"),
                },
            })
            .collect()
    }
}

/// The audit section of a stored run.
pub(super) fn section(detail: &RunDetail) -> AuditSection {
    let depth = detail.settings.as_ref().and_then(|s| s.audit);
    let mut rows: Vec<AuditRow> = detail
        .contestants
        .iter()
        .map(|c| {
            let audit = detail.audits.iter().find(|a| a.name == c.name).cloned();
            let not_audited = audit
                .is_none()
                .then(|| why_not_audited(depth, c.status, detail.run.status));
            AuditRow {
                name: c.name.clone(),
                display_name: c.display_name.clone(),
                stack: c.stack.clone(),
                audit,
                not_audited,
            }
        })
        .collect();
    // An audit of a name the run's list lacks is still shown.
    for a in &detail.audits {
        if !rows.iter().any(|r| r.name == a.name) {
            rows.push(AuditRow {
                name: a.name.clone(),
                display_name: a.display_name.clone(),
                stack: a.stack.clone(),
                audit: Some(a.clone()),
                not_audited: None,
            });
        }
    }
    AuditSection { depth, rows }
}

/// Why a contestant of a run has no stored audit.
fn why_not_audited(
    depth: Option<AuditDepth>,
    contestant: ContestantStatus,
    run: RunStatus,
) -> String {
    match (depth, contestant, run) {
        (Some(AuditDepth::Off), _, _) => {
            "the run was made with --audit off; `faceoff audit` audits it".into()
        }
        (_, ContestantStatus::Crashed, _) => "it crashed during the run".into(),
        (_, ContestantStatus::Measured, RunStatus::Interrupted | RunStatus::Running) => {
            "the run stopped before its audit; `faceoff run --resume` audits it".into()
        }
        (_, ContestantStatus::Measured, RunStatus::Failed) => {
            "the run failed before its audit".into()
        }
        (None, ContestantStatus::Measured, _) => {
            "this run was made by a faceoff that did not audit in `run`".into()
        }
        (_, ContestantStatus::Measured, _) => "no audit was stored for it".into(),
        (_, status, _) => format!(
            "it was not measured ({})",
            status.as_str().replace('_', " ")
        ),
    }
}

/// What the terminal shows: the table and why any contestant was not audited. The findings
/// and their evidence are in the Markdown and HTML reports.
pub(super) fn term(section: &AuditSection) -> String {
    if section.rows.is_empty() {
        return String::new();
    }
    let entries = section.entries();
    let mut out = format!("\nsecurity audit{}:\n", depth_note(section.depth));
    out.push_str(&render::table(&entries));
    let missing = section.rows.iter().filter(|r| r.audit.is_none());
    for r in missing {
        out.push_str(&format!(
            "{}: not audited: {}\n",
            r.name,
            r.not_audited.as_deref().unwrap_or_default()
        ));
    }
    let findings: usize = section
        .rows
        .iter()
        .filter_map(|r| r.audit.as_ref())
        .map(|a| a.findings.len())
        .sum();
    if findings > 0 {
        out.push_str("every finding and its evidence: report.html, summary.md\n");
    }
    out
}

/// The Markdown section: [`render::markdown_of`] of the rows.
pub(super) fn markdown(section: &AuditSection) -> String {
    if section.rows.is_empty() {
        return String::new();
    }
    let mut out = format!("\n{}", render::markdown_of(&section.entries()));
    if let Some(depth) = section.depth {
        out.push_str(&format!("\nAudit depth: {}.\n", depth_text(depth)));
    }
    out
}

/// How deep the audit went, for people.
pub(super) fn depth_text(depth: AuditDepth) -> &'static str {
    match depth {
        AuditDepth::Full => "full (every probe, as `faceoff audit`)",
        AuditDepth::Quick => {
            "quick (every probe but the slow client; `faceoff audit` or `--audit full` runs it)"
        }
        AuditDepth::Off => "off",
    }
}

fn depth_note(depth: Option<AuditDepth>) -> &'static str {
    match depth {
        Some(AuditDepth::Quick) => " (quick: the slow-client probe is left to `faceoff audit`)",
        _ => "",
    }
}

/// One row of the HTML section, every text formatted here as in the other formats.
#[derive(Debug, Clone, Serialize)]
pub(super) struct HtmlRow {
    /// Short name.
    name: String,
    /// Name shown in tables.
    display_name: String,
    /// The summary cells ([`render::COLUMNS`] after the name).
    cells: Vec<String>,
    /// Badge class of the grade: `good` (A or B), `warn` (C or D), `bad` (F, errors).
    grade_class: &'static str,
    /// Why it was not audited, or why it was not probed.
    note: Option<String>,
    /// Hostile-input probes passed and failed, as text (`-` when not probed).
    hostile: String,
    /// Every finding.
    findings: Vec<HtmlFinding>,
    /// Probes not run, as text.
    left_out: Vec<String>,
    /// Known advisories, or why they were not checked.
    advisories: Option<String>,
    /// Whether it was audited.
    audited: bool,
}

/// One finding of the HTML section.
#[derive(Debug, Clone, Serialize)]
struct HtmlFinding {
    kind: &'static str,
    name: String,
    detail: String,
    evidence: String,
}

/// The rows of the HTML section.
pub(super) fn html_rows(section: &AuditSection) -> Vec<HtmlRow> {
    section
        .entries()
        .iter()
        .zip(&section.rows)
        .map(|(entry, row)| {
            let cells = render::cells(entry);
            let audit = row.audit.as_ref();
            let grade_class = match audit {
                Some(a) => match a.grade.as_deref().and_then(|g| g.chars().next()) {
                    Some('A' | 'B') => "good",
                    Some('C' | 'D') => "warn",
                    _ => "bad",
                },
                None => "warn",
            };
            HtmlRow {
                name: row.name.clone(),
                display_name: row.display_name.clone(),
                cells: cells[1..].to_vec(),
                grade_class,
                note: row
                    .not_audited
                    .clone()
                    .or_else(|| audit.and_then(|a| a.message.clone())),
                hostile: audit
                    .and_then(|a| a.hostile)
                    .map(|h| format!("{} passed, {} failed", h.passed, h.failed))
                    .unwrap_or_else(|| "-".into()),
                findings: audit
                    .map(|a| {
                        a.findings
                            .iter()
                            .map(|f| HtmlFinding {
                                kind: render::kind_label(f.kind),
                                name: f.name.clone(),
                                detail: f.detail.clone(),
                                evidence: f.evidence.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                left_out: audit
                    .map(|a| {
                        a.left_out
                            .iter()
                            .map(|l| format!("{}: {}", l.probe, l.reason))
                            .collect()
                    })
                    .unwrap_or_default(),
                advisories: audit.map(render::advisories_line),
                audited: audit.is_some(),
            }
        })
        .collect()
}
