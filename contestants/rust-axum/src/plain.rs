//! Routes that touch nothing: `/healthz`, `/plaintext`, `/json` and the 404 fallback.

use axum::Json;
use serde::Serialize;

use crate::error::ApiError;

/// `GET /healthz`: faceoff polls this until it answers 200.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /plaintext`.
pub async fn plaintext() -> &'static str {
    "Hello, World!"
}

/// The `/json` body, built and serialized per request.
#[derive(Serialize)]
pub struct Greeting {
    message: &'static str,
}

/// `GET /json`.
pub async fn json() -> Json<Greeting> {
    Json(Greeting {
        message: "Hello, World!",
    })
}

/// Anything the router does not know.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}
