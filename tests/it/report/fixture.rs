//! A stored run built by hand: a real results store in a temporary folder holding 3 measured
//! contestants (Node.js, Python, Rust) plus one that failed verify, 2 workloads and 3 trials
//! each, with real V2-serialized HDR histograms. Figures are chosen so that one workload has a
//! clear leader, the other a lead within noise, one result is noisy and one trial saturated the
//! load engine. The settings come from a suite file through the same code as `faceoff run`
//! (`suite::parse_plan`, `RunSettings::new`).
//!
//! The hostile variant adds every way a result can go wrong: a contestant named `<script>`,
//! one that stops answering (zero responses, requests left unanswered), one with no figure at
//! all (it crashed in every trial), an engine-limited result and a contaminated trial.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use faceoff::store::{
    ContestantRecord, Deployment, Environment, Event, NewRun, NoiseCalibration, RunDetail,
    RunSettings, Store, TrialMetrics, TrialQuality, TrialRecord,
};
use hdrhistogram::serialization::{Serializer, V2Serializer};
use hdrhistogram::Histogram;
use serde_json::json;

/// Markup that must never come alive in a report.
pub const PAYLOAD: &str = r#"<script>alert(1)</script>"><img src=x onerror=alert(2)>"#;

/// A folder under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty folder whose name starts with `prefix`.
    pub fn new(prefix: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "faceoff-{prefix}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A stored run and where it is.
pub struct Fixture {
    /// Holds the database; removed on drop.
    pub dir: TempDir,
    /// The database file.
    pub db: PathBuf,
    /// The run's id.
    pub run_id: i64,
}

impl Fixture {
    /// The run as the store reads it back.
    pub fn detail(&self) -> RunDetail {
        Store::open(&self.db).unwrap().run(self.run_id).unwrap()
    }
}

struct Spec {
    name: &'static str,
    display: &'static str,
    stack: &'static str,
    language: &'static str,
    framework: &'static str,
    versions: serde_json::Value,
    /// Median latency in µs on `json`; `db` is 4x slower.
    base_us: f64,
    cpu_ms_per_1k: f64,
    pss_mib: u64,
}

fn specs() -> Vec<Spec> {
    vec![
        Spec {
            name: "express",
            display: "Express",
            stack: "Node.js",
            language: "JavaScript",
            framework: "Express 4",
            versions: json!({"node": "v20.20.2", "express": "4.21.2"}),
            base_us: 900.0,
            cpu_ms_per_1k: 21.5,
            pss_mib: 72,
        },
        Spec {
            name: "fastapi",
            display: "FastAPI",
            stack: "Python",
            language: "Python",
            framework: "FastAPI + uvicorn",
            versions: json!({"python": "3.11.7", "fastapi": "0.115.0", "uvicorn": "0.30.6"}),
            base_us: 2800.0,
            cpu_ms_per_1k: 58.3,
            pss_mib: 95,
        },
        Spec {
            name: "axum",
            display: "axum",
            stack: "Rust",
            language: "Rust",
            framework: "axum 0.8",
            versions: json!({"rustc": "1.95.0", "axum": "0.8.1", "tokio": "1.47.1"}),
            base_us: 380.0,
            cpu_ms_per_1k: 9.8,
            pss_mib: 9,
        },
    ]
}

/// Requests per second of each trial, per workload and contestant.
fn rps(workload: &str, contestant: &str) -> [f64; 3] {
    match (workload, contestant) {
        ("json", "axum") => [151_200.0, 152_340.0, 150_900.0],
        ("json", "express") => [61_000.0, 62_500.0, 60_200.0],
        ("json", "fastapi") => [18_100.0, 17_650.0, 18_420.0],
        ("db", "axum") => [24_100.0, 23_300.0, 24_900.0],
        ("db", "express") => [23_800.0, 22_900.0, 24_400.0],
        (_, _) => [9_100.0, 7_400.0, 9_900.0],
    }
}

/// Latency histograms (corrected, uncorrected) with a long tail, the corrected one longer.
fn histograms(base_us: f64) -> (Histogram<u64>, Histogram<u64>) {
    let mut corrected = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    let mut uncorrected = corrected.clone();
    const N: usize = 20_000;
    for i in 0..N {
        let u = (i as f64 + 0.5) / N as f64;
        let raw = base_us * (1.0 / (1.0 - u * 0.999)).powf(0.35);
        let stall = if u > 0.99 {
            base_us * 20.0 * (u - 0.99) / 0.01
        } else {
            0.0
        };
        uncorrected.record(raw as u64).unwrap();
        corrected.record((raw + stall) as u64).unwrap();
    }
    (corrected, uncorrected)
}

fn serialize(h: &Histogram<u64>) -> Vec<u8> {
    let mut out = Vec::new();
    V2Serializer::new().serialize(h, &mut out).unwrap();
    out
}

fn percentiles(h: &Histogram<u64>) -> [u64; 5] {
    [0.5, 0.9, 0.99, 0.999]
        .map(|q| h.value_at_quantile(q))
        .into_iter()
        .chain([h.max()])
        .collect::<Vec<_>>()
        .try_into()
        .unwrap()
}

/// Stores the run. With `hostile`, [`PAYLOAD`] goes into a contestant's name and display name,
/// a verify detail, a log tail, an event, the suite file and the environment.
pub fn build(hostile: bool) -> Fixture {
    let dir = TempDir::new("report");
    let db = dir.path().join("faceoff.db");
    let store = Store::open(&db).unwrap();
    let evil = |plain: &str| {
        if hostile {
            format!("{plain}{PAYLOAD}")
        } else {
            plain.to_string()
        }
    };
    let suite_toml = format!(
        "name = \"quick\"\n# {}\n[defaults]\nwarmup = \"5s\"\ntrial = \"10s\"\nmin_rounds = 3\nmax_rounds = 10\ntarget_ci = 0.03\nconnections = 64\n\n[[workload]]\nname = \"json\"\n[[workload.request]]\npath = \"/json\"\n\n[[workload]]\nname = \"db\"\n[[workload.request]]\npath = \"/db\"\n",
        evil("a comment")
    );
    let plan = faceoff::suite::parse_plan(&suite_toml, Path::new("suites/quick.toml")).unwrap();
    let mut settings = RunSettings::new(
        &plan,
        vec!["contestants/express".into(), "contestants/fastapi".into()],
        vec![1],
        vec![0],
        1,
        true,
    );
    settings.order_seed = Some(8_133_214);
    let run_id = store
        .begin_run(&NewRun {
            suite_name: "quick".into(),
            suite_path: "suites/quick.toml".into(),
            suite_sha256: "9f2c6e0b4d".into(),
            suite_toml,
            environment: Environment {
                cpu_model: evil("AMD EPYC 7B13"),
                cpus_online: 2,
                cpus_allowed: vec![0, 1],
                server_cpus: vec![1],
                load_cpus: vec![0],
                memory_bytes: 8 << 30,
                kernel: "6.1.0-28-cloud-amd64".into(),
                runtimes: [
                    ("node".to_string(), "v24.11.1".to_string()),
                    ("python".to_string(), "Python 3.11.2".to_string()),
                ]
                .into(),
                faceoff_version: "0.1.0".into(),
            },
            settings: settings.clone(),
        })
        .unwrap();
    // The runner adds the noise calibration once it has measured it.
    settings.noise = Some(NoiseCalibration {
        contestant: "axum".into(),
        workload: "json".into(),
        trials: 5,
        trial_s: 5.0,
        median_rps: 101_500.0,
        rel_spread: 0.11,
    });
    settings.audit = Some(faceoff::audit::AuditDepth::Quick);
    store.put_settings(run_id, &settings).unwrap();

    let specs = specs();
    for s in &specs {
        let (name, display) = if hostile && s.name == "express" {
            (evil(s.name), evil(s.display))
        } else {
            (s.name.to_string(), s.display.to_string())
        };
        store
            .put_contestant(
                run_id,
                &ContestantRecord {
                    name,
                    display_name: display,
                    stack: s.stack.into(),
                    language: s.language.into(),
                    framework: s.framework.into(),
                    versions: s.versions.clone(),
                    status: faceoff::store::ContestantStatus::Measured,
                    verify: json!([
                        {"check": "GET /json", "passed": true, "detail": ""},
                        {"check": "GET /db", "passed": true, "detail": ""},
                    ]),
                    note: String::new(),
                    runtime: Some(format!("{} v1", s.stack)),
                    deployment: Some(Deployment {
                        server: format!("{} server", s.framework),
                        why: if hostile {
                            evil("why: ")
                        } else {
                            "its docs".into()
                        },
                        doc: "https://example.org/deploying".into(),
                    }),
                },
            )
            .unwrap();
    }
    store
        .put_contestant(
            run_id,
            &ContestantRecord {
                name: "flask".into(),
                display_name: "Flask".into(),
                stack: "Python".into(),
                language: "Python".into(),
                framework: "Flask + gunicorn".into(),
                versions: json!({"python": "3.11.7", "flask": "3.0.3"}),
                status: faceoff::store::ContestantStatus::FailedVerify,
                verify: json!([
                    {"check": "GET /json", "passed": true, "detail": ""},
                    {"check": "GET /fortunes", "passed": false,
                     "detail": evil("message 11 was not HTML-escaped: ")},
                ]),
                note: evil("[2026-11-02 10:00:01] worker booted\n[2026-11-02 10:00:02] GET /fortunes 200\n"),
                runtime: None,
                deployment: None,
            },
        )
        .unwrap();

    for workload in ["json", "db"] {
        for round in 1..=3u32 {
            for s in &specs {
                let i = round as usize - 1;
                let rps = rps(workload, s.name)[i];
                let factor = if workload == "db" { 4.0 } else { 1.0 };
                let (corrected, uncorrected) =
                    histograms(s.base_us * factor * (1.0 + 0.02 * i as f64));
                let errors = if workload == "db" && s.name == "express" {
                    3
                } else {
                    0
                };
                let metrics = TrialMetrics {
                    duration_s: 10.0,
                    requests: (rps * 10.0) as u64,
                    rps,
                    errors,
                    errors_by_kind: if errors > 0 {
                        [("timeout".to_string(), 2), ("reset".to_string(), 1)].into()
                    } else {
                        Default::default()
                    },
                    status: [("200".to_string(), (rps * 10.0) as u64)].into(),
                    latency_us: percentiles(&corrected),
                    latency_uncorrected_us: percentiles(&uncorrected),
                    latency_mean_us: corrected.mean(),
                    late_sends: 0,
                    server_cpu_s: rps * 10.0 * s.cpu_ms_per_1k / 1e6,
                    cpu_ms_per_1k: s.cpu_ms_per_1k * factor.sqrt() * (1.0 + 0.01 * i as f64),
                    pss_mean_bytes: (s.pss_mib << 20) + (i as u64) * (1 << 19),
                    pss_peak_bytes: ((s.pss_mib + 6) << 20) + (i as u64) * (1 << 20),
                    rss_peak_bytes: (s.pss_mib + 12) << 20,
                    engine_cpu_s: 6.0,
                    engine_busiest: if workload == "json" && s.name == "axum" && round == 2 {
                        0.93
                    } else {
                        0.55
                    },
                    timeline_rps: vec![rps as u64; 10],
                    database: None,
                    crashed: false,
                    ws: None,
                    quality: TrialQuality {
                        quiet_wait_s: Some(0.2 + 0.1 * i as f64),
                        quiet_at_start: Some(true),
                        foreign_cpu_s: Some(
                            if workload == "db" && s.name == "express" && round == 3 {
                                0.42
                            } else {
                                0.01
                            },
                        ),
                        // Other work ran on the server CPUs during this one: left out.
                        contaminated: workload == "db" && s.name == "express" && round == 3,
                        superseded: workload == "db" && s.name == "express" && round == 3,
                        retry: 0,
                        connections: Some(64),
                        warm_connections: Some(64),
                        setup_failures: Some(0),
                        setup_s: Some(0.04),
                        unanswered: 60,
                        unanswered_max_age_us: Some((s.base_us * factor * 3.0) as u64),
                        busy_connections: Some(60.5),
                        engine_limited: (workload == "json" && s.name == "axum" && round == 2)
                            .then(|| "a load thread was on its CPU 93% of the time".to_string()),
                        speed_ns_per_step: Some(2.5),
                    },
                    point: None,
                    cores: None,
                };
                let contestant = if hostile && s.name == "express" {
                    evil(s.name)
                } else {
                    s.name.to_string()
                };
                store
                    .put_trial(
                        run_id,
                        &TrialRecord {
                            workload: workload.into(),
                            contestant,
                            round,
                            started_at: format!("2026-11-02T10:0{}:0{i}Z", round),
                            metrics,
                            histogram: serialize(&corrected),
                            histogram_uncorrected: serialize(&uncorrected),
                        },
                    )
                    .unwrap();
            }
        }
    }
    if hostile {
        add_broken_contestants(&store, run_id);
    }
    add_audits(&store, run_id, &evil);
    store
        .put_event(
            run_id,
            &Event {
                at: "2026-11-02T10:09:00Z".into(),
                contestant: Some("fastapi".into()),
                workload: Some("db".into()),
                kind: "warning".into(),
                message: evil(
                    "the first trial was 12% slower than the others; a longer warm-up may help",
                ),
            },
        )
        .unwrap();
    store
        .finish_run(run_id, faceoff::store::RunStatus::Complete)
        .unwrap();
    Fixture { dir, db, run_id }
}

/// Two contestants that give no honest figure: `silent` answers the first json trial, then
/// stops answering (requests left waiting ≥ 10 s, its CPU idle), and on db works a full CPU
/// through every window without finishing a request; `ghost` crashes in every trial.
fn add_broken_contestants(store: &Store, run_id: i64) {
    for (name, stack) in [("silent", "Node.js"), ("ghost", "Go")] {
        store
            .put_contestant(
                run_id,
                &ContestantRecord {
                    name: name.into(),
                    display_name: name.into(),
                    stack: stack.into(),
                    language: stack.into(),
                    framework: "own".into(),
                    versions: json!({}),
                    status: if name == "ghost" {
                        faceoff::store::ContestantStatus::Crashed
                    } else {
                        faceoff::store::ContestantStatus::Measured
                    },
                    verify: json!([]),
                    note: String::new(),
                    runtime: None,
                    deployment: None,
                },
            )
            .unwrap();
    }
    let empty = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    let (answered, _) = histograms(2_000.0);
    let trial = |workload: &str, contestant: &str, round: u32, answers: bool| {
        let requests = if answers { 50_000 } else { 0 };
        let h = if answers { &answered } else { &empty };
        TrialRecord {
            workload: workload.into(),
            contestant: contestant.into(),
            round,
            started_at: "2026-11-02T10:05:00Z".into(),
            metrics: TrialMetrics {
                duration_s: 10.0,
                requests,
                rps: requests as f64 / 10.0,
                errors: 0,
                errors_by_kind: Default::default(),
                status: Default::default(),
                latency_us: if answers { percentiles(h) } else { [0; 5] },
                latency_uncorrected_us: if answers { percentiles(h) } else { [0; 5] },
                latency_mean_us: if answers { h.mean() } else { 0.0 },
                late_sends: 0,
                server_cpu_s: if workload == "db" { 10.0 } else { 0.0 },
                cpu_ms_per_1k: 0.0,
                pss_mean_bytes: if answers { 30 << 20 } else { 0 },
                pss_peak_bytes: if answers { 31 << 20 } else { 0 },
                rss_peak_bytes: if answers { 40 << 20 } else { 0 },
                engine_cpu_s: 0.5,
                engine_busiest: 0.1,
                timeline_rps: vec![0; 10],
                database: None,
                crashed: contestant == "ghost",
                ws: None,
                quality: TrialQuality {
                    connections: Some(64),
                    unanswered: if contestant == "ghost" { 0 } else { 64 },
                    unanswered_max_age_us: (contestant != "ghost").then_some(if answers {
                        3_000
                    } else {
                        10_000_000
                    }),
                    ..Default::default()
                },
                point: None,
                cores: None,
            },
            histogram: serialize(h),
            histogram_uncorrected: serialize(h),
        }
    };
    for round in 1..=3 {
        for t in [
            trial("json", "silent", round, round == 1),
            trial("db", "silent", round, false),
            trial("json", "ghost", round, false),
        ] {
            store.put_trial(run_id, &t).unwrap();
        }
    }
}

/// The audits `run` stores once every workload is measured (issue 11), read through the serde
/// path the store reads them back with: express grade C with a finding of each kind it had
/// (with `hostile`, its name and the large-body finding carry [`PAYLOAD`]), fastapi B, axum A+
/// without findings. flask (failed verify) and, with `hostile`, silent and ghost have none.
fn add_audits(store: &Store, run_id: i64, evil: &dyn Fn(&str) -> String) {
    let not_checked = json!({"state": "not_checked", "reason": "no advisory source is reachable"});
    let header = |test: &str, result: &str, modifier: i32| {
        json!({
            "kind": "header",
            "name": test,
            "detail": format!("no {test} header ({result}, {modifier})"),
            "evidence": "GET /fortunes with Origin: https://faceoff-audit.example -> 200; header absent",
        })
    };
    let audits = [
        json!({
            "name": evil("express"),
            "display_name": evil("Express"),
            "stack": "Node.js",
            "status": "audited",
            "message": null,
            "grade": "C",
            "score": 50,
            "hostile": {"passed": 11, "failed": 1},
            "left_out": [{"probe": "slow-client", "reason": "a quick audit leaves it out (it waits 8 s)"}],
            "dependencies": {
                "lockfile": "package-lock.json", "direct": 1, "total": 66,
                "installed_bytes": 4_404_019, "installed_what": "node_modules",
                "advisories": not_checked,
            },
            "findings": [
                header("content-security-policy", "csp-not-implemented", -25),
                header("x-frame-options", "x-frame-options-not-implemented", -20),
                header("x-content-type-options", "x-content-type-options-not-implemented", -5),
                {"kind": "disclosure", "name": "x-powered-by",
                 "detail": "the x-powered-by header names the server software",
                 "evidence": "GET /fortunes, GET /json -> x-powered-by: Express"},
                {"kind": "probe", "name": "large-body",
                 "detail": evil("the server exited (exit code 1) after this probe"),
                 "evidence": evil("sent POST /users with a 10 MiB JSON body; expected 413 (or the connection closed); got closed after 107 ms ")},
            ],
            "elapsed_ms": 1_250,
        }),
        json!({
            "name": "fastapi",
            "display_name": "FastAPI",
            "stack": "Python",
            "status": "audited",
            "message": null,
            "grade": "B",
            "score": 75,
            "hostile": {"passed": 12, "failed": 0},
            "left_out": [{"probe": "slow-client", "reason": "a quick audit leaves it out (it waits 8 s)"}],
            "dependencies": {
                "lockfile": "requirements.txt", "direct": 3, "total": 14,
                "installed_bytes": 31_457_280, "installed_what": ".venv",
                "advisories": not_checked,
            },
            "findings": [header("content-security-policy", "csp-not-implemented", -25)],
            "elapsed_ms": 2_100,
        }),
        json!({
            "name": "axum",
            "display_name": "axum",
            "stack": "Rust",
            "status": "audited",
            "message": null,
            "grade": "A+",
            "score": 100,
            "hostile": {"passed": 12, "failed": 0},
            "left_out": [{"probe": "slow-client", "reason": "a quick audit leaves it out (it waits 8 s)"}],
            "dependencies": {
                "lockfile": "Cargo.lock", "direct": 9, "total": 121,
                "installed_bytes": 9_961_472,
                "installed_what": "target/release/rust-axum (dependencies are compiled in)",
                "advisories": {"state": "checked", "source": "recorded cargo audit --json", "list": []},
            },
            "findings": [],
            "elapsed_ms": 800,
        }),
    ];
    for audit in audits {
        let audit: faceoff::store::ContestantAudit = serde_json::from_value(audit).unwrap();
        store.put_audit(run_id, &audit).unwrap();
    }
}
