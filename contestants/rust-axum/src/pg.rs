//! The PostgreSQL path (when faceoff sets `DATABASE_URL`): tokio-postgres behind a
//! deadpool-postgres pool. Queries are async on the worker threads (no blocking pool); one pooled
//! connection per request, its queries one after another, one query per row, each statement
//! prepared once per connection and cached.

use std::str::FromStr;

use deadpool_postgres::tokio_postgres::{Config, NoTls};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};

use crate::db::DbError;

/// Connections per worker thread, the same per worker in every contestant: enough to keep
/// PostgreSQL busy while the thread serves other requests; 16 x WORKERS fits faceoff's server
/// (max_connections 400) up to 24 workers.
pub const POOL_SIZE_PER_WORKER: usize = 16;

/// A cloneable handle on the pool.
#[derive(Clone)]
pub struct Pg {
    pool: Pool,
}

impl Pg {
    /// A pool of at most `size` connections to `url`; connections open lazily. Fails only on a
    /// URL that does not parse.
    pub fn open(url: &str, size: usize) -> Result<Self, String> {
        let config =
            Config::from_str(url).map_err(|e| format!("DATABASE_URL is not valid: {e}"))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(size)
            .build()
            .map_err(|e| format!("cannot build the PostgreSQL pool: {e}"))?;
        Ok(Self { pool })
    }

    /// Fails when the server cannot be reached or has no `world` table, so a bad
    /// `DATABASE_URL` stops the server at start-up instead of on the first request.
    pub async fn check(&self) -> Result<(), DbError> {
        self.client()
            .await?
            .query_one("SELECT count(*) FROM world", &[])
            .await?;
        Ok(())
    }

    /// A pooled connection, waited for when all are busy.
    pub async fn client(&self) -> Result<Object, DbError> {
        Ok(self.pool.get().await?)
    }
}
