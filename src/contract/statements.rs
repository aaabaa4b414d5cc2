//! On PostgreSQL, the contract's "one query per row" rule checked at the server: for `/db`,
//! `/queries?n=20` and `/updates?n=5`, `pg_stat_statements` counts the statements on `world` each
//! request caused. Batching (`WHERE id = ANY($1)`, `IN (...)`, one multi-row `UPDATE`) and
//! caching (fewer reads than rows) both fail it.

use std::time::Duration;

use super::checks::expect_status;
use super::Ctx;

/// The requests counted: path, SELECTs on `world` expected, UPDATEs on `world` expected.
const COUNTED: &[(&str, i64, i64)] = &[
    ("/db", 1, 0),
    ("/queries?n=20", 20, 0),
    ("/updates?n=5", 5, 5),
];

/// How long after an answer faceoff waits before reading the counts: the server records a
/// statement when it ends, which may be a moment after the answer left the contestant.
const SETTLE: Duration = Duration::from_millis(150);

/// The check: see the module docs.
pub fn statements(ctx: &Ctx<'_>) -> Result<(), String> {
    let Some(pg) = &ctx.dataset.postgres else {
        return Err("counts statements on PostgreSQL only: run with --database postgres".into());
    };
    if !pg.statement_counts {
        return Err(
            "pg_stat_statements is not available on this PostgreSQL server, so statements \
             cannot be counted; install postgresql-contrib (and preload the module on your own \
             server)"
                .into(),
        );
    }
    let mut admin = pg
        .config
        .connect(postgres::NoTls)
        .map_err(|e| format!("PostgreSQL: {}", crate::hint::causes(&e)))?;
    for &(path, selects, updates) in COUNTED {
        let sql = |e: postgres::Error| {
            format!(
                "PostgreSQL, counting statements of GET {path}: {}",
                crate::hint::causes(&e)
            )
        };
        admin
            .batch_execute(
                "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)",
            )
            .map_err(sql)?;
        let resp = ctx.client.get(path)?;
        expect_status(&resp, 200, &format!("GET {path}"))?;
        std::thread::sleep(SETTLE);
        let rows = admin
            .query(
                "SELECT query, calls FROM pg_stat_statements
                 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND query ~* '\\mworld\\M' AND query !~* 'pg_stat_statements'",
                &[],
            )
            .map_err(sql)?;
        let counted: Vec<(String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        judge(path, selects, updates, &counted)?;
    }
    Ok(())
}

/// Compares the statements counted for one request with what the contract allows.
fn judge(path: &str, selects: i64, updates: i64, counted: &[(String, i64)]) -> Result<(), String> {
    let starts = |q: &str, word: &str| {
        q.trim_start()
            .get(..word.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(word))
    };
    let sum = |word: &str| -> i64 {
        counted
            .iter()
            .filter(|(q, _)| starts(q, word))
            .map(|(_, n)| n)
            .sum()
    };
    let batched = counted.iter().find(|(q, _)| {
        let lower = q.to_ascii_lowercase();
        lower.contains("any(") || lower.contains("any (") || lower.contains(" in (")
    });
    if let Some((q, _)) = batched {
        return Err(format!(
            "GET {path}: the rows were fetched in one batch ({}); the contract asks for one \
             query per row",
            one_line(q)
        ));
    }
    let (got_selects, got_updates) = (sum("select"), sum("update"));
    if got_selects != selects || got_updates != updates {
        let seen: Vec<String> = counted
            .iter()
            .map(|(q, n)| format!("{n} x {}", one_line(q)))
            .collect();
        return Err(format!(
            "GET {path}: {got_selects} SELECT and {got_updates} UPDATE statements on world, \
             expected {selects} and {updates} (one query per row, no batching, no cache); \
             the server saw: {}",
            if seen.is_empty() {
                "none".to_string()
            } else {
                seen.join("; ")
            }
        ));
    }
    Ok(())
}

fn one_line(query: &str) -> String {
    let flat: String = query.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(120) {
        Some((i, _)) => format!("{}...", &flat[..i]),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::judge;

    fn q(text: &str, n: i64) -> (String, i64) {
        (text.to_string(), n)
    }

    #[test]
    fn one_query_per_row_passes() {
        let seen = [
            q("SELECT id, randomNumber FROM world WHERE id = $1", 5),
            q("UPDATE world SET randomNumber = $1 WHERE id = $2", 5),
        ];
        assert_eq!(judge("/updates?n=5", 5, 5, &seen), Ok(()));
    }

    #[test]
    fn batching_and_caching_fail() {
        let any = [q(
            "SELECT id, randomNumber FROM world WHERE id = ANY($1)",
            1,
        )];
        assert!(judge("/queries?n=20", 20, 0, &any)
            .unwrap_err()
            .contains("one batch"));
        let cached = [q("select id, randomnumber from world where id = $1", 12)];
        let err = judge("/queries?n=20", 20, 0, &cached).unwrap_err();
        assert!(err.contains("12 SELECT"), "{err}");
        let bulk = [
            q("SELECT \"world\".\"id\" FROM \"world\" WHERE \"world\".\"id\" = $1", 5),
            q("UPDATE \"world\" SET \"randomnumber\" = CASE WHEN ... END WHERE \"world\".\"id\" IN ($1, $2)", 1),
        ];
        assert!(judge("/updates?n=5", 5, 5, &bulk).is_err());
    }
}
