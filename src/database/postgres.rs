//! A throwaway PostgreSQL server of faceoff's own: `initdb` into a fresh folder, `postgres`
//! listening on one loopback port only (no Unix socket), started as the leader of its own process
//! group pinned to the server CPUs (the contestants' CPUs: a query's cost belongs to the server
//! side), loaded with the contract's dataset, and stopped with the run. The group is registered
//! like a contestant's, so Ctrl-C and a crash of faceoff stop it too.
//!
//! PostgreSQL refuses to run as root. When faceoff runs as root (CI containers do), the server
//! runs as the `postgres` system user the Debian package creates, in a folder handed to it.
//!
//! Settings, and why (the rest are PostgreSQL's defaults, as a team would deploy it):
//! - `synchronous_commit = off`: commits are not flushed to disk one by one, which is what the
//!   SQLite dataset does in WAL mode with `synchronous = NORMAL`; both keep the database
//!   consistent after a crash and may lose the last commits. Without it `/updates` would measure
//!   this machine's disk flushes, the same for every contestant.
//! - `max_connections` sized from the plan ([`super::ConnectionNeed`]): contestants up at once x
//!   their most workers x 16 pooled connections each, plus a margin for faceoff's own; never
//!   below PostgreSQL's default of 100. A fixed number runs out: ten contestants at four workers
//!   hold 640 connections.
//! - `shared_preload_libraries = pg_stat_statements` when the module is installed: `verify`
//!   counts the statements each request caused with it.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cancel::{Cancel, POLL};
use crate::contestant::group;
use crate::contract::dataset::Dataset;

/// Name of the database faceoff creates and the contestants use.
pub const DATABASE: &str = "faceoff";

/// The role the contestants connect as (trust authentication on loopback).
pub const USER: &str = "faceoff";

/// How long the server may take to accept connections after it is started.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a fast shutdown may take before the group is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// The Debian package and the command that installs it, for the one-line hint.
pub const INSTALL_HINT: &str = "install PostgreSQL (Debian/Ubuntu: `apt-get install postgresql`) or point --database-url at a server of your own";

/// Errors of the throwaway server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No PostgreSQL server programs were found.
    #[error("PostgreSQL's server programs (initdb, postgres) were not found in $FACEOFF_PG_BINDIR, `pg_config --bindir`, /usr/lib/postgresql/*/bin or PATH; {INSTALL_HINT}")]
    NotInstalled,
    /// Running as root without a `postgres` user to hand the server to.
    #[error("PostgreSQL refuses to run as root and there is no `postgres` user to run it as; run faceoff as another user, create the user (`useradd --system postgres`), or use --database-url")]
    Root,
    /// A file system step failed.
    #[error("could not {what} '{path}': {cause}")]
    Io {
        /// What faceoff tried.
        what: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// `initdb` failed.
    #[error("initdb failed ({status}); its output is in '{log}':\n{tail}")]
    Initdb {
        /// How it ended.
        status: String,
        /// The log file.
        log: PathBuf,
        /// The last lines of the log.
        tail: String,
    },
    /// The server stopped before it accepted connections.
    #[error("the PostgreSQL server stopped before it accepted connections ({status}); its log is '{log}':\n{tail}")]
    Exited {
        /// How it ended.
        status: String,
        /// The log file.
        log: PathBuf,
        /// The last lines of the log.
        tail: String,
    },
    /// The server never accepted connections.
    #[error("the PostgreSQL server did not accept connections on 127.0.0.1:{port} within {}s; its log is '{log}'", .timeout.as_secs())]
    NeverReady {
        /// Its port.
        port: u16,
        /// How long faceoff waited.
        timeout: Duration,
        /// The log file.
        log: PathBuf,
    },
    /// Interrupted while starting.
    #[error("interrupted while starting the PostgreSQL server")]
    Interrupted,
    /// A query failed.
    #[error("PostgreSQL: {}", crate::hint::causes(.0))]
    Sql(postgres::Error),
}

/// The PostgreSQL server programs faceoff found.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// The folder holding `initdb` and `postgres`.
    pub bindir: PathBuf,
}

