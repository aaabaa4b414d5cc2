//! The JSON renderer: [`ReportData`] as pretty-printed JSON, versioned by its `schema` field and
//! described by `docs/results-schema.json`.

use super::{Exporter, ReportData};

/// Machine-readable results.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

impl Exporter for Json {
    fn render(&self, data: &ReportData) -> anyhow::Result<Vec<u8>> {
        let mut out = serde_json::to_vec_pretty(data)?;
        out.push(b'\n');
        Ok(out)
    }
}
