//! `/db`, `/queries` and `/updates`: random rows of `world`, one query per row.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use rusqlite::{CachedStatement, Connection};
use serde::Serialize;

use crate::app::AppState;
use crate::error::ApiError;
use crate::params::{clamped_count, CountParam};

/// Rows in `world`, ids `1..=WORLD_ROWS`; random numbers span the same range.
const WORLD_ROWS: i32 = 10_000;
/// Most rows one request may ask for.
const MAX_QUERIES: u32 = 500;

const SELECT_WORLD: &str = "SELECT id, randomNumber FROM world WHERE id = ?1";
const UPDATE_WORLD: &str = "UPDATE world SET randomNumber = ?1 WHERE id = ?2";

/// One row of `world`.
#[derive(Serialize)]
pub struct World {
    id: i32,
    #[serde(rename = "randomNumber")]
    random_number: i32,
}

/// `GET /db`.
pub async fn single_query(State(state): State<AppState>) -> Result<Json<World>, ApiError> {
    let world = state
        .db
        .read(|conn| select_world(&mut conn.prepare_cached(SELECT_WORLD)?, random_id()))
        .await?;
    Ok(Json(world))
}

/// `GET /queries?n=N`.
pub async fn queries(
    State(state): State<AppState>,
    params: Result<Query<CountParam>, QueryRejection>,
) -> Result<Json<Vec<World>>, ApiError> {
    let n = row_count(&params);
    let worlds = state
        .db
        .read(move |conn| {
            let mut select = conn.prepare_cached(SELECT_WORLD)?;
            (0..n)
                .map(|_| select_world(&mut select, random_id()))
                .collect()
        })
        .await?;
    Ok(Json(worlds))
}

/// `GET /updates?n=N`: `n` rows read (ids drawn independently, repeats allowed) on a reading
/// connection, given new random numbers, and written back on the writing connection.
pub async fn updates(
    State(state): State<AppState>,
    params: Result<Query<CountParam>, QueryRejection>,
) -> Result<Json<Vec<World>>, ApiError> {
    let n = row_count(&params);
    let mut worlds = state
        .db
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
    state.db.write(move |conn| update_worlds(conn, &order)).await?;
    Ok(Json(worlds))
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
