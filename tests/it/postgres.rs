//! The throwaway PostgreSQL server: started from the machine's PostgreSQL programs, loaded with
//! the contract's dataset, and gone (processes and folder) when stopped or dropped.

use std::time::Instant;

use faceoff::cancel::Cancel;
use faceoff::contestant::group::group_pids;
use faceoff::contract::dataset;
use faceoff::database::postgres::{self, Binaries, Options, Throwaway};

fn start(dir: &std::path::Path) -> Throwaway {
    let bins = Binaries::find().expect("PostgreSQL is installed (.ci/run installs it)");
    let opts = Options {
        log: dir.join("postgres.log"),
        cpus: Vec::new(),
        max_connections: 100,
        cancel: Cancel::new(),
    };
    Throwaway::start(&bins, &opts).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn throwaway_server_serves_the_dataset_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let db = start(dir.path());
    let data = dataset::create(&dir.path().join("data.sqlite")).unwrap();
    let mut client = db.connect(postgres::DATABASE).unwrap();
    postgres::load(&mut client, &data).unwrap();
    let ready = started.elapsed();
    eprintln!("throwaway PostgreSQL started and loaded in {ready:?}");
    assert_eq!(postgres::read_world(&mut client).unwrap(), data.world);
    let fortunes: i64 = client
        .query_one("SELECT count(*) FROM fortune", &[])
        .unwrap()
        .get(0);
    assert_eq!(fortunes, dataset::FORTUNES.len() as i64);
    // The same SQL text as on SQLite: the unquoted column name folds alike.
    let row = client
        .query_one("SELECT id, randomNumber FROM world WHERE id = $1", &[&7i32])
        .unwrap();
    assert_eq!(i64::from(row.get::<_, i32>(1)), data.world[6]);
    // Only loopback: the URL names 127.0.0.1 and the port it listens on.
    assert_eq!(
        db.url(),
        format!("postgres://faceoff@127.0.0.1:{}/faceoff", db.port())
    );
    if db.statement_counts {
        let n: i64 = db
            .connect("postgres")
            .unwrap()
            .query_one(
                "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements WHERE query LIKE 'SELECT id, randomNumber FROM world WHERE id%'",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(n, 1, "pg_stat_statements counts the one lookup");
    }
    let pgid = db.pgid();
    assert!(!group_pids(pgid).is_empty(), "the server runs");
    drop(client);
    assert!(db.stop(), "a fast shutdown is enough");
    assert!(group_pids(pgid).is_empty(), "no server process is left");
    let leftovers: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("faceoff-postgres-{}-", std::process::id()))
        })
        .collect();
    assert!(
        leftovers.is_empty(),
        "the data folder is removed: {leftovers:?}"
    );
}

#[test]
fn a_dropped_server_stops_even_with_clients_connected() {
    let dir = tempfile::tempdir().unwrap();
    let db = start(dir.path());
    let pgid = db.pgid();
    let client = db.connect(postgres::DATABASE).unwrap();
    drop(db);
    assert!(group_pids(pgid).is_empty(), "no server process is left");
    drop(client);
}

/// Processes whose command line names a data folder of the throwaway servers `faceoff_pid`
/// started.
fn servers_of(faceoff_pid: u32) -> Vec<i32> {
    let marker = format!("faceoff-postgres-{faceoff_pid}-");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&marker))
        })
        .collect()
}

#[test]
fn verify_catches_a_contestant_that_batches_its_queries() {
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pg-batcher");
    let sqlite_only = crate::common::TempContestant::new("sqlite-only", "exec node server.js", "");
    let out = crate::common::faceoff()
        .args(["verify", "--json", "--database", "postgres", "--contestant"])
        .arg(&fixture)
        .arg("--contestant")
        .arg(sqlite_only.dir())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed check fails verify; stderr: {stderr}"
    );
    assert!(
        stderr.contains("database: PostgreSQL"),
        "says which server: {stderr}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let contestants = json["contestants"].as_array().unwrap();
    let batcher = &contestants[0];
    assert_eq!(batcher["status"], "failed", "{batcher:#}");
    let check = |name: &str| {
        batcher["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name} check in {batcher:#}"))
            .clone()
    };
    // Right answers from PostgreSQL, updates persisted there...
    for name in ["db", "queries", "updates"] {
        assert_eq!(check(name)["passed"], true, "{name}: {:#}", check(name));
    }
    // ...but the batch is seen at the server.
    let statements = check("statements");
    assert_eq!(statements["passed"], false);
    let reason = statements["reason"].as_str().unwrap();
    assert!(
        reason.contains("GET /queries?n=20") && reason.contains("one batch"),
        "{reason}"
    );
    // A contestant that serves SQLite only is skipped with the reason.
    assert_eq!(contestants[1]["status"], "skipped");
    assert!(contestants[1]["message"]
        .as_str()
        .unwrap()
        .contains("does not list postgres"));
}

