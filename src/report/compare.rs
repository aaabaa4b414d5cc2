//! A run beside an earlier one (`faceoff report RUN --compare BASELINE`): per workload both ran
//! and contestant both measured, the change of median throughput with the 95% bootstrap interval
//! of the ratio ([`crate::stats::compare`]). When the two runs served the dataset from different
//! databases (SQLite, PostgreSQL), the change is the *database effect*: on `/queries?n=20` it is
//! the figure that tests "non-blocking I/O" claims (issue 14): an event loop with an async driver
//! overlaps the queries it sends across the socket, a thread waiting on a blocking driver does not.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::database::DatabaseKind;
use crate::stats::{self, Change, Interval};
use crate::store::RunDetail;

/// Relative change treated as noise unless its interval clears it (the default of `faceoff diff`).
pub const DEFAULT_NOISE: f64 = 0.03;

/// What the comparison's changes measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// The runs used different databases: each change is the database's effect (on the same
    /// machine, for runs made close together; other differences still count).
    Database,
    /// The runs used the same database: a change between runs.
    Run,
}

impl Effect {
    /// Its name in tables.
    pub fn label(self) -> &'static str {
        match self {
            Effect::Database => "database effect",
            Effect::Run => "change",
        }
    }
}

/// This run against a baseline run.
#[derive(Debug, Clone, Serialize)]
pub struct RunComparison {
    /// The run compared against.
    pub baseline_run: i64,
    /// The database the baseline run used.
    pub baseline_database: DatabaseKind,
    /// The baseline's database in words.
    pub baseline_database_text: String,
    /// The database this run used.
    pub database: DatabaseKind,
    /// This run's database in words.
    pub database_text: String,
    /// What the changes measure.
    pub effect: Effect,
    /// Relative change treated as noise unless its interval clears it.
    pub noise_threshold: f64,
    /// One row per workload both runs ran and contestant both measured, in workload order.
    pub rows: Vec<ComparisonRow>,
    /// Workloads or contestants with figures in one run only (`workload / contestant`).
    pub only_in_one: Vec<String>,
}

/// One contestant on one workload in both runs.
#[derive(Debug, Clone, Serialize)]
pub struct ComparisonRow {
    /// Workload name.
    pub workload: String,
    /// Contestant short name.
    pub contestant: String,
    /// Name shown in tables.
    pub display_name: String,
    /// Median requests per second in the baseline run.
    pub baseline_rps: f64,
    /// Median requests per second in this run.
    pub rps: f64,
    /// Trials counted in the baseline run and in this one.
    pub trials: [u32; 2],
    /// This median over the baseline's, with its 95% bootstrap interval.
    pub ratio: Interval,
    /// Whether the interval clears the noise threshold, and which way.
    pub change: Change,
}

impl RunComparison {
    /// Compares `run` with `baseline`, trial by trial figures as `faceoff diff` does.
    pub fn between(baseline: &RunDetail, run: &RunDetail, noise_threshold: f64) -> RunComparison {
        let kind = |d: &RunDetail| {
            d.settings
                .as_ref()
                .map_or(DatabaseKind::Sqlite, |s| s.database_kind())
        };
        let text = |d: &RunDetail| {
            super::format::database(d.settings.as_ref().and_then(|s| s.database.as_ref()))
        };
        let (before, after) = (throughputs(baseline), throughputs(run));
        let display = |name: &str| {
            run.contestants
                .iter()
                .find(|c| c.name == name)
                .map_or_else(|| name.to_string(), |c| c.display_name.clone())
        };
        let mut rows = Vec::new();
        let mut only_in_one = Vec::new();
        for (key, samples) in &after.cells {
            let Some(base) = before.cells.get(key) else {
                only_in_one.push(format!("{} / {} (run {})", key.0, key.1, run.run.id));
                continue;
            };
            let Some(cmp) = stats::compare(base, samples, noise_threshold) else {
                continue;
            };
            rows.push(ComparisonRow {
                workload: key.0.clone(),
                contestant: key.1.clone(),
                display_name: display(&key.1),
                baseline_rps: stats::median(base).unwrap_or(f64::NAN),
                rps: stats::median(samples).unwrap_or(f64::NAN),
                trials: [base.len() as u32, samples.len() as u32],
                ratio: cmp.ratio,
                change: cmp.change,
            });
        }
        for key in before
            .cells
            .keys()
            .filter(|k| !after.cells.contains_key(*k))
        {
            only_in_one.push(format!("{} / {} (run {})", key.0, key.1, baseline.run.id));
        }
        // Workloads in the order this run ran them.
        rows.sort_by_key(|r| after.order.iter().position(|w| *w == r.workload));
        let (baseline_database, database) = (kind(baseline), kind(run));
        RunComparison {
            baseline_run: baseline.run.id,
            baseline_database,
            baseline_database_text: text(baseline),
            database,
            database_text: text(run),
            effect: if baseline_database == database {
                Effect::Run
            } else {
                Effect::Database
            },
            noise_threshold,
            rows,
            only_in_one,
        }
    }

