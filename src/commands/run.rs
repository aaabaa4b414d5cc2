//! `faceoff run`: the main job. Glue between the command line, the suite, the contestants, the
//! runner, the store and the reports.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

use crate::cli::RunArgs;
use crate::contestant::{self, Contestant};
use crate::runner::environment::{default_cpu_split, Environment};
use crate::runner::{self, RunConfig, Ui};
use crate::settings;
use crate::store::{NewRun, RunSettings, RunStatus, Store};
use crate::suite::{self, Plan};

/// Runs the suite on the chosen contestants.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let db = settings::db_path(args.db.as_ref());
    // Every input is checked before anything is created: a typo in a suite path must not
    // leave a results folder behind (issue 13).
    let new_run = match &args.resume {
        Some(which) if !db.is_file() => bail!(
            "there is no results database at '{}', so {} to resume; start one with `faceoff run`",
            db.display(),
            if which == "latest" {
                "no run".to_string()
            } else {
                format!("no run {which}")
            }
        ),
        Some(_) => None,
        None => Some(plan_run(&args)?),
    };
    let store = Store::open(&db)?;
    let cancel = super::cancel_on_interrupt()?;

    let (run_id, plan, stored) = match new_run {
        Some(planned) => start(&store, planned)?,
        None => resume(&store, args.resume.as_deref().unwrap_or("latest"), &args)?,
    };
    let run_dir = settings::run_dir(&db, run_id);
    let postgres = open_database(&store, run_id, &run_dir, &args, &stored, &plan, &cancel)?;
    let contestants = stored
        .contestant_dirs
        .iter()
        .map(|d| Contestant::load(d))
        .collect::<Result<Vec<_>, _>>()?;
    let config = RunConfig {
        server_cpus: stored.server_cpus.clone(),
        load_cpus: stored.load_cpus.clone(),
        workers: stored.workers,
        cache: contestant::cache_dir(),
        run_dir: run_dir.clone(),
        full_contract: stored.full_contract,
        // Runs stored before the order was shuffled resume with seed 0.
        order_seed: stored.order_seed.unwrap_or(0),
        calibrate: !args.no_calibration,
        postgres: postgres.map(std::sync::Arc::new),
        audit: stored.audit.unwrap_or_default(),
    };
    let ui = TermUi::new();
    ui.notice(&format!(
        "run {run_id}: suite '{}', {} workloads, {} contestants; server on CPU {:?}, load engine on CPU {:?}; order seed {} (--seed); results in {}, reports and logs in {}",
        plan.name,
        plan.workloads.len(),
        contestants.len(),
        config.server_cpus,
        config.load_cpus,
        config.order_seed,
        db.display(),
        config.run_dir.display()
    ));
    let end = match runner::run(&store, run_id, &plan, contestants, &config, &cancel, &ui) {
        Ok(end) => end,
        Err(e) => {
            let _ = store.finish_run(run_id, RunStatus::Failed);
            ui.finish();
            return Err(e);
        }
    };
    ui.finish();
    // Stops faceoff's PostgreSQL server (its guard stops it when the last holder lets go).
    drop(config);
    let interrupted = end.status == RunStatus::Interrupted;
    let shown = super::show::print_run(&store, end.run_id, &[])?;
    match super::report::write_report(&store, end.run_id, &run_dir, &[]) {
        Ok((_, files)) => {
            for path in [&files.html, &files.markdown, &files.json] {
                println!("wrote {}", path.display());
            }
        }
        // An interrupted run still exits 130 with its trials saved; the report can be
        // written later with `faceoff report`.
        Err(e) if interrupted => eprintln!("warning: no report written: {e:#}"),
        Err(e) => return Err(e),
    }
    if interrupted {
        eprintln!(
            "interrupted: the finished trials of run {run_id} are saved; continue with `faceoff run --resume {run_id}`"
        );
        return Ok(ExitCode::from(super::EXIT_INTERRUPTED));
    }
    Ok(super::show::gate_exit(&shown))
}

/// Checks, before any slow work, that every threshold's scope names a workload of the plan and
/// a contestant of the run.
fn check_thresholds(
    plan: &Plan,
    extra: &[crate::gate::Threshold],
    contestants: &[String],
) -> anyhow::Result<()> {
    for t in plan.thresholds.iter().chain(extra) {
        if let Some(w) = &t.workload {
            if !plan
                .workloads
                .iter()
                .any(|wl| crate::suite::cores::picks(wl, w))
            {
                let names: Vec<&str> = plan.workloads.iter().map(|w| w.name.as_str()).collect();
                bail!(
                    "threshold '{t}' names workload '{w}', which this run does not measure; its workloads are {}",
                    names.join(", ")
                );
            }
        }
        if let Some(c) = &t.contestant {
            if !contestants.contains(c) {
                bail!(
                    "threshold '{t}' names contestant '{c}', which is not in this run; its contestants are {}",
                    contestants.join(", ")
                );
            }
        }
    }
    Ok(())
}

