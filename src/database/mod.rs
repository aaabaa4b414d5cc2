//! The database the contestants serve the contract's data from: the embedded SQLite file by
//! default (see [`crate::contract::dataset`]), or PostgreSQL ([`Postgres`]): a throwaway server
//! of faceoff's own ([`postgres::Throwaway`]) or one the user runs (`--database-url`).
//!
//! On PostgreSQL every contestant gets a database of its own, `faceoff_<name>`, loaded with the
//! same rows as its SQLite file, as each gets its own SQLite file: one contestant's `/updates`
//! never changes what another reads. On a user's server faceoff creates nothing: it replaces the
//! `world` and `fortune` tables of the database the URL names.

pub mod postgres;

use std::path::PathBuf;
use std::time::Duration;

use crate::cancel::Cancel;
pub use crate::contestant::manifest::DatabaseKind;
use crate::contract::dataset::{Dataset, PgTarget};

/// Connections each contestant's pool opens at most per worker process: every reference
/// contestant's deployment note states 16, alike in every contestant.
pub const POOL_PER_WORKER: u32 = 16;

/// Connections kept beyond the contestants' pools: faceoff's own (loading the dataset, verify's
/// counts) and PostgreSQL's `superuser_reserved_connections` (3 by default).
pub const CONNECTION_MARGIN: u32 = 20;

/// How many contestants may hold pools on the server at once, with how many workers each: a
/// run has all its contestants up together, verify one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionNeed {
    /// Contestants up at the same time.
    pub contestants: u32,
    /// The most `WORKERS` any of them runs with (a worker sweep's largest point).
    pub workers: u32,
}

impl ConnectionNeed {
    /// Connections the contestants' pools may open together.
    pub fn pools(&self) -> u32 {
        self.contestants
            .max(1)
            .saturating_mul(self.workers.max(1))
            .saturating_mul(POOL_PER_WORKER)
    }

    /// The `max_connections` a server needs: the pools plus [`CONNECTION_MARGIN`], and never
    /// below PostgreSQL's default of 100.
    pub fn max_connections(&self) -> u32 {
        self.pools().saturating_add(CONNECTION_MARGIN).max(100)
    }

    /// Checks a server's `max_connections` (with `reserved` of them kept for superusers)
    /// against the need; the error is one line naming the numbers and the fix.
    pub fn check(&self, max_connections: u32, reserved: u32) -> Result<(), String> {
        let usable = max_connections.saturating_sub(reserved);
        let wanted = self.pools().saturating_add(CONNECTION_MARGIN - 3);
        if usable >= wanted {
            return Ok(());
        }
        Err(format!(
            "the server allows {max_connections} connections ({reserved} reserved for \
             superusers), but {} contestants x {} workers x {POOL_PER_WORKER} pooled \
             connections need up to {}, plus {} for faceoff; raise max_connections to at least \
             {} (ALTER SYSTEM SET max_connections = {}; then restart PostgreSQL), or run fewer \
             contestants (--only) or workers (--workers)",
            self.contestants,
            self.workers,
            self.pools(),
            CONNECTION_MARGIN - 3,
            self.max_connections(),
            self.max_connections(),
        ))
    }
}

/// A PostgreSQL server the contestants use.
pub struct Postgres {
    /// The server faceoff started, when it started one.
    server: Option<postgres::Throwaway>,
    /// How to reach it (database left to each use).
    config: ::postgres::Config,
    /// The database of a user's server (`None`: one per contestant on faceoff's own).
    user_database: Option<String>,
    /// Whether pg_stat_statements can be read (verify counts statements with it).
    pub statement_counts: bool,
    /// The server's version, for the report.
    pub version: Option<String>,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres")
            .field("throwaway", &self.server.is_some())
            .field("user_database", &self.user_database)
            .field("statement_counts", &self.statement_counts)
            .finish()
    }
}

/// Errors of choosing and preparing the database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The throwaway server failed.
    #[error(transparent)]
    Server(#[from] postgres::Error),
    /// `--database-url` is not a PostgreSQL URL faceoff can use.
    #[error("--database-url '{url}': {why}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// The user's server allows too few connections for the plan.
    #[error("--database-url '{url}': {why}")]
    TooFewConnections {
        /// The URL as given.
        url: String,
        /// The numbers and the fix.
        why: String,
    },
    /// A query failed.
    #[error("PostgreSQL: {}", crate::hint::causes(.0))]
    Sql(::postgres::Error),
}

