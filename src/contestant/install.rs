//! The install cache: a contestant folder is copied (without dependency and build folders) to
//! `<cache>/contestants/<name>-<key>/`, where `<key>` hashes the manifest and its `cache_key`
//! files, and its install command runs there once. A marker file records success, so a second
//! install runs nothing. A lock file per key keeps concurrent installs from corrupting each
//! other (we install in place rather than renaming a temporary folder because Python virtual
//! environments and some build outputs hold absolute paths).

use std::fs;
use std::io::Write;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::group::{self, Ended};
use super::{log_tail, Contestant, Error, LOG_TAIL_LINES};
use crate::cancel::Cancel;

/// Folder names never copied into the install folder.
pub const SKIPPED_DIRS: &[&str] = &[
    "node_modules",
    ".venv",
    "target",
    "__pycache__",
    ".git",
    ".faceoff-cache",
];

/// Name of the marker file written into an install folder when its install succeeded.
pub const MARKER_FILE: &str = ".faceoff-installed";

/// Folder under `<cache>/contestants/` where install commands may keep builds shared between
/// contestants (e.g. a native module compiled once per runtime); named to them in
/// [`BUILDS_ENV`]. Whoever writes there takes a lock (see contestants/_shared/node/install.sh).
pub const BUILDS_DIR: &str = "_builds";

/// Environment variable naming [`BUILDS_DIR`] to install commands (an absolute path).
pub const BUILDS_ENV: &str = "FACEOFF_BUILDS_DIR";

/// Longest an install command may run before faceoff stops it.
pub const INSTALL_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// A contestant ready to start.
#[derive(Debug, Clone)]
pub struct Installed {
    /// Absolute path of the install folder; start and versions commands run here.
    pub dir: PathBuf,
    /// The cache key (16 hex digits).
    pub key: String,
    /// Whether the install command ran now (false: the cache already had it).
    pub ran_install: bool,
    /// The install log, if an install command has ever run for this key.
    pub log: Option<PathBuf>,
}

/// Hash of the manifest and the `cache_key` files: 16 hex digits.
pub fn cache_key(contestant: &Contestant) -> Result<String, Error> {
    let read = |path: &Path| {
        fs::read(path).map_err(|cause| Error::Io {
            what: "read cache-key file",
            path: path.to_path_buf(),
            cause,
        })
    };
    let mut hash = Sha256::new();
    hash.update(b"faceoff-install-v1\0");
    let manifest = read(&contestant.manifest_path)?;
    hash.update((manifest.len() as u64).to_le_bytes());
    hash.update(&manifest);
    let mut keyed: Vec<(String, PathBuf)> = Vec::new();
    if let Some(install) = &contestant.manifest.install {
        for file in &install.cache_key {
            keyed.push((file.clone(), contestant.dir.join(file)));
        }
        for (folder, path) in install
            .shared
            .iter()
            .zip(contestant.manifest.shared_paths(&contestant.dir))
        {
            let mut files = Vec::new();
            list_files(&path, &path, &mut files)?;
            files.sort();
            for rel in files {
                keyed.push((format!("{folder}/{rel}"), path.join(&rel)));
            }
        }
    }
    for (name, path) in keyed {
        let bytes = read(&path)?;
        hash.update(name.as_bytes());
        hash.update(b"\0");
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(&bytes);
    }
    let digest = hash.finalize();
    Ok(digest[..8].iter().map(|b| format!("{b:02x}")).collect())
}

