//! Running a contestant: `sh -c` on its start command in its own process group, pinned to the
//! server CPUs, with PORT/HOST/WORKERS/DB_PATH set and its output in a log file; a wait for
//! `GET /healthz` that fails early when the process exits; and a [`Guard`] whose `Drop` stops
//! the whole group (SIGTERM, a grace period, then SIGKILL) and reaps it.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::{log_tail, Contestant, Error, Installed, LOG_TAIL_LINES};

/// Grace period between SIGTERM and SIGKILL when options do not say otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// How many ports to try when the contestant fails because its port was taken meanwhile.
const PORT_ATTEMPTS: usize = 3;

/// Log lines that mean "the port was taken", from Node.js, Python and Rust servers.
const ADDR_IN_USE: &[&str] = &["EADDRINUSE", "ddress already in use", "AddrInUse"];

/// Process groups faceoff started and has not stopped yet, so an interrupt can stop them.
static LIVE_GROUPS: std::sync::Mutex<Vec<i32>> = std::sync::Mutex::new(Vec::new());

/// Records `pgid` as a group to stop if faceoff is interrupted.
pub fn register_group(pgid: i32) {
    if let Ok(mut live) = LIVE_GROUPS.lock() {
        live.push(pgid);
    }
}

/// Forgets `pgid` (it has been stopped).
pub fn unregister_group(pgid: i32) {
    if let Ok(mut live) = LIVE_GROUPS.lock() {
        live.retain(|&g| g != pgid);
    }
}

