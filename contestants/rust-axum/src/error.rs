//! Error answers: every failure is a status code with a JSON body `{"error": "..."}`.

use std::borrow::Cow;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::db::DbError;

/// A request that cannot be answered normally.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the request is malformed or a field is invalid; the text says which.
    BadRequest(Cow<'static, str>),
    /// 404: no route matches.
    NotFound,
    /// 413: the body is over the route's limit.
    PayloadTooLarge,
    /// 415: the body is not declared as `application/json`.
    UnsupportedMediaType,
    /// 500: the database failed; the detail goes to the log, not to the client.
    Database(DbError),
    /// 500: rendering a template failed.
    Template(askama::Error),
}

impl ApiError {
    /// A 400 with the given explanation.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::BadRequest(message.into())
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, message.as_ref()),
            Self::NotFound => (StatusCode::NOT_FOUND, "not found"),
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "body is over 1 MiB"),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/json",
            ),
            Self::Database(e) => {
                eprintln!("error: {e}");
                (StatusCode::INTERNAL_SERVER_ERROR, "database error")
            }
            Self::Template(e) => {
                eprintln!("error: template: {e}");
                (StatusCode::INTERNAL_SERVER_ERROR, "template error")
            }
        };
        (status, Json(ErrorBody { error: message })).into_response()
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        Self::Database(e)
    }
}

impl From<askama::Error> for ApiError {
    fn from(e: askama::Error) -> Self {
        Self::Template(e)
    }
}
