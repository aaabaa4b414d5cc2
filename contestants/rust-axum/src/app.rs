//! The router: every route of the API contract v1, the shared state, and the 404 fallback.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::broadcast;

use crate::database::Database;
use crate::{compute, fortunes, plain, sleep, users, world, ws};

/// Messages a slow `/ws/room` member may fall behind by before it skips ahead.
const ROOM_BACKLOG: usize = 4096;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The database pool(s).
    pub db: Database,
    /// The `/ws/room` channel: every member subscribes, every text message is sent here.
    pub room: broadcast::Sender<Utf8Bytes>,
    /// The last id handed out by `POST /users`.
    pub last_user_id: Arc<AtomicU64>,
}

/// Builds the application around an open database pool.
pub fn router(db: Database) -> Router {
    let (room, _) = broadcast::channel(ROOM_BACKLOG);
    let state = AppState {
        db,
        room,
        last_user_id: Arc::new(AtomicU64::new(0)),
    };
    Router::new()
        .route("/healthz", get(plain::healthz))
        .route("/plaintext", get(plain::plaintext))
        .route("/json", get(plain::json))
        .route("/db", get(world::single_query))
        .route("/queries", get(world::queries))
        .route("/updates", get(world::updates))
        .route("/fortunes", get(fortunes::fortunes))
        .route("/io", get(sleep::sleep))
        .route("/compute", get(compute::compute))
        .route(
            "/users",
            post(users::create).layer(DefaultBodyLimit::max(users::MAX_BODY_BYTES)),
        )
        .route("/ws", get(ws::echo))
        .route("/ws/room", get(ws::room))
        // The contract answers 404 to anything else, a known path with another method included.
        .fallback(plain::not_found)
        .method_not_allowed_fallback(plain::not_found)
        .with_state(state)
}
