//! `/io?ms=N`: an async sleep standing in for a call to another service.

use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::params::strict_int;

/// The longest wait a request may ask for.
const MAX_SLEEP_MS: u64 = 10_000;

/// `?ms=N`, kept as text so a bad value gets the contract's 400 body.
#[derive(Deserialize)]
pub struct SleepParam {
    ms: Option<String>,
}

/// The `/io` answer.
#[derive(Serialize)]
pub struct Slept {
    slept_ms: u64,
}

/// `GET /io?ms=N`: waits on the timer without holding a worker thread.
pub async fn sleep(
    params: Result<Query<SleepParam>, QueryRejection>,
) -> Result<Json<Slept>, ApiError> {
    let raw = params.as_ref().ok().and_then(|Query(p)| p.ms.as_deref());
    let ms = strict_int(raw, 0..=MAX_SLEEP_MS)
        .ok_or_else(|| ApiError::bad_request("ms must be an integer in 0..=10000"))?;
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(Json(Slept { slept_ms: ms }))
}
