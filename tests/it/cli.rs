//! The built binary's behaviour on the command line.

use crate::common::faceoff;

#[test]
fn help_lists_subcommands() {
    let out = faceoff().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("bench"), "{text}");
    assert!(text.contains("run"), "{text}");
}

#[test]
fn a_bad_duration_is_a_one_line_error() {
    let out = faceoff()
        .args(["bench", "http://127.0.0.1:9/", "-d", "soon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("'soon' is not a duration"), "{stderr}");
}

/// `faceoff ARGS` from the project root: exit code and stderr.
fn stderr_of(args: &[&str]) -> (Option<i32>, String) {
    let out = faceoff().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn issue_13_a_url_without_a_scheme_gets_one_suggested() {
    let (code, stderr) = stderr_of(&["bench", "localhost:8080"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("'localhost:8080' has no scheme; write http://localhost:8080"),
        "{stderr}"
    );
    let (code, stderr) = stderr_of(&["bench", "127.0.0.1:8080/ws/room"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("write ws://127.0.0.1:8080/ws/room"),
        "{stderr}"
    );
}

#[test]
fn issue_13_a_negative_connection_count_is_refused_as_such() {
    let (code, stderr) = stderr_of(&["bench", "-c", "-5", "http://127.0.0.1:9/"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("connections must be a positive integer, not '-5'"),
        "{stderr}"
    );
    assert!(!stderr.contains("-- -5"), "{stderr}");
    let (code, stderr) = stderr_of(&["bench", "-t", "0", "http://127.0.0.1:9/"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("threads must be a positive integer"),
        "{stderr}"
    );
}

#[test]
fn issue_13_a_missing_suite_file_creates_nothing() {
    let cwd = tempfile::tempdir().unwrap();
    for args in [
        &["run", "--suite", "no/such/suite.toml"][..],
        &["run", "--resume"][..],
    ] {
        let out = faceoff()
            .args(args)
            .current_dir(cwd.path())
            .env_remove("FACEOFF_RESULTS_DIR")
            .env_remove("FACEOFF_DB")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        let left: Vec<_> = std::fs::read_dir(cwd.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "{args:?} created {left:?}: {stderr}");
    }
}

#[test]
fn issue_13_each_cause_of_an_error_prints_once() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = listener.local_addr().unwrap();
    drop(listener);
    let url = format!("postgres://faceoff@{closed}/faceoff");
    let (code, stderr) = stderr_of(&[
        "verify",
        "--database-url",
        &url,
        "--only",
        "node-http",
        "--check",
        "healthz",
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: "), "{stderr}");
    let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused).to_string();
    assert!(
        first.to_lowercase().contains("refused"),
        "expected a refused connection: {stderr}"
    );
    // Each part of the chain once: no "X: X".
    let parts: Vec<&str> = first.trim_start_matches("error: ").split(": ").collect();
    for pair in parts.windows(2) {
        assert_ne!(pair[0], pair[1], "{first}");
    }
    assert!(
        first.matches("error connecting to server").count() <= 1,
        "{first}"
    );
    assert!(
        first.matches("(os error 111)").count() <= 1,
        "{first} ({refused})"
    );
}
