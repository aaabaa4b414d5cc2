//! A stored run for the claims and the verdict, built with the real store: Node.js and Python
//! contestants (one with a hostile display name), six trials each (enough for 95% intervals),
//! on workloads chosen for every outcome: `json` a clear Node.js lead (supported), `plaintext`
//! a Python lead (refuted), `io` a tie (inconclusive), the three /compute sizes of the NumPy
//! claim (the issue's own figures, crossing over), and no WebSocket, capacity or audit data
//! (missing). The settings come from a suite file through the same code as `faceoff run`.

use std::path::{Path, PathBuf};

use faceoff::store::{
    ContestantRecord, ContestantStatus, Environment, NewRun, RunSettings, RunStatus, Store,
    TrialMetrics, TrialQuality, TrialRecord,
};
use hdrhistogram::serialization::{Serializer, V2Serializer};
use hdrhistogram::Histogram;
use serde_json::json;

use crate::report::fixture::{TempDir, PAYLOAD};

/// The run's suite: the workloads the fixture stores.
const SUITE: &str = r#"name = "verdict-fixture"
[defaults]
warmup = "1s"
trial = "2s"
min_rounds = 6
max_rounds = 6
[[workload]]
name = "json"
[[workload.request]]
path = "/json"
[[workload]]
name = "plaintext"
[[workload.request]]
path = "/plaintext"
[[workload]]
name = "io"
connections = 256
[[workload.request]]
path = "/io?ms=50"
[[workload]]
name = "compute-1k"
[[workload.request]]
path = "/compute?n=1000"
[[workload]]
name = "compute"
[[workload.request]]
path = "/compute?n=10000"
[[workload]]
name = "compute-1m"
connections = 2
[[workload.request]]
path = "/compute?n=1000000"
"#;

/// (name, stack, framework)
const CONTESTANTS: [(&str, &str, &str); 6] = [
    ("node-http", "Node.js", "node:http"),
    ("node-fastify", "Node.js", "Fastify"),
    ("node-express", "Node.js", "Express"),
    ("python-fastapi", "Python", "FastAPI"),
    ("python-fastapi-numpy", "Python", "FastAPI"),
    ("python-django", "Python", "Django"),
];

/// Median requests per second per workload and contestant.
fn rps(workload: &str, contestant: &str) -> f64 {
    let row: [f64; 6] = match workload {
        "json" => [40_000.0, 35_000.0, 12_000.0, 9_000.0, 8_800.0, 3_000.0],
        "plaintext" => [10_000.0, 9_000.0, 5_000.0, 11_000.0, 10_800.0, 4_000.0],
        "io" => [4_700.0, 4_650.0, 4_600.0, 4_690.0, 4_680.0, 4_000.0],
        "compute-1k" => [5_954.0, 5_500.0, 5_000.0, 833.0, 1_045.0, 700.0],
        "compute" => [900.0, 850.0, 800.0, 90.0, 700.0, 80.0],
        _ => [48.0, 47.0, 46.0, 2.7, 86.0, 2.5],
    };
    let i = CONTESTANTS
        .iter()
        .position(|(n, ..)| *n == contestant)
        .unwrap();
    row[i]
}

/// How each of the six trials differs from the median: ±1%, so every interval is narrow.
const SPREAD: [f64; 6] = [1.0, 1.01, 0.99, 1.005, 0.995, 1.0];

/// A stored run.
pub struct Fixture {
    /// Holds the database; removed on drop.
    pub dir: TempDir,
    /// The database file.
    pub db: PathBuf,
    /// The run's id.
    pub run_id: i64,
}

fn histogram(base_us: u64) -> (Vec<u8>, [u64; 5]) {
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    for i in 0..1_000u64 {
        h.record(base_us + base_us * i / 400).unwrap();
    }
    let mut out = Vec::new();
    V2Serializer::new().serialize(&h, &mut out).unwrap();
    let p = [0.5, 0.9, 0.99, 0.999].map(|q| h.value_at_quantile(q));
    (out, [p[0], p[1], p[2], p[3], h.max()])
}

/// Stores the run.
pub fn build() -> Fixture {
    let dir = TempDir::new("verdict");
    let db = dir.path().join("faceoff.db");
    let store = Store::open(&db).unwrap();
    let plan = faceoff::suite::parse_plan(SUITE, Path::new("verdict-fixture.toml")).unwrap();
    let settings = RunSettings::new(
        &plan,
        CONTESTANTS
            .iter()
            .map(|(n, ..)| PathBuf::from(format!("contestants/{n}")))
            .collect(),
        vec![1],
        vec![0],
        1,
        true,
    );
    let run_id = store
        .begin_run(&NewRun {
            suite_name: plan.name.clone(),
            suite_path: "verdict-fixture.toml".into(),
            suite_sha256: plan.source_sha256.clone(),
            suite_toml: SUITE.into(),
            environment: Environment::default(),
            settings,
        })
        .unwrap();
    for (name, stack, framework) in CONTESTANTS {
        // One display name carries markup that must stay text in every report.
        let display = if name == "node-express" {
            format!("Express {PAYLOAD}")
        } else {
            name.to_string()
        };
        store
            .put_contestant(
                run_id,
                &ContestantRecord {
                    name: name.into(),
                    display_name: display,
                    stack: stack.into(),
                    language: stack.into(),
                    framework: framework.into(),
                    versions: json!({}),
                    status: ContestantStatus::Measured,
                    verify: json!([]),
                    note: String::new(),
                    runtime: None,
                    deployment: None,
                },
            )
            .unwrap();
    }
    for w in &plan.workloads {
        for (round, spread) in SPREAD.iter().enumerate() {
            for (name, ..) in CONTESTANTS {
                let rps = rps(&w.name, name) * spread;
                let (histogram, latency_us) = histogram((64e6 / rps / 4.0) as u64 + 1);
                let requests = (rps * 2.0).round() as u64;
                let metrics = TrialMetrics {
                    duration_s: 2.0,
                    requests,
                    rps,
                    errors: 0,
                    errors_by_kind: Default::default(),
                    status: [("200".to_string(), requests)].into(),
                    latency_us,
                    latency_uncorrected_us: latency_us,
                    latency_mean_us: latency_us[0] as f64,
                    late_sends: 0,
                    server_cpu_s: 1.8,
                    cpu_ms_per_1k: 1.8e6 / (rps * 2.0),
                    pss_mean_bytes: 60 << 20,
                    pss_peak_bytes: 64 << 20,
                    rss_peak_bytes: 80 << 20,
                    engine_cpu_s: 0.5,
                    engine_busiest: 0.3,
                    timeline_rps: vec![rps as u64; 2],
                    crashed: false,
                    database: None,
                    point: None,
                    cores: None,
                    ws: None,
                    quality: TrialQuality {
                        connections: Some(w.shape.connections()),
                        warm_connections: Some(w.shape.connections()),
                        ..Default::default()
                    },
                };
                store
                    .put_trial(
                        run_id,
                        &TrialRecord {
                            workload: w.name.clone(),
                            contestant: name.into(),
                            round: round as u32 + 1,
                            started_at: "2026-12-02T08:00:00Z".into(),
                            metrics,
                            histogram: histogram.clone(),
                            histogram_uncorrected: histogram,
                        },
                    )
                    .unwrap();
            }
        }
    }
    store.finish_run(run_id, RunStatus::Complete).unwrap();
    Fixture { dir, db, run_id }
}
