//! faceoff's Rust reference contestant: axum on a tokio multi-thread runtime with `WORKERS`
//! worker threads, serving the API contract v1 on `HOST:PORT` from the SQLite file at `DB_PATH`,
//! or from PostgreSQL at `DATABASE_URL` when faceoff sets it.

mod app;
mod compute;
mod config;
mod database;
mod db;
mod error;
mod fortunes;
mod params;
mod pg;
mod plain;
mod sleep;
mod users;
mod world;
mod ws;

use std::process::ExitCode;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::database::Database;

fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.workers)
        .enable_all()
        .build()
        .expect("the tokio runtime starts with valid settings");
    match runtime.block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let db = Database::open(&config).await?;
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?
        // Responses go out in one write; don't let Nagle hold back the next one on keep-alive.
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    eprintln!(
        "rust-axum listening on http://{} with {} worker thread(s), {}",
        config.addr,
        config.workers,
        db.describe(&config)
    );
    axum::serve(listener, app::router(db))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("server failed: {e}"))
}

/// Resolves on SIGTERM (how faceoff stops a contestant) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
