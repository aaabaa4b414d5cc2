//! `faceoff verdict --profile NAME [--target-rps N] [--slo-p99 D] [--run ID]`: the contestants
//! of a stored run ranked for a project profile, with cost and caveats.

use std::io::Write;
use std::process::ExitCode;

use crate::cli::VerdictArgs;
use crate::verdict::{cost, profile};

/// Runs `faceoff verdict`.
pub fn run(args: VerdictArgs) -> anyhow::Result<ExitCode> {
    let p = profile::load(&args.profile)?;
    let pricing = cost::load(args.pricing.as_deref().unwrap_or(&p.pricing))?;
    let overrides = profile::Overrides {
        target_rps: args.target_rps,
        slo_p99_us: args.slo_p99.map(|d| d.as_secs_f64() * 1e6),
    };
    if overrides.slo_p99_us.is_some_and(|us| us <= 0.0) {
        anyhow::bail!("--slo-p99 must be above 0, e.g. 50ms");
    }
    let facts = super::claims::facts_of(&args.stored)?;
    let verdict = profile::rank(&p, overrides, &facts, &pricing);
    let mut stdout = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut stdout, &verdict)?;
        writeln!(stdout)?;
    } else {
        stdout.write_all(crate::report::answer::verdict_text(&verdict).as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}
