//! The API contract (docs/contestants.md): creating the dataset, and the checks `verify` runs
//! against a started contestant. Each check is named; a failed check is data (a reason), not
//! an error.

pub mod checks;
pub mod dataset;
pub mod http;
pub mod reference;
pub mod statements;
pub mod transactions;
pub mod users;
pub mod ws;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

pub use dataset::Dataset;

/// Errors that stop `verify` before any check runs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed on the dataset file.
    #[error("dataset '{}': {}", path.display(), crate::hint::causes(cause))]
    Dataset {
        /// The dataset file.
        path: PathBuf,
        /// Why.
        cause: rusqlite::Error,
    },
    /// A file operation failed.
    #[error("could not {what} '{}': {cause}", path.display())]
    Io {
        /// What faceoff was doing.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
}

/// A contract endpoint a contestant may declare it serves (`endpoints` in contestant.toml).
/// `/healthz` is not one of them: every contestant serves it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Endpoint {
    /// `GET /plaintext`
    Plaintext,
    /// `GET /json`
    Json,
    /// `GET /db`
    Db,
    /// `GET /queries`
    Queries,
    /// `GET /updates`
    Updates,
    /// `GET /fortunes`
    Fortunes,
    /// `GET /io`
    Io,
    /// `GET /compute`
    Compute,
    /// `POST /users`
    Users,
    /// `GET /ws` (WebSocket echo)
    Ws,
    /// `GET /ws/room` (WebSocket broadcast)
    WsRoom,
}

impl Endpoint {
    /// Every endpoint, in contract order.
    pub const ALL: [Endpoint; 11] = [
        Endpoint::Plaintext,
        Endpoint::Json,
        Endpoint::Db,
        Endpoint::Queries,
        Endpoint::Updates,
        Endpoint::Fortunes,
        Endpoint::Io,
        Endpoint::Compute,
        Endpoint::Users,
        Endpoint::Ws,
        Endpoint::WsRoom,
    ];

    /// Its request path.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Plaintext => "/plaintext",
            Endpoint::Json => "/json",
            Endpoint::Db => "/db",
            Endpoint::Queries => "/queries",
            Endpoint::Updates => "/updates",
            Endpoint::Fortunes => "/fortunes",
            Endpoint::Io => "/io",
            Endpoint::Compute => "/compute",
            Endpoint::Users => "/users",
            Endpoint::Ws => "/ws",
            Endpoint::WsRoom => "/ws/room",
        }
    }

    /// Its name in manifests (`ws-room`).
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::WsRoom => "ws-room",
            other => &other.path()[1..],
        }
    }

    /// The endpoint a request target (`/queries?n=20`) or a manifest name (`ws-room`) stands
    /// for; `None` for anything outside the contract (a user suite's own paths, `/healthz`).
    pub fn of(target: &str) -> Option<Endpoint> {
        let path = target.split('?').next().unwrap_or_default();
        Endpoint::ALL
            .into_iter()
            .find(|e| e.path() == path || e.name() == path)
    }

    /// The endpoint a check exercises; `None` for the checks every contestant must pass
    /// (`healthz`, `not-found`, `headers`, `date-changes`).
    pub fn of_check(check: &str) -> Option<Endpoint> {
        match check {
            "db-random" => Some(Endpoint::Db),
            // It counts the statements of /db, /queries and /updates; /updates writes.
            "statements" | "transactions" => Some(Endpoint::Updates),
            "io-concurrent" | "io-invalid" => Some(Endpoint::Io),
            "ws-echo" => Some(Endpoint::Ws),
            "ws-room" => Some(Endpoint::WsRoom),
            c if c.starts_with("users-") => Some(Endpoint::Users),
            c => Endpoint::of(&format!("/{c}")),
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The checks of `only` a contestant that serves what `serves` says gets to run, and those
/// left out because they exercise an endpoint it does not declare (in that order).
pub fn declared_checks<'a>(
    only: &[&'a str],
    serves: impl Fn(Endpoint) -> bool,
) -> (Vec<&'a str>, Vec<&'a str>) {
    only.iter()
        .partition(|check| Endpoint::of_check(check).is_none_or(&serves))
}

/// What a check gets to work with.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The HTTP client bound to the contestant.
    pub client: http::Client,
    /// The dataset as faceoff created it.
    pub dataset: &'a Dataset,
}

impl Ctx<'_> {
    /// The contestant's address.
    pub fn addr(&self) -> SocketAddr {
        self.client.addr()
    }
}