/// Starts the run [`plan_run`] planned.
fn start(store: &Store, planned: PlannedRun) -> anyhow::Result<(i64, Plan, RunSettings)> {
    let PlannedRun {
        plan,
        settings,
        environment,
    } = planned;
    let run_id = store.begin_run(&NewRun {
        suite_name: plan.name.clone(),
        suite_path: plan.source_path.display().to_string(),
        suite_sha256: plan.source_sha256.clone(),
        suite_toml: plan.source_text.clone(),
        environment,
        settings: settings.clone(),
    })?;
    Ok((run_id, plan, settings))
}

/// A new run, checked and ready to store.
struct PlannedRun {
    plan: Plan,
    settings: RunSettings,
    environment: Environment,
}

/// Plans a new run: validates every input before anything is created or any slow work.
fn plan_run(args: &RunArgs) -> anyhow::Result<PlannedRun> {
    let (mut plan, full_contract) = load_suite(&args.suite)?;
    settings::apply_overrides(&mut plan, args)?;
    let contestant_dirs = choose_contestants(args)?;
    let allowed = crate::sys::allowed_cpus();
    let (default_server, default_load) = default_cpu_split(&allowed);
    let server_cpus = args
        .server_cpus
        .as_ref()
        .map_or(default_server, |c| c.0.clone());
    let load_cpus = args
        .load_cpus
        .as_ref()
        .map_or(default_load, |c| c.0.clone());
    for cpu in server_cpus.iter().chain(&load_cpus) {
        if !allowed.contains(cpu) {
            bail!("CPU {cpu} is not available to faceoff; it may use {allowed:?} (see --server-cpus, --load-cpus)");
        }
    }
    let names: Vec<String> = contestant_dirs
        .iter()
        .map(|d| Contestant::load(d).map(|c| c.name().to_string()))
        .collect::<Result<_, _>>()?;
    check_thresholds(&plan, &args.thresholds, &names)?;
    let workers = args.workers.unwrap_or(server_cpus.len() as u32).max(1);
    let environment = Environment::capture(&server_cpus, &load_cpus);
    let mut stored = RunSettings::new(
        &plan,
        contestant_dirs,
        server_cpus,
        load_cpus,
        workers,
        full_contract,
    );
    stored.order_seed = Some(args.seed.unwrap_or_else(runner::order::new_seed));
    if args.database.database == Some(crate::database::DatabaseKind::Sqlite)
        && args.database.database_url.is_some()
    {
        bail!("--database sqlite and --database-url contradict each other; drop one");
    }
    stored.database = Some(crate::store::DatabaseSettings {
        kind: args.database.kind(),
        version: None,
        throwaway: args.database.database_url.is_none(),
    });
    stored.audit = Some(args.audit.unwrap_or_default());
    stored.thresholds = args.thresholds.iter().map(ToString::to_string).collect();
    Ok(PlannedRun {
        plan,
        settings: stored,
        environment,
    })
}

/// Starts (or connects to) the run's PostgreSQL server when it uses one, and records which.
/// A resumed run uses the database it started with: a throwaway server again, or the user's
/// `--database-url`, which is not stored (it may hold a password) and must be given again.
fn open_database(
    store: &Store,
    run_id: i64,
    run_dir: &Path,
    args: &RunArgs,
    stored: &RunSettings,
    plan: &Plan,
    cancel: &crate::cancel::Cancel,
) -> anyhow::Result<Option<crate::database::Postgres>> {
    use crate::database::DatabaseKind;
    let Some(setting) = &stored.database else {
        return Ok(None);
    };
    if setting.kind != DatabaseKind::Postgres {
        return Ok(None);
    }
    let mut flags = args.database.clone();
    if args.resume.is_some() {
        if !setting.throwaway && flags.database_url.is_none() {
            bail!(
                "run {run_id} used a PostgreSQL server of yours; give its --database-url again to resume it"
            );
        }
        flags.database = Some(DatabaseKind::Postgres);
    }
    let log = run_dir.join("logs/postgres.log");
    // Every contestant is up at once, each with the run's workers or a sweep point's.
    let need = crate::database::ConnectionNeed {
        contestants: stored.contestant_dirs.len() as u32,
        workers: plan
            .workloads
            .iter()
            .filter_map(|w| w.workers.as_ref().map(|p| p.workers))
            .chain([stored.workers])
            .max()
            .unwrap_or(1),
    };
    let pg = flags.open(log, &stored.server_cpus, need, cancel)?;
    if let Some(pg) = &pg {
        let mut updated = stored.clone();
        if let Some(db) = updated.database.as_mut() {
            db.version = pg.version.clone();
        }
        store.put_settings(run_id, &updated)?;
    }
    Ok(pg)
}

