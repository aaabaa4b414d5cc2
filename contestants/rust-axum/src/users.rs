//! `POST /users`: a JSON body validated field by field, answered with the user and a fresh id
//! (nothing is stored).

use std::sync::atomic::Ordering;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::app::AppState;
use crate::error::ApiError;

/// Bodies over 1 MiB are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
const MAX_NAME_CHARS: usize = 64;
const MAX_EMAIL_CHARS: usize = 254;
const MAX_AGE: i64 = 150;

/// The fields as sent; serde rejects wrong types (an `age` that is a bool, a float or a string).
#[derive(Deserialize)]
struct UserFields {
    name: String,
    email: String,
    age: i64,
}

/// A request body that passed every check.
pub struct NewUser {
    name: String,
    email: String,
    age: i64,
}

/// The `201` answer.
#[derive(Serialize)]
pub struct User {
    id: u64,
    name: String,
    email: String,
    age: i64,
}

/// `POST /users`.
pub async fn create(State(state): State<AppState>, user: NewUser) -> (StatusCode, Json<User>) {
    let id = state.last_user_id.fetch_add(1, Ordering::Relaxed) + 1;
    let user = User {
        id,
        name: user.name,
        email: user.email,
        age: user.age,
    };
    (StatusCode::CREATED, Json(user))
}

impl<S: Send + Sync> FromRequest<S> for NewUser {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        // Checked here rather than by `Json`, which also takes `application/*+json`.
        if !is_json(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        // A map first: deserializing straight into the struct would also take a JSON array.
        let Json(object) = Json::<Map<String, Value>>::from_request(req, state)
            .await
            .map_err(from_json_rejection)?;
        let fields = UserFields::deserialize(Value::Object(object))
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        validate(fields)
    }
}

/// `application/json`, with or without parameters such as `; charset=utf-8`.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// Keeps the body-size status (413); every other failure to read JSON is the client's 400.
fn from_json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
        _ => ApiError::bad_request(rejection.body_text()),
    }
}

fn validate(fields: UserFields) -> Result<NewUser, ApiError> {
    let name_chars = fields.name.chars().count();
    if !(1..=MAX_NAME_CHARS).contains(&name_chars) {
        return Err(ApiError::bad_request("name must be 1 to 64 characters"));
    }
    if !is_email(&fields.email) {
        return Err(ApiError::bad_request(
            "email must be at most 254 characters with one '@' that is neither first nor last",
        ));
    }
    if !(0..=MAX_AGE).contains(&fields.age) {
        return Err(ApiError::bad_request(
            "age must be an integer from 0 to 150",
        ));
    }
    Ok(NewUser {
        name: fields.name,
        email: fields.email,
        age: fields.age,
    })
}

fn is_email(email: &str) -> bool {
    email.chars().count() <= MAX_EMAIL_CHARS
        && email.matches('@').count() == 1
        && !email.starts_with('@')
        && !email.ends_with('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(name: &str, email: &str, age: i64) -> UserFields {
        UserFields {
            name: name.to_owned(),
            email: email.to_owned(),
            age,
        }
    }

    #[test]
    fn accepts_limits() {
        assert!(validate(fields("a", "a@b", 0)).is_ok());
        assert!(validate(fields(
            &"é".repeat(64),
            &format!("{}@b", "a".repeat(252)),
            150
        ))
        .is_ok());
    }

    #[test]
    fn rejects_each_bad_field() {
        for bad in [
            fields("", "a@b", 1),
            fields(&"x".repeat(65), "a@b", 1),
            fields("a", "ab", 1),
            fields("a", "@ab", 1),
            fields("a", "ab@", 1),
            fields("a", "a@b@c", 1),
            fields("a", &format!("{}@b", "a".repeat(253)), 1),
            fields("a", "a@b", -1),
            fields("a", "a@b", 151),
        ] {
            assert!(validate(bad).is_err());
        }
    }

    #[test]
    fn content_type_must_be_json() {
        let accepted = ["application/json", "Application/JSON; charset=utf-8"];
        let refused = [
            "text/plain",
            "application/problem+json",
            "application/jsonx",
            "",
        ];
        for (value, expected) in accepted
            .iter()
            .map(|v| (v, true))
            .chain(refused.iter().map(|v| (v, false)))
        {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, value.parse().unwrap());
            assert_eq!(is_json(&headers), expected, "{value:?}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }
}
