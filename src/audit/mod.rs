//! `faceoff audit`'s probes: the security posture of one running contestant, measured the same
//! way for every one (issue 11). Response headers scored with Mozilla HTTP Observatory's rubric
//! ([`headers`]), version disclosure, hostile input ([`hostile`]) with the server's health
//! checked after each probe, and its dependencies ([`deps`]). Every probe goes to the
//! contestant's loopback address, is bounded in bytes and time, and closes what it opened.

pub mod deps;
pub mod headers;
pub mod hostile;
pub mod probe;
pub mod render;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::cancel::Cancel;
use crate::contract::{self, dataset::Dataset, CheckResult};
use deps::Dependencies;
use headers::HeaderScore;
use hostile::ProbeResult;
use probe::Answer;

/// Version of the `--json` document (docs/audit.md).
pub const SCHEMA_VERSION: u32 = 1;

/// The Origin sent with the headers request, so a server that reflects any origin shows it.
pub const AUDIT_ORIGIN: &str = "https://faceoff-audit.example";

/// The contract checks run after the probes to see the server still works.
pub const HEALTH_CHECKS: &[&str] = &["healthz", "plaintext", "json", "not-found"];

/// How long the health check after each probe waits for `/healthz`.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);

/// Longest a quick audit keeps starting probes on one contestant: a server that hangs on every
/// probe (5 s each, plus a health check) would otherwise hold `faceoff run` for over a minute.
pub const QUICK_BUDGET: Duration = Duration::from_secs(20);

/// How much of the audit to run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum AuditDepth {
    /// Every probe, with no time budget (what `faceoff audit` runs).
    Full,
    /// Every probe but the slow client (8 s of waiting per contestant), within
    /// [`QUICK_BUDGET`] per contestant: the default of `faceoff run`.
    #[default]
    Quick,
    /// No audit.
    Off,
}

/// A probe the audit did not run, and why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LeftOut {
    /// The probe's name (`slow-client`, `large-body`, ...).
    pub probe: String,
    /// Why it did not run.
    pub reason: String,
}

/// Hostile-input probes passed and failed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct HostileTally {
    /// Probes passed.
    pub passed: usize,
    /// Probes failed.
    pub failed: usize,
}

/// A running contestant the audit can probe, and start again if a probe kills it.
pub trait Target {
    /// Where it listens (changes after a restart).
    fn addr(&self) -> SocketAddr;
    /// `Some(how)` when its process has exited.
    fn exited(&mut self) -> Option<String>;
    /// Starts it again; `Err(why)` if it could not be.
    fn restart(&mut self) -> Result<(), String>;
}

/// The headers a contestant sends, and their score.
#[derive(Debug, Clone, Serialize)]
pub struct HeaderAudit {
    /// The request scored.
    pub request: String,
    /// What it answered (status and headers are the evidence of every header finding).
    pub answer: Answer,
    /// Score, grade and every rubric test.
    pub score: HeaderScore,
}

/// What an audit found on one running contestant.
#[derive(Debug, Clone, Serialize)]
pub struct Probed {
    /// Response headers and their grade.
    pub headers: HeaderAudit,
    /// Every hostile-input probe, in the order run.
    pub probes: Vec<ProbeResult>,
    /// The contract checks run after the probes ([`HEALTH_CHECKS`]).
    pub health_after: Vec<CheckResult>,
    /// Probes not run (a quick audit, or its time budget used up); the record shows them as
    /// [`ContestantAudit::left_out`].
    #[serde(skip)]
    pub left_out: Vec<LeftOut>,
}

/// Which part of the audit a finding comes from.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A rubric test that costs points.
    Header,
    /// A header that names the software or its version.
    Disclosure,
    /// A hostile-input probe that failed.
    Probe,
    /// A contract check that failed after the probes.
    Health,
    /// A known advisory.
    Advisory,
}

/// One thing to fix, with its evidence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Finding {
    /// Where it comes from.
    pub kind: FindingKind,
    /// The test, header, probe, check or advisory it concerns.
    pub name: String,
    /// What is wrong.
    pub detail: String,
    /// The request sent and what came back.
    pub evidence: String,
}

