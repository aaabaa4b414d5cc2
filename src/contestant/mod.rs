//! A backend under test: its manifest, its cached install, its process groups (spawned pinned
//! in their own group, stopped as a whole, listed from `/proc`), the health probe and wait, its
//! running process (a guard that stops the whole group), the interrupt path that stops every
//! live group, and `/proc` sampling of the group's CPU time and memory.

pub mod group;
pub mod health;
pub mod install;
pub mod manifest;
pub mod process;
pub mod runtime;
pub mod sampler;
pub mod signals;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use install::{install, Installed};
pub use manifest::{Manifest, MANIFEST_FILE};
pub use process::{start, Guard, StartOptions};
pub use runtime::{missing_requirements, versions};
pub use sampler::{Sampler, Usage};

/// Environment variable that overrides the cache folder.
pub const CACHE_DIR_ENV: &str = "FACEOFF_CACHE_DIR";

/// Cache folder when the environment does not name one, relative to the current directory.
pub const DEFAULT_CACHE_DIR: &str = ".faceoff-cache";

/// Lines of a log shown in errors.
pub const LOG_TAIL_LINES: usize = 20;

/// Errors from loading, installing, starting and stopping contestants.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The contestant folder does not exist.
    #[error("contestant folder '{}' does not exist", path.display())]
    NoFolder {
        /// The folder given.
        path: PathBuf,
    },
    /// The folder has no manifest.
    #[error("'{}' has no {MANIFEST_FILE}", dir.display())]
    NoManifest {
        /// The folder.
        dir: PathBuf,
    },
    /// The manifest is not valid.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    BadManifest {
        /// The manifest file.
        path: PathBuf,
        /// 1-based line of the problem, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A file or folder operation failed.
    #[error("could not {what} '{}': {cause}", path.display())]
    Io {
        /// What faceoff was doing.
        what: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// The install command failed.
    #[error("installing contestant '{name}' failed ({status}); its log is {}{}", log.display(), fmt_tail(tail))]
    InstallFailed {
        /// Contestant name.
        name: String,
        /// How the command ended.
        status: String,
        /// The install log.
        log: PathBuf,
        /// Its last lines.
        tail: String,
    },
    /// The start command could not be spawned at all.
    #[error("could not start contestant '{name}' (sh -c '{command}'): {cause}")]
    Spawn {
        /// Contestant name.
        name: String,
        /// The start command.
        command: String,
        /// Why.
        cause: std::io::Error,
    },
    /// The server CPUs are not ones faceoff may use.
    #[error("server CPUs {cpus:?} are not all in the allowed set {allowed:?}")]
    BadCpus {
        /// CPUs asked for.
        cpus: Vec<usize>,
        /// CPUs this process may use.
        allowed: Vec<usize>,
    },
    /// The contestant never answered its health check.
    #[error("contestant '{name}' did not answer GET /healthz with 200 on {addr} within {timeout:?}; its log is {}{}", log.display(), fmt_tail(tail))]
    NeverHealthy {
        /// Contestant name.
        name: String,
        /// Where it should listen.
        addr: std::net::SocketAddr,
        /// How long faceoff waited.
        timeout: Duration,
        /// Its log.
        log: PathBuf,
        /// The last lines of its log.
        tail: String,
    },
    /// The contestant exited before it became healthy.
    #[error("contestant '{name}' exited ({status}) before answering GET /healthz; its log is {}{}", log.display(), fmt_tail(tail))]
    Exited {
        /// Contestant name.
        name: String,
        /// How it ended.
        status: String,
        /// Its log.
        log: PathBuf,
        /// The last lines of its log.
        tail: String,
    },
    /// The command was interrupted (Ctrl-C) while this contestant was installing or starting;
    /// not a failure of the contestant.
    #[error("contestant '{name}' was not brought up: faceoff was interrupted")]
    Interrupted {
        /// Contestant name.
        name: String,
    },
    /// The versions command failed.
    #[error("the versions command of contestant '{name}' failed: {message}")]
    Versions {
        /// Contestant name.
        name: String,
        /// What went wrong.
        message: String,
    },
}

fn fmt_tail(tail: &str) -> String {
    if tail.trim().is_empty() {
        " (empty)".into()
    } else {
        let indented: Vec<String> = tail.lines().map(|l| format!("  | {l}")).collect();
        format!("; last lines:\n{}", indented.join("\n"))
    }
}

impl crate::hint::Hint for Error {
    fn hint(&self) -> Option<String> {
        Some(match self {
            Error::NoFolder { .. } | Error::NoManifest { .. } => {
                format!("a contestant is a folder with a {MANIFEST_FILE}; see docs/contestants.md")
            }
            Error::BadManifest { .. } => "the manifest format is in docs/contestants.md".into(),
            Error::InstallFailed { .. } => {
                "run the install command by hand in that folder to see what is missing".into()
            }
            Error::NeverHealthy { .. } => "the server must listen on $HOST:$PORT and answer \
                 GET /healthz with 200; raise [start] health_timeout if it starts slowly"
                .into(),
            Error::Exited { .. } => "run the start command by hand in the install folder with \
                 PORT, HOST, WORKERS and DB_PATH set to see why it stops"
                .into(),
            Error::BadCpus { .. } => "pick CPUs from the allowed set (see `nproc`, taskset)".into(),
            _ => return None,
        })
    }
}

/// A contestant folder with its parsed manifest.
#[derive(Debug, Clone)]
pub struct Contestant {
    /// The source folder.
    pub dir: PathBuf,
    /// Path of its `contestant.toml`.
    pub manifest_path: PathBuf,
    /// The parsed manifest.
    pub manifest: Manifest,
}

impl Contestant {
    /// Loads the contestant in folder `dir`.
    pub fn load(dir: &Path) -> Result<Contestant, Error> {
        if !dir.is_dir() {
            return Err(Error::NoFolder {
                path: dir.to_path_buf(),
            });
        }
        let manifest_path = dir.join(MANIFEST_FILE);
        let manifest = Manifest::load(&manifest_path)?;
        Ok(Contestant {
            dir: dir.to_path_buf(),
            manifest_path,
            manifest,
        })
    }

    /// The machine name.
    pub fn name(&self) -> &str {
        &self.manifest.name
    }
}

/// Every folder directly under `root` that holds a manifest, sorted by path.
pub fn discover(root: &Path) -> Result<Vec<PathBuf>, Error> {
    let entries = std::fs::read_dir(root).map_err(|cause| Error::Io {
        what: "list contestants in",
        path: root.to_path_buf(),
        cause,
    })?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join(MANIFEST_FILE).is_file())
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// The cache folder: `$FACEOFF_CACHE_DIR`, or `.faceoff-cache` in the current directory.
pub fn cache_dir() -> PathBuf {
    match std::env::var_os(CACHE_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(DEFAULT_CACHE_DIR),
    }
}

/// The last `lines` lines of the file at `path` (lossy UTF-8), or an empty string.
pub fn log_tail(path: &Path, lines: usize) -> String {
    use std::io::{Read, Seek, SeekFrom};
    const MAX_BYTES: u64 = 64 * 1024;
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(MAX_BYTES)));
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.trim_end().lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