impl Binaries {
    /// Finds the server programs: `$FACEOFF_PG_BINDIR`, then `pg_config --bindir`, then the
    /// newest `/usr/lib/postgresql/*/bin` (Debian keeps them off PATH), then PATH.
    pub fn find() -> Result<Binaries, Error> {
        let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(dir) = std::env::var_os("FACEOFF_PG_BINDIR") {
            candidates.push(PathBuf::from(dir));
        }
        if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
            if out.status.success() {
                candidates.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
            }
        }
        let mut debian: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let major = e.file_name().to_str()?.parse::<u32>().ok()?;
                Some((major, e.path().join("bin")))
            })
            .collect();
        debian.sort();
        candidates.extend(debian.into_iter().rev().map(|(_, dir)| dir));
        if let Some(path) = std::env::var_os("PATH") {
            candidates.extend(std::env::split_paths(&path));
        }
        candidates
            .into_iter()
            .find(|dir| has_both(dir))
            .map(|bindir| Binaries { bindir })
            .ok_or(Error::NotInstalled)
    }

    /// The server's version (`PostgreSQL 15.18`), for the report.
    pub fn version(&self) -> Option<String> {
        let out = Command::new(self.bindir.join("postgres"))
            .arg("--version")
            .output()
            .ok()?;
        // `postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`
        let text = String::from_utf8_lossy(&out.stdout);
        let number = text.split_whitespace().nth(2)?;
        out.status.success().then(|| format!("PostgreSQL {number}"))
    }

    fn has_pg_stat_statements(&self) -> bool {
        let Ok(out) = Command::new(self.bindir.join("pg_config"))
            .arg("--pkglibdir")
            .output()
        else {
            // Debian's layout: bin/ and lib/ side by side.
            return self
                .bindir
                .parent()
                .is_some_and(|p| p.join("lib/pg_stat_statements.so").is_file());
        };
        let lib = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        lib.join("pg_stat_statements.so").is_file()
            || self
                .bindir
                .parent()
                .is_some_and(|p| p.join("lib/pg_stat_statements.so").is_file())
    }
}

/// Where and how to start the server.
#[derive(Debug, Clone)]
pub struct Options {
    /// The server's log (initdb's output too); it stays after the server stops.
    pub log: PathBuf,
    /// CPUs the server runs on (empty: not pinned).
    pub cpus: Vec<usize>,
    /// Its `max_connections` (see [`super::ConnectionNeed`]).
    pub max_connections: u32,
    /// Interrupts the start.
    pub cancel: Cancel,
}

/// A running throwaway server. Dropping it stops the server and removes its folder.
pub struct Throwaway {
    child: Child,
    port: u16,
    dir: PathBuf,
    log: PathBuf,
    stopped: bool,
    /// Whether pg_stat_statements is loaded.
    pub statement_counts: bool,
}

