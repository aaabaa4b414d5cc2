//! Settings precedence in one place: command line > environment > suite file > defaults.

use std::path::{Path, PathBuf};

use crate::cli::RunArgs;
use crate::suite::Plan;

/// Environment variable naming the results database.
pub const ENV_DB: &str = "FACEOFF_DB";
/// Environment variable naming the results folder.
pub const ENV_RESULTS: &str = "FACEOFF_RESULTS_DIR";
/// Environment variable naming the install cache.
pub const ENV_CACHE: &str = "FACEOFF_CACHE_DIR";

/// Default results folder, under the current directory.
pub const DEFAULT_RESULTS_DIR: &str = "faceoff-results";

/// The results folder: `FACEOFF_RESULTS_DIR` or `faceoff-results`.
pub fn results_dir() -> PathBuf {
    std::env::var_os(ENV_RESULTS).map_or_else(|| PathBuf::from(DEFAULT_RESULTS_DIR), PathBuf::from)
}

/// The results database: `--db`, else `FACEOFF_DB`, else `<results>/faceoff.db`.
pub fn db_path(cli: Option<&PathBuf>) -> PathBuf {
    cli.cloned()
        .or_else(|| std::env::var_os(ENV_DB).map(PathBuf::from))
        .unwrap_or_else(|| results_dir().join("faceoff.db"))
}

/// The folder of one run's reports, logs and data: `<folder of the database>/<run id>` for a
/// database named `faceoff.db` (`faceoff-results/7` by default), `<folder>/<name>-<run id>` for
/// any other name, so two databases in one folder never share a run's folder.
pub fn run_dir(db: &Path, run_id: i64) -> PathBuf {
    let folder = db.parent().unwrap_or_else(|| Path::new(""));
    match db.file_stem().and_then(|s| s.to_str()) {
        Some(stem) if stem != "faceoff" => folder.join(format!("{stem}-{run_id}")),
        _ => folder.join(run_id.to_string()),
    }
}

/// Applies the command line's overrides of the suite's trial settings, and checks them.
pub fn apply_overrides(plan: &mut Plan, args: &RunArgs) -> anyhow::Result<()> {
    if let Some(0) = args.max_rounds {
        anyhow::bail!("--max-rounds must be at least 1");
    }
    if let Some(t) = args.target_ci {
        if !(t.is_finite() && t > 0.0 && t < 1.0) {
            anyhow::bail!("--target-ci must be a fraction between 0 and 1, e.g. 0.03 for +/-3%");
        }
    }
    if args.trial.is_some_and(|t| t.is_zero()) {
        anyhow::bail!("--trial must be longer than zero");
    }
    for w in &mut plan.workloads {
        if let Some(d) = args.warmup {
            w.warmup = d;
        }
        if let Some(d) = args.trial {
            w.trial = d;
        }
        if let Some(n) = args.min_rounds {
            w.min_rounds = n as usize;
        }
        if let Some(n) = args.max_rounds {
            w.max_rounds = n as usize;
        }
        if let Some(t) = args.target_ci {
            w.target_ci_rel = t;
        }
        if w.min_rounds > w.max_rounds {
            w.min_rounds = w.max_rounds;
        }
    }
    if !args.workload.is_empty() {
        let known: Vec<String> = plan.workloads.iter().map(|w| w.name.clone()).collect();
        for name in &args.workload {
            if !known.contains(name) {
                anyhow::bail!(
                    "the suite has no workload '{name}'; it has {}",
                    known.join(", ")
                );
            }
        }
        plan.workloads.retain(|w| args.workload.contains(&w.name));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_folder_is_named_after_its_database() {
        let at = |db: &str| run_dir(Path::new(db), 7);
        assert_eq!(
            at("faceoff-results/faceoff.db"),
            Path::new("faceoff-results/7")
        );
        assert_eq!(at("/tmp/x/a.db"), Path::new("/tmp/x/a-7"));
        assert_eq!(at("/tmp/x/b.sqlite"), Path::new("/tmp/x/b-7"));
        assert_eq!(at("faceoff.db"), Path::new("7"));
    }
}
