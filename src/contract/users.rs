//! Checks of `POST /users`: validation (201 / 400), the 1 MiB body limit (413) and the media
//! type (415).

use std::collections::HashSet;

use serde_json::{json, Value};

use super::checks::{expect_error_json, expect_kind, expect_status};
use super::http::Response;
use super::reference::Kind;
use super::Ctx;

/// The body limit of the contract: 1 MiB.
pub const BODY_LIMIT_BYTES: usize = 1024 * 1024;

fn post(ctx: &Ctx<'_>, content_type: &str, body: &[u8]) -> Result<Response, String> {
    ctx.client.request(
        "POST",
        "/users",
        &[("Content-Type", content_type)],
        body,
        ctx.client.timeout,
    )
}

/// Checks a 201 answer to `sent` and returns its id.
fn created(resp: &Response, sent: &Value, what: &str) -> Result<Value, String> {
    expect_status(resp, 201, what)?;
    expect_kind(resp, Kind::Json, what)?;
    let got = resp.json().map_err(|e| format!("{what}: {e}"))?;
    for key in ["name", "email", "age"] {
        if got.get(key) != sent.get(key) {
            return Err(format!(
                "{what}: '{key}' is {:?} in the answer, {} was sent",
                got.get(key),
                sent[key]
            ));
        }
    }
    match got.get("id") {
        Some(id) if id.is_i64() || id.is_u64() || id.is_string() => Ok(id.clone()),
        other => Err(format!(
            "{what}: 'id' is {other:?}, expected an integer or a string"
        )),
    }
}

/// Valid users are created with 201 and unique ids.
pub fn create(ctx: &Ctx<'_>) -> Result<(), String> {
    let long_email = format!("{}@example.com", "a".repeat(254 - "@example.com".len()));
    let cases: Vec<(&str, Value)> = vec![
        (
            "application/json",
            json!({"name": "Ada Lovelace", "email": "ada@example.com", "age": 36}),
        ),
        (
            "application/json; charset=utf-8",
            json!({"name": "x".repeat(64), "email": long_email, "age": 0, "role": "extra fields are ignored"}),
        ),
        (
            "application/json",
            json!({"name": "Łukasz 李", "email": "l@x.pl", "age": 150}),
        ),
    ];
    let mut ids = HashSet::new();
    for (content_type, sent) in &cases {
        let what = format!("POST /users {sent}");
        let what = cut(&what);
        let resp = post(ctx, content_type, sent.to_string().as_bytes())?;
        let id = created(&resp, sent, &what)?;
        if !ids.insert(id.to_string()) {
            return Err(format!("{what}: id {id} was already given to another user"));
        }
    }
    Ok(())
}

/// Invalid or malformed bodies answer 400 JSON `{"error": ...}`.
pub fn invalid(ctx: &Ctx<'_>) -> Result<(), String> {
    let ok = || json!({"name": "A", "email": "a@b.c", "age": 20});
    let with = |key: &str, value: Value| {
        let mut v = ok();
        v[key] = value;
        v.to_string()
    };
    let without = |key: &str| {
        let mut v = ok();
        v.as_object_mut().expect("literal object").remove(key);
        v.to_string()
    };
    let cases: Vec<(&str, String)> = vec![
        ("age true", with("age", json!(true))),
        ("age 1.5", with("age", json!(1.5))),
        ("age \"20\"", with("age", json!("20"))),
        ("age -1", with("age", json!(-1))),
        ("age 151", with("age", json!(151))),
        ("age null", with("age", Value::Null)),
        ("email without @", with("email", json!("ab.c"))),
        ("email with two @", with("email", json!("a@b@c"))),
        ("email starting with @", with("email", json!("@b.c"))),
        ("email ending with @", with("email", json!("a@"))),
        (
            "email of 255 characters",
            with("email", json!(format!("{}@b.c", "a".repeat(251)))),
        ),
        ("email a number", with("email", json!(5))),
        ("name empty", with("name", json!(""))),
        ("name of 65 characters", with("name", json!("n".repeat(65)))),
        ("name a number", with("name", json!(42))),
        ("missing name", without("name")),
        ("missing email", without("email")),
        ("missing age", without("age")),
        (
            "malformed JSON",
            r#"{"name": "A", "email": "a@b.c","#.to_string(),
        ),
        ("a JSON array", format!("[{}]", ok())),
        ("JSON null", "null".to_string()),
        ("a JSON string", "\"hello\"".to_string()),
        ("an empty body", String::new()),
    ];
    for (label, body) in cases {
        let resp = post(ctx, "application/json", body.as_bytes())?;
        expect_error_json(&resp, 400, &format!("POST /users with {label}"))?;
    }
    Ok(())
}

/// A body just under 1 MiB is accepted; one over it answers 413.
pub fn size_limit(ctx: &Ctx<'_>) -> Result<(), String> {
    let padded = |total: usize| {
        let head = r#"{"name":"Big","email":"big@example.com","age":30,"padding":""#;
        let tail = "\"}";
        let pad = total - head.len() - tail.len();
        format!("{head}{}{tail}", "p".repeat(pad))
    };
    let under = padded(1_000_000);
    let resp = post(ctx, "application/json", under.as_bytes())?;
    let sent = json!({"name": "Big", "email": "big@example.com", "age": 30});
    created(
        &resp,
        &sent,
        "POST /users with a 1,000,000-byte body (under 1 MiB)",
    )?;
    let over = padded(BODY_LIMIT_BYTES + 64);
    let resp = post(ctx, "application/json", over.as_bytes())?;
    expect_status(
        &resp,
        413,
        &format!("POST /users with a {}-byte body (over 1 MiB)", over.len()),
    )
}

/// A body that is not declared as JSON answers 415.
pub fn media_type(ctx: &Ctx<'_>) -> Result<(), String> {
    let body = json!({"name": "A", "email": "a@b.c", "age": 20}).to_string();
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let resp = post(ctx, content_type, body.as_bytes())?;
        expect_status(
            &resp,
            415,
            &format!("POST /users with Content-Type {content_type}"),
        )?;
    }
    Ok(())
}

fn cut(text: &str) -> String {
    if text.chars().count() > 100 {
        format!("{}…", text.chars().take(100).collect::<String>())
    } else {
        text.to_string()
    }
}
