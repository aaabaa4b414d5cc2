//! Settings from the environment faceoff gives a contestant: `HOST`, `PORT`, `WORKERS`, `DB_PATH`,
//! plus the optional `DB_POOL_SIZE` and `DATABASE_URL`.

use std::env;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

/// Validated settings for one server process.
pub struct Config {
    /// Where to listen; faceoff always passes `127.0.0.1` and a free port.
    pub addr: SocketAddr,
    /// Tokio worker threads (`WORKERS`, default 1).
    pub workers: usize,
    /// The SQLite dataset (`DB_PATH`), opened read-write.
    pub db_path: PathBuf,
    /// Pooled reading SQLite connections (`DB_POOL_SIZE`, default 4 per worker thread); writes
    /// have one connection of their own.
    pub db_pool_size: usize,
    /// PostgreSQL to serve the dataset from instead (`DATABASE_URL`, set by faceoff with
    /// `--database postgres`).
    pub database_url: Option<String>,
}

impl Config {
    /// Reads and validates the environment; the error names the variable and the fix.
    pub fn from_env() -> Result<Self, String> {
        let host: IpAddr = parse_var("HOST")?.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let port: u16 = parse_var("PORT")?.unwrap_or(8080);
        let workers: usize = parse_var("WORKERS")?.unwrap_or(1);
        if workers == 0 {
            return Err("WORKERS must be at least 1".into());
        }
        // Reads are short and run in parallel under WAL; a few connections per worker thread
        // keep the CPU busy while one of them waits on the disk.
        let db_pool_size: usize = parse_var("DB_POOL_SIZE")?.unwrap_or(4 * workers);
        if db_pool_size == 0 {
            return Err("DB_POOL_SIZE must be at least 1".into());
        }
        let database_url = env::var("DATABASE_URL").ok().filter(|url| !url.is_empty());
        let db_path = env::var_os("DB_PATH")
            .filter(|path| !path.is_empty())
            .map(PathBuf::from);
        let db_path = match (db_path, &database_url) {
            (Some(path), _) => path,
            (None, Some(_)) => PathBuf::new(),
            (None, None) => {
                return Err(
                    "DB_PATH is not set: point it at the SQLite dataset faceoff created".into(),
                )
            }
        };
        Ok(Self {
            addr: SocketAddr::new(host, port),
            workers,
            db_path,
            db_pool_size,
            database_url,
        })
    }
}

/// `Ok(None)` when the variable is unset or empty, an error when it does not parse.
fn parse_var<T: std::str::FromStr>(name: &str) -> Result<Option<T>, String> {
    match env::var(name) {
        Ok(value) if !value.is_empty() => value
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{name}={value:?} is not valid")),
        Ok(_) | Err(env::VarError::NotPresent) => Ok(None),
        Err(env::VarError::NotUnicode(_)) => Err(format!("{name} is not valid UTF-8")),
    }
}
