//! Threshold expressions as written: `p99 < 50ms`, `errors < 0.1%`, `rps > 1000`, optionally
//! scoped on the command line as `json:rps > 1000` or `json/node-http:p99 < 20ms`.
//!
//! One parser for the command line and the suite file (`[[threshold]] expr = "..."`), so both
//! accept the same conditions and say the same thing about a mistake: the expression, the
//! column and the accepted forms.

use std::fmt;

use serde::Serialize;

use super::{Metric, Op, Threshold};

/// What a threshold looks like, for every parse error.
pub const ACCEPTED_FORMS: &str = "write METRIC OP LIMIT, e.g. 'p99 < 50ms', 'errors < 0.1%', \
    'rps > 1000' (metrics: rps, p50, p90, p99, p999, max, errors, cpu_per_1k, pss; operators: \
    <, <=, >, >=; latency and cpu_per_1k take us, ms or s; errors a % or a fraction; pss B, \
    KiB, MiB or GiB), optionally scoped as 'WORKLOAD:...', 'WORKLOAD/CONTESTANT:...' or \
    '*/CONTESTANT:...'";

/// A threshold that could not be read, with where in it the problem is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("threshold '{expr}', column {column}: {message}; {ACCEPTED_FORMS}")]
pub struct ParseError {
    /// The expression as given.
    pub expr: String,
    /// Column of the problem in characters, from 1.
    pub column: usize,
    /// Byte offset of the problem within `expr` (for file positions).
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// Where a threshold came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A `[[threshold]]` of the suite file.
    Suite,
    /// `--threshold` on the command line.
    CommandLine,
}

/// Parses a command-line threshold: `[SCOPE:]METRIC OP LIMIT`, where SCOPE is `WORKLOAD`,
/// `WORKLOAD/CONTESTANT` or `*/CONTESTANT` (`*` is every workload).
pub fn parse_cli(text: &str) -> Result<Threshold, ParseError> {
    let (workload, contestant, condition_at) = match text.find(':') {
        None => (None, None, 0),
        Some(colon) => {
            let scope = &text[..colon];
            let err = |at: usize, message: String| error(text, at, message);
            let (w, c) = match scope.split_once('/') {
                Some((w, c)) => (w.trim(), Some(c.trim())),
                None => (scope.trim(), None),
            };
            if w.is_empty() {
                return Err(err(
                    0,
                    "the scope names no workload (write '*' for every one)".into(),
                ));
            }
            if c == Some("") {
                return Err(err(colon, "the scope's contestant is empty".into()));
            }
            if let Some(bad) = [Some(w), c]
                .into_iter()
                .flatten()
                .find(|n| !is_name(n) && *n != "*")
            {
                let at = text.find(bad).unwrap_or(0);
                return Err(err(
                    at,
                    format!(
                        "'{bad}' is not a workload or contestant name (letters, digits, - and _)"
                    ),
                ));
            }
            if c == Some("*") {
                return Err(err(
                    colon,
                    "write '*/CONTESTANT:' or 'WORKLOAD:', not '/*'".into(),
                ));
            }
            let workload = (w != "*").then(|| w.to_string());
            (workload, c.map(str::to_string), colon + 1)
        }
    };
    let mut t = parse_at(text, condition_at)?;
    t.workload = workload;
    t.contestant = contestant;
    t.source = Source::CommandLine;
    Ok(t)
}

/// Parses the condition of a suite file's `[[threshold]]` (`expr`): no scope, which the table's
/// `workload` and `contestant` keys give.
pub fn parse_condition(text: &str) -> Result<Threshold, ParseError> {
    if let Some(colon) = text.find(':') {
        return Err(error(
            text,
            colon,
            "a suite file scopes a threshold with the keys workload = \"...\" and contestant = \
             \"...\" of its [[threshold]], not with 'SCOPE:'"
                .into(),
        ));
    }
    parse_at(text, 0)
}

/// Whether `s` is a plain workload or contestant name.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

fn error(text: &str, offset: usize, message: String) -> ParseError {
    let offset = offset.min(text.len());
    ParseError {
        expr: text.to_string(),
        column: text[..offset].chars().count() + 1,
        offset,
        message,
    }
}

