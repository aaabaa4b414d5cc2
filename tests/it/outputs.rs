//! `faceoff bench -o/--format` (JSON, CSV, Markdown, HDR interval log, percentile spectrum),
//! `--latency`, and `faceoff export` of a stored trial's histogram (issue 13, part 2): every
//! output is read back and compared with the JSON figures of the same load.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;

use crate::common::{faceoff, run_faceoff, server_cpu, Behavior, TempContestant, TestServer};

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// The histograms of an interval log, with their tags.
fn read_log(bytes: &[u8]) -> Vec<(Option<String>, Histogram<u64>)> {
    IntervalLogIterator::new(bytes)
        .filter_map(|entry| match entry.expect("a valid interval log") {
            LogEntry::Interval(i) => {
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(i.encoded_histogram())
                    .unwrap();
                let h: Histogram<u64> = Deserializer::new()
                    .deserialize(&mut raw.as_slice())
                    .unwrap();
                Some((i.tag().map(|t| t.as_str().to_string()), h))
            }
            _ => None,
        })
        .collect()
}

/// Rows of a percentile spectrum: (value ms, percentile, total count, has the inverse column).
fn spectrum_rows(text: &str) -> Vec<(f64, f64, u64, bool)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("Value"))
        .filter(|l| l.split_whitespace().count() >= 3)
        .filter(|l| l.split_whitespace().next().unwrap().parse::<f64>().is_ok())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f.len() == 4,
            )
        })
        .collect()
}

fn assert_spectrum(text: &str, total: u64) {
    let rows = spectrum_rows(text);
    assert!(rows.len() > 10, "{text}");
    for w in rows.windows(2) {
        assert!(w[0].0 <= w[1].0, "values go down: {w:?}\n{text}");
        assert!(w[0].1 <= w[1].1, "percentiles go down: {w:?}\n{text}");
        assert!(w[0].2 <= w[1].2, "counts go down: {w:?}\n{text}");
    }
    let last = rows.last().unwrap();
    assert_eq!(last.1, 1.0, "{text}");
    assert_eq!(last.2, total, "{text}");
    assert!(!last.3, "the 100% line has no 1/(1-Percentile): {text}");
    assert!(rows[..rows.len() - 1].iter().all(|r| r.3), "{text}");
    assert!(
        text.contains(&format!("Total count    = {total:>12}]")),
        "{text}"
    );
}

