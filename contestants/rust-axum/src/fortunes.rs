//! `/fortunes`: every row of `fortune` plus one added per request, sorted by message and
//! rendered by an askama template, which HTML-escapes each message.

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use crate::app::AppState;
use crate::database::Database;
use crate::db::DbError;
use crate::error::ApiError;

/// One row of `fortune`.
pub struct Fortune {
    id: i64,
    message: String,
}

/// `templates/fortunes.html`, compiled into the binary; `.html` turns on HTML escaping.
#[derive(Template)]
#[template(path = "fortunes.html")]
struct FortunesPage {
    fortunes: Vec<Fortune>,
}

/// `GET /fortunes`.
pub async fn fortunes(State(state): State<AppState>) -> Result<Html<String>, ApiError> {
    let mut fortunes = match &state.db {
        Database::Sqlite(db) => {
            db.read(|conn| {
                let mut select = conn.prepare_cached("SELECT id, message FROM fortune")?;
                let rows = select.query_map([], |row| {
                    Ok(Fortune {
                        id: row.get(0)?,
                        message: row.get(1)?,
                    })
                })?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            })
            .await?
        }
        Database::Postgres(pg) => {
            let client = pg.client().await?;
            let select = client
                .prepare_cached("SELECT id, message FROM fortune")
                .await
                .map_err(DbError::from)?;
            let rows = client.query(&select, &[]).await.map_err(DbError::from)?;
            rows.iter()
                .map(|row| {
                    Ok(Fortune {
                        id: i64::from(row.try_get::<_, i32>(0)?),
                        message: row.try_get(1)?,
                    })
                })
                .collect::<Result<Vec<_>, deadpool_postgres::tokio_postgres::Error>>()
                .map_err(DbError::from)?
        }
    };
    fortunes.push(Fortune {
        id: 0,
        message: "Additional fortune added at request time.".to_owned(),
    });
    // `str` compares UTF-8 bytes, which orders exactly as code points do.
    fortunes.sort_by(|a, b| a.message.cmp(&b.message));
    Ok(Html(FortunesPage { fortunes }.render()?))
}