#[test]
fn interrupt_stops_the_throwaway_server() {
    use crate::common::{interrupt, wait_exit, wait_for_pgid, TempContestant};
    use std::time::Duration;
    // Never healthy: faceoff sits in the health wait, with its PostgreSQL server running.
    let t = TempContestant::new("waits", "echo $$ > pgid; exec sleep 300", "");
    t.write(
        "contestant.toml",
        "name = \"waits\"\ndisplay_name = \"waits\"\nstack = \"Node.js\"\nlanguage = \"JavaScript\"\n\
         framework = \"node:http\"\nframework_version = \"0\"\ndatabases = [\"postgres\"]\n\n\
         [start]\ncommand = 'echo $$ > pgid; exec sleep 300'\nhealth_timeout = \"60s\"\n",
    );
    let mut child = crate::common::faceoff()
        .args(["verify", "--database", "postgres", "--contestant"])
        .arg(t.dir())
        .env("FACEOFF_CACHE_DIR", t.cache())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for_pgid(&t.cache(), "waits", "pgid", Duration::from_secs(60));
    assert!(
        !servers_of(child.id()).is_empty(),
        "the server runs during verify"
    );
    interrupt(&child);
    let status = wait_exit(&mut child, Duration::from_secs(60));
    assert_eq!(status.code(), Some(130));
    assert_eq!(
        servers_of(child.id()),
        Vec::<i32>::new(),
        "no PostgreSQL process is left"
    );
}

#[test]
fn run_measures_a_contestant_on_postgres_and_shows_the_servers_share() {
    let _cpu = crate::common::server_cpu();
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let out = crate::common::faceoff()
        .arg("run")
        .env("FACEOFF_RESULTS_DIR", dir.path())
        .env("FACEOFF_DB", dir.path().join("faceoff.db"))
        .args(["--database", "postgres", "--no-calibration", "--suite"])
        .arg(root.join("db-suite.toml"))
        .arg("--contestant")
        .arg(root.join("pg-batcher"))
        .arg("--only")
        .arg(crate::common::name_of(root.join("pg-batcher")))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let store = faceoff::store::Store::open(&dir.path().join("faceoff.db")).unwrap();
    let run = store.run(store.latest_run().unwrap().unwrap()).unwrap();
    let db = run.settings.as_ref().unwrap().database.clone().unwrap();
    assert_eq!(db.kind, faceoff::database::DatabaseKind::Postgres);
    assert!(
        db.throwaway
            && db
                .version
                .as_deref()
                .is_some_and(|v| v.starts_with("PostgreSQL "))
    );
    // Every trial sampled the server apart, and it did work: the queries ran there.
    assert!(!run.trials.is_empty());
    for t in &run.trials {
        let d = t.metrics.database.expect("the database server sampled");
        assert!(d.cpu_s > 0.0 && d.pss_mean_bytes > 0, "{d:?}");
    }
    let report = std::fs::read_to_string(dir.path().join(format!("{}/results.json", run.run.id)))
        .or_else(|_| {
            // The report folder sits next to the results database.
            let found = walk(dir.path(), "results.json").expect("a results.json");
            std::fs::read_to_string(found)
        })
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert!(json["method"]["database"]
        .as_str()
        .unwrap()
        .contains("throwaway"));
    let result = &json["workloads"][0]["results"][0];
    assert!(
        result["database_cpu_ms_per_1k"].as_f64().unwrap() > 0.0,
        "{result:#}"
    );
    assert_eq!(servers_of(std::process::id()), Vec::<i32>::new());
}

fn walk(dir: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        if p.is_dir() {
            if let Some(found) = walk(&p, name) {
                return Some(found);
            }
        } else if p.file_name().is_some_and(|n| n == name) {
            return Some(p);
        }
    }
    None
}