impl Postgres {
    /// Starts faceoff's own server, pinned to `cpus`, logging to `log`, with room for `need`.
    pub fn start(
        log: PathBuf,
        cpus: &[usize],
        need: ConnectionNeed,
        cancel: &Cancel,
    ) -> Result<Postgres, Error> {
        let bins = postgres::Binaries::find()?;
        let version = bins.version();
        let server = postgres::Throwaway::start(
            &bins,
            &postgres::Options {
                log,
                cpus: cpus.to_vec(),
                max_connections: need.max_connections(),
                cancel: cancel.clone(),
            },
        )?;
        let mut config = ::postgres::Config::new();
        config
            .host("127.0.0.1")
            .port(server.port())
            .user(postgres::USER)
            .connect_timeout(Duration::from_secs(5));
        Ok(Postgres {
            statement_counts: server.statement_counts,
            server: Some(server),
            config,
            user_database: None,
            version,
        })
    }

    /// A server the user runs, at `url` (`postgres://user[:password]@host[:port]/database`).
    /// Only loopback hosts are accepted: the contestants' queries are load too. Its
    /// `max_connections` must hold `need`.
    pub fn external(url: &str, need: ConnectionNeed) -> Result<Postgres, Error> {
        let bad = |why: &str| Error::BadUrl {
            url: url.to_string(),
            why: why.to_string(),
        };
        let mut config: ::postgres::Config = url.parse().map_err(|e| {
            bad(&format!(
                "{e}; expected postgres://USER@127.0.0.1:PORT/DATABASE"
            ))
        })?;
        let database = config.get_dbname().map(str::to_string).ok_or_else(|| {
            bad("it names no database; add one: postgres://USER@127.0.0.1:PORT/DATABASE")
        })?;
        let loopback = config.get_hosts().iter().all(|h| match h {
            ::postgres::config::Host::Tcp(name) => {
                name == "localhost"
                    || name
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            ::postgres::config::Host::Unix(_) => true,
        });
        if !loopback || config.get_hosts().is_empty() {
            return Err(bad(
                "faceoff sends load only to this machine; use a server on 127.0.0.1 or localhost",
            ));
        }
        config.connect_timeout(Duration::from_secs(5));
        let mut client = config.connect(::postgres::NoTls)?;
        let version: String = client.query_one("SHOW server_version", &[])?.get(0);
        let setting = |client: &mut ::postgres::Client, name: &str| -> Result<u32, Error> {
            let text: String = client.query_one(&format!("SHOW {name}"), &[])?.get(0);
            text.parse()
                .map_err(|_| bad(&format!("its {name} is '{text}', not a number")))
        };
        let max_connections = setting(&mut client, "max_connections")?;
        let reserved = setting(&mut client, "superuser_reserved_connections")?;
        need.check(max_connections, reserved)
            .map_err(|why| Error::TooFewConnections {
                url: url.to_string(),
                why,
            })?;
        let statement_counts = client
            .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .is_ok()
            && client
                .batch_execute("SELECT 1 FROM pg_stat_statements LIMIT 1")
                .is_ok();
        Ok(Postgres {
            server: None,
            config,
            user_database: Some(database),
            statement_counts,
            version: Some(format!("PostgreSQL {version}")),
        })
    }

    /// Loads `data`'s rows for contestant `name` (into its own database on faceoff's server,
    /// into the user's database otherwise) and records where in `data`.
    pub fn load_for(&self, name: &str, data: &mut Dataset) -> Result<(), Error> {
        let database = match &self.user_database {
            Some(db) => db.clone(),
            None => {
                let db = format!("faceoff_{}", name.replace('-', "_"));
                let mut admin = self.connect("postgres")?;
                admin.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))?;
                admin.batch_execute(&format!("CREATE DATABASE {db}"))?;
                db
            }
        };
        let mut client = self.connect(&database)?;
        if self.statement_counts && self.user_database.is_none() {
            client.batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")?;
        }
        postgres::load(&mut client, data)?;
        data.postgres = Some(PgTarget {
            config: self.with_database(&database),
            url: self.url_of(&database),
            statement_counts: self.statement_counts,
        });
        Ok(())
    }

    fn with_database(&self, database: &str) -> ::postgres::Config {
        let mut config = self.config.clone();
        config.dbname(database);
        config
    }

    fn connect(&self, database: &str) -> Result<::postgres::Client, ::postgres::Error> {
        self.with_database(database).connect(::postgres::NoTls)
    }

    /// The URL a contestant gets for `database`, password included when the user gave one.
    fn url_of(&self, database: &str) -> String {
        let c = &self.config;
        let host = match c.get_hosts().first() {
            Some(::postgres::config::Host::Tcp(h)) => h.clone(),
            _ => "127.0.0.1".into(),
        };
        let port = c.get_ports().first().copied().unwrap_or(5432);
        let user = c.get_user().unwrap_or(postgres::USER);
        let auth = match c.get_password() {
            Some(pw) => format!("{user}:{}", percent(pw)),
            None => user.to_string(),
        };
        format!("postgres://{auth}@{host}:{port}/{database}")
    }

    /// The throwaway server's process group, when faceoff started one.
    pub fn pgid(&self) -> Option<i32> {
        self.server.as_ref().map(postgres::Throwaway::pgid)
    }

    /// Stops faceoff's server, if it started one.
    pub fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop();
        }
    }
}

