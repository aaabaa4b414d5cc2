//! SQLite against PostgreSQL: two short real runs of the same suite, one on each database, and
//! `faceoff report --compare` showing the database effect per contestant in every format.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

fn faceoff_in(results: &Path) -> std::process::Command {
    let mut cmd = crate::common::faceoff();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("FACEOFF_RESULTS_DIR", results)
        .env("FACEOFF_DB", results.join("faceoff.db"));
    cmd
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn report_compare_shows_the_database_effect_of_two_real_runs() {
    let _cpu = crate::common::server_cpu();
    let dir = tempfile::tempdir().unwrap();
    let suite = crate::common::fixture("queries-suite.toml");
    let run_on = |database: &str| -> i64 {
        let out = faceoff_in(dir.path())
            .args([
                "run",
                "--no-calibration",
                "--audit",
                "off",
                "--only",
                "node-http",
            ])
            .args(["--only", "rust-axum", "--database", database, "--suite"])
            .arg(&suite)
            .output()
            .unwrap();
        ok(&out);
        let store = faceoff::store::Store::open(&dir.path().join("faceoff.db")).unwrap();
        store.latest_run().unwrap().unwrap()
    };
    let sqlite = run_on("sqlite");
    let pg = run_on("postgres");

    let out_dir = dir.path().join("compare");
    let stdout = ok(&faceoff_in(dir.path())
        .args([
            "report",
            &pg.to_string(),
            "--compare",
            &sqlite.to_string(),
            "--out",
        ])
        .arg(&out_dir)
        .output()
        .unwrap());
    assert!(
        stdout.contains(&format!("database effect: run {sqlite} -> run {pg}")),
        "{stdout}"
    );
    assert!(
        stdout.contains("SQLite req/s") && stdout.contains("PostgreSQL req/s"),
        "{stdout}"
    );

    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("results.json")).unwrap())
            .unwrap();
    let errors: Vec<String> = crate::report::schema()
        .iter_errors(&json)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let c = &json["comparison"];
    assert_eq!(c["effect"], "database");
    assert_eq!(c["baseline_database"], "sqlite");
    assert_eq!(c["database"], "postgres");
    let rows = c["rows"].as_array().unwrap();
    let mut names: Vec<&str> = rows
        .iter()
        .map(|r| r["contestant"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["node-http", "rust-axum"], "{c:#}");
    for r in rows {
        assert_eq!(r["workload"], "queries-20");
        assert!(r["baseline_rps"].as_f64().unwrap() > 0.0, "{r:#}");
        assert!(r["rps"].as_f64().unwrap() > 0.0, "{r:#}");
        assert_eq!(r["trials"], serde_json::json!([2, 2]));
        let ratio = &r["ratio"];
        assert!(ratio["lo"].as_f64() <= ratio["point"].as_f64(), "{r:#}");
    }

    let md = std::fs::read_to_string(out_dir.join("summary.md")).unwrap();
    assert!(
        md.contains(&format!("## Database effect: run {sqlite} → run {pg}")),
        "{md}"
    );
    assert!(md.contains("| queries-20 | "), "{md}");
    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(html.contains(r#"<section id="compare"><h2>Database effect"#));

    // Without --compare the section is absent; diff names the two databases.
    let plain = ok(&faceoff_in(dir.path())
        .args(["report", &pg.to_string(), "--out"])
        .arg(dir.path().join("plain"))
        .output()
        .unwrap());
    assert!(!plain.contains("database effect"), "{plain}");
    let diff = ok(&faceoff_in(dir.path())
        .args(["diff", &sqlite.to_string(), &pg.to_string()])
        .output()
        .unwrap());
    assert!(
        diff.contains("different databases (sqlite -> postgres)")
            && diff.contains("database effect"),
        "{diff}"
    );
}
