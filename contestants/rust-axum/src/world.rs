//! `/db`, `/queries` and `/updates`: random rows of `world`, one query per row.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use deadpool_postgres::Object;
use rusqlite::{CachedStatement, Connection};
use serde::Serialize;

use crate::app::AppState;
use crate::database::Database;
use crate::db::DbError;
use crate::error::ApiError;
use crate::params::{clamped_count, CountParam};

/// Rows in `world`, ids `1..=WORLD_ROWS`; random numbers span the same range.
const WORLD_ROWS: i32 = 10_000;
/// Most rows one request may ask for.
const MAX_QUERIES: u32 = 500;

const SELECT_WORLD: &str = "SELECT id, randomNumber FROM world WHERE id = ?1";
const UPDATE_WORLD: &str = "UPDATE world SET randomNumber = ?1 WHERE id = ?2";
// PostgreSQL folds the column name to `randomnumber`; the same text names it.
const SELECT_WORLD_PG: &str = "SELECT id, randomNumber FROM world WHERE id = $1";
const UPDATE_WORLD_PG: &str = "UPDATE world SET randomNumber = $1 WHERE id = $2";

/// One row of `world`.
#[derive(Serialize)]
pub struct World {
    id: i32,
    #[serde(rename = "randomNumber")]
    random_number: i32,
}

/// `GET /db`.
pub async fn single_query(State(state): State<AppState>) -> Result<Json<World>, ApiError> {
    let world = match &state.db {
        Database::Sqlite(db) => {
            db.read(|conn| select_world(&mut conn.prepare_cached(SELECT_WORLD)?, random_id()))
                .await?
        }
        Database::Postgres(pg) => {
            let mut worlds = select_worlds_pg(&pg.client().await?, 1).await?;
            worlds.pop().expect("one row asked, one row read")
        }
    };
    Ok(Json(world))
}

/// `GET /queries?n=N`.
pub async fn queries(
    State(state): State<AppState>,
    params: Result<Query<CountParam>, QueryRejection>,
) -> Result<Json<Vec<World>>, ApiError> {
    let n = row_count(&params);
    let worlds = match &state.db {
        Database::Sqlite(db) => {
            db.read(move |conn| {
                let mut select = conn.prepare_cached(SELECT_WORLD)?;
                (0..n)
                    .map(|_| select_world(&mut select, random_id()))
                    .collect()
            })
            .await?
        }
        Database::Postgres(pg) => select_worlds_pg(&pg.client().await?, n).await?,
    };
    Ok(Json(worlds))
}

/// `GET /updates?n=N`: `n` rows read (ids drawn independently, repeats allowed) on a reading
/// connection, given new random numbers, and written back on the writing connection.
pub async fn updates(
    State(state): State<AppState>,
    params: Result<Query<CountParam>, QueryRejection>,
) -> Result<Json<Vec<World>>, ApiError> {
    let n = row_count(&params);
    let db = match &state.db {
        Database::Sqlite(db) => db,
        Database::Postgres(pg) => return Ok(Json(updates_pg(&mut pg.client().await?, n).await?)),
    };
    let mut worlds = db
        .read(move |conn| {
            let mut select = conn.prepare_cached(SELECT_WORLD)?;
            (0..n)
                .map(|_| select_world(&mut select, random_id()))
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .await?;
    for world in &mut worlds {
        world.random_number = random_id();
    }
    let order = ascending_ids(&worlds);
    db.write(move |conn| update_worlds(conn, &order)).await?;
    Ok(Json(worlds))
}

/// `n` random rows read one query each, one after another on `client`.
async fn select_worlds_pg(client: &Object, n: u32) -> Result<Vec<World>, DbError> {
    let select = client.prepare_cached(SELECT_WORLD_PG).await?;
    let mut worlds = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let row = client.query_one(&select, &[&random_id()]).await?;
        worlds.push(World {
            id: row.try_get(0)?,
            random_number: row.try_get(1)?,
        });
    }
    Ok(worlds)
}

/// `/updates` on PostgreSQL: `n` rows read, given new numbers, and written with one UPDATE each
/// in ascending id order in one transaction, all on one pooled connection.
async fn updates_pg(client: &mut Object, n: u32) -> Result<Vec<World>, DbError> {
    let mut worlds = select_worlds_pg(client, n).await?;
    for world in &mut worlds {
        world.random_number = random_id();
    }
    let update = client.prepare_cached(UPDATE_WORLD_PG).await?;
    let tx = client.transaction().await?;
    for (id, random_number) in ascending_ids(&worlds) {
        tx.execute(&update, &[&random_number, &id]).await?;
    }
    tx.commit().await?;
    Ok(worlds)
}

/// The (id, new number) pairs of `worlds` in ascending id order, the order the contract fixes
/// for the writes (a repeated id is written twice; the later draw is left in the database).
fn ascending_ids(worlds: &[World]) -> Vec<(i32, i32)> {
    let mut order: Vec<(i32, i32)> = worlds.iter().map(|w| (w.id, w.random_number)).collect();
    order.sort_by_key(|&(id, _)| id);
    order
}

/// One UPDATE per row, all in one transaction: one commit per request, as every contestant.
fn update_worlds(conn: &Connection, rows: &[(i32, i32)]) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    {
        let mut update = tx.prepare_cached(UPDATE_WORLD)?;
        for &(id, random_number) in rows {
            update.execute((random_number, id))?;
        }
    }
    tx.commit()
}

fn select_world(select: &mut CachedStatement<'_>, id: i32) -> rusqlite::Result<World> {
    select.query_row([id], |row| {
        Ok(World {
            id: row.get(0)?,
            random_number: row.get(1)?,
        })
    })
}

fn row_count(params: &Result<Query<CountParam>, QueryRejection>) -> u32 {
    let raw = params.as_ref().ok().and_then(|Query(p)| p.n.as_deref());
    clamped_count(raw, MAX_QUERIES)
}

fn random_id() -> i32 {
    fastrand::i32(1..=WORLD_ROWS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_go_in_ascending_id_order_and_keep_repeats() {
        let worlds = [(7, 1), (3, 2), (7, 3), (1, 4)].map(|(id, random_number)| World {
            id,
            random_number,
        });
        assert_eq!(ascending_ids(&worlds), [(1, 4), (3, 2), (7, 1), (7, 3)]);
    }
}