impl Throwaway {
    /// Creates the cluster with `initdb`, starts the server on a free loopback port and waits
    /// until it accepts connections, then creates the `faceoff` database.
    pub fn start(bins: &Binaries, opts: &Options) -> Result<Throwaway, Error> {
        let owner = server_user()?;
        let io = |what, path: &Path| {
            let path = path.to_path_buf();
            move |cause| Error::Io { what, path, cause }
        };
        // The data folder lives in the system's temporary folder, which every user can reach
        // (the server's user may be another than faceoff's); the log is where the caller says.
        let dir = fresh_dir();
        fs::create_dir_all(&dir).map_err(io("create", &dir))?;
        let data = dir.join("data");
        let log = opts.log.clone();
        if let Some(parent) = log.parent() {
            fs::create_dir_all(parent).map_err(io("create the log folder", parent))?;
        }
        let _ = fs::remove_file(&log);
        if let Some((uid, gid)) = owner {
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))
                .map_err(io("open up", &dir))?;
            fs::create_dir(&data).map_err(io("create", &data))?;
            std::os::unix::fs::chown(&data, Some(uid), Some(gid))
                .map_err(io("hand to the postgres user", &data))?;
        }
        // Removes the folder if a later step fails; the server's guard takes it over below.
        let cleanup = RemoveOnDrop(Some(dir.clone()));
        let log_file = || {
            fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
                .map_err(io("open the log", &log))
        };
        let mut initdb = Command::new(bins.bindir.join("initdb"));
        initdb
            .args(["--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C"])
            .args(["-A", "trust", "-U", USER, "-D"])
            .arg(&data)
            .stdin(Stdio::null())
            .stdout(log_file()?)
            .stderr(log_file()?);
        as_user(&mut initdb, owner);
        let mut child = group::spawn_in_group(&mut initdb, &[])
            .map_err(io("run", &bins.bindir.join("initdb")))?;
        match group::wait_child(
            &mut child,
            Duration::from_secs(120),
            &opts.cancel,
            STOP_GRACE,
        ) {
            group::Ended::Exited(status) if status.success() => {}
            group::Ended::Exited(status) => {
                return Err(Error::Initdb {
                    status: group::describe_status(status),
                    tail: tail(&log),
                    log,
                })
            }
            group::Ended::Interrupted => return Err(Error::Interrupted),
            group::Ended::TimedOut => {
                return Err(Error::Initdb {
                    status: "still running after 120 s".into(),
                    tail: tail(&log),
                    log,
                })
            }
            group::Ended::WaitFailed(cause) => {
                return Err(Error::Io {
                    what: "wait for",
                    path: bins.bindir.join("initdb"),
                    cause,
                })
            }
        }
        let statement_counts = bins.has_pg_stat_statements();
        let port = crate::contestant::process::free_port()
            .map_err(io("find a free port on", Path::new("127.0.0.1")))?;
        let mut server = Command::new(bins.bindir.join("postgres"));
        server
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "unix_socket_directories="])
            .args(["-c", "synchronous_commit=off"])
            .args(["-c", &format!("max_connections={}", opts.max_connections)])
            .args(["-c", "log_min_messages=warning"]);
        if statement_counts {
            server.args(["-c", "shared_preload_libraries=pg_stat_statements"]);
        }
        server
            .stdin(Stdio::null())
            .stdout(log_file()?)
            .stderr(log_file()?);
        as_user(&mut server, owner);
        let child = group::spawn_in_group(&mut server, &opts.cpus)
            .map_err(io("run", &bins.bindir.join("postgres")))?;
        let mut db = Throwaway {
            child,
            port,
            dir: cleanup.take(),
            log,
            stopped: false,
            statement_counts,
        };
        db.wait_ready(&opts.cancel)?;
        let mut admin = db.connect("postgres")?;
        admin.batch_execute(&format!("CREATE DATABASE {DATABASE}"))?;
        if statement_counts {
            // In `postgres`, where faceoff reads the counts of every database.
            admin.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")?;
        }
        Ok(db)
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's process group (its postmaster's pid).
    pub fn pgid(&self) -> i32 {
        self.child.id() as i32
    }

    /// The server's log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The URL contestants get as `DATABASE_URL`.
    pub fn url(&self) -> String {
        url(self.port)
    }

    /// A new client connection to database `name`.
    pub fn connect(&self, name: &str) -> Result<postgres::Client, Error> {
        Ok(postgres::Config::new()
            .host("127.0.0.1")
            .port(self.port)
            .user(USER)
            .dbname(name)
            .connect_timeout(Duration::from_secs(5))
            .connect(postgres::NoTls)?)
    }

    fn wait_ready(&mut self, cancel: &Cancel) -> Result<(), Error> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.stopped = true;
                return Err(Error::Exited {
                    status: group::describe_status(status),
                    log: self.log.clone(),
                    tail: tail(&self.log),
                });
            }
            if cancel.is_cancelled() {
                return Err(Error::Interrupted);
            }
            if self.connect("postgres").is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(Error::NeverReady {
                    port: self.port,
                    timeout: READY_TIMEOUT,
                    log: self.log.clone(),
                });
            }
            std::thread::sleep(POLL);
        }
    }

    /// Stops the server (a fast shutdown, then the whole group killed after a grace period)
    /// and removes its folder. Returns whether it stopped within the grace period.
    pub fn stop(mut self) -> bool {
        self.stop_now()
    }

    fn stop_now(&mut self) -> bool {
        let mut graceful = true;
        if !self.stopped {
            self.stopped = true;
            // SIGINT is PostgreSQL's fast shutdown: it ends the clients' sessions and stops.
            group::kill_group(self.pgid(), libc::SIGINT);
            graceful = !group::stop_group(&mut self.child, STOP_GRACE);
        }
        let _ = fs::remove_dir_all(&self.dir);
        graceful
    }
}

