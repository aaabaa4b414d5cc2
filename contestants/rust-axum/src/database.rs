//! Where the dataset is served from: the SQLite file at `DB_PATH` (db.rs), or PostgreSQL when
//! faceoff sets `DATABASE_URL` (pg.rs).

use crate::config::Config;
use crate::db::Db;
use crate::pg::{Pg, POOL_SIZE_PER_WORKER};

/// The open database, shared by the handlers.
#[derive(Clone)]
pub enum Database {
    /// SQLite: a pool of readers plus one writer, on the blocking pool.
    Sqlite(Db),
    /// PostgreSQL: an async pool.
    Postgres(Pg),
}

impl Database {
    /// Opens what `config` names and checks that the dataset is there; the error names the
    /// variable to fix.
    pub async fn open(config: &Config) -> Result<Self, String> {
        if let Some(url) = &config.database_url {
            let pg = Pg::open(url, POOL_SIZE_PER_WORKER * config.workers)?;
            pg.check()
                .await
                .map_err(|e| format!("DATABASE_URL is not usable: {e}"))?;
            return Ok(Self::Postgres(pg));
        }
        let db = Db::open(&config.db_path, config.db_pool_size);
        db.check()
            .await
            .map_err(|e| format!("database '{}' is not usable: {e}", config.db_path.display()))?;
        Ok(Self::Sqlite(db))
    }

    /// For the start-up line.
    pub fn describe(&self, config: &Config) -> String {
        match self {
            Self::Sqlite(_) => format!(
                "SQLite with {} reading connection(s) and one writing",
                config.db_pool_size
            ),
            Self::Postgres(_) => format!(
                "PostgreSQL with up to {} pooled connection(s)",
                POOL_SIZE_PER_WORKER * config.workers
            ),
        }
    }
}
