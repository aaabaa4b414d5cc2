//! A minimal Chrome DevTools Protocol client for Debian's headless Chromium, over
//! `--remote-debugging-pipe` (commands on the browser's fd 3, answers and events on its fd 4,
//! each message JSON ending in a NUL byte). No port, no WebSocket and no download: only
//! `/usr/bin/chromium`, which `.ci/run` installs.
//!
//! The browser runs in its own process group with a fresh profile; dropping [`Browser`] closes
//! it, kills the group if it lingers, and removes the profile.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Where Debian's chromium package puts the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// How long any one command or awaited event may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A running headless Chromium and the messages it sent.
pub struct Browser {
    child: Child,
    to_browser: Option<File>,
    from_browser: Receiver<Value>,
    next_id: u64,
    /// Every event received so far, in order.
    pub events: Vec<Value>,
    profile: PathBuf,
}

/// A pipe whose ends close on exec.
fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: pipe2 succeeded, so both descriptors are open and ours alone.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

impl Browser {
    /// Starts headless Chromium with a fresh profile under `scratch`. Panics (the test fails)
    /// when Chromium is not installed.
    pub fn launch(scratch: &Path) -> Browser {
        assert!(
            Path::new(CHROMIUM).is_file(),
            "{CHROMIUM} is missing: install Debian's chromium package \
             (apt-get install -y chromium; .ci/run does this)"
        );
        let profile = scratch.join("chromium-profile");
        std::fs::create_dir_all(&profile).unwrap();
        let (cmd_read, cmd_write) = pipe();
        let (resp_read, resp_write) = pipe();
        let (cmd_fd, resp_fd) = (
            std::os::fd::AsRawFd::as_raw_fd(&cmd_read),
            std::os::fd::AsRawFd::as_raw_fd(&resp_write),
        );
        let mut command = Command::new(CHROMIUM);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--mute-audio",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(scratch.join("chromium.log")).unwrap())
            .process_group(0);
        // SAFETY: only async-signal-safe calls (fcntl, dup2) run between fork and exec. The
        // descriptors are first copied above 10 so that moving one to 3 cannot overwrite the
        // other; dup2 clears close-on-exec on 3 and 4 only.
        unsafe {
            command.pre_exec(move || {
                let a = libc::fcntl(cmd_fd, libc::F_DUPFD_CLOEXEC, 10);
                let b = libc::fcntl(resp_fd, libc::F_DUPFD_CLOEXEC, 10);
                if a < 0 || b < 0 || libc::dup2(a, 3) < 0 || libc::dup2(b, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("chromium starts");
        // The browser holds its own copies now; ours must close, or no end-of-file ever comes.
        drop(cmd_read);
        drop(resp_write);

        let (tx, rx) = mpsc::channel();
        let mut reader = BufReader::new(File::from(resp_read));
        std::thread::spawn(move || loop {
            let mut message = Vec::new();
            match reader.read_until(0, &mut message) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    if message.last() == Some(&0) {
                        message.pop();
                    }
                    let Ok(value) = serde_json::from_slice::<Value>(&message) else {
                        continue;
                    };
                    if tx.send(value).is_err() {
                        return;
                    }
                }
            }
        });
        Browser {
            child,
            to_browser: Some(File::from(cmd_write)),
            from_browser: rx,
            next_id: 0,
            events: Vec::new(),
            profile,
        }
    }

    fn receive(&mut self, deadline: Instant, what: &str) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.from_browser.recv_timeout(left) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => {
                panic!("chromium: no answer to {what} in {TIMEOUT:?}")
            }
            Err(RecvTimeoutError::Disconnected) => {
                let log = std::fs::read_to_string(self.profile.with_file_name("chromium.log"));
                panic!("chromium closed its pipe while waiting for {what}; log: {log:?}")
            }
        }
    }

    /// Sends a command (to the page attached as `session`, or to the browser) and returns its
    /// result; events that arrive meanwhile are kept in [`Browser::events`].
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = session.into();
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        let pipe = self.to_browser.as_mut().expect("browser open");
        pipe.write_all(&bytes).unwrap();
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let message = self.receive(deadline, method);
            if message["id"] == id {
                if let Some(error) = message.get("error") {
                    panic!("chromium: {method} failed: {error}");
                }
                return message["result"].clone();
            }
            self.events.push(message);
        }
    }

    /// Opens a blank page and attaches to it; returns the session to send its commands to.
    pub fn new_page(&mut self) -> String {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        attached["sessionId"].as_str().unwrap().to_string()
    }

    /// Waits for the first event called `method` (past or future) and returns it.
    pub fn wait_for(&mut self, method: &str) -> Value {
        if let Some(event) = self.events.iter().find(|e| e["method"] == method) {
            return event.clone();
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let message = self.receive(deadline, method);
            self.events.push(message.clone());
            if message["method"] == method {
                return message;
            }
        }
    }

    /// Opens `url` in a new page `width` CSS pixels wide with the CDP `domains` enabled (e.g.
    /// `Page.enable`), waits until it has loaded, and returns the page's session id.
    pub fn open_page(&mut self, url: &str, domains: &[&str], width: u64) -> String {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        let session = attached["sessionId"].as_str().unwrap().to_string();
        let s = Some(session.as_str());
        for domain in domains {
            self.call(s, domain, json!({}));
        }
        self.call(
            s,
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": false}),
        );
        self.call(s, "Page.navigate", json!({"url": url}));
        self.wait_for("Page.loadEventFired");
        session
    }

    /// Evaluates `expression` in the page and returns its value (JSON-serializable results).
    pub fn eval(&mut self, session: &str, expression: &str) -> Value {
        let result = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("page script failed: {exception}");
        }
        result["result"]["value"].clone()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if self.to_browser.is_some() {
            let close = json!({"id": u64::MAX, "method": "Browser.close"});
            let mut bytes = serde_json::to_vec(&close).unwrap();
            bytes.push(0);
            let _ = self.to_browser.as_mut().unwrap().write_all(&bytes);
            // Closing our end also tells the browser to quit.
            self.to_browser = None;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever is left of the browser's own process group (renderers, zygotes) goes too.
        // SAFETY: plain syscall; the group id is the browser's pid, set by process_group(0).
        unsafe {
            libc::kill(-(self.child.id() as i32), libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Decodes standard base64 (as CDP sends screenshots and PDFs).
pub fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .map(value)
        .collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, d) in chunk.iter().enumerate() {
            n |= u32::from(*d) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

#[test]
fn base64_round_trip() {
    assert_eq!(base64_decode("aGVsbG8="), b"hello");
    assert_eq!(base64_decode("aGVsbG8hIQ=="), b"hello!!");
    assert_eq!(base64_decode("YWJj"), b"abc");
}