impl Drop for Throwaway {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// The URL of a faceoff server on `port`.
pub fn url(port: u16) -> String {
    format!("postgres://{USER}@127.0.0.1:{port}/{DATABASE}")
}

/// Creates the contract's tables in the database `client` is connected to and copies the
/// dataset's rows into them, in one transaction, replacing what was there. Column names are
/// PostgreSQL's folded lower case (`randomnumber`), so the same SQL text (`randomNumber`
/// unquoted) works on both databases.
pub fn load(client: &mut postgres::Client, data: &Dataset) -> Result<(), Error> {
    let mut tx = client.transaction()?;
    tx.batch_execute(
        "DROP TABLE IF EXISTS world; DROP TABLE IF EXISTS fortune;
         CREATE TABLE world (id integer PRIMARY KEY, randomNumber integer NOT NULL);
         CREATE TABLE fortune (id integer PRIMARY KEY, message text NOT NULL);",
    )?;
    let mut rows = String::with_capacity(data.world.len() * 12);
    for (i, n) in data.world.iter().enumerate() {
        rows.push_str(&format!("{}\t{n}\n", i + 1));
    }
    let mut w = tx.copy_in("COPY world (id, randomNumber) FROM STDIN")?;
    w.write_all(rows.as_bytes()).map_err(|cause| Error::Io {
        what: "copy the dataset into",
        path: PathBuf::from("world"),
        cause,
    })?;
    w.finish()?;
    let insert = tx.prepare("INSERT INTO fortune (id, message) VALUES ($1, $2)")?;
    for (id, message) in &data.fortunes {
        tx.execute(&insert, &[&(*id as i32), message])?;
    }
    tx.commit()?;
    client.batch_execute("ANALYZE world; ANALYZE fortune;")?;
    Ok(())
}

/// Reads every `world` row back: `randomNumber` at index `id - 1`.
pub fn read_world(client: &mut postgres::Client) -> Result<Vec<i64>, Error> {
    let rows = client.query("SELECT id, randomNumber FROM world ORDER BY id", &[])?;
    Ok(rows.iter().map(|r| i64::from(r.get::<_, i32>(1))).collect())
}

/// The uid and gid the server must run as: none when faceoff is not root, the `postgres`
/// user's when it is.
fn server_user() -> Result<Option<(u32, u32)>, Error> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = std::ffi::CString::new("postgres").expect("no NUL");
    // SAFETY: getpwnam reads a static buffer; faceoff looks a user up from one thread at a time
    // here and copies the two numbers out at once.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return Err(Error::Root);
    }
    // SAFETY: pw is non-null and points at getpwnam's record.
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    Ok(Some((uid, gid)))
}

fn as_user(cmd: &mut Command, owner: Option<(u32, u32)>) {
    if let Some((uid, gid)) = owner {
        cmd.uid(uid).gid(gid).env("HOME", "/");
    }
}

fn tail(log: &Path) -> String {
    crate::contestant::log_tail(log, 20)
}

/// A new folder name under the system's temporary folder.
fn fresh_dir() -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    std::env::temp_dir().join(format!(
        "faceoff-postgres-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Removes a folder when dropped, unless taken.
struct RemoveOnDrop(Option<PathBuf>);

impl RemoveOnDrop {
    fn take(mut self) -> PathBuf {
        self.0.take().expect("taken once")
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(dir) = &self.0 {
            let _ = fs::remove_dir_all(dir);
        }
    }
}

/// Not `#[from]`: the cause is printed in the message, so it is not also a source (`{:#}`
/// would print it twice).
impl From<postgres::Error> for Error {
    fn from(cause: postgres::Error) -> Self {
        Error::Sql(cause)
    }
}
