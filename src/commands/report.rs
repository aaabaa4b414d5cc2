//! `faceoff report [RUN] [--compare BASELINE]`: renders a stored run as report.html, summary.md
//! and results.json (beside a baseline run when asked: the database effect when the two used
//! different databases) and prints where they are. `faceoff run` calls [`write_report`] when it ends.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};

use crate::cli::ReportArgs;
use crate::report::compare::RunComparison;
use crate::report::{Exporter, Html, Json, Markdown, ReportData, Term};
use crate::store::Store;

/// The files one report consists of.
#[derive(Debug, Clone)]
pub struct ReportFiles {
    /// The self-contained HTML page.
    pub html: PathBuf,
    /// GitHub-flavoured Markdown tables.
    pub markdown: PathBuf,
    /// Machine-readable results (docs/results-schema.json).
    pub json: PathBuf,
}

/// Runs `faceoff report`.
pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let db = crate::settings::db_path(args.db.as_ref());
    if !db.is_file() {
        bail!(
            "no results database at '{}'; `faceoff run` creates one, or pass --db PATH",
            db.display()
        );
    }
    let store = Store::open(&db)?;
    let run_id = match args.run {
        Some(id) => id,
        None => store.latest_run()?.with_context(|| {
            format!(
                "the results database '{}' holds no runs yet; `faceoff run` records one",
                db.display()
            )
        })?,
    };
    let out = args
        .out
        .unwrap_or_else(|| crate::settings::run_dir(&db, run_id));
    let mut data = ReportData::from_run_gated(&store.run(run_id)?, &args.thresholds);
    if let Some(baseline) = args.compare {
        let before = store.run(baseline)?;
        let after = store.run(run_id)?;
        data.comparison = Some(RunComparison::between(&before, &after, args.noise));
    }
    let files = write_data(&data, &out)?;

    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&Term.render(&data)?)?;
    writeln!(stdout)?;
    for path in [&files.html, &files.markdown, &files.json] {
        writeln!(stdout, "wrote {}", path.display())?;
    }
    drop(stdout);
    Ok(super::show::gate_exit(&data))
}

/// Renders run `run_id` of `store` into `out` (created if needed), with its gates and `extra`
/// thresholds judged, and returns the data and the files written.
pub fn write_report(
    store: &Store,
    run_id: i64,
    out: &Path,
    extra: &[crate::gate::Threshold],
) -> anyhow::Result<(ReportData, ReportFiles)> {
    let detail = store.run(run_id)?;
    let data = ReportData::from_run_gated(&detail, extra);
    let files = write_data(&data, out)?;
    Ok((data, files))
}

/// Renders `data` into `out` (created if needed) and returns the files written.
fn write_data(data: &ReportData, out: &Path) -> anyhow::Result<ReportFiles> {
    std::fs::create_dir_all(out)
        .with_context(|| format!("could not create the report folder '{}'", out.display()))?;
    let files = ReportFiles {
        html: out.join("report.html"),
        markdown: out.join("summary.md"),
        json: out.join("results.json"),
    };
    let outputs: [(&dyn Exporter, &PathBuf); 3] = [
        (&Html, &files.html),
        (&Markdown, &files.markdown),
        (&Json, &files.json),
    ];
    for (exporter, path) in outputs {
        let bytes = exporter.render(data)?;
        std::fs::write(path, bytes)
            .with_context(|| format!("could not write '{}'", path.display()))?;
    }
    Ok(files)
}
