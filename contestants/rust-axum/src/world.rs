//! `/db`, `/queries` and `/updates`: random rows of `world`, one query per row.

use std::collections::HashSet;

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

/// `GET /updates?n=N`: each row read, given a new random number, and written back.
pub async fn updates(
    State(state): State<AppState>,
    params: Result<Query<CountParam>, QueryRejection>,
) -> Result<Json<Vec<World>>, ApiError> {
    let n = row_count(&params);
    let worlds = state.db.write(move |conn| update_worlds(conn, n)).await?;
    Ok(Json(worlds))
}

/// One UPDATE per row, all in one transaction: one commit per request, as every contestant.
fn update_worlds(conn: &Connection, n: u32) -> rusqlite::Result<Vec<World>> {
    let tx = conn.unchecked_transaction()?;
    let worlds = {
        let mut select = tx.prepare_cached(SELECT_WORLD)?;
        let mut update = tx.prepare_cached(UPDATE_WORLD)?;
        distinct_ids(n)
            .into_iter()
            .map(|id| {
                let mut world = select_world(&mut select, id)?;
                world.random_number = fastrand::i32(1..=WORLD_ROWS);
                update.execute((world.random_number, world.id))?;
                Ok(world)
            })
            .collect::<rusqlite::Result<Vec<_>>>()?
    };
    tx.commit()?;
    Ok(worlds)
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

/// `n` different random ids, so every row in an `/updates` answer is the one left in the
/// database (a repeated id would be answered twice with two numbers, only the last one kept).
fn distinct_ids(n: u32) -> Vec<i32> {
    let mut seen = HashSet::with_capacity(n as usize);
    let mut ids = Vec::with_capacity(n as usize);
    while ids.len() < n as usize {
        let id = random_id();
        if seen.insert(id) {
            ids.push(id);
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_ids_are_distinct_and_in_range() {
        let ids = distinct_ids(MAX_QUERIES);
        assert_eq!(ids.len(), MAX_QUERIES as usize);
        assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
        assert!(ids.iter().all(|id| (1..=WORLD_ROWS).contains(id)));
    }
}