/// A check: `Ok` or the reason it failed.
pub type CheckFn = fn(&Ctx<'_>) -> Result<(), String>;

/// Every check, in the order they run. `headers` and `date-changes` look at the responses of
/// all the others, so they come last.
pub const CHECKS: &[(&str, CheckFn)] = &[
    ("healthz", checks::healthz),
    ("plaintext", checks::plaintext),
    ("json", checks::json),
    ("db", checks::db),
    ("db-random", checks::db_random),
    ("queries", checks::queries),
    ("updates", checks::updates),
    ("statements", statements::statements),
    ("transactions", transactions::transactions),
    ("fortunes", checks::fortunes),
    ("io", checks::io),
    ("io-concurrent", checks::io_concurrent),
    ("io-invalid", checks::io_invalid),
    ("compute", checks::compute),
    ("users-create", users::create),
    ("users-invalid", users::invalid),
    ("users-size-limit", users::size_limit),
    ("users-media-type", users::media_type),
    ("not-found", checks::not_found),
    ("ws-echo", ws::echo),
    ("ws-room", ws::room),
    ("headers", checks::headers),
    ("date-changes", checks::date_changes),
];

/// Checks that need PostgreSQL (`--database postgres`); left out on SQLite.
pub const POSTGRES_CHECKS: &[&str] = &["statements", "transactions"];

/// The names of every check, in order.
pub fn check_names() -> Vec<&'static str> {
    CHECKS.iter().map(|(name, _)| *name).collect()
}

/// The names of the checks that apply on `database`, in order.
pub fn check_names_for(database: crate::database::DatabaseKind) -> Vec<&'static str> {
    let mut names = check_names();
    if database != crate::database::DatabaseKind::Postgres {
        names.retain(|n| !POSTGRES_CHECKS.contains(n));
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_but_the_general_ones_maps_to_an_endpoint() {
        let general = ["healthz", "not-found", "headers", "date-changes"];
        for name in check_names() {
            assert_eq!(
                Endpoint::of_check(name).is_none(),
                general.contains(&name),
                "{name}"
            );
        }
        assert_eq!(
            Endpoint::of_check("users-media-type"),
            Some(Endpoint::Users)
        );
        assert_eq!(Endpoint::of_check("ws-room"), Some(Endpoint::WsRoom));
    }

    #[test]
    fn targets_and_names() {
        assert_eq!(Endpoint::of("/queries?n=20"), Some(Endpoint::Queries));
        assert_eq!(Endpoint::of("/ws/room"), Some(Endpoint::WsRoom));
        assert_eq!(Endpoint::of("ws-room"), Some(Endpoint::WsRoom));
        assert_eq!(Endpoint::of("/healthz"), None);
        assert_eq!(Endpoint::of("/api/things"), None);
        for e in Endpoint::ALL {
            assert_eq!(Endpoint::of(e.name()), Some(e));
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(json, format!("\"{}\"", e.name()));
        }
    }

    #[test]
    fn undeclared_checks_are_left_out() {
        let only = check_names();
        let (run, skipped) = declared_checks(&only, |e| e != Endpoint::Ws && e != Endpoint::WsRoom);
        assert_eq!(skipped, ["ws-echo", "ws-room"]);
        assert!(run.contains(&"headers") && run.contains(&"json"));
        assert_eq!(run.len() + 2, only.len());
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CheckResult {
    /// The check's name (see [`CHECKS`]).
    pub name: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// Why it failed.
    pub reason: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
}

/// Runs every check against the contestant at `addr`. `exited` is asked after each check; when
/// it returns a description (the contestant is gone), the remaining checks fail with it.
pub fn verify(
    addr: SocketAddr,
    dataset: &Dataset,
    exited: &mut dyn FnMut() -> Option<String>,
) -> Vec<CheckResult> {
    verify_only(addr, dataset, &check_names(), exited)
}

/// Like [`verify`], running only the checks named in `only` (in the standard order).
pub fn verify_only(
    addr: SocketAddr,
    dataset: &Dataset,
    only: &[&str],
    exited: &mut dyn FnMut() -> Option<String>,
) -> Vec<CheckResult> {
    let ctx = Ctx {
        client: http::Client::new(addr),
        dataset,
    };
    let mut results = Vec::new();
    let mut gone: Option<String> = None;
    for &(name, check) in CHECKS.iter().filter(|(n, _)| only.contains(n)) {
        if let Some(why) = &gone {
            results.push(CheckResult {
                name,
                passed: false,
                reason: Some(format!("not run: the contestant {why}")),
                duration_ms: 0,
            });
            continue;
        }
        let started = Instant::now();
        let outcome = check(&ctx);
        let duration_ms = started.elapsed().as_millis() as u64;
        let mut died = exited();
        if outcome.is_err() {
            // A failure may be the contestant dying: give its exit a moment to show.
            let until = Instant::now() + std::time::Duration::from_millis(300);
            while died.is_none() && Instant::now() < until {
                std::thread::sleep(std::time::Duration::from_millis(20));
                died = exited();
            }
        }
        let died = died.map(|status| format!("exited ({status})"));
        let reason = match (outcome, &died) {
            (Ok(()), None) => None,
            (Ok(()), Some(why)) => Some(format!("the contestant {why} during this check")),
            (Err(e), None) => Some(e),
            (Err(e), Some(why)) => Some(format!("{e} (the contestant {why})")),
        };
        gone = died;
        results.push(CheckResult {
            name,
            passed: reason.is_none(),
            reason,
            duration_ms,
        });
    }
    results
}