    /// The column heads of the two runs: their databases when they differ, else run ids.
    fn heads(&self, run_id: i64) -> [String; 2] {
        match self.effect {
            Effect::Database => [
                format!("{} req/s", label(self.baseline_database)),
                format!("{} req/s", label(self.database)),
            ],
            Effect::Run => [
                format!("run {} req/s", self.baseline_run),
                format!("run {run_id} req/s"),
            ],
        }
    }

    /// One sentence saying what is compared.
    fn intro(&self, run_id: i64) -> String {
        match self.effect {
            Effect::Database => format!(
                "Run {} served the dataset from {}; run {run_id} from {}. Each change is the \
                 database effect on that contestant: median throughput over the two runs' \
                 trials, 95% bootstrap interval of the ratio, changes within ±{:.0}% called \
                 within noise.",
                self.baseline_run,
                self.baseline_database_text,
                self.database_text,
                self.noise_threshold * 100.0
            ),
            Effect::Run => format!(
                "Run {run_id} against run {} (both on {}): median throughput, 95% bootstrap \
                 interval of the ratio, changes within ±{:.0}% called within noise.",
                self.baseline_run,
                label(self.database),
                self.noise_threshold * 100.0
            ),
        }
    }
}

/// A database's name in tables.
fn label(kind: DatabaseKind) -> &'static str {
    match kind {
        DatabaseKind::Sqlite => "SQLite",
        DatabaseKind::Postgres => "PostgreSQL",
    }
}

impl ComparisonRow {
    /// The cells after the names: both medians, the change with its interval, the verdict.
    fn cells(&self) -> [String; 4] {
        let pct = |r: f64| format!("{:+.1}%", (r - 1.0) * 100.0);
        [
            super::format::rps(self.baseline_rps),
            super::format::rps(self.rps),
            format!(
                "{} [{}, {}]",
                pct(self.ratio.point),
                pct(self.ratio.lo),
                pct(self.ratio.hi)
            ),
            match self.change {
                Change::Improved => "faster",
                Change::Regressed => "slower",
                Change::NonSignificant => "within noise",
            }
            .to_string(),
        ]
    }
}

/// Throughput samples of the counted trials per (workload, contestant), and the workloads in
/// the order they ran.
/// A run's counted trials' throughput per (workload, contestant), and its workloads in order.
pub struct Samples {
    /// Requests per second of each counted trial.
    pub cells: BTreeMap<(String, String), Vec<f64>>,
    /// Workloads in the order the run measured them.
    pub order: Vec<String>,
}

/// The throughput samples `faceoff diff` and `report --compare` compare (counted trials only).
pub fn throughputs(run: &RunDetail) -> Samples {
    let mut cells: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for t in &run.trials {
        if !order.contains(&t.workload) {
            order.push(t.workload.clone());
        }
        if t.metrics.counts() {
            cells
                .entry((t.workload.clone(), t.contestant.clone()))
                .or_default()
                .push(t.metrics.rps);
        }
    }
    Samples { cells, order }
}

