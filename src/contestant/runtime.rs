//! What a contestant needs from the machine (`requires`: executables on PATH) and what it
//! reports about itself (`[versions]`: `name=version` lines).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::group::{self, Ended};
use super::{Contestant, Error, Installed};
use crate::cancel::Cancel;

/// Longest the versions command may run.
pub const VERSIONS_TIMEOUT: Duration = Duration::from_secs(60);

/// The executables in `requires` that are not on PATH.
pub fn missing_requirements(contestant: &Contestant) -> Vec<String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    contestant
        .manifest
        .requires
        .iter()
        .filter(|exe| !on_path(exe, &path))
        .cloned()
        .collect()
}

fn on_path(exe: &str, path: &std::ffi::OsStr) -> bool {
    let is_executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if exe.contains('/') {
        return is_executable(Path::new(exe));
    }
    std::env::split_paths(path).any(|dir| is_executable(&dir.join(exe)))
}

/// Runs the `[versions]` command in the install folder and returns its `name=version` pairs
/// (other lines are ignored). A contestant without the section reports nothing.
pub fn versions(
    contestant: &Contestant,
    installed: &Installed,
) -> Result<Vec<(String, String)>, Error> {
    let Some(section) = &contestant.manifest.versions else {
        return Ok(Vec::new());
    };
    let fail = |message: String| Error::Versions {
        name: contestant.name().to_string(),
        message,
    };
    let out_path = installed.dir.join(".faceoff-versions.out");
    let out = std::fs::File::create(&out_path).map_err(|e| fail(e.to_string()))?;
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(&section.command)
        .current_dir(&installed.dir)
        .envs(&contestant.manifest.env)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(Stdio::null());
    let mut child = group::spawn_in_group(&mut cmd, &[])
        .map_err(|e| fail(format!("could not run sh -c '{}': {e}", section.command)))?;
    let status =
        match group::wait_child(&mut child, VERSIONS_TIMEOUT, &Cancel::new(), Duration::ZERO) {
            Ended::Exited(status) => status,
            Ended::TimedOut | Ended::Interrupted => {
                return Err(fail(format!("still running after {VERSIONS_TIMEOUT:?}")))
            }
            Ended::WaitFailed(e) => return Err(fail(e.to_string())),
        };
    let text = std::fs::read_to_string(&out_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    if !status.success() {
        return Err(fail(group::describe_status(status)));
    }
    Ok(parse_versions(&text))
}

/// The runtime a contestant runs on, as `name version` (`node v24.11.1`): by convention the
/// first line of its `[versions]` output names the runtime.
pub fn runtime_version(pairs: &[(String, String)]) -> Option<String> {
    pairs
        .first()
        .map(|(name, version)| format!("{name} {version}"))
}

/// Parses `name=version` lines.
pub fn parse_versions(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let (name, version) = line.trim().split_once('=')?;
            let (name, version) = (name.trim(), version.trim());
            (!name.is_empty() && !version.is_empty() && !name.contains(' '))
                .then(|| (name.to_string(), version.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_is_the_first_line() {
        let v = parse_versions("python=3.11.7\ndjango=5.2.19\n");
        assert_eq!(runtime_version(&v).as_deref(), Some("python 3.11.7"));
        assert_eq!(runtime_version(&[]), None);
    }

    #[test]
    fn version_lines() {
        let v = parse_versions("node=v20.1.0\nnoise here\nexpress = 5.1.0\n=x\n");
        assert_eq!(
            v,
            vec![
                ("node".into(), "v20.1.0".into()),
                ("express".into(), "5.1.0".into())
            ]
        );
    }
}
