//! The dataset every contestant serves: a fresh SQLite file in WAL mode with `world` (10,000
//! rows of random numbers) and `fortune` (a dozen messages, one a script injection attempt and
//! some in non-Latin scripts).

use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::Error;

/// Rows in `world`; ids run 1..=WORLD_ROWS.
pub const WORLD_ROWS: i64 = 10_000;

/// Largest `randomNumber`.
pub const MAX_RANDOM: i64 = 10_000;

/// Messages of the `fortune` table, ids 1.. in this order.
pub const FORTUNES: &[&str] = &[
    "A watched pot never benchmarks fairly.",
    "<script>alert(\"fortune stolen\")</script>",
    "Measure twice, deploy once.",
    "ベンチマークは嘘をつかないが、解釈は嘘をつく。",
    "The fastest request is the one you never send.",
    "Latency & throughput are two different things.",
    "Caches are where bugs go to hide.",
    "A p99 is worth a thousand averages.",
    "'Single' and \"double\" quotes survive escaping.",
    "Тише едешь — дальше будешь.",
    "Ship it 🚀 but measure it first.",
    "eventually consistent, eventually correct.",
];

/// The message of the row a contestant adds at request time, with id 0.
pub const REQUEST_TIME_FORTUNE: &str = "Additional fortune added at request time.";

/// A created dataset and what faceoff wrote into it.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The SQLite file.
    pub path: PathBuf,
    /// `randomNumber` of `world` row `id` at index `id - 1`, as created.
    pub world: Vec<i64>,
    /// `(id, message)` rows of `fortune`.
    pub fortunes: Vec<(i64, String)>,
    /// The PostgreSQL database holding the same rows, when the contestant serves from one
    /// (`--database postgres`); then it, not the file, is the one the contestant changes.
    pub postgres: Option<PgTarget>,
}

/// Where a contestant's PostgreSQL copy of the dataset lives.
#[derive(Debug, Clone)]
pub struct PgTarget {
    /// How to connect to its database.
    pub config: postgres::Config,
    /// The `DATABASE_URL` the contestant gets.
    pub url: String,
    /// Whether `pg_stat_statements` can be read on its server.
    pub statement_counts: bool,
}

impl Dataset {
    /// Reads every `world` row back from where the contestant serves it: `randomNumber` at
    /// index `id - 1`.
    pub fn read_world(&self) -> Result<Vec<i64>, String> {
        match &self.postgres {
            None => read_world(&self.path).map_err(|e| e.to_string()),
            Some(pg) => {
                let mut client = pg
                    .config
                    .connect(postgres::NoTls)
                    .map_err(|e| format!("PostgreSQL: {}", crate::hint::causes(&e)))?;
                crate::database::postgres::read_world(&mut client).map_err(|e| e.to_string())
            }
        }
    }
}

/// Creates a fresh dataset at `path`, replacing any file (and its WAL and SHM files) there.
pub fn create(path: &Path) -> Result<Dataset, Error> {
    let sql = |cause| Error::Dataset {
        path: path.to_path_buf(),
        cause,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|cause| Error::Io {
            what: "create the dataset folder",
            path: parent.to_path_buf(),
            cause,
        })?;
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::Io {
                    what: "remove the old dataset",
                    path: PathBuf::from(p),
                    cause: e,
                })
            }
            _ => {}
        }
    }
    let mut conn = Connection::open(path).map_err(sql)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(sql)?;
    debug_assert_eq!(mode.to_ascii_lowercase(), "wal");
    let tx = conn.transaction().map_err(sql)?;
    tx.execute_batch(
        "CREATE TABLE world (id INTEGER PRIMARY KEY, randomNumber INTEGER NOT NULL);
         CREATE TABLE fortune (id INTEGER PRIMARY KEY, message TEXT NOT NULL);",
    )
    .map_err(sql)?;
    let mut world = Vec::with_capacity(WORLD_ROWS as usize);
    {
        let mut insert = tx
            .prepare("INSERT INTO world (id, randomNumber) VALUES (?1, ?2)")
            .map_err(sql)?;
        for id in 1..=WORLD_ROWS {
            let n = fastrand::i64(1..=MAX_RANDOM);
            insert.execute([id, n]).map_err(sql)?;
            world.push(n);
        }
        let mut insert = tx
            .prepare("INSERT INTO fortune (id, message) VALUES (?1, ?2)")
            .map_err(sql)?;
        for (i, message) in FORTUNES.iter().enumerate() {
            insert
                .execute(rusqlite::params![i as i64 + 1, message])
                .map_err(sql)?;
        }
    }
    tx.commit().map_err(sql)?;
    // Leave a compact main file for the contestants; WAL stays the journal mode.
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .map_err(sql)?;
    Ok(Dataset {
        path: path.to_path_buf(),
        world,
        postgres: None,
        fortunes: FORTUNES
            .iter()
            .enumerate()
            .map(|(i, m)| (i as i64 + 1, m.to_string()))
            .collect(),
    })
}

/// Reads every `world` row back from the file: `randomNumber` at index `id - 1`.
pub fn read_world(path: &Path) -> Result<Vec<i64>, Error> {
    let sql = |cause| Error::Dataset {
        path: path.to_path_buf(),
        cause,
    };
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(sql)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(sql)?;
    let mut stmt = conn
        .prepare("SELECT id, randomNumber FROM world ORDER BY id")
        .map_err(sql)?;
    let mut world = vec![0; WORLD_ROWS as usize];
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
        .map_err(sql)?;
    for row in rows {
        let (id, n) = row.map_err(sql)?;
        if (1..=WORLD_ROWS).contains(&id) {
            world[id as usize - 1] = n;
        }
    }
    Ok(world)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_and_reads_back() {
        let dir = std::env::temp_dir().join(format!("faceoff-dataset-{}", std::process::id()));
        let path = dir.join("data.sqlite");
        let made = create(&path).unwrap();
        assert_eq!(made.world.len(), 10_000);
        assert!(made.world.iter().all(|n| (1..=MAX_RANDOM).contains(n)));
        assert_eq!(read_world(&path).unwrap(), made.world);
        let conn = Connection::open(&path).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let n: i64 = conn
            .query_row("SELECT count(*) FROM fortune", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, FORTUNES.len() as i64);
        // A second create starts from scratch.
        let again = create(&path).unwrap();
        assert_eq!(read_world(&path).unwrap(), again.world);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
