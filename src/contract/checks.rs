//! The HTTP checks of the contract other than `POST /users` (users.rs) and WebSockets (ws.rs).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::dataset::{MAX_RANDOM, REQUEST_TIME_FORTUNE, WORLD_ROWS};
use super::http::Response;
use super::reference::{self, content_type_ok, Kind};
use super::Ctx;

/// Two Date headers this far apart must differ even on a server that caches its Date string
/// for up to a second.
const DATE_GAP: Duration = Duration::from_millis(2100);

/// Fails unless `resp` has status `code`.
pub fn expect_status(resp: &Response, code: u16, what: &str) -> Result<(), String> {
    if resp.status == code {
        Ok(())
    } else {
        Err(format!(
            "{what}: status {}, expected {code} (body {})",
            resp.status,
            resp.snippet()
        ))
    }
}

/// Fails unless `resp` has a Content-Type matching `kind`.
pub fn expect_kind(resp: &Response, kind: Kind, what: &str) -> Result<(), String> {
    match resp.header("content-type") {
        Some(ct) if content_type_ok(kind, ct) => Ok(()),
        Some(ct) => Err(format!(
            "{what}: Content-Type '{ct}' does not match the {kind:?} pattern"
        )),
        None => Err(format!("{what}: no Content-Type header")),
    }
}

/// `GET path`, expecting 200 and a JSON body.
fn get_json(ctx: &Ctx<'_>, path: &str) -> Result<Value, String> {
    let what = format!("GET {path}");
    let resp = ctx.client.get(path)?;
    expect_status(&resp, 200, &what)?;
    expect_kind(&resp, Kind::Json, &what)?;
    resp.json().map_err(|e| format!("{what}: {e}"))
}

/// Checks one `{"id":i,"randomNumber":r}` object and returns `(id, randomNumber)`.
fn world_row(value: &Value, what: &str) -> Result<(i64, i64), String> {
    let obj = value
        .as_object()
        .filter(|o| o.len() == 2)
        .ok_or_else(|| format!("{what}: expected {{\"id\":i,\"randomNumber\":r}}, got {value}"))?;
    let int = |key: &str| {
        obj.get(key)
            .and_then(Value::as_i64)
            .ok_or_else(|| format!("{what}: '{key}' is not an integer in {value}"))
    };
    let (id, n) = (int("id")?, int("randomNumber")?);
    if !(1..=WORLD_ROWS).contains(&id) {
        return Err(format!("{what}: id {id} is outside 1..={WORLD_ROWS}"));
    }
    Ok((id, n))
}

/// Checks a row against the dataset as created.
fn matches_table(ctx: &Ctx<'_>, (id, n): (i64, i64), what: &str) -> Result<(), String> {
    let want = ctx.dataset.world[id as usize - 1];
    if n == want {
        Ok(())
    } else {
        Err(format!(
            "{what}: row {id} has randomNumber {n}, the table has {want}"
        ))
    }
}

/// `GET /healthz` answers 200 `ok`.
pub fn healthz(ctx: &Ctx<'_>) -> Result<(), String> {
    let resp = ctx.client.get("/healthz")?;
    expect_status(&resp, 200, "GET /healthz")?;
    expect_kind(&resp, Kind::Text, "GET /healthz")?;
    if String::from_utf8_lossy(&resp.body).trim() != "ok" {
        return Err(format!(
            "GET /healthz: body {}, expected \"ok\"",
            resp.snippet()
        ));
    }
    Ok(())
}

/// `GET /plaintext` answers exactly `Hello, World!` as text/plain.
pub fn plaintext(ctx: &Ctx<'_>) -> Result<(), String> {
    let resp = ctx.client.get("/plaintext")?;
    expect_status(&resp, 200, "GET /plaintext")?;
    expect_kind(&resp, Kind::Text, "GET /plaintext")?;
    if resp.body != b"Hello, World!" {
        return Err(format!(
            "GET /plaintext: body {}, expected \"Hello, World!\"",
            resp.snippet()
        ));
    }
    Ok(())
}

