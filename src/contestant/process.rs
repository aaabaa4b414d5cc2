//! Running a contestant: `sh -c` on its start command in its own process group, pinned to the
//! server CPUs, with PORT/HOST/WORKERS/DB_PATH set and its output in a log file; a wait for
//! `GET /healthz` that fails early when the process exits and stops when the command is
//! interrupted; and a [`Guard`] whose `Drop` stops the whole group (SIGTERM, a grace period,
//! then SIGKILL) and reaps it.

use std::fs;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::group::{self, describe_status};
use super::health::{self, Wait};
use super::{log_tail, Contestant, Error, Installed, LOG_TAIL_LINES};
use crate::cancel::Cancel;

/// Grace period between SIGTERM and SIGKILL when options do not say otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// How many ports to try when the contestant fails because its port was taken meanwhile.
const PORT_ATTEMPTS: usize = 3;

/// Log lines that mean "the port was taken", from Node.js, Python and Rust servers.
const ADDR_IN_USE: &[&str] = &["EADDRINUSE", "ddress already in use", "AddrInUse"];

/// How to start a contestant.
#[derive(Debug, Clone)]
pub struct StartOptions {
    /// Value of `WORKERS`.
    pub workers: u32,
    /// Value of `DB_PATH`: the dataset file (made absolute before use).
    pub db_path: PathBuf,
    /// Value of `DATABASE_URL`, when the contestant serves from PostgreSQL.
    pub database_url: Option<String>,
    /// CPUs the whole process group is pinned to; empty means no pinning.
    pub server_cpus: Vec<usize>,
    /// File that receives stdout and stderr (truncated first).
    pub log_path: PathBuf,
    /// Overrides the manifest's `[start] health_timeout`.
    pub health_timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL when stopping.
    pub grace: Duration,
    /// A fixed port; `None` picks a free one (and retries with another if it gets taken).
    pub port: Option<u16>,
    /// The command's token: the health wait stops when it is set.
    pub cancel: Cancel,
}

impl StartOptions {
    /// One worker, no pinning, the default grace period.
    pub fn new(db_path: impl Into<PathBuf>, log_path: impl Into<PathBuf>) -> StartOptions {
        StartOptions {
            workers: 1,
            db_path: db_path.into(),
            database_url: None,
            server_cpus: Vec::new(),
            log_path: log_path.into(),
            health_timeout: None,
            grace: DEFAULT_GRACE,
            port: None,
            cancel: Cancel::new(),
        }
    }
}

/// A running, healthy contestant. Dropping it stops its whole process group.
#[derive(Debug)]
pub struct Guard {
    name: String,
    child: Child,
    pgid: i32,
    addr: SocketAddr,
    log: PathBuf,
    grace: Duration,
    stopped: bool,
    cancel: Cancel,
}

impl Guard {
    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process group id (the pid of the `sh -c` leader).
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    /// Its log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The contestant name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `Some(description)` if the leader process has exited.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(describe_status(status)),
            Ok(None) => None,
            Err(e) => Some(format!("could not be waited for: {e}")),
        }
    }

    /// `Some(description)` if the leader exited by itself. An exit after the command's token
    /// was set is the interrupt stopping it (the interrupt sets the token before it stops any
    /// group), not a crash.
    pub fn crashed(&mut self) -> Option<String> {
        let how = self.exited()?;
        (!self.cancel.is_cancelled()).then_some(how)
    }

    /// Stops the whole group now; returns true if SIGKILL was needed.
    pub fn stop(mut self) -> bool {
        self.stop_group()
    }

    fn stop_group(&mut self) -> bool {
        if self.stopped {
            return false;
        }
        self.stopped = true;
        group::stop_group(&mut self.child, self.grace)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop_group();
    }
}