fn percent(bytes: &[u8]) -> String {
    url::form_urlencoded::byte_serialize(bytes).collect()
}

/// `--database` and `--database-url`, shared by `verify` and `run`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DatabaseArgs {
    /// Where contestants serve the dataset from: `sqlite` (a file per contestant) or
    /// `postgres` (a throwaway PostgreSQL server faceoff starts and stops; contestants whose
    /// manifest does not list postgres are skipped) [default: sqlite].
    #[arg(long, value_name = "KIND", value_enum)]
    pub database: Option<DatabaseKind>,

    /// Use this PostgreSQL server instead of starting one (implies --database postgres); must be
    /// on 127.0.0.1 or localhost. faceoff replaces the tables `world` and `fortune` of the
    /// database it names.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

impl DatabaseArgs {
    /// The database the flags choose.
    pub fn kind(&self) -> DatabaseKind {
        if self.database_url.is_some() {
            DatabaseKind::Postgres
        } else {
            self.database.unwrap_or(DatabaseKind::Sqlite)
        }
    }

    /// Starts (or connects to) PostgreSQL when the flags ask for it; `log` is the throwaway
    /// server's log, `cpus` the server CPUs, `need` the connections the contestants' pools may
    /// hold (the throwaway server is sized for it; a user's server must allow it). Says on
    /// stderr what it started.
    pub fn open(
        &self,
        log: PathBuf,
        cpus: &[usize],
        need: ConnectionNeed,
        cancel: &Cancel,
    ) -> anyhow::Result<Option<Postgres>> {
        if self.database == Some(DatabaseKind::Sqlite) && self.database_url.is_some() {
            anyhow::bail!("--database sqlite and --database-url contradict each other; drop one");
        }
        if let Some(url) = &self.database_url {
            let pg = Postgres::external(url, need)?;
            eprintln!(
                "database: {} at {url} (tables world and fortune replaced)",
                pg.version.as_deref().unwrap_or("PostgreSQL")
            );
            return Ok(Some(pg));
        }
        if self.kind() != DatabaseKind::Postgres {
            return Ok(None);
        }
        let started = std::time::Instant::now();
        let spinner = crate::spinner::spinner("starting a throwaway PostgreSQL server".into());
        let pg = Postgres::start(log.clone(), cpus, need, cancel);
        spinner.finish_and_clear();
        let pg = pg?;
        eprintln!(
            "database: {} started in {:.1}s on 127.0.0.1, max_connections {} (log {})",
            pg.version.as_deref().unwrap_or("PostgreSQL"),
            started.elapsed().as_secs_f64(),
            need.max_connections(),
            log.display()
        );
        Ok(Some(pg))
    }
}

/// Not `#[from]`: the cause is printed in the message, so it is not also a source (`{:#}`
/// would print it twice).
impl From<::postgres::Error> for Error {
    fn from(cause: ::postgres::Error) -> Self {
        Error::Sql(cause)
    }
}

#[cfg(test)]
mod tests {
    use super::ConnectionNeed;

    #[test]
    fn max_connections_is_sized_from_the_plan() {
        let verify = ConnectionNeed {
            contestants: 1,
            workers: 1,
        };
        assert_eq!(
            verify.max_connections(),
            100,
            "PostgreSQL's default at least"
        );
        let run = ConnectionNeed {
            contestants: 10,
            workers: 4,
        };
        assert_eq!(run.pools(), 640);
        assert_eq!(run.max_connections(), 660);
        assert_eq!(run.check(660, 3), Ok(()));
    }

    #[test]
    fn a_server_with_too_few_connections_is_named_with_the_numbers_and_the_fix() {
        let need = ConnectionNeed {
            contestants: 10,
            workers: 2,
        };
        let why = need.check(100, 3).unwrap_err();
        assert!(!why.contains('\n'), "one line: {why}");
        for part in [
            "allows 100 connections",
            "10 contestants x 2 workers x 16",
            "up to 320",
            "at least 340",
            "ALTER SYSTEM SET max_connections = 340",
        ] {
            assert!(why.contains(part), "{part}: {why}");
        }
    }
}