/// `GET /json` answers exactly `{"message":"Hello, World!"}`.
pub fn json(ctx: &Ctx<'_>) -> Result<(), String> {
    let value = get_json(ctx, "/json")?;
    let want = json!({"message": "Hello, World!"});
    if value != want {
        return Err(format!("GET /json: body {value}, expected {want}"));
    }
    Ok(())
}

/// `GET /db` answers rows that match the table.
pub fn db(ctx: &Ctx<'_>) -> Result<(), String> {
    for _ in 0..20 {
        let value = get_json(ctx, "/db")?;
        let row = world_row(&value, "GET /db")?;
        matches_table(ctx, row, "GET /db")?;
    }
    Ok(())
}

/// `GET /db` picks its row at random: many distinct ids over 200 requests.
pub fn db_random(ctx: &Ctx<'_>) -> Result<(), String> {
    const REQUESTS: usize = 200;
    // 200 draws from 10,000 give about 198 distinct ids; 180 is far out in the tail.
    const MIN_DISTINCT: usize = 180;
    let mut ids = HashSet::new();
    for _ in 0..REQUESTS {
        let value = get_json(ctx, "/db")?;
        ids.insert(world_row(&value, "GET /db")?.0);
    }
    if ids.len() < MIN_DISTINCT {
        return Err(format!(
            "GET /db: only {} distinct ids in {REQUESTS} requests (expected at least \
             {MIN_DISTINCT}); ids must be random",
            ids.len()
        ));
    }
    Ok(())
}

/// Fetches `path` and checks it is an array of `want` valid rows; returns them.
fn rows(ctx: &Ctx<'_>, path: &str, want: usize) -> Result<Vec<(i64, i64)>, String> {
    let what = format!("GET {path}");
    let value = get_json(ctx, path)?;
    let array = value
        .as_array()
        .ok_or_else(|| format!("{what}: expected a JSON array, got {}", short(&value)))?;
    if array.len() != want {
        return Err(format!("{what}: {} rows, expected {want}", array.len()));
    }
    array.iter().map(|v| world_row(v, &what)).collect()
}

/// The clamping cases of `n` shared by `/queries` and `/updates`: (query, rows expected).
const CLAMPS: &[(&str, usize)] = &[
    ("?n=2", 2),
    ("?n=7", 7),
    ("?n=0", 1),
    ("?n=-3", 1),
    ("?n=foo", 1),
    ("?n=", 1),
    ("", 1),
    ("?n=501", 500),
];

/// `GET /queries?n=N` answers N rows matching the table, with n clamped to 1..=500.
pub fn queries(ctx: &Ctx<'_>) -> Result<(), String> {
    for &(query, want) in CLAMPS {
        let path = format!("/queries{query}");
        let got = rows(ctx, &path, want)?;
        for &row in &got {
            matches_table(ctx, row, &format!("GET {path}"))?;
        }
        if want == 500 {
            let distinct = got.iter().map(|r| r.0).collect::<HashSet<_>>().len();
            if distinct < 450 {
                return Err(format!(
                    "GET {path}: only {distinct} distinct ids in 500 rows; ids must be random"
                ));
            }
        }
    }
    Ok(())
}

/// `GET /updates?n=N` answers N rows with new numbers that are then in the database file.
pub fn updates(ctx: &Ctx<'_>) -> Result<(), String> {
    // id → the numbers the latest answer naming it gave (a row may repeat within an answer).
    let mut latest: HashMap<i64, (String, Vec<i64>)> = HashMap::new();
    for &(query, want) in CLAMPS.iter().filter(|(q, _)| *q != "?n=7") {
        let path = format!("/updates{query}");
        let got = rows(ctx, &path, want)?;
        let mut this: HashMap<i64, Vec<i64>> = HashMap::new();
        for (id, n) in got {
            if !(1..=MAX_RANDOM).contains(&n) {
                return Err(format!(
                    "GET {path}: new randomNumber {n} for row {id} is outside 1..={MAX_RANDOM}"
                ));
            }
            this.entry(id).or_default().push(n);
        }
        for (id, ns) in this {
            latest.insert(id, (path.clone(), ns));
        }
    }
    let world = ctx.dataset.read_world()?;
    let mut ids: Vec<_> = latest.keys().copied().collect();
    ids.sort_unstable();
    for id in ids {
        let (path, ns) = &latest[&id];
        let stored = world[id as usize - 1];
        if !ns.contains(&stored) {
            return Err(format!(
                "GET {path} answered randomNumber {ns:?} for row {id}, but the database has \
                 {stored}: the update was not persisted"
            ));
        }
    }
    Ok(())
}

