//! A faceoff contestant on axum and tokio (the crates of faceoff's rust-axum): /healthz and the
//! contract endpoints its contestant.toml declares (docs/contestants.md). Replace the handlers
//! with calls into your own app, keeping the paths and answers.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

const MAX_SLEEP_MS: u64 = 10_000;
const MAX_COMPUTE_N: u64 = 1_000_000;

/// A decimal integer from a query parameter, or `None` when the value is not one.
fn integer(query: &HashMap<String, String>, key: &str) -> Option<i64> {
    query.get(key)?.parse().ok()
}

async fn plaintext() -> &'static str {
    "Hello, World!"
}

async fn json_hello() -> Json<Value> {
    Json(json!({ "message": "Hello, World!" }))
}

async fn io(Query(query): Query<HashMap<String, String>>) -> Response {
    match integer(&query, "ms").filter(|ms| (0..=MAX_SLEEP_MS as i64).contains(ms)) {
        Some(ms) => {
            tokio::time::sleep(Duration::from_millis(ms as u64)).await;
            Json(json!({ "slept_ms": ms })).into_response()
        }
        None => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": format!("ms must be an integer from 0 to {MAX_SLEEP_MS}") })),
        )
            .into_response(),
    }
}

async fn compute(Query(query): Query<HashMap<String, String>>) -> Json<Value> {
    let n = integer(&query, "n").map_or(1, |n| n.clamp(1, MAX_COMPUTE_N as i64)) as u64;
    let sample = |i: u64| ((i * 7919) % 10007) as f64 / 10007.0;
    let (mut sum, mut min, mut max) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
    for i in 0..n {
        let x = sample(i);
        sum += x;
        min = min.min(x);
        max = max.max(x);
    }
    let mean = sum / n as f64;
    let squares: f64 = (0..n).map(|i| (sample(i) - mean).powi(2)).sum();
    let std = (squares / n as f64).sqrt();
    Json(json!({ "n": n, "sum": sum, "mean": mean, "std": std, "min": min, "max": max }))
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": "not found" }))).into_response()
}

fn main() {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).expect("PORT");
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let workers = std::env::var("WORKERS").ok().and_then(|w| w.parse().ok()).unwrap_or(1);
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/plaintext", get(plaintext))
        .route("/json", get(json_hello))
        .route("/io", get(io))
        .route("/compute", get(compute))
        .fallback(not_found);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(async {
            let listener = tokio::net::TcpListener::bind((host.as_str(), port))
                .await
                .expect("bind PORT");
            axum::serve(listener, app).await.expect("serve");
        });
}
