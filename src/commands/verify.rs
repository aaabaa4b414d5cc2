//! `faceoff verify`: install, start and check every contestant against the API contract, then
//! print a table of contestant × check.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use crate::cli::VerifyArgs;
use crate::contestant::{self, Contestant, StartOptions};
use crate::contract::{self, CheckResult};

/// Folder searched for contestants when none is named.
pub const CONTESTANTS_DIR: &str = "contestants";

/// What became of one contestant.
#[derive(Debug, Serialize)]
pub struct Outcome {
    /// Machine name.
    pub name: String,
    /// Name for tables.
    pub display_name: String,
    /// `passed`, `failed`, `skipped` or `error`.
    pub status: &'static str,
    /// Why it was skipped or could not be checked.
    pub message: Option<String>,
    /// The check results (empty when it never started).
    pub checks: Vec<CheckResult>,
    /// Checks not run because they exercise endpoints its manifest does not declare.
    pub undeclared: Vec<&'static str>,
    /// `name=version` pairs from its versions command.
    pub versions: Vec<(String, String)>,
    /// Its server log.
    pub log: Option<PathBuf>,
}

/// Runs `faceoff verify`.
pub fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let dirs = if args.contestants.is_empty() {
        let root = Path::new(CONTESTANTS_DIR);
        if !root.is_dir() {
            anyhow::bail!(
                "there is no '{CONTESTANTS_DIR}' folder here; run faceoff from the project root \
                 or name contestants with --contestant DIR"
            );
        }
        let found = contestant::discover(root)?;
        if found.is_empty() {
            anyhow::bail!(
                "no folder under '{CONTESTANTS_DIR}' has a contestant.toml; name one with \
                 --contestant DIR"
            );
        }
        found
    } else {
        args.contestants.clone()
    };
    // Read every manifest first so a typo fails before any slow install.
    let contestants = dirs
        .iter()
        .map(|d| Contestant::load(d))
        .collect::<Result<Vec<_>, _>>()?;
    let server_cpus = match &args.server_cpus {
        Some(list) => list.0.clone(),
        None => default_server_cpus(&crate::sys::allowed_cpus()),
    };
    let only: Vec<&'static str> = match &args.checks {
        Some(names) => {
            let known = contract::check_names();
            for name in names {
                if !known.contains(&name.as_str()) {
                    anyhow::bail!(
                        "there is no check '{name}'; the checks are {}",
                        known.join(", ")
                    );
                }
            }
            known
                .into_iter()
                .filter(|k| names.iter().any(|n| n == k))
                .collect()
        }
        None => contract::check_names(),
    };
    let cache = contestant::cache_dir();
    contestant::process::stop_groups_on_interrupt();
    let mut outcomes = Vec::new();
    for c in &contestants {
        let outcome = verify_one(c, &cache, &server_cpus, &only)
            .with_context(|| format!("verifying contestant '{}'", c.name()))?;
        outcomes.push(outcome);
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "contestants": outcomes }))?;
        writeln!(out)?;
    } else {
        write_table(&mut out, &outcomes, &only)?;
    }
    let bad = outcomes
        .iter()
        .any(|o| o.status == "failed" || o.status == "error");
    Ok(if bad {
        ExitCode::from(crate::EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}

/// The server's share of the allowed CPUs: the upper half (the last one of two), leaving the
/// rest to faceoff; all of them on a single-CPU machine.
pub fn default_server_cpus(allowed: &[usize]) -> Vec<usize> {
    if allowed.len() < 2 {
        return allowed.to_vec();
    }
    allowed[allowed.len() / 2..].to_vec()
}

fn verify_one(
    c: &Contestant,
    cache: &Path,
    server_cpus: &[usize],
    only: &[&'static str],
) -> anyhow::Result<Outcome> {
    let mut outcome = Outcome {
        name: c.name().to_string(),
        display_name: c.manifest.display_name.clone(),
        status: "error",
        message: None,
        checks: Vec::new(),
        undeclared: Vec::new(),
        versions: Vec::new(),
        log: None,
    };
    let (only, undeclared) = contract::declared_checks(only, |e| c.manifest.serves(e));
    let only = &only[..];
    let missing = contestant::missing_requirements(c);
    if !missing.is_empty() {
        let message = format!("needs {} on PATH", missing.join(", "));
        eprintln!("notice: skipping {}: {message}", c.name());
        outcome.status = "skipped";
        outcome.message = Some(message);
        return Ok(outcome);
    }
    let installed = match contestant::install(c, cache) {
        Ok(installed) => installed,
        Err(e) => {
            outcome.message = Some(format!("{e}"));
            return Ok(outcome);
        }
    };
    outcome.versions = contestant::versions(c, &installed).unwrap_or_else(|e| {
        eprintln!("warning: {e}");
        Vec::new()
    });
    let work = std::path::absolute(cache.join("verify"))
        .with_context(|| format!("resolving '{}'", cache.display()))?;
    let db_path = work.join(format!("{}.sqlite", c.name()));
    let log_path = work.join(format!("{}.log", c.name()));
    outcome.log = Some(log_path.clone());
    let dataset = contract::dataset::create(&db_path)?;
    let mut opts = StartOptions::new(&db_path, &log_path);
    opts.server_cpus = server_cpus.to_vec();
    let mut guard = match contestant::start(c, &installed, &opts) {
        Ok(guard) => guard,
        Err(e) => {
            outcome.message = Some(format!("{e}"));
            return Ok(outcome);
        }
    };
    let spinner = contestant::process::spinner(format!("verifying {}", c.name()));
    let addr = guard.addr();
    let checks = contract::verify_only(addr, &dataset, only, &mut || guard.exited());
    spinner.finish_and_clear();
    if let Some(status) = guard.exited() {
        outcome.message = Some(format!(
            "the contestant exited ({status}) during verify; its log is {}",
            log_path.display()
        ));
    }
    guard.stop();
    outcome.status = if checks.iter().all(|r| r.passed) && outcome.message.is_none() {
        "passed"
    } else {
        "failed"
    };
    outcome.checks = checks;
    outcome.undeclared = undeclared;
    Ok(outcome)
}

fn write_table(out: &mut impl Write, outcomes: &[Outcome], only: &[&str]) -> std::io::Result<()> {
    let check_width = only.iter().map(|n| n.len()).max().unwrap_or(5).max(5);
    let widths: Vec<usize> = outcomes.iter().map(|o| o.name.len().max(4)).collect();
    let mut line = format!("{:check_width$}", "check");
    for (o, w) in outcomes.iter().zip(&widths) {
        line.push_str(&format!("  {:w$}", o.name));
    }
    writeln!(out, "{}", line.trim_end())?;
    for name in only {
        let mut line = format!("{name:check_width$}");
        for (o, w) in outcomes.iter().zip(&widths) {
            let cell = match o.checks.iter().find(|r| r.name == *name) {
                Some(r) if r.passed => "pass",
                Some(_) => "FAIL",
                None if o.status == "skipped" || o.undeclared.contains(name) => "skip",
                None => "-",
            };
            line.push_str(&format!("  {cell:w$}"));
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    let mut first = true;
    for o in outcomes {
        let failures: Vec<&CheckResult> = o.checks.iter().filter(|r| !r.passed).collect();
        if failures.is_empty() && o.message.is_none() && o.undeclared.is_empty() {
            continue;
        }
        if first {
            writeln!(out)?;
            first = false;
        }
        if !o.undeclared.is_empty() {
            writeln!(
                out,
                "{} (skipped): {}: its manifest does not declare those endpoints",
                o.name,
                o.undeclared.join(", ")
            )?;
        }
        if let Some(message) = &o.message {
            let label = if o.status == "skipped" {
                "skipped"
            } else {
                "error"
            };
            writeln!(out, "{} ({label}): {message}", o.name)?;
        }
        for r in failures {
            writeln!(
                out,
                "{} / {}: {}",
                o.name,
                r.name,
                r.reason.as_deref().unwrap_or("failed")
            )?;
        }
    }
    let count = |s: &str| outcomes.iter().filter(|o| o.status == s).count();
    writeln!(
        out,
        "\nverify: {} of {} contestants meet the contract ({} failing, {} with errors, {} skipped)",
        count("passed"),
        outcomes.len(),
        count("failed"),
        count("error"),
        count("skipped")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_cpus_take_the_upper_half() {
        assert_eq!(default_server_cpus(&[0, 1]), vec![1]);
        assert_eq!(default_server_cpus(&[0]), vec![0]);
        assert_eq!(default_server_cpus(&[0, 1, 2, 3]), vec![2, 3]);
    }
}
