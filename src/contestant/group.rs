//! Process groups: every command faceoff runs for a contestant (install, start) is spawned as
//! the leader of its own process group, optionally pinned to CPUs, and recorded in a registry
//! of live groups until it is stopped, so an interrupt can stop them all (see
//! [`super::signals`]). Also the `/proc` view of a group: its live members and their stat lines.

use std::fs;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::cancel::Cancel;

/// Process groups faceoff started and has not stopped yet.
static LIVE_GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

fn live() -> MutexGuard<'static, Vec<i32>> {
    // A panic while holding the lock leaves a plain list of ids, still usable.
    LIVE_GROUPS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Spawns `cmd` as the leader of a new process group, pinned to `cpus` (empty: not pinned),
/// and records the group as live. The registry lock is held across the spawn, so an
/// interrupt that kills every live group ([`kill_live_groups`]) sees this one or runs before it
/// exists.
pub fn spawn_in_group(cmd: &mut Command, cpus: &[usize]) -> std::io::Result<Child> {
    cmd.process_group(0);
    if !cpus.is_empty() {
        let set = cpu_set(cpus);
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
    let mut groups = live();
    let child = cmd.spawn()?;
    groups.push(child.id() as i32);
    Ok(child)
}

/// Forgets `pgid` (it has been stopped).
fn unregister_group(pgid: i32) {
    live().retain(|&g| g != pgid);
}

/// Stops every live group: SIGTERM, up to `grace` for them to go, then SIGKILL.
pub fn stop_live_groups(grace: Duration) {
    let groups = live().clone();
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

/// Sends SIGKILL to every live group and returns the registry still locked, so no new group
/// can start before the caller exits.
pub fn kill_live_groups() -> MutexGuard<'static, Vec<i32>> {
    let groups = live();
    for &pgid in groups.iter() {
        kill_group(pgid, libc::SIGKILL);
    }
    groups
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

/// Stops the group led by `child`: SIGTERM, up to `grace`, then SIGKILL; reaps the leader and
/// forgets the group. Returns true if SIGKILL was needed.
pub fn stop_group(child: &mut Child, grace: Duration) -> bool {
    let pgid = child.id() as i32;
    kill_group(pgid, libc::SIGTERM);
    let killed = if wait_group_gone(child, grace) {
        false
    } else {
        kill_group(pgid, libc::SIGKILL);
        wait_group_gone(child, Duration::from_secs(5));
        let _ = child.wait();
        true
    };
    unregister_group(pgid);
    killed
}

/// How a command run to completion in its own group ended.
#[derive(Debug)]
pub enum Ended {
    /// The leader exited (what is left of its group has been stopped).
    Exited(ExitStatus),
    /// It ran past its time limit and was stopped.
    TimedOut,
    /// The command's token was set and the group was stopped.
    Interrupted,
    /// It could not be waited for.
    WaitFailed(std::io::Error),
}

/// Waits for the leader `child` to exit, at most `limit`, watching `cancel`; in every case the
/// group is stopped (SIGTERM, `grace`, SIGKILL) and forgotten before this returns, so nothing
/// the command left behind keeps running.
pub fn wait_child(child: &mut Child, limit: Duration, cancel: &Cancel, grace: Duration) -> Ended {
    let started = Instant::now();
    let ended = loop {
        if cancel.is_cancelled() {
            break Ended::Interrupted;
        }
        match child.try_wait() {
            // Stopped by the interrupt, which sets the token before it stops any group.
            Ok(Some(_)) if cancel.is_cancelled() => break Ended::Interrupted,
            Ok(Some(status)) => break Ended::Exited(status),
            Ok(None) if started.elapsed() > limit => break Ended::TimedOut,
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break Ended::WaitFailed(e),
        }
    };
    stop_group(child, grace);
    ended
}

/// Reaps the leader and waits until no live process is left in its group.
fn wait_group_gone(child: &mut Child, limit: Duration) -> bool {
    let pgid = child.id() as i32;
    let deadline = Instant::now() + limit;
    loop {
        let _ = child.try_wait();
        if group_pids(pgid).is_empty() {
            let _ = child.try_wait();
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
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

/// Live processes whose work is group `pgid`'s: its members, and the leader's children that
/// left it for a session of their own (PostgreSQL's server processes do, so the postmaster can
/// signal each one's group). What the sampler and the quiet wait count; stopping a group still
/// signals its members, whose leader stops such children itself.
pub fn member_pids(pgid: i32) -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| parse_stat(&stat))
                .is_some_and(|s| s.works_for(pgid) && s.state != 'Z' && s.state != 'X')
        })
        .collect()
}

/// The fields faceoff reads from `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    /// Process state letter (R, S, D, Z, ...).
    pub state: char,
    /// Parent process id.
    pub ppid: i32,
    /// Process group id.
    pub pgrp: i32,
    /// User CPU time in clock ticks.
    pub utime_ticks: u64,
    /// System CPU time in clock ticks.
    pub stime_ticks: u64,
    /// Resident set size in pages.
    pub rss_pages: u64,
}

impl Stat {
    /// Whether this process works for group `pgid`: a member, or a child of its leader (see
    /// [`member_pids`]).
    pub fn works_for(&self, pgid: i32) -> bool {
        self.pgrp == pgid || self.ppid == pgid
    }
}

/// Parses one `/proc/<pid>/stat` line; the command name may hold spaces and parentheses.
pub fn parse_stat(stat: &str) -> Option<Stat> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // Fields after the command name, starting at field 3 (state).
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(Stat {
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_names() {
        let line = "1234 (my (odd) name) S 1 1230 1230 0 -1 4194560 100 0 0 0 \
                    7 3 0 0 20 0 1 0 100 1000000 250 18446744073709551615";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.state, 'S');
        assert_eq!(s.ppid, 1);
        assert_eq!(s.pgrp, 1230);
        assert_eq!(s.utime_ticks, 7);
        assert_eq!(s.stime_ticks, 3);
        assert_eq!(s.rss_pages, 250);
        // A member of group 1230, and working for group 1 (a child of its leader).
        assert!(s.works_for(1230) && s.works_for(1) && !s.works_for(1234));
    }

    #[test]
    fn own_group_is_seen() {
        // SAFETY: getpgrp has no preconditions.
        let pgid = unsafe { libc::getpgrp() };
        assert!(group_pids(pgid).contains(&(std::process::id() as i32)));
    }

    #[test]
    fn a_spawned_group_is_live_until_stopped() {
        let mut child = spawn_in_group(Command::new("sleep").arg("300"), &[]).unwrap();
        let pgid = child.id() as i32;
        assert!(live().contains(&pgid));
        assert!(!stop_group(&mut child, Duration::from_secs(5)));
        assert!(group_pids(pgid).is_empty());
        assert!(!live().contains(&pgid));
    }
}