/// The files under `dir` (skipping dependency and build folders), relative to `root`.
fn list_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), Error> {
    let io = |cause| Error::Io {
        what: "read shared folder",
        path: dir.to_path_buf(),
        cause,
    };
    for entry in fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let skipped = path
            .file_name()
            .is_some_and(|n| SKIPPED_DIRS.iter().any(|s| n == *s));
        if path.is_dir() && !skipped {
            list_files(root, &path, out)?;
        } else if path.is_file() {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.push(rel.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

/// Copies the contestant's shared folders, then its own folder, into `dir`.
fn copy_sources(contestant: &Contestant, dir: &Path) -> Result<(), Error> {
    for shared in contestant.manifest.shared_paths(&contestant.dir) {
        copy_tree(&shared, dir)?;
    }
    copy_tree(&contestant.dir, dir)
}

/// Time an interrupted install command gets between SIGTERM and SIGKILL.
const INSTALL_GRACE: Duration = Duration::from_secs(2);

/// Installs `contestant` under `cache` (see the module docs) and returns where it is. When
/// `cancel` is set, the install command's group is stopped and [`Error::Interrupted`] returned.
pub fn install(contestant: &Contestant, cache: &Path, cancel: &Cancel) -> Result<Installed, Error> {
    let name = contestant.name();
    let key = cache_key(contestant)?;
    let root = std::path::absolute(cache.join("contestants")).map_err(|cause| Error::Io {
        what: "resolve the cache folder",
        path: cache.to_path_buf(),
        cause,
    })?;
    fs::create_dir_all(&root).map_err(|cause| Error::Io {
        what: "create the cache folder",
        path: root.clone(),
        cause,
    })?;
    let dir = root.join(format!("{name}-{key}"));
    let log = root.join(format!("{name}-{key}.install.log"));
    let _lock = FileLock::acquire(&root.join(format!("{name}-{key}.lock")), name, cancel)?;

    let marker = dir.join(MARKER_FILE);
    if marker.is_file() {
        // Sources that do not key the cache (e.g. server.js) may have changed: bring them up
        // to date without reinstalling.
        copy_sources(contestant, &dir)?;
        return Ok(Installed {
            log: log.is_file().then_some(log),
            dir,
            key,
            ran_install: false,
        });
    }
    if dir.exists() {
        // A previous install failed or was interrupted: start clean.
        fs::remove_dir_all(&dir).map_err(|cause| Error::Io {
            what: "remove the unfinished install folder",
            path: dir.clone(),
            cause,
        })?;
    }
    copy_sources(contestant, &dir)?;
    let mut ran_install = false;
    if let Some(section) = &contestant.manifest.install {
        run_install(
            contestant,
            &section.command,
            &dir,
            &log,
            &root.join(BUILDS_DIR),
            cancel,
        )?;
        ran_install = true;
    }
    fs::write(&marker, format!("{key}\n")).map_err(|cause| Error::Io {
        what: "write the install marker",
        path: marker.clone(),
        cause,
    })?;
    Ok(Installed {
        log: ran_install.then_some(log),
        dir,
        key,
        ran_install,
    })
}

fn run_install(
    contestant: &Contestant,
    command: &str,
    dir: &Path,
    log: &Path,
    builds: &Path,
    cancel: &Cancel,
) -> Result<(), Error> {
    let name = contestant.name();
    let io = |what, path: &Path| {
        let path = path.to_path_buf();
        move |cause| Error::Io { what, path, cause }
    };
    fs::create_dir_all(builds).map_err(io("create the shared builds folder", builds))?;
    let mut log_file = fs::File::create(log).map_err(io("create the install log", log))?;
    let _ = writeln!(log_file, "$ cd {} && sh -c '{command}'", dir.display());
    let log_err = log_file
        .try_clone()
        .map_err(io("open the install log", log))?;
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(dir)
        .envs(&contestant.manifest.env)
        // A build must land in the install folder, not wherever the caller's cargo points.
        .env_remove("CARGO_TARGET_DIR")
        .env(BUILDS_ENV, builds)
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_err);
    let mut child = group::spawn_in_group(&mut cmd, &[]).map_err(|cause| Error::Spawn {
        name: name.to_string(),
        command: command.to_string(),
        cause,
    })?;
    let spinner = crate::spinner::spinner(format!("installing {name} ({command})"));
    let started = Instant::now();
    let ended = group::wait_child(&mut child, INSTALL_TIMEOUT, cancel, INSTALL_GRACE);
    spinner.finish_and_clear();
    let status = match ended {
        Ended::Exited(status) => Ok(status),
        Ended::Interrupted => {
            append_line(log, "# faceoff: interrupted");
            return Err(Error::Interrupted {
                name: name.to_string(),
            });
        }
        Ended::TimedOut => Err(format!("stopped after {INSTALL_TIMEOUT:?}")),
        Ended::WaitFailed(e) => Err(format!("could not wait for it: {e}")),
    };
    match status {
        Ok(s) if s.success() => {
            append_line(log, &format!("# installed in {:.1?}", started.elapsed()));
            Ok(())
        }
        other => Err(Error::InstallFailed {
            name: name.to_string(),
            status: match other {
                Ok(s) => group::describe_status(s),
                Err(e) => e,
            },
            log: log.to_path_buf(),
            tail: log_tail(log, LOG_TAIL_LINES),
        }),
    }
}

/// Copies `src` into `dst` recursively, skipping [`SKIPPED_DIRS`]; files whose bytes are
/// already the same are left untouched.
pub fn copy_tree(src: &Path, dst: &Path) -> Result<(), Error> {
    let io = |what, path: &Path| {
        let path = path.to_path_buf();
        move |cause| Error::Io { what, path, cause }
    };
    fs::create_dir_all(dst).map_err(io("create folder", dst))?;
    for entry in fs::read_dir(src).map_err(io("read folder", src))? {
        let entry = entry.map_err(io("read folder", src))?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let kind = entry.file_type().map_err(io("inspect", &from))?;
        if kind.is_dir() {
            if SKIPPED_DIRS.iter().any(|s| entry.file_name() == *s) {
                continue;
            }
            copy_tree(&from, &to)?;
        } else if kind.is_symlink() {
            let target = fs::read_link(&from).map_err(io("read link", &from))?;
            if fs::read_link(&to).ok().as_ref() != Some(&target) {
                let _ = fs::remove_file(&to);
                std::os::unix::fs::symlink(&target, &to).map_err(io("create link", &to))?;
            }
        } else if kind.is_file() && !same_bytes(&from, &to) {
            fs::copy(&from, &to).map_err(io("copy file to", &to))?;
        }
    }
    Ok(())
}

fn append_line(path: &Path, line: &str) {
    if let Ok(mut f) = fs::OpenOptions::new().append(true).open(path) {
        let _ = writeln!(f, "{line}");
    }
}

fn same_bytes(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(ma), Ok(mb)) if ma.len() == mb.len() => fs::read(a).ok() == fs::read(b).ok(),
        _ => false,
    }
}

/// An exclusive `flock` on a file, released when dropped (the descriptor closes).
struct FileLock {
    _file: fs::File,
}

impl FileLock {
    fn acquire(path: &Path, name: &str, cancel: &Cancel) -> Result<FileLock, Error> {
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|cause| Error::Io {
                what: "open the install lock",
                path: path.to_path_buf(),
                cause,
            })?;
        let fd = file.as_raw_fd();
        // SAFETY: flock on a descriptor we own.
        let try_lock = || unsafe { libc::flock(fd, libc::LOCK_EX | libc::LOCK_NB) } == 0;
        if try_lock() {
            return Ok(FileLock { _file: file });
        }
        let spinner = crate::spinner::spinner(format!("waiting for another install of {name}"));
        // Polled rather than blocking, so an interrupt is seen while another install runs.
        let result = loop {
            if try_lock() {
                break Ok(FileLock { _file: file });
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                break Err(Error::Io {
                    what: "lock",
                    path: path.to_path_buf(),
                    cause: err,
                });
            }
            if !cancel.sleep(Duration::from_millis(100)) {
                break Err(Error::Interrupted {
                    name: name.to_string(),
                });
            }
        };
        spinner.finish_and_clear();
        result
    }
}
