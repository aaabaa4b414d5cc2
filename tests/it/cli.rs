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