/// Picks up an earlier run where it stopped.
fn resume(store: &Store, which: &str, args: &RunArgs) -> anyhow::Result<(i64, Plan, RunSettings)> {
    let run_id = if which == "latest" {
        store
            .latest_run()?
            .context("there is no run to resume; start one with `faceoff run`")?
    } else {
        which
            .parse()
            .with_context(|| format!("'{which}' is not a run id; `faceoff history` lists them"))?
    };
    let detail = store.run(run_id)?;
    if detail.run.status == RunStatus::Complete {
        bail!("run {run_id} is already complete; `faceoff show {run_id}` prints it");
    }
    let mut stored = detail
        .settings
        .clone()
        .with_context(|| format!("run {run_id} was stored without resumable settings"))?;
    let audit = args.audit.or(stored.audit).unwrap_or_default();
    // Thresholds given again on --resume join those the run started with.
    let mut thresholds = stored.thresholds.clone();
    for t in &args.thresholds {
        let text = t.to_string();
        if !thresholds.contains(&text) {
            thresholds.push(text);
        }
    }
    if stored.audit != Some(audit) || stored.thresholds != thresholds {
        stored.audit = Some(audit);
        stored.thresholds = thresholds;
        store.put_settings(run_id, &stored)?;
    }
    let mut plan = suite::parse_plan(&detail.suite_toml, Path::new(&detail.run.suite_path))?;
    settings::apply_overrides(&mut plan, args)?;
    plan.workloads
        .retain(|w| stored.workloads.iter().any(|s| s.name == w.name));
    store.reopen_run(run_id)?;
    Ok((run_id, plan, stored))
}

/// A built-in suite by name, or a suite file; the flag says whether it is a reference suite
/// (whose contestants must pass the whole API contract).
fn load_suite(which: &str) -> anyhow::Result<(Plan, bool)> {
    let plan = suite::resolve(which)?;
    let builtin = plan.builtin;
    Ok((plan, builtin))
}

/// The contestant folders of this run, from --contestant, --only and --skip
/// ([`super::select`]: the user's folders run beside the reference contestants).
fn choose_contestants(args: &RunArgs) -> anyhow::Result<Vec<PathBuf>> {
    let chosen = super::select::choose(
        &args.contestants,
        &args.only,
        &args.skip,
        super::select::WithOwn::KeepReferences,
    )?;
    Ok(chosen.into_iter().map(|c| c.dir).collect())
}

/// Progress on the terminal (stderr): a phase line and a bar for the current trial.
struct TermUi {
    multi: indicatif::MultiProgress,
    phase: indicatif::ProgressBar,
    trial: indicatif::ProgressBar,
    visible: bool,
}

impl TermUi {
    fn new() -> Self {
        let visible = std::io::stderr().is_terminal();
        let multi = if visible {
            indicatif::MultiProgress::new()
        } else {
            indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden())
        };
        let phase = multi.add(indicatif::ProgressBar::new_spinner());
        phase.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed:>5} {msg}")
                .expect("static template"),
        );
        phase.enable_steady_tick(std::time::Duration::from_millis(200));
        let trial = multi.add(indicatif::ProgressBar::new(1000));
        trial.set_style(
            indicatif::ProgressStyle::with_template("  {bar:30} {msg}").expect("static template"),
        );
        Self {
            multi,
            phase,
            trial,
            visible,
        }
    }

    fn finish(&self) {
        self.trial.finish_and_clear();
        self.phase.finish_and_clear();
    }
}

impl Ui for TermUi {
    fn notice(&self, line: &str) {
        if self.visible {
            let _ = self.multi.println(line);
        } else {
            eprintln!("{line}");
        }
    }

    fn phase(&self, text: &str) {
        self.phase.set_message(text.to_string());
    }

    fn trial(&self, contestant: &str, workload: &str, round: u32, done: f64) {
        self.trial
            .set_position((done.clamp(0.0, 1.0) * 1000.0) as u64);
        self.trial
            .set_message(format!("{workload} · {contestant} · round {round}"));
    }
}
