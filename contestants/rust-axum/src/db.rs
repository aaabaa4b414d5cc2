//! The SQLite connections: a deadpool of readers and a pool of one writer, with every database
//! call run on tokio's blocking pool so the async worker threads never wait on SQLite.
//!
//! SQLite lets one connection write at a time. With several writing connections, the losers
//! poll in SQLite's busy handler (sleeps, no queue), so under load some wait past
//! `busy_timeout` and fail with "database is locked". One writer connection turns that into a
//! fair async queue inside this process; `busy_timeout` still covers writers in other processes.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use deadpool::managed::{self, Metrics, Object, PoolError, RecycleResult};
use deadpool_postgres::tokio_postgres;
use rusqlite::{Connection, OpenFlags};
use tokio::task::JoinError;

/// How long a connection waits for another writer's lock before giving up with `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

type Pool = managed::Pool<SqliteManager>;

/// A cloneable handle on the pools.
#[derive(Clone)]
pub struct Db {
    readers: Pool,
    writer: Pool,
}

impl Db {
    /// Pools of at most `readers` reading connections and one writing connection to `path`;
    /// connections open lazily.
    pub fn open(path: &Path, readers: usize) -> Self {
        Self {
            readers: build_pool(path, readers),
            writer: build_pool(path, 1),
        }
    }

    /// Fails when the file is missing or has no `world` table, so a bad `DB_PATH` stops the
    /// server at start-up instead of on the first request.
    pub async fn check(&self) -> Result<(), DbError> {
        self.read(|conn| conn.query_row("SELECT count(*) FROM world", [], |_| Ok(())))
            .await
    }

    /// Runs a read-only `job` on a reading connection.
    pub async fn read<T, F>(&self, job: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        run(&self.readers, job).await
    }

    /// Runs a `job` that writes on the writing connection, after the writers queued before it.
    pub async fn write<T, F>(&self, job: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        run(&self.writer, job).await
    }
}

fn build_pool(path: &Path, size: usize) -> Pool {
    let manager = SqliteManager {
        path: path.to_owned(),
    };
    managed::Pool::builder(manager)
        .max_size(size)
        .build()
        .expect("a pool without timeouts needs no runtime, so building it cannot fail")
}

/// Runs `job` with a pooled connection on the blocking pool. Waiting for a free connection is
/// async, so no more blocking threads work on SQLite than there are connections.
async fn run<T, F>(pool: &Pool, job: F) -> Result<T, DbError>
where
    F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let mut conn: Object<SqliteManager> = pool.get().await?;
    Ok(tokio::task::spawn_blocking(move || job(&mut conn)).await??)
}

/// Creates connections for the pool.
struct SqliteManager {
    path: PathBuf,
}

impl managed::Manager for SqliteManager {
    type Type = Connection;
    type Error = rusqlite::Error;

    async fn create(&self) -> Result<Connection, rusqlite::Error> {
        // Opening is a few syscalls; the schema is read on the first query, on the blocking pool.
        // No CREATE flag: a wrong DB_PATH must fail, not make an empty database.
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // The contract's durability, the same in every contestant: WAL (set on the file by
        // faceoff) with synchronous=NORMAL instead of SQLite's default FULL.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Ok(conn)
    }

    async fn recycle(&self, _: &mut Connection, _: &Metrics) -> RecycleResult<rusqlite::Error> {
        // A connection to a local file does not go stale, and a failed statement leaves it
        // usable (we never hold a transaction open across calls), so there is nothing to check.
        Ok(())
    }
}

/// A database call that failed.
#[derive(Debug)]
pub enum DbError {
    /// No connection could be opened.
    Pool(PoolError<rusqlite::Error>),
    /// SQLite answered with an error.
    Sqlite(rusqlite::Error),
    /// The blocking task panicked or was cancelled at shutdown.
    Task(JoinError),
    /// No PostgreSQL connection could be had.
    PgPool(deadpool_postgres::PoolError),
    /// PostgreSQL answered with an error.
    Postgres(tokio_postgres::Error),
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pool(e) => write!(f, "no database connection: {e}"),
            Self::Sqlite(e) => write!(f, "database error: {e}"),
            Self::Task(e) => write!(f, "database task failed: {e}"),
            Self::PgPool(e) => write!(f, "no PostgreSQL connection: {e}"),
            Self::Postgres(e) => write!(f, "PostgreSQL: {e}"),
        }
    }
}

impl std::error::Error for DbError {}

impl From<PoolError<rusqlite::Error>> for DbError {
    fn from(e: PoolError<rusqlite::Error>) -> Self {
        Self::Pool(e)
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

impl From<deadpool_postgres::PoolError> for DbError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Self::PgPool(e)
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Postgres(e)
    }
}

impl From<JoinError> for DbError {
    fn from(e: JoinError) -> Self {
        Self::Task(e)
    }
}
