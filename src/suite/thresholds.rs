//! `[[threshold]]` tables of a suite file (issue 13): a condition (`expr`, the same language
//! as `--threshold`) and, optionally, the workload and the contestant it applies to.
//!
//! ```toml
//! [[threshold]]
//! expr = "p99 < 50ms"          # every workload, every contestant
//!
//! [[threshold]]
//! expr = "rps > 1000"
//! workload = "json"            # a workload of this suite (or a worker sweep's name)
//! contestant = "node-http"     # a contestant's name (checked when the run starts)
//! ```

use serde::Deserialize;
use toml::Spanned;

use super::validate::Ctx;
use super::Workload;
use crate::gate::{self, Threshold};

/// One `[[threshold]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawThreshold {
    pub expr: Spanned<String>,
    pub workload: Option<Spanned<String>>,
    pub contestant: Option<Spanned<String>>,
}

/// The suite's thresholds, each checked against the workloads of the plan; problems go to
/// `ctx` with the position of the value at fault (inside `expr`, the character at fault).
pub(super) fn build(
    raw: Vec<RawThreshold>,
    workloads: &[Workload],
    ctx: &mut Ctx,
) -> Vec<Threshold> {
    let mut out = Vec::new();
    for r in raw {
        let text = r.expr.get_ref();
        let mut t = match gate::parse_condition(text) {
            Ok(t) => t,
            Err(e) => {
                // The string's first character follows its opening quote.
                let at = r.expr.span().start + 1 + e.offset;
                ctx.at_offset(at, format!("{e}"));
                continue;
            }
        };
        if let Some(w) = &r.workload {
            let name = w.get_ref();
            if !workloads.iter().any(|wl| super::cores::picks(wl, name)) {
                let names: Vec<&str> = workloads.iter().map(|w| w.name.as_str()).collect();
                ctx.span(
                    &w.span(),
                    format!(
                        "threshold '{text}': the suite has no workload '{name}'; its workloads \
                         are {}",
                        names.join(", ")
                    ),
                );
            }
            t.workload = Some(name.clone());
        }
        if let Some(c) = &r.contestant {
            let name = c.get_ref();
            if name.is_empty() || name.contains(char::is_whitespace) {
                ctx.span(
                    &c.span(),
                    format!("threshold '{text}': '{name}' is not a contestant name"),
                );
            }
            t.contestant = Some(name.clone());
        }
        out.push(t);
    }
    out
}
