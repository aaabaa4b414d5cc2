//! The built binary's behaviour on the command line.

use std::process::Command;

fn faceoff() -> Command {
    Command::new(env!("CARGO_BIN_EXE_faceoff"))
}

#[test]
fn help_lists_subcommands() {
    let out = faceoff().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("bench"), "{text}");
    assert!(text.contains("run"), "{text}");
}
