//! Helpers shared by the integration tests: the built binary, throwaway contestant folders and
//! process-group inspection.

#![allow(dead_code)]

mod limited;
mod server;
mod ws_server;

pub use limited::LimitedServer;
pub use server::*;
pub use ws_server::*;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The built `faceoff` binary, run from the project root.
pub fn faceoff() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faceoff"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    // Every test that installs reference contestants shares one cache (installs take minutes
    // and are keyed and locked per contestant); a test that needs its own sets
    // FACEOFF_CACHE_DIR after this.
    cmd.env("FACEOFF_CACHE_DIR", test_cache());
    cmd
}

/// The install cache the tests share: the one the environment names (FACEOFF_CACHE_DIR), else
/// `target/faceoff-test-cache`, kept between test runs.
pub fn test_cache() -> PathBuf {
    std::env::var_os("FACEOFF_CACHE_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/faceoff-test-cache"),
        PathBuf::from,
    )
}

/// Runs `faceoff COMMAND --json ARGS` with a cache folder; returns exit code, the JSON on
/// stdout and stderr.
pub fn faceoff_json(
    command: &str,
    args: &[&str],
    cache: &Path,
) -> (i32, serde_json::Value, String) {
    let out = faceoff()
        .arg(command)
        .arg("--json")
        .args(args)
        .env("FACEOFF_CACHE_DIR", cache)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}); stderr: {stderr}"));
    (out.status.code().unwrap_or(-1), json, stderr)
}

/// The reference contestant folders under `contestants/`; there must be some.
pub fn reference_contestants() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("contestants");
    let found = faceoff::contestant::discover(&root).unwrap_or_default();
    assert!(
        !found.is_empty(),
        "no reference contestants under contestants/"
    );
    found
}

/// Held by the tests whose figures depend on the CPUs being theirs (`faceoff run` on short
/// trials, exact pacing), so that they do not disturb each other: a run would see another's
/// load as contamination and retry, a constant-rate load would send late.
static SERVER_CPU: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes [`SERVER_CPU`] for the rest of the test.
pub fn server_cpu() -> std::sync::MutexGuard<'static, ()> {
    SERVER_CPU.lock().unwrap_or_else(|e| e.into_inner())
}

/// A folder under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A tiny HTTP server for throwaway contestants: `/healthz` answers `ok`, `/env` answers the
/// environment faceoff gave it as JSON.
pub const TINY_SERVER_JS: &str = r#"
const http = require('node:http');
http.createServer((req, res) => {
  if (req.url === '/env') {
    const { PORT, HOST, WORKERS, DB_PATH, EXTRA } = process.env;
    return res.end(JSON.stringify({ PORT, HOST, WORKERS, DB_PATH, EXTRA }));
  }
  res.end('ok');
}).listen(Number(process.env.PORT), process.env.HOST);
"#;

/// A contestant folder in a temporary directory, with its own cache folder beside it.
pub struct TempContestant {
    /// Holds the folders alive.
    pub root: tempfile::TempDir,
}

impl TempContestant {
    /// A contestant named `name` whose manifest has `start` as its start command and `extra`
    /// appended (TOML sections), with `server.js` = [`TINY_SERVER_JS`].
    pub fn new(name: &str, start: &str, extra: &str) -> TempContestant {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let manifest = format!(
            "name = \"{name}\"\ndisplay_name = \"{name}\"\nstack = \"Node.js\"\n\
             language = \"JavaScript\"\nframework = \"node:http\"\nframework_version = \"0\"\n\
             requires = [\"node\"]\n\n[start]\ncommand = '''{start}'''\n{extra}\n"
        );
        std::fs::write(dir.join("contestant.toml"), manifest).unwrap();
        std::fs::write(dir.join("server.js"), TINY_SERVER_JS).unwrap();
        TempContestant { root }
    }

    /// The contestant folder.
    pub fn dir(&self) -> PathBuf {
        let mut entries = std::fs::read_dir(self.root.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("contestant.toml").is_file());
        entries.next().expect("a contestant folder")
    }

    /// A cache folder for this test alone.
    pub fn cache(&self) -> PathBuf {
        self.root.path().join("cache")
    }

    /// Writes a file into the contestant folder.
    pub fn write(&self, file: &str, text: &str) {
        std::fs::write(self.dir().join(file), text).unwrap();
    }

    /// Loads it.
    pub fn load(&self) -> faceoff::contestant::Contestant {
        faceoff::contestant::Contestant::load(&self.dir()).unwrap()
    }
}

/// Whether any live process is left in group `pgid`.
pub fn group_alive(pgid: i32) -> bool {
    !faceoff::contestant::group::group_pids(pgid).is_empty()
}

/// Sends SIGINT to `child`, as Ctrl-C in a terminal would.
pub fn interrupt(child: &std::process::Child) {
    // SAFETY: kill has no memory effects; the pid is a child we spawned and have not reaped.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
}

/// Waits up to `limit` for `child` to exit; kills it and panics if it does not.
pub fn wait_exit(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("faceoff did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The process group id a throwaway contestant wrote (`echo $$ > FILE`) into its install
/// folder under `cache`, once it has; panics after `limit`.
pub fn wait_for_pgid(cache: &Path, name: &str, file: &str, limit: Duration) -> i32 {
    let deadline = Instant::now() + limit;
    loop {
        let found = std::fs::read_dir(cache.join("contestants"))
            .ok()
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{name}-"))
            })
            .filter_map(|e| std::fs::read_to_string(e.path().join(file)).ok())
            .find_map(|text| text.trim().parse().ok());
        if let Some(pgid) = found {
            return pgid;
        }
        assert!(Instant::now() < deadline, "{name} never wrote {file}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Asserts that group `pgid` (`what`) is gone within 10 s: killed processes take a moment to
/// vanish on a busy machine.
pub fn assert_group_gone(pgid: i32, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while group_alive(pgid) {
        assert!(
            Instant::now() < deadline,
            "{what} (group {pgid}) outlived faceoff: {:?}",
            faceoff::contestant::group::group_pids(pgid)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The name in the manifest of the contestant folder `dir` (for `--only`: `run --contestant`
/// keeps the reference contestants otherwise).
pub fn name_of(dir: impl AsRef<Path>) -> String {
    faceoff::contestant::Contestant::load(dir.as_ref())
        .expect("a contestant folder")
        .manifest
        .name
}