/// Parses `METRIC OP LIMIT` starting at byte `start` of `text`.
fn parse_at(text: &str, start: usize) -> Result<Threshold, ParseError> {
    let err = |at: usize, message: String| error(text, at, message);
    let skip_space = |mut i: usize| {
        while text[i..].starts_with(char::is_whitespace) {
            i += text[i..].chars().next().map_or(1, char::len_utf8);
        }
        i
    };
    // METRIC
    let m_start = skip_space(start);
    let m_end = text[m_start..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(text.len(), |i| m_start + i);
    let name = &text[m_start..m_end];
    if name.is_empty() {
        return Err(err(m_start, "expected a metric".into()));
    }
    let metric = Metric::ALL
        .into_iter()
        .find(|m| m.name() == name || m.aliases().contains(&name))
        .ok_or_else(|| err(m_start, format!("unknown metric '{name}'")))?;
    // OP
    let o_start = skip_space(m_end);
    let rest = &text[o_start..];
    let (op, o_len) = if rest.starts_with("<=") {
        (Op::AtMost, 2)
    } else if rest.starts_with(">=") {
        (Op::AtLeast, 2)
    } else if rest.starts_with('<') {
        (Op::Below, 1)
    } else if rest.starts_with('>') {
        (Op::Above, 1)
    } else {
        return Err(err(
            o_start,
            format!("expected an operator (<, <=, >, >=) after '{name}'"),
        ));
    };
    // LIMIT: a number, then a unit
    let n_start = skip_space(o_start + o_len);
    let n_end = text[n_start..]
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E' || c == '_'))
        .map_or(text.len(), |i| n_start + i);
    // An exponent sign (1e-3) belongs to the number.
    let n_end = if text[..n_end].ends_with(['e', 'E']) && text[n_end..].starts_with(['-', '+']) {
        text[n_end + 1..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(text.len(), |i| n_end + 1 + i)
    } else {
        n_end
    };
    let number_text = text[n_start..n_end].replace('_', "");
    let number: f64 = match number_text.parse() {
        Ok(v) if f64::is_finite(v) => v,
        _ if number_text.is_empty() => {
            return Err(err(
                n_start,
                format!("expected a number after '{}'", op.symbol()),
            ))
        }
        _ => return Err(err(n_start, format!("'{number_text}' is not a number"))),
    };
    let u_start = skip_space(n_end);
    let unit = text[u_start..].trim_end();
    let scale = metric
        .unit_scale(unit)
        .map_err(|expected| err(u_start, format!("{} {expected}", metric.name())))?;
    let limit = number * scale;
    if metric == Metric::Errors && !(0.0..=1.0).contains(&limit) {
        return Err(err(
            n_start,
            "an error rate lies between 0 and 100% (0.001 or 0.1% is one request in 1,000)".into(),
        ));
    }
    Ok(Threshold {
        workload: None,
        contestant: None,
        metric,
        op,
        limit,
        condition: format!("{} {} {}{}", metric.name(), op.symbol(), number_text, unit),
        source: Source::Suite,
    })
}

impl Metric {
    /// The factor from a limit written with `unit` to the metric's own unit (µs, a fraction,
    /// req/s, ms per 1,000 responses, bytes), or what units it takes.
    fn unit_scale(self, unit: &str) -> Result<f64, &'static str> {
        match self {
            Metric::Rps => match unit {
                "" | "req/s" | "rps" => Ok(1.0),
                _ => Err("takes a plain number of requests per second, e.g. 'rps > 1000'"),
            },
            Metric::Errors => match unit {
                "" => Ok(1.0),
                "%" => Ok(0.01),
                _ => Err("takes a percentage or a fraction, e.g. 'errors < 0.1%' or '< 0.001'"),
            },
            Metric::P50 | Metric::P90 | Metric::P99 | Metric::P999 | Metric::Max => match unit {
                "us" | "µs" => Ok(1.0),
                "ms" => Ok(1e3),
                "s" => Ok(1e6),
                _ => Err("takes a duration with its unit: us, ms or s, e.g. 'p99 < 50ms'"),
            },
            Metric::CpuPer1k => match unit {
                "us" | "µs" => Ok(1e-3),
                "ms" => Ok(1.0),
                "s" => Ok(1e3),
                _ => Err(
                    "takes server CPU time per 1,000 responses with its unit: us, ms or s, \
                          e.g. 'cpu_per_1k < 500ms'",
                ),
            },
            Metric::Pss => match unit {
                "B" => Ok(1.0),
                "KiB" => Ok(1024.0),
                "MiB" => Ok(1024.0 * 1024.0),
                "GiB" => Ok(1024.0 * 1024.0 * 1024.0),
                _ => Err("takes bytes with a unit: B, KiB, MiB or GiB, e.g. 'pss < 200MiB'"),
            },
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.workload, &self.contestant) {
            (None, None) => {}
            (Some(w), None) => write!(f, "{w}:")?,
            (w, Some(c)) => write!(f, "{}/{c}:", w.as_deref().unwrap_or("*"))?,
        }
        f.write_str(&self.condition)
    }
}
