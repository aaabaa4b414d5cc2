//! `contestant.toml`: the manifest that says how to install, start and name a contestant
//! (schema in docs/contestants.md). Unknown keys are errors that name the file and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::Error;
use crate::contract::Endpoint;

/// The manifest's file name inside a contestant folder.
pub const MANIFEST_FILE: &str = "contestant.toml";

/// Health timeout when `[start] health_timeout` is not given.
pub const DEFAULT_HEALTH_TIMEOUT: Duration = Duration::from_secs(60);

/// A parsed and validated `contestant.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Short machine name, `[a-z0-9][a-z0-9-]*`.
    pub name: String,
    /// Name shown in tables.
    pub display_name: String,
    /// `Node.js`, `Python`, `Rust` or the user's own label.
    pub stack: String,
    /// Programming language.
    pub language: String,
    /// Web framework.
    pub framework: String,
    /// The pinned framework version.
    pub framework_version: String,
    /// Executables that must be on PATH; if one is missing the contestant is skipped.
    #[serde(default)]
    pub requires: Vec<String>,
    /// One line about the contestant.
    #[serde(default)]
    pub description: Option<String>,
    /// The contract endpoints it serves; `None` (the key left out) means all of them.
    #[serde(default)]
    pub endpoints: Option<Vec<Endpoint>>,
    /// The databases it can serve the dataset from; SQLite alone when left out. A contestant
    /// that lists `postgres` reads `DATABASE_URL` when faceoff sets it.
    #[serde(default = "default_databases")]
    pub databases: Vec<DatabaseKind>,
    /// How it is deployed and why.
    #[serde(default)]
    pub deployment: Option<Deployment>,
    /// How to install dependencies, if any are needed.
    #[serde(default)]
    pub install: Option<InstallSection>,
    /// How to start the server.
    pub start: StartSection,
    /// How to report the runtime and framework versions actually installed.
    #[serde(default)]
    pub versions: Option<VersionsSection>,
    /// Extra environment for every command.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// A database a contestant can serve the contract's dataset from.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Deserialize,
    serde::Serialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseKind {
    /// The SQLite file at `DB_PATH` (the default).
    Sqlite,
    /// PostgreSQL at `DATABASE_URL`.
    Postgres,
}

impl DatabaseKind {
    /// The name used in manifests, flags and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            DatabaseKind::Sqlite => "sqlite",
            DatabaseKind::Postgres => "postgres",
        }
    }
}

impl std::fmt::Display for DatabaseKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn default_databases() -> Vec<DatabaseKind> {
    vec![DatabaseKind::Sqlite]
}

/// `[deployment]`: how the contestant is served and why, shown beside it in reports.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// Server and process model (e.g. "gunicorn, WORKERS processes x 256 gthread threads").
    pub server: String,
    /// Why this deployment.
    pub why: String,
    /// The production documentation it follows (a URL or a title).
    pub doc: String,
}

/// `[install]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstallSection {
    /// Run with `sh -c` in the install folder, once per cache key.
    pub command: String,
    /// Files (relative to the contestant folder) whose bytes, with the manifest's, key the cache.
    #[serde(default)]
    pub cache_key: Vec<String>,
    /// Folders (relative to the contestant folder, e.g. `../_shared/node`) whose files are
    /// copied into the install folder before the contestant's own (which win on a clash); every
    /// file in them keys the cache.
    #[serde(default)]
    pub shared: Vec<String>,
}

/// `[start]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartSection {
    /// Run with `sh -c` in the install folder.
    pub command: String,
    /// How long to wait for `GET /healthz` to answer 200.
    #[serde(default = "default_health_timeout", deserialize_with = "de_duration")]
    pub health_timeout: Duration,
    /// Highest WORKERS the app can use.
    #[serde(default)]
    pub workers_max: Option<std::num::NonZeroU32>,
}

/// `[versions]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionsSection {
    /// Prints `name=version` lines.
    pub command: String,
}

fn default_health_timeout() -> Duration {
    DEFAULT_HEALTH_TIMEOUT
}

fn de_duration<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(de)?;
    crate::duration::parse_duration(&text).map_err(serde::de::Error::custom)
}

/// Raw form used only to find the line of the `name` key for validation errors.
#[derive(Deserialize)]
struct NameSpan {
    name: toml::Spanned<String>,
}