/// `GET /fortunes` renders every row plus the request-time one, sorted, escaped, in UTF-8.
pub fn fortunes(ctx: &Ctx<'_>) -> Result<(), String> {
    let what = "GET /fortunes";
    let resp = ctx.client.get("/fortunes")?;
    expect_status(&resp, 200, what)?;
    expect_kind(&resp, Kind::Html, what)?;
    let html = std::str::from_utf8(&resp.body)
        .map_err(|e| format!("{what}: body is not valid UTF-8 ({e})"))?;
    let got = reference::parse_fortunes(html).map_err(|e| format!("{what}: {e}"))?;
    for (id, raw) in &got {
        if raw.contains('<') || raw.contains('>') {
            return Err(format!(
                "{what}: row {id} is not HTML-escaped: {raw:?} (a live tag in the page)"
            ));
        }
    }
    let mut want = ctx.dataset.fortunes.clone();
    want.push((0, REQUEST_TIME_FORTUNE.to_string()));
    want.sort_by(|a, b| a.1.cmp(&b.1));
    if got.len() != want.len() {
        return Err(format!(
            "{what}: {} rows, expected {} (the table's {} plus id 0 added at request time)",
            got.len(),
            want.len(),
            want.len() - 1
        ));
    }
    for (i, ((id, raw), (want_id, want_msg))) in got.iter().zip(&want).enumerate() {
        let message = reference::unescape_html(raw);
        if (*id, &message) != (*want_id, want_msg) {
            return Err(format!(
                "{what}: row {} is ({id}, {message:?}), expected ({want_id}, {want_msg:?}) \
                 (rows sorted by message in code-point order)",
                i + 1
            ));
        }
    }
    Ok(())
}

/// `GET /io?ms=N` waits N ms and answers `{"slept_ms":N}`.
pub fn io(ctx: &Ctx<'_>) -> Result<(), String> {
    for ms in [0u64, 100] {
        let path = format!("/io?ms={ms}");
        let started = Instant::now();
        let value = get_json(ctx, &path)?;
        let took = started.elapsed();
        if value != json!({ "slept_ms": ms }) {
            return Err(format!(
                "GET {path}: body {value}, expected {{\"slept_ms\":{ms}}}"
            ));
        }
        // Timers may fire a little early; 90% of the wait is plenty to tell a real one.
        if took < Duration::from_millis(ms * 9 / 10) {
            return Err(format!(
                "GET {path}: answered after {took:?}, before the wait"
            ));
        }
    }
    Ok(())
}

/// Ten parallel `GET /io?ms=200` finish together, well under ten times 200 ms.
pub fn io_concurrent(ctx: &Ctx<'_>) -> Result<(), String> {
    const PARALLEL: usize = 10;
    const LIMIT: Duration = Duration::from_millis(1000);
    let barrier = std::sync::Barrier::new(PARALLEL);
    let started = Instant::now();
    let outcomes: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..PARALLEL)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let value = get_json(ctx, "/io?ms=200")?;
                    if value != json!({"slept_ms": 200}) {
                        return Err(format!("GET /io?ms=200: body {value}"));
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("request thread panicked".into()))
            })
            .collect()
    });
    let took = started.elapsed();
    outcomes.into_iter().collect::<Result<Vec<()>, String>>()?;
    if took > LIMIT {
        return Err(format!(
            "{PARALLEL} parallel GET /io?ms=200 took {took:.0?} in all (limit {LIMIT:?}): the \
             wait blocks other requests"
        ));
    }
    Ok(())
}

/// `GET /io` with a missing, non-integer or out-of-range `ms` answers 400 JSON.
pub fn io_invalid(ctx: &Ctx<'_>) -> Result<(), String> {
    for query in ["", "?ms=", "?ms=foo", "?ms=-1", "?ms=10001", "?ms=1.5"] {
        let path = format!("/io{query}");
        let resp = ctx.client.get(&path)?;
        expect_error_json(&resp, 400, &format!("GET {path}"))?;
    }
    Ok(())
}