/// The terminal section (empty without a comparison).
pub(super) fn term(c: Option<&RunComparison>, run_id: i64, clean: fn(&str) -> String) -> String {
    let Some(c) = c else {
        return String::new();
    };
    let mut out = format!(
        "\n{}: run {} -> run {run_id}\n",
        c.effect.label(),
        c.baseline_run
    );
    let _ = writeln!(out, "{}", clean(&c.intro(run_id)));
    let [a, b] = c.heads(run_id);
    let mut rows = vec![[
        "workload".to_string(),
        "contestant".into(),
        a,
        b,
        c.effect.label().into(),
        String::new(),
    ]];
    for r in &c.rows {
        let [x, y, z, v] = r.cells();
        rows.push([clean(&r.workload), clean(&r.display_name), x, y, z, v]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for r in &rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if (2..4).contains(&i) {
                let _ = write!(line, "{}{cell}  ", " ".repeat(pad));
            } else {
                let _ = write!(line, "{cell}{}  ", " ".repeat(pad));
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    if c.rows.is_empty() {
        let _ = writeln!(out, "no workload and contestant with figures in both runs");
    }
    if !c.only_in_one.is_empty() {
        let _ = writeln!(
            out,
            "not compared (figures in one run only): {}",
            clean(&c.only_in_one.join(", "))
        );
    }
    out
}

/// The Markdown section (empty without a comparison).
pub(super) fn markdown(c: Option<&RunComparison>, run_id: i64, esc: fn(&str) -> String) -> String {
    let Some(c) = c else {
        return String::new();
    };
    let title = match c.effect {
        Effect::Database => "Database effect",
        Effect::Run => "Change",
    };
    let mut out = format!(
        "\n## {title}: run {} → run {run_id}\n\n{}\n\n",
        c.baseline_run,
        esc(&c.intro(run_id))
    );
    let [a, b] = c.heads(run_id);
    let _ = writeln!(
        out,
        "| workload | contestant | {a} | {b} | {} | |\n|---|---|--:|--:|--:|---|",
        c.effect.label()
    );
    for r in &c.rows {
        let [x, y, z, v] = r.cells();
        let _ = writeln!(
            out,
            "| {} | {} | {x} | {y} | {z} | {v} |",
            esc(&r.workload),
            esc(&r.display_name)
        );
    }
    if !c.only_in_one.is_empty() {
        let _ = writeln!(
            out,
            "\nNot compared (figures in one run only): {}.",
            esc(&c.only_in_one.join(", "))
        );
    }
    out
}

/// The HTML section, every text escaped (empty without a comparison).
pub(super) fn html(c: Option<&RunComparison>, run_id: i64) -> String {
    use super::svg::escape;
    let Some(c) = c else {
        return String::new();
    };
    let title = match c.effect {
        Effect::Database => "Database effect",
        Effect::Run => "Change",
    };
    let [a, b] = c.heads(run_id);
    let mut out = format!(
        r#"<section id="compare"><h2>{title}: run {} → run {run_id}</h2><p>{}</p><table><thead><tr><th>workload</th><th>contestant</th><th class="num">{}</th><th class="num">{}</th><th class="num">{}</th><th></th></tr></thead><tbody>"#,
        c.baseline_run,
        escape(&c.intro(run_id)),
        escape(&a),
        escape(&b),
        escape(c.effect.label())
    );
    for r in &c.rows {
        let [x, y, z, v] = r.cells();
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td>{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td></tr>"#,
            escape(&r.workload),
            escape(&r.display_name),
            escape(&x),
            escape(&y),
            escape(&z),
            escape(&v)
        );
    }
    out.push_str("</tbody></table>");
    if !c.only_in_one.is_empty() {
        let _ = write!(
            out,
            "<p>Not compared (figures in one run only): {}.</p>",
            escape(&c.only_in_one.join(", "))
        );
    }
    out.push_str("</section>");
    out
}