/// Probes the contestant behind `target` as deep as `depth` says (`Off` probes as `Full`: a
/// caller that audits nothing does not call this); `None` when interrupted.
pub fn probe_contestant(
    target: &mut dyn Target,
    cancel: &Cancel,
    depth: AuditDepth,
) -> Option<Probed> {
    let started = Instant::now();
    let request = format!("GET /fortunes with Origin: {AUDIT_ORIGIN}");
    let origin = format!("Origin: {AUDIT_ORIGIN}");
    let answer = probe::exchange(
        target.addr(),
        &probe::head("GET", b"/fortunes", &[origin]),
        probe::PROBE_TIMEOUT,
    );
    let empty = Vec::new();
    let seen = match &answer {
        Answer::Response { headers, .. } => headers,
        _ => &empty,
    };
    let mut score = headers::score(seen, AUDIT_ORIGIN);
    // Disclosure shows on any answer; /json is the plainest.
    if let Answer::Response { headers: more, .. } = probe::exchange(
        target.addr(),
        &probe::head("GET", b"/json", &[]),
        probe::PROBE_TIMEOUT,
    ) {
        for d in headers::disclosures(&more) {
            if !score.disclosures.contains(&d) {
                score.disclosures.push(d);
            }
        }
    }
    let header_audit = HeaderAudit {
        request,
        answer,
        score,
    };
    let addr = target.addr();
    let mut left_out = Vec::new();
    let mut probes = match depth {
        // The two waiting probes run side by side; neither sends much.
        AuditDepth::Full | AuditDepth::Off => {
            let (slow, half) = std::thread::scope(|s| {
                let slow = s.spawn(|| hostile::slow_client(addr, cancel));
                let half = hostile::half_open(addr);
                (slow.join().ok().flatten(), half)
            });
            vec![slow?, half]
        }
        AuditDepth::Quick => {
            left_out.push(LeftOut {
                probe: hostile::SLOW_CLIENT.into(),
                reason: format!(
                    "a quick audit leaves it out (it waits {} s); `faceoff audit` or \
                     `faceoff run --audit full` runs it",
                    hostile::SLOW_WINDOW.as_secs()
                ),
            });
            vec![hostile::half_open(addr)]
        }
    };
    let mut up = true;
    for r in probes.iter_mut() {
        up = check_health(target, r);
        if !up {
            break;
        }
    }
    for p in hostile::PROBES {
        if cancel.is_cancelled() {
            return None;
        }
        let over_budget = depth == AuditDepth::Quick && started.elapsed() >= QUICK_BUDGET;
        if !up || over_budget {
            left_out.push(LeftOut {
                probe: p.name.into(),
                reason: if up {
                    format!(
                        "the quick audit's {} s per contestant were used up",
                        QUICK_BUDGET.as_secs()
                    )
                } else {
                    "the server was down and could not be started again".into()
                },
            });
            continue;
        }
        let mut result = hostile::run(p, target.addr());
        up = check_health(target, &mut result);
        probes.push(result);
    }
    if cancel.is_cancelled() {
        return None;
    }
    let blank = Dataset {
        path: Default::default(),
        world: Vec::new(),
        fortunes: Vec::new(),
        postgres: None,
    };
    let health_after = contract::verify_only(target.addr(), &blank, HEALTH_CHECKS, &mut || {
        target.exited()
    });
    Some(Probed {
        headers: header_audit,
        probes,
        health_after,
        left_out,
    })
}

/// After a probe: is the server still up? If not, the probe fails with how it went down and
/// the server is started again for the next one. Returns false when it could not be.
fn check_health(target: &mut dyn Target, result: &mut ProbeResult) -> bool {
    let started = Instant::now();
    let mut down = target.exited().map(|how| format!("exited ({how})"));
    if down.is_none() && !crate::contestant::health::probe_healthz(target.addr(), HEALTH_TIMEOUT) {
        // A dying process may need a moment to be seen as exited.
        std::thread::sleep(Duration::from_millis(200));
        down = Some(match target.exited() {
            Some(how) => format!("exited ({how})"),
            None => format!(
                "stopped answering GET /healthz within {:?}",
                HEALTH_TIMEOUT.max(started.elapsed())
            ),
        });
    }
    let Some(down) = down else {
        return true;
    };
    result.passed = false;
    result
        .reasons
        .push(format!("the server {down} after this probe"));
    match target.restart() {
        Ok(()) => true,
        Err(why) => {
            result
                .reasons
                .push(format!("it could not be started again: {why}"));
            false
        }
    }
}

