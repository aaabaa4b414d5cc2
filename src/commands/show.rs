//! `faceoff show RUN`, `faceoff history` and `faceoff diff RUN_A RUN_B`: reading the store.

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{DiffArgs, HistoryArgs, ShowArgs};
use crate::settings;
use crate::stats;
use crate::store::{RunDetail, Store};

/// Prints one stored run again.
pub fn show(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let store = open_existing(args.db.as_ref())?;
    let run_id = match args.run {
        Some(id) => id,
        None => store
            .latest_run()?
            .context("the results database has no runs yet; start one with `faceoff run`")?,
    };
    let data = print_run(&store, run_id, &args.thresholds)?;
    Ok(gate_exit(&data))
}

/// Exit status 3 ([`crate::gate::EXIT_GATE_FAILED`]) when the report's gates failed, with the
/// reason on stderr; success otherwise.
pub fn gate_exit(data: &crate::report::ReportData) -> ExitCode {
    match &data.gates {
        Some(g) if !g.passed => {
            eprintln!(
                "{} (exit status {})",
                g.summary(),
                crate::gate::EXIT_GATE_FAILED
            );
            ExitCode::from(crate::gate::EXIT_GATE_FAILED)
        }
        _ => ExitCode::SUCCESS,
    }
}

/// Lists the stored runs.
pub fn history(args: HistoryArgs) -> anyhow::Result<ExitCode> {
    let store = open_existing(args.db.as_ref())?;
    let runs = store.runs()?;
    if runs.is_empty() {
        println!("no runs yet; start one with `faceoff run`");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:>4}  {:<20}  {:<11}  {:<10}  {:>6}  suite file",
        "run", "started (UTC)", "status", "suite", "trials"
    );
    for r in runs {
        println!(
            "{:>4}  {:<20}  {:<11}  {:<10}  {:>6}  {} (sha256 {})",
            r.id,
            r.started_at,
            format!("{:?}", r.status).to_lowercase(),
            r.suite_name,
            r.trials,
            r.suite_path,
            &r.suite_sha256[..r.suite_sha256.len().min(12)]
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Beyond this change of the machine's own speed between two runs, `diff` says so.
const MACHINE_SPEED_NOTE: f64 = 0.10;

/// What `diff` says when the machine itself ran at another speed in the two runs (the median
/// of the speed probe before each trial, issue 8): on a shared host a run can be 25-45% slower
/// throughout with no change to any contestant. `None` when either run has no probe or the
/// change is small. Per workload the probe strays too far to compare (see `report::speed`).
fn machine_speed_note(a: &RunDetail, b: &RunDetail) -> Option<String> {
    use crate::report::speed::MachineSpeed;
    let sa = MachineSpeed::of(&a.trials, &[])?;
    let sb = MachineSpeed::of(&b.trials, &[])?;
    // Lower is faster: a probe 20% longer is a machine 20% slower.
    let change = sb.median_ns / sa.median_ns - 1.0;
    (change.abs() > MACHINE_SPEED_NOTE).then(|| {
        format!(
            "  the machine itself ran {:.0}% {} in run {} than in run {} (median of the speed \
             probe before each trial): a change of that size in every contestant may be the \
             machine's, not theirs",
            change.abs() * 100.0,
            if change > 0.0 { "slower" } else { "faster" },
            b.run.id,
            a.run.id
        )
    })
}

/// Shows, per workload and contestant, the throughput changes between two runs that are
/// outside the noise.
pub fn diff(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let store = open_existing(args.db.as_ref())?;
    let a = store.run(args.run_a)?;
    let b = store.run(args.run_b)?;
    let (sa, sb) = (
        crate::report::compare::throughputs(&a).cells,
        crate::report::compare::throughputs(&b).cells,
    );
    let mut shown = 0;
    let mut same = 0;
    let mut regressed = 0;
    println!("run {} -> run {}: median req/s, 95% bootstrap interval of the ratio, noise threshold +/-{:.0}%",
        a.run.id, b.run.id, args.noise * 100.0);
    let kind = |d: &RunDetail| d.settings.as_ref().map(|s| s.database_kind());
    if let (Some(ka), Some(kb)) = (kind(&a), kind(&b)) {
        if ka != kb {
            println!(
                "  the runs used different databases ({ka} -> {kb}): each change is the database effect; `faceoff report {} --compare {}` shows every pair",
                b.run.id, a.run.id
            );
        }
    }
    if let Some(note) = machine_speed_note(&a, &b) {
        println!("{note}");
    }
    for (key, before) in &sa {
        let Some(after) = sb.get(key) else { continue };
        let Some(cmp) = stats::compare(before, after, args.noise) else {
            continue;
        };
        if cmp.change == stats::Change::NonSignificant {
            same += 1;
            continue;
        }
        shown += 1;
        if cmp.change == stats::Change::Regressed {
            regressed += 1;
        }
        println!(
            "  {:<12} {:<24} {:>10.0} -> {:>10.0}  {:+.1}% [{:+.1}%, {:+.1}%]  {}",
            key.0,
            key.1,
            stats::median(before).unwrap_or(0.0),
            stats::median(after).unwrap_or(0.0),
            (cmp.ratio.point - 1.0) * 100.0,
            (cmp.ratio.lo - 1.0) * 100.0,
            (cmp.ratio.hi - 1.0) * 100.0,
            if cmp.change == stats::Change::Improved {
                "improved"
            } else {
                "regressed"
            }
        );
    }
    if shown == 0 {
        println!("  no change outside the noise");
    }
    println!("  ({same} pairs within noise; pairs present in only one run are not compared)");
    if args.fail_on_regression && regressed > 0 {
        eprintln!(
            "{regressed} pair(s) regressed outside the noise (exit status {})",
            crate::gate::EXIT_GATE_FAILED
        );
        return Ok(ExitCode::from(crate::gate::EXIT_GATE_FAILED));
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn open_existing(db: Option<&std::path::PathBuf>) -> anyhow::Result<Store> {
    let path = settings::db_path(db);
    if !path.exists() {
        anyhow::bail!(
            "there is no results database at '{}'; run `faceoff run` first or point --db at one",
            path.display()
        );
    }
    Ok(Store::open(&path)?)
}

/// Prints a run's ranked tables on stdout (the report's terminal renderer), with its gates and
/// `extra` thresholds judged, and returns what it printed.
pub fn print_run(
    store: &Store,
    run_id: i64,
    extra: &[crate::gate::Threshold],
) -> anyhow::Result<crate::report::ReportData> {
    use crate::report::Exporter as _;
    use std::io::Write as _;
    let data = crate::report::ReportData::from_run_gated(&store.run(run_id)?, extra);
    std::io::stdout()
        .lock()
        .write_all(&crate::report::Term.render(&data)?)?;
    Ok(data)
}