/// Fails unless `resp` is `code` with a JSON `{"error": "..."}` body.
pub fn expect_error_json(resp: &Response, code: u16, what: &str) -> Result<(), String> {
    expect_status(resp, code, what)?;
    expect_kind(resp, Kind::Json, what)?;
    let value = resp.json().map_err(|e| format!("{what}: {e}"))?;
    if !value.get("error").is_some_and(Value::is_string) {
        return Err(format!(
            "{what}: body {}, expected {{\"error\": \"...\"}}",
            short(&value)
        ));
    }
    Ok(())
}

/// `GET /compute?n=N` matches faceoff's own figures within 1e-9 relative.
pub fn compute(ctx: &Ctx<'_>) -> Result<(), String> {
    let cases: &[(&str, u64)] = &[
        ("?n=10", 10),
        ("?n=1000000", 1_000_000),
        ("", 1),
        ("?n=foo", 1),
        ("?n=0", 1),
        ("?n=2000000", 1_000_000),
    ];
    for &(query, n) in cases {
        let path = format!("/compute{query}");
        let what = format!("GET {path}");
        let value = get_json(ctx, &path)?;
        let want = reference::compute(n);
        if value.get("n").and_then(Value::as_u64) != Some(n) {
            return Err(format!("{what}: n is {:?}, expected {n}", value.get("n")));
        }
        for (key, want) in [
            ("sum", want.sum),
            ("mean", want.mean),
            ("std", want.std),
            ("min", want.min),
            ("max", want.max),
        ] {
            let got = value
                .get(key)
                .and_then(Value::as_f64)
                .ok_or_else(|| format!("{what}: '{key}' is missing or not a number"))?;
            if !reference::close(got, want) {
                return Err(format!(
                    "{what}: {key} is {got}, expected {want} (within 1e-9 relative)"
                ));
            }
        }
    }
    Ok(())
}

/// Unknown paths answer 404.
pub fn not_found(ctx: &Ctx<'_>) -> Result<(), String> {
    for path in ["/no-such-path", "/plaintext/extra", "/jsonx"] {
        let resp = ctx.client.get(path)?;
        expect_status(&resp, 404, &format!("GET {path}"))?;
    }
    Ok(())
}

/// Every response so far carried a Date header, a framed body and no compression.
pub fn headers(ctx: &Ctx<'_>) -> Result<(), String> {
    let seen = ctx.client.seen();
    if seen.is_empty() {
        return Err("no response to look at".into());
    }
    for s in &seen {
        if s.date.as_deref().is_none_or(|d| d.trim().is_empty()) {
            return Err(format!("{}: no Date header", s.request));
        }
        if !s.framed {
            return Err(format!(
                "{}: neither Content-Length nor chunked encoding",
                s.request
            ));
        }
        if let Some(enc) = s.encoding.as_deref().filter(|e| *e != "identity") {
            return Err(format!(
                "{}: Content-Encoding '{enc}' though none was asked for",
                s.request
            ));
        }
    }
    Ok(())
}

/// The Date header changes between requests a couple of seconds apart. It reuses the first
/// response of the run, so it only waits for whatever is left of the gap.
pub fn date_changes(ctx: &Ctx<'_>) -> Result<(), String> {
    let (first_at, first) = match ctx
        .client
        .seen()
        .into_iter()
        .find_map(|s| Some((s.at, s.date?)))
    {
        Some(found) => found,
        None => {
            let resp = ctx.client.get("/plaintext")?;
            let date = resp
                .header("date")
                .ok_or("GET /plaintext: no Date header")?
                .to_string();
            (Instant::now(), date)
        }
    };
    let wait = DATE_GAP.saturating_sub(first_at.elapsed());
    std::thread::sleep(wait);
    let resp = ctx.client.get("/plaintext")?;
    let second = resp
        .header("date")
        .ok_or("GET /plaintext: no Date header")?;
    if second == first {
        return Err(format!(
            "the Date header stayed '{first}' over {:.1?}",
            first_at.elapsed()
        ));
    }
    Ok(())
}

fn short(value: &Value) -> String {
    let s = value.to_string();
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(120).collect::<String>())
    } else {
        s
    }
}