/// Every finding of an audit, with its evidence: header tests that cost points, disclosures,
/// failed probes, failed health checks and known advisories.
pub fn findings(probed: Option<&Probed>, deps: &Dependencies) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(p) = probed {
        let status = p.headers.answer.short();
        for t in p.headers.score.tests.iter().filter(|t| t.is_finding()) {
            out.push(Finding {
                kind: FindingKind::Header,
                name: t.test.to_string(),
                detail: format!("{} ({}, {})", t.note, t.result, t.modifier.unwrap_or(0)),
                evidence: format!(
                    "{} -> {status}; {}",
                    p.headers.request,
                    match &t.value {
                        Some(v) => format!("{}: {v}", t.test),
                        None => "header absent".into(),
                    }
                ),
            });
        }
        for d in &p.headers.score.disclosures {
            out.push(Finding {
                kind: FindingKind::Disclosure,
                name: d.header.clone(),
                detail: format!("the {} header names the server software", d.header),
                evidence: format!("GET /fortunes, GET /json -> {}: {}", d.header, d.value),
            });
        }
        for r in p.probes.iter().filter(|r| !r.passed) {
            out.push(Finding {
                kind: FindingKind::Probe,
                name: r.name.to_string(),
                detail: r.reasons.join("; "),
                evidence: format!(
                    "sent {}; expected {}; got {} after {} ms",
                    r.sent,
                    r.expected,
                    r.answer.short(),
                    r.elapsed_ms
                ),
            });
        }
        for c in p.health_after.iter().filter(|c| !c.passed) {
            out.push(Finding {
                kind: FindingKind::Health,
                name: c.name.to_string(),
                detail: c.reason.clone().unwrap_or_else(|| "failed".into()),
                evidence: format!("contract check '{}' after the probes", c.name),
            });
        }
    }
    if let deps::Advisories::Checked { source, list } = &deps.advisories {
        for a in list {
            out.push(Finding {
                kind: FindingKind::Advisory,
                name: a.id.clone(),
                detail: format!(
                    "{} {}: {}",
                    a.package,
                    a.version.as_deref().unwrap_or(""),
                    a.title.as_deref().unwrap_or("(no title)")
                ),
                evidence: format!(
                    "{source}, severity {}",
                    a.severity.as_deref().unwrap_or("not given")
                ),
            });
        }
    }
    out
}

/// Whether a contestant could be audited.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AuditStatus {
    /// It was brought up and probed.
    Audited,
    /// A runtime it needs is missing; only its dependencies were counted.
    Skipped,
    /// It could not be brought up (install or start failed); only its dependencies were counted.
    Error,
}

/// The audit of one contestant: the `--json` record (docs/audit.md), and what `faceoff run`
/// stores per run and contestant (`Store::audits`).
///
/// Everything but [`ContestantAudit::probed`] is read back from the store: the findings carry
/// the evidence of every probe that failed, and the tallies say how many ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContestantAudit {
    /// Machine name.
    pub name: String,
    /// Name for tables.
    pub display_name: String,
    /// Its stack label (Node.js, Python, Rust, ...).
    pub stack: String,
    /// Whether it was probed.
    pub status: AuditStatus,
    /// Why it was not probed.
    pub message: Option<String>,
    /// Letter grade of its headers; `None` when it was not probed.
    pub grade: Option<String>,
    /// Score of its headers; `None` when it was not probed.
    pub score: Option<i32>,
    /// Hostile-input probes passed and failed; `None` when it was not probed.
    #[serde(default)]
    pub hostile: Option<HostileTally>,
    /// Probes not run, and why (empty for a full audit that finished).
    #[serde(default)]
    pub left_out: Vec<LeftOut>,
    /// What the probes found on the running server: every request and answer; absent when it
    /// was not probed. Written by `faceoff audit --json` and into the store, but not read back
    /// (its names are static strings), so a report of a run leaves it out.
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub probed: Option<Probed>,
    /// Its dependencies.
    pub dependencies: Dependencies,
    /// Every finding, with its evidence.
    pub findings: Vec<Finding>,
    /// How long its audit took, in milliseconds (bring-up included).
    pub elapsed_ms: u64,
}

impl ContestantAudit {
    /// Builds the record from what was measured.
    pub fn new(
        manifest: &crate::contestant::Manifest,
        status: AuditStatus,
        message: Option<String>,
        mut probed: Option<Probed>,
        dependencies: Dependencies,
        elapsed: Duration,
    ) -> ContestantAudit {
        ContestantAudit {
            name: manifest.name.clone(),
            display_name: manifest.display_name.clone(),
            stack: manifest.stack.clone(),
            status,
            message,
            grade: probed.as_ref().map(|p| p.headers.score.grade.to_string()),
            score: probed.as_ref().map(|p| p.headers.score.score),
            hostile: probed.as_ref().map(|p| {
                let passed = p.probes.iter().filter(|r| r.passed).count();
                HostileTally {
                    passed,
                    failed: p.probes.len() - passed,
                }
            }),
            left_out: probed
                .as_mut()
                .map(|p| std::mem::take(&mut p.left_out))
                .unwrap_or_default(),
            findings: findings(probed.as_ref(), &dependencies),
            probed,
            dependencies,
            elapsed_ms: elapsed.as_millis() as u64,
        }
    }

    /// Hostile-input probes passed and run; `None` when it was not probed.
    pub fn probes_passed(&self) -> Option<(usize, usize)> {
        let h = self.hostile?;
        Some((h.passed, h.passed + h.failed))
    }
}

/// The whole `faceoff audit --json` document.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// faceoff's version.
    pub faceoff_version: &'static str,
    /// One record per contestant, in the order audited.
    pub contestants: Vec<ContestantAudit>,
}