impl Manifest {
    /// Reads and validates the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest, Error> {
        let text = std::fs::read_to_string(path).map_err(|cause| {
            if cause.kind() == std::io::ErrorKind::NotFound {
                Error::NoManifest {
                    dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
                }
            } else {
                Error::Io {
                    what: "read the manifest",
                    path: path.to_path_buf(),
                    cause,
                }
            }
        })?;
        Manifest::parse(&text, path)
    }

    /// Parses and validates manifest text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest, Error> {
        let bad = |span: Option<std::ops::Range<usize>>, message: String| Error::BadManifest {
            path: path.to_path_buf(),
            line: span.map(|s| line_of(text, s.start)),
            message,
        };
        let manifest: Manifest =
            toml::from_str(text).map_err(|e| bad(e.span(), e.message().trim().to_string()))?;
        if !valid_name(&manifest.name) {
            let span = toml::from_str::<NameSpan>(text).ok().map(|n| n.name.span());
            return Err(bad(
                span,
                format!(
                    "name '{}' must match [a-z0-9][a-z0-9-]* (lowercase letters, digits, '-')",
                    manifest.name
                ),
            ));
        }
        if manifest.start.command.trim().is_empty() {
            return Err(bad(None, "[start] command is empty".into()));
        }
        if let Some(endpoints) = &manifest.endpoints {
            if endpoints.is_empty() {
                return Err(bad(
                    None,
                    "endpoints is empty; list the contract endpoints the app serves, or leave \
                     the key out if it serves them all"
                        .into(),
                ));
            }
        }
        for folder in manifest.install.iter().flat_map(|i| &i.shared) {
            if Path::new(folder).is_absolute() {
                return Err(bad(
                    None,
                    format!("shared folder '{folder}' must be relative to the contestant folder"),
                ));
            }
        }
        for file in manifest.install.iter().flat_map(|i| &i.cache_key) {
            let p = Path::new(file);
            if p.is_absolute() || p.components().any(|c| c == std::path::Component::ParentDir) {
                return Err(bad(
                    None,
                    format!("cache_key file '{file}' must be a path inside the contestant folder"),
                ));
            }
        }
        Ok(manifest)
    }

    /// Whether it serves `endpoint` (every endpoint when `endpoints` is left out).
    pub fn serves(&self, endpoint: Endpoint) -> bool {
        self.endpoints
            .as_ref()
            .is_none_or(|list| list.contains(&endpoint))
    }

    /// The contract endpoints among `targets` (request targets such as `/queries?n=20`, or
    /// endpoint names such as `ws`) that it does not declare, each once; targets outside the
    /// contract never count.
    pub fn undeclared<'a>(&self, targets: impl IntoIterator<Item = &'a str>) -> Vec<Endpoint> {
        let mut missing: Vec<Endpoint> = targets
            .into_iter()
            .filter_map(Endpoint::of)
            .filter(|&e| !self.serves(e))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        missing
    }

    /// The shared folders, resolved against the contestant folder `dir`.
    pub fn shared_paths(&self, dir: &Path) -> Vec<PathBuf> {
        self.install
            .iter()
            .flat_map(|i| &i.shared)
            .map(|f| dir.join(f))
            .collect()
    }

    /// Paths of the cache-key files, resolved against the contestant folder `dir`.
    pub fn cache_key_paths(&self, dir: &Path) -> Vec<PathBuf> {
        self.install
            .iter()
            .flat_map(|i| &i.cache_key)
            .map(|f| dir.join(f))
            .collect()
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// 1-based line number of byte offset `pos` in `text`.
fn line_of(text: &str, pos: usize) -> usize {
    text.as_bytes()[..pos.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "node-express"
display_name = "Express 5"
stack = "Node.js"
language = "JavaScript"
framework = "Express"
framework_version = "5.1.0"
requires = ["node", "npm"]

[install]
command = "npm ci"
cache_key = ["package.json", "package-lock.json"]

[start]
command = "exec node server.js"
health_timeout = "30s"

[env]
NODE_ENV = "production"
"#;

    #[test]
    fn parses_a_full_manifest() {
        let m = Manifest::parse(GOOD, Path::new("c.toml")).unwrap();
        assert_eq!(m.name, "node-express");
        assert_eq!(m.start.health_timeout, Duration::from_secs(30));
        assert_eq!(m.install.unwrap().cache_key.len(), 2);
        assert_eq!(m.env["NODE_ENV"], "production");
    }

    #[test]
    fn declared_endpoints_and_deployment() {
        let text = GOOD.replace(
            "requires = [\"node\", \"npm\"]",
            "requires = []\nendpoints = [\"json\", \"ws-room\"]\n\n\
             [deployment]\nserver = \"node:cluster\"\nwhy = \"docs\"\ndoc = \"https://x\"",
        );
        let m = Manifest::parse(&text, Path::new("c.toml")).unwrap();
        assert!(m.serves(Endpoint::Json));
        assert!(m.serves(Endpoint::WsRoom));
        assert!(!m.serves(Endpoint::Db));
        assert_eq!(
            m.undeclared(["/db", "/json", "/queries?n=2", "/db?x", "/mine", "ws"]),
            [Endpoint::Db, Endpoint::Queries, Endpoint::Ws]
        );
        assert_eq!(m.deployment.unwrap().server, "node:cluster");
        assert!(Manifest::parse(GOOD, Path::new("c.toml"))
            .unwrap()
            .serves(Endpoint::Db));
    }

    #[test]
    fn unknown_or_empty_endpoints_are_errors() {
        let text = GOOD.replace("requires = [", "endpoints = [\"jsonn\"]\nrequires = [");
        let err = Manifest::parse(&text, Path::new("c.toml")).unwrap_err();
        assert!(err.to_string().contains("jsonn"), "{err}");
        let text = GOOD.replace("requires = [", "endpoints = []\nrequires = [");
        let err = Manifest::parse(&text, Path::new("c.toml")).unwrap_err();
        assert!(err.to_string().contains("endpoints is empty"), "{err}");
    }

    #[test]
    fn names() {
        assert!(valid_name("a-1"));
        assert!(!valid_name("-a"));
        assert!(!valid_name("A"));
        assert!(!valid_name(""));
    }

    #[test]
    fn bad_name_names_its_line() {
        let text = GOOD.replace("node-express", "Node Express");
        let err = Manifest::parse(&text, Path::new("c.toml")).unwrap_err();
        assert_eq!(err.to_string().split(':').nth(1), Some("2"), "{err}");
    }
}