#[test]
fn every_output_file_reads_back_and_agrees_with_the_json() {
    let server = TestServer::start(Behavior::Hello);
    let dir = tempdir();
    let file = |ext: &str| dir.path().join(format!("load.{ext}"));
    let out = faceoff()
        .args([
            "bench",
            &server.url("/"),
            "-n",
            "3000",
            "-c",
            "4",
            "-t",
            "1",
        ])
        .args(
            ["json", "csv", "md", "hlog"]
                .iter()
                .flat_map(|e| ["-o".to_string(), file(e).to_string_lossy().into_owned()]),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The terminal still shows the human summary.
    assert!(stdout.contains("requests     3,000 in"), "{stdout}");
    assert!(stdout.contains(" p95 "), "{stdout}");

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(file("json")).unwrap()).unwrap();
    let lat = &json["latency_us"];
    let figure = |k: &str| lat[k].as_u64().unwrap_or_else(|| panic!("{k} in {json}"));
    assert_eq!(json["requests"], 3000);
    assert!(figure("min") <= figure("p50") && figure("p90") <= figure("p95"));
    assert!(figure("p95") <= figure("p99"), "{json}");

    // CSV: one header row, one data row, the documented columns.
    let csv = std::fs::read_to_string(file("csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    let header: Vec<&str> = lines[0].split(',').collect();
    let row: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(header.len(), row.len(), "{csv}");
    let cell = |name: &str| {
        let i = header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column {name}: {csv}"));
        row[i]
    };
    assert_eq!(cell("url"), server.url("/"));
    assert_eq!(cell("requests"), "3000");
    assert_eq!(cell("errors"), "0");
    assert_eq!(cell("target_rate_per_s"), "", "missing is empty, not 0");
    for k in ["min", "p50", "p90", "p95", "p99", "p999", "max"] {
        assert_eq!(
            cell(&format!("latency_{k}_us")),
            figure(k).to_string(),
            "{k}"
        );
    }

    // Markdown: a header, an alignment row and one row, cells as the units module writes them.
    let md = std::fs::read_to_string(file("md")).unwrap();
    let table: Vec<Vec<String>> = md
        .lines()
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect();
    assert_eq!(table.len(), 3, "{md}");
    assert!(
        table[1]
            .iter()
            .all(|c| c.starts_with(':') || c.ends_with(':')),
        "{md}"
    );
    let md_cell = |name: &str| {
        let i = table[0].iter().position(|h| h == name).unwrap();
        table[2][i].clone()
    };
    assert_eq!(md_cell("URL"), format!("`{}`", server.url("/")));
    assert_eq!(md_cell("requests"), "3,000");
    for (k, head) in [
        ("min", "min"),
        ("p50", "p50"),
        ("p95", "p95"),
        ("p999", "p99.9"),
    ] {
        assert_eq!(md_cell(head), faceoff::units::us_int(figure(k)), "{md}");
    }

    // The HDR interval log: the same histogram the JSON figures were read from.
    let logged = read_log(&std::fs::read(file("hlog")).unwrap());
    assert_eq!(logged.len(), 2, "corrected and uncorrected");
    let corrected = &logged.iter().find(|(tag, _)| tag.is_none()).unwrap().1;
    assert_eq!(corrected.len(), 3000);
    assert_eq!(corrected.min(), figure("min"));
    assert_eq!(corrected.max(), figure("max"));
    for (k, q) in [
        ("p50", 0.5),
        ("p90", 0.9),
        ("p95", 0.95),
        ("p99", 0.99),
        ("p999", 0.999),
    ] {
        assert_eq!(corrected.value_at_quantile(q), figure(k), "{k}");
    }
    let uncorrected = &logged
        .iter()
        .find(|(tag, _)| tag.as_deref() == Some("uncorrected"))
        .unwrap()
        .1;
    assert_eq!(
        uncorrected.value_at_quantile(0.5),
        json["latency_uncorrected_us"]["p50"].as_u64().unwrap()
    );
}

#[test]
fn the_spectrum_climbs_to_the_total_count() {
    let server = TestServer::start(Behavior::Hello);
    let out = run_faceoff(&[
        "bench",
        &server.url("/"),
        "-n",
        "1000",
        "-c",
        "2",
        "-t",
        "1",
        "--format",
        "spectrum",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}");
    assert!(
        text.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)\n\n"),
        "{text}"
    );
    assert_spectrum(&text, 1000);
}

#[test]
fn latency_prints_the_spectrum_as_in_wrk() {
    let server = TestServer::start(Behavior::Hello);
    let out = run_faceoff(&[
        "bench",
        &server.url("/"),
        "-n",
        "500",
        "-c",
        "2",
        "--latency",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("requests     500 in"), "{text}");
    let (_, spectrum) = text
        .split_once("percentile spectrum (values in ms):\n")
        .unwrap_or_else(|| panic!("no spectrum: {text}"));
    assert!(spectrum.contains("1/(1-Percentile)"), "{text}");
    assert_spectrum(spectrum, 500);
}

#[test]
fn a_bad_output_path_fails_before_any_load() {
    let server = TestServer::start(Behavior::Hello);
    let dir = tempdir();
    let missing = dir.path().join("no/such/folder/load.json");
    let cases: [(Vec<String>, &str); 3] = [
        (
            vec!["-o".into(), missing.to_string_lossy().into_owned()],
            "could not create -o",
        ),
        (
            vec![
                "-o".into(),
                dir.path().join("load.txt").to_string_lossy().into_owned(),
            ],
            "cannot tell the format",
        ),
        (
            vec![
                "--format".into(),
                "csv".into(),
                "-o".into(),
                dir.path().join("load.json").to_string_lossy().into_owned(),
            ],
            "has the extension of json",
        ),
    ];
    for (extra, needle) in cases {
        let out = faceoff()
            .args(["bench", &server.url("/"), "-d", "2s"])
            .args(&extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{extra:?}: {stderr}");
        assert!(
            stderr.starts_with("error: ") && stderr.contains(needle),
            "{extra:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{extra:?}");
    }
    assert_eq!(server.count(), 0, "no request was sent");
    assert!(!dir.path().join("load.json").exists());
}

/// `faceoff export` on the database in `dir`.
fn export(db: &Path, args: &[&str]) -> std::process::Output {
    faceoff()
        .arg("export")
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn export_writes_a_stored_trials_histogram() {
    let _cpu = server_cpu();
    let dir = tempdir();
    let db: PathBuf = dir.path().join("faceoff.db");
    let suite = dir.path().join("short.toml");
    std::fs::write(
        &suite,
        "name = 'short'\n[defaults]\nwarmup = '200ms'\ntrial = '400ms'\nmin_rounds = 2\n\
         max_rounds = 2\ntarget_ci = 0.5\ntimeout = '5s'\n\
         [[workload]]\nname = 'root'\nconnections = 4\n[[workload.request]]\npath = '/'\n",
    )
    .unwrap();
    let tiny = TempContestant::new("tiny", "exec node server.js", "");
    let out = faceoff()
        .arg("run")
        .env("FACEOFF_RESULTS_DIR", dir.path())
        .env("FACEOFF_DB", &db)
        .arg("--suite")
        .arg(&suite)
        .arg("--contestant")
        .arg(tiny.dir())
        .args(["--only", "tiny"])
        .arg("--no-calibration")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = faceoff::store::Store::open(&db).unwrap();
    let run = store.run(store.latest_run().unwrap().unwrap()).unwrap();
    let counted: Vec<_> = run.trials.iter().filter(|t| t.metrics.counts()).collect();
    assert!(!counted.is_empty());

    // hdr: one interval per counted trial, the stored histograms themselves.
    let out = export(&db, &["--format", "hdr"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let logged = read_log(&out.stdout);
    assert_eq!(logged.len(), counted.len());
    for ((tag, h), t) in logged.iter().zip(&counted) {
        assert!(tag.is_none());
        assert_eq!(h.value_at_quantile(0.5), t.metrics.latency_us[0]);
        assert_eq!(h.value_at_quantile(0.99), t.metrics.latency_us[2]);
        assert_eq!(h.max(), t.metrics.latency_us[4]);
    }

    // spectrum of one round, into a file.
    let file = dir.path().join("round1.txt");
    let out = export(
        &db,
        &[
            "--workload",
            "root",
            "--contestant",
            "tiny",
            "--trial",
            "1",
            "--format",
            "spectrum",
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let first = run
        .trials
        .iter()
        .rev()
        .find(|t| t.round == 1 && t.metrics.counts())
        .unwrap();
    let first_h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut first.histogram.as_slice())
        .unwrap();
    assert_spectrum(&std::fs::read_to_string(&file).unwrap(), first_h.len());

    // csv: the merged spectrum, ending at every counted value.
    let out = export(&db, &["--format", "csv"]);
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(
        csv.starts_with("value_us,percentile,total_count,inverse\n"),
        "{csv}"
    );
    let total: u64 = logged.iter().map(|(_, h)| h.len()).sum();
    assert!(
        csv.lines()
            .last()
            .unwrap()
            .ends_with(&format!(",1.000000000000,{total},")),
        "{csv}"
    );

    // Names that are not in the run are refused with the ones that are.
    let out = export(&db, &["--workload", "nope", "--format", "hdr"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("no trial with workload 'nope'; it has: root"),
        "{stderr}"
    );
    let out = export(&db, &["--trial", "9", "--format", "hdr"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no trial of round 9; rounds stored: 1, 2"),
        "{stderr}"
    );
}