/// Stops every registered group: SIGTERM, up to `grace` for them to go, then SIGKILL.
pub fn stop_live_groups(grace: Duration) {
    let groups = LIVE_GROUPS.lock().map(|g| g.clone()).unwrap_or_default();
    for &pgid in &groups {
        kill_group(pgid, libc::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    while groups.iter().any(|&g| !group_pids(g).is_empty()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    for &pgid in &groups {
        kill_group(pgid, libc::SIGKILL);
    }
}

/// On SIGINT, SIGTERM or SIGHUP, stops every contestant and install faceoff started, then
/// exits with status 130. Contestants run in their own process groups, so a terminal's Ctrl-C
/// does not reach them; without this they would outlive faceoff. Safe to call more than once
/// (only the first handler is kept).
pub fn stop_groups_on_interrupt() {
    let _ = ctrlc::try_set_handler(|| {
        eprintln!("interrupted: stopping contestants");
        stop_live_groups(Duration::from_secs(2));
        std::process::exit(130);
    });
}

/// How to start a contestant.
#[derive(Debug, Clone)]
pub struct StartOptions {
    /// Value of `WORKERS`.
    pub workers: u32,
    /// Value of `DB_PATH`: the dataset file (made absolute before use).
    pub db_path: PathBuf,
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
}

impl StartOptions {
    /// One worker, no pinning, the default grace period.
    pub fn new(db_path: impl Into<PathBuf>, log_path: impl Into<PathBuf>) -> StartOptions {
        StartOptions {
            workers: 1,
            db_path: db_path.into(),
            server_cpus: Vec::new(),
            log_path: log_path.into(),
            health_timeout: None,
            grace: DEFAULT_GRACE,
            port: None,
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

    /// Stops the whole group now; returns true if SIGKILL was needed.
    pub fn stop(mut self) -> bool {
        self.stop_group()
    }

    fn stop_group(&mut self) -> bool {
        if self.stopped {
            return false;
        }
        self.stopped = true;
        kill_group(self.pgid, libc::SIGTERM);
        let killed = if self.wait_group_gone(self.grace) {
            false
        } else {
            kill_group(self.pgid, libc::SIGKILL);
            self.wait_group_gone(Duration::from_secs(5));
            let _ = self.child.wait();
            true
        };
        unregister_group(self.pgid);
        killed
    }

    /// Reaps the leader and waits until no live process is left in the group.
    fn wait_group_gone(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            let _ = self.child.try_wait();
            if group_pids(self.pgid).is_empty() {
                let _ = self.child.try_wait();
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
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
        fs::create_dir_all(parent).map_err(|source| Error::Io {
            what: "create the log folder",
            path: parent.to_path_buf(),
            source,
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
            None => free_port().map_err(|source| Error::Io {
                what: "find a free port on",
                path: PathBuf::from("127.0.0.1"),
                source,
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
        move |source| Error::Io { what, path, source }
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
        .stderr(err)
        .process_group(0);
    if !opts.server_cpus.is_empty() {
        let set = cpu_set(&opts.server_cpus);
        // SAFETY: between fork and exec we only make one async-signal-safe system call on
        // data prepared before the fork.
        unsafe {
            cmd.pre_exec(move || {
                if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let child = cmd.spawn().map_err(|source| Error::Spawn {
        name: name.clone(),
        command: command.clone(),
        source,
    })?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    register_group(child.id() as i32);
    let mut guard = Guard {
        pgid: child.id() as i32,
        child,
        name: name.clone(),
        addr,
        log: log.clone(),
        grace: opts.grace,
        stopped: false,
    };
    let timeout = opts
        .health_timeout
        .unwrap_or(contestant.manifest.start.health_timeout);
    let spinner = spinner(format!("starting {name} on {addr}"));
    let started = Instant::now();
    let result = loop {
        if let Some(status) = guard.exited() {
            break Err(Error::Exited {
                name,
                status,
                log: log.clone(),
                tail: log_tail(log, LOG_TAIL_LINES),
            });
        }
        if probe_healthz(addr, Duration::from_millis(1000)) {
            break Ok(());
        }
        if started.elapsed() >= timeout {
            break Err(Error::NeverHealthy {
                name,
                addr,
                timeout,
                log: log.clone(),
                tail: log_tail(log, LOG_TAIL_LINES),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    spinner.finish_and_clear();
    // On error the guard drops here and stops whatever is left of the group.
    result.map(|()| guard)
}

/// True if `GET /healthz` on `addr` answers with status 200 within `timeout`.
pub fn probe_healthz(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, timeout) else {
        return false;
    };
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: */*\r\n\r\n"
    );
    if stream.set_write_timeout(Some(timeout)).is_err()
        || stream.write_all(request.as_bytes()).is_err()
    {
        return false;
    }
    let mut head = Vec::new();
    let mut buf = [0u8; 256];
    while !head.windows(2).any(|w| w == b"\r\n") {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return false;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&head);
    let mut parts = line.split_whitespace();
    matches!(
        (parts.next(), parts.next()),
        (Some(v), Some("200")) if v.starts_with("HTTP/1.")
    )
}

/// A port that was free on 127.0.0.1 a moment ago.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Sends `signal` to every process in group `pgid`.
pub fn kill_group(pgid: i32, signal: libc::c_int) {
    if pgid > 1 {
        // SAFETY: kill has no memory effects; a negative pid addresses the group.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

/// Live (not zombie) processes whose process group is `pgid`, from `/proc/*/stat`.
pub fn group_pids(pgid: i32) -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| parse_stat(&stat))
                .is_some_and(|s| s.pgrp == pgid && s.state != 'Z' && s.state != 'X')
        })
        .collect()
}

/// The fields faceoff reads from `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    /// Process state letter (R, S, D, Z, ...).
    pub state: char,
    /// Process group id.
    pub pgrp: i32,
    /// User CPU time in clock ticks.
    pub utime_ticks: u64,
    /// System CPU time in clock ticks.
    pub stime_ticks: u64,
    /// Resident set size in pages.
    pub rss_pages: u64,
}

/// Parses one `/proc/<pid>/stat` line; the command name may hold spaces and parentheses.
pub fn parse_stat(stat: &str) -> Option<Stat> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // Fields after the command name, starting at field 3 (state).
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(Stat {
        state: f.first()?.chars().next()?,
        pgrp: f.get(2)?.parse().ok()?,
        utime_ticks: f.get(11)?.parse().ok()?,
        stime_ticks: f.get(12)?.parse().ok()?,
        rss_pages: f.get(21)?.parse().ok()?,
    })
}

/// "exit code 1" or "killed by signal 9".
pub fn describe_status(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => status.to_string(),
    }
}

/// A spinner on stderr naming what faceoff waits for; it draws nothing when stderr is not a
/// terminal.
pub fn spinner(message: String) -> indicatif::ProgressBar {
    let bar =
        indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .expect("the template is valid"),
    );
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

fn cpu_set(cpus: &[usize]) -> libc::cpu_set_t {
    // SAFETY: cpu_set_t is plain data; CPU_SET only writes inside it for cpu < CPU_SETSIZE,
    // which the caller checked against the allowed set.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &cpu in cpus {
            libc::CPU_SET(cpu, &mut set);
        }
        set
    }
}

fn append_log(path: &Path, line: &str) {
    if let Ok(mut f) = fs::OpenOptions::new().append(true).open(path) {
        let _ = writeln!(f, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_names() {
        let line = "1234 (my (odd) name) S 1 1230 1230 0 -1 4194560 100 0 0 0 \
                    7 3 0 0 20 0 1 0 100 1000000 250 18446744073709551615";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.state, 'S');
        assert_eq!(s.pgrp, 1230);
        assert_eq!(s.utime_ticks, 7);
        assert_eq!(s.stime_ticks, 3);
        assert_eq!(s.rss_pages, 250);
    }

    #[test]
    fn own_group_is_seen() {
        // SAFETY: getpgrp has no preconditions.
        let pgid = unsafe { libc::getpgrp() };
        assert!(group_pids(pgid).contains(&(std::process::id() as i32)));
    }
}
