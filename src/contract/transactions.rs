//! On PostgreSQL, the contract's "one transaction per `/updates` request" rule checked at the
//! server: the transactions that wrote are counted by the transaction ids the server handed out
//! while one `/updates?n=5` request ran.
//!
//! Why transaction ids: PostgreSQL gives a transaction an id when it first writes, from one
//! counter for the whole server, and `pg_snapshot_xmax(pg_current_snapshot())` reads that
//! counter (once nothing runs) without taking an id itself. Read-only statements take none, so
//! the reads of `/updates` (inside the transaction or not) do not count; a driver in autocommit
//! mode that sends each `UPDATE` on its own, which sends no `BEGIN` a statement count could
//! see, takes five. `pg_stat_database.xact_commit` would count the reads too, and reaches the
//! view only when a backend flushes its statistics (up to a second later, or when it goes idle).
//!
//! The counter is the server's, so other work on it (autovacuum's ANALYZE, another client of a
//! `--database-url` server) adds ids: the request is counted up to [`ATTEMPTS`] times and the
//! fewest ids taken is the figure, which other work can raise but never lower.
//!
//! Rows updated in ascending id order are not checked: the server keeps no order of statements
//! that faceoff can read cheaply (`pg_stat_statements` keeps counts); the statement log would
//! have to be switched on during verify and parsed in two shapes (parameters bound at the
//! server, or values written into the SQL text by psycopg's client-side binding, Django's
//! default).

use std::time::Duration;

use super::checks::expect_status;
use super::Ctx;

/// The request counted.
const PATH: &str = "/updates?n=5";

/// How many times the request is counted before a figure above one fails.
pub const ATTEMPTS: usize = 3;

/// How long after an answer faceoff waits before reading the counter: a contestant may answer
/// a moment before its commit ends.
const SETTLE: Duration = Duration::from_millis(150);

/// The check: see the module docs.
pub fn transactions(ctx: &Ctx<'_>) -> Result<(), String> {
    let Some(pg) = &ctx.dataset.postgres else {
        return Err("counts transactions on PostgreSQL only: run with --database postgres".into());
    };
    let mut admin = pg
        .config
        .connect(postgres::NoTls)
        .map_err(|e| format!("PostgreSQL: {e}"))?;
    let mut next_id = || -> Result<i64, String> {
        admin
            .query_one(
                "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint",
                &[],
            )
            .map(|row| row.get(0))
            .map_err(|e| format!("PostgreSQL, reading the transaction id counter: {e}"))
    };
    let mut taken = Vec::with_capacity(ATTEMPTS);
    for _ in 0..ATTEMPTS {
        let before = next_id()?;
        let resp = ctx.client.get(PATH)?;
        expect_status(&resp, 200, &format!("GET {PATH}"))?;
        std::thread::sleep(SETTLE);
        taken.push(next_id()? - before);
        if judge(&taken).is_ok() {
            return Ok(());
        }
    }
    judge(&taken)
}

/// Judges the transaction ids taken by each try of the request: the fewest must be one.
fn judge(taken: &[i64]) -> Result<(), String> {
    let tries = taken
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    match taken.iter().min() {
        Some(1) => Ok(()),
        Some(0) => Err(format!(
            "GET {PATH} wrote nothing on the server (0 transactions that wrote, tries: {tries}); \
             the contract asks for the 5 rows to be updated in PostgreSQL, in one transaction"
        )),
        Some(n) => Err(format!(
            "GET {PATH} committed {n} transactions that wrote (transaction ids the server handed \
             out, fewest over {} tries: {tries}); the contract asks for one transaction per \
             request: begin one, update every row in it, commit once",
            taken.len()
        )),
        None => Err(format!("GET {PATH} was not counted")),
    }
}

#[cfg(test)]
mod tests {
    use super::judge;

    #[test]
    fn one_transaction_passes_even_after_a_disturbed_try() {
        assert_eq!(judge(&[1]), Ok(()));
        assert_eq!(
            judge(&[2, 1]),
            Ok(()),
            "autovacuum took an id on the first try"
        );
    }

    #[test]
    fn a_commit_per_row_fails_with_the_counts() {
        let err = judge(&[5, 5, 6]).unwrap_err();
        assert!(err.contains("committed 5 transactions"), "{err}");
        assert!(err.contains("5, 5, 6"), "{err}");
        assert!(judge(&[0, 0, 0]).unwrap_err().contains("wrote nothing"));
    }
}