/// Starts `contestant` from its install folder and waits until `GET /healthz` answers 200.
pub fn start(
    contestant: &Contestant,
    installed: &Installed,
    opts: &StartOptions,
) -> Result<Guard, Error> {
    let allowed = crate::sys::allowed_cpus();
    if opts.server_cpus.iter().any(|c| !allowed.contains(c)) {
        return Err(Error::BadCpus {
            cpus: opts.server_cpus.clone(),
            allowed,
        });
    }
    if let Some(parent) = opts.log_path.parent() {
        fs::create_dir_all(parent).map_err(|cause| Error::Io {
            what: "create the log folder",
            path: parent.to_path_buf(),
            cause,
        })?;
    }
    let _ = fs::remove_file(&opts.log_path);
    let attempts = if opts.port.is_some() {
        1
    } else {
        PORT_ATTEMPTS
    };
    let mut attempt = 1;
    loop {
        let port = match opts.port {
            Some(p) => p,
            None => free_port().map_err(|cause| Error::Io {
                what: "find a free port on",
                path: PathBuf::from("127.0.0.1"),
                cause,
            })?,
        };
        match start_once(contestant, installed, opts, port) {
            Err(Error::Exited { tail, .. })
                if attempt < attempts && ADDR_IN_USE.iter().any(|s| tail.contains(s)) =>
            {
                attempt += 1;
                append_log(
                    &opts.log_path,
                    &format!("# faceoff: port {port} was taken; trying another"),
                );
            }
            result => return result,
        }
    }
}

fn start_once(
    contestant: &Contestant,
    installed: &Installed,
    opts: &StartOptions,
    port: u16,
) -> Result<Guard, Error> {
    let name = contestant.name().to_string();
    let command = &contestant.manifest.start.command;
    let log = &opts.log_path;
    let io = |what, path: &Path| {
        let path = path.to_path_buf();
        move |cause| Error::Io { what, path, cause }
    };
    let mut out = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(io("open the log", log))?;
    let db_path = std::path::absolute(&opts.db_path).map_err(io("resolve", &opts.db_path))?;
    let _ = writeln!(
        out,
        "# faceoff: cd {} && PORT={port} WORKERS={} sh -c '{command}'",
        installed.dir.display(),
        opts.workers
    );
    let err = out.try_clone().map_err(io("open the log", log))?;
    let mut cmd = Command::new("sh");
    match &opts.database_url {
        Some(url) => cmd.env("DATABASE_URL", url),
        // A contestant serving from SQLite never sees a URL from faceoff's own environment.
        None => cmd.env_remove("DATABASE_URL"),
    };
    cmd.arg("-c")
        .arg(command)
        .current_dir(&installed.dir)
        .envs(&contestant.manifest.env)
        .env("PORT", port.to_string())
        .env("HOST", "127.0.0.1")
        .env("WORKERS", opts.workers.to_string())
        .env("DB_PATH", &db_path)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    let child =
        group::spawn_in_group(&mut cmd, &opts.server_cpus).map_err(|cause| Error::Spawn {
            name: name.clone(),
            command: command.clone(),
            cause,
        })?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut guard = Guard {
        pgid: child.id() as i32,
        child,
        name: name.clone(),
        addr,
        log: log.clone(),
        grace: opts.grace,
        stopped: false,
        cancel: opts.cancel.clone(),
    };
    let timeout = opts
        .health_timeout
        .unwrap_or(contestant.manifest.start.health_timeout);
    let spinner = crate::spinner::spinner(format!("starting {name} on {addr}"));
    let wait = health::wait_healthy(addr, timeout, &opts.cancel, &mut || guard.exited());
    spinner.finish_and_clear();
    // On error the guard drops here and stops whatever is left of the group.
    match wait {
        Wait::Healthy => Ok(guard),
        Wait::Interrupted => Err(Error::Interrupted { name }),
        Wait::Exited(status) => Err(Error::Exited {
            name,
            status,
            log: log.clone(),
            tail: log_tail(log, LOG_TAIL_LINES),
        }),
        Wait::TimedOut => Err(Error::NeverHealthy {
            name,
            addr,
            timeout,
            log: log.clone(),
            tail: log_tail(log, LOG_TAIL_LINES),
        }),
    }
}

/// A port that was free on 127.0.0.1 a moment ago.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn append_log(path: &Path, line: &str) {
    if let Ok(mut f) = fs::OpenOptions::new().append(true).open(path) {
        let _ = writeln!(f, "{line}");
    }
}
