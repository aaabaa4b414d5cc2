//! Reading one data file: TOML into serde types that mirror it (unknown fields are errors), and
//! a collector of problems with their file:line:column, as `suite/validate.rs` does for suites.

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;

use super::{Error, FileKind, Source};
use crate::suite::{problem_at, Problem};

/// Problems found in one file so far.
pub(super) struct Checker<'a> {
    kind: FileKind,
    source: &'a Source,
    problems: Vec<Problem>,
}

impl<'a> Checker<'a> {
    /// Parses `source` as `T`; a TOML or schema error is the only problem reported.
    pub fn parse<T: DeserializeOwned>(
        kind: FileKind,
        source: &'a Source,
    ) -> Result<(T, Checker<'a>), Error> {
        let mut checker = Checker {
            kind,
            source,
            problems: Vec::new(),
        };
        match toml::from_str(&source.text) {
            Ok(raw) => Ok((raw, checker)),
            Err(e) => {
                let offset = e.span().map_or(0, |s| s.start);
                checker.at(offset, e.message().trim_end().to_owned());
                Err(checker.into_error())
            }
        }
    }

    /// A problem at byte `offset` of the file.
    pub fn at(&mut self, offset: usize, message: String) {
        let problem = problem_at(&self.source.path, &self.source.text, offset, message);
        self.problems.push(problem);
    }

    /// A problem with the value written at `span`.
    pub fn span(&mut self, span: &Range<usize>, message: String) {
        self.at(span.start, message);
    }

    /// A problem with `value`.
    pub fn of<T>(&mut self, value: &Spanned<T>, message: String) {
        self.span(&value.span(), message);
    }

    /// Checks that a name is a short identifier (letters, digits, `-`, `_`, `.`).
    pub fn name(&mut self, value: &Spanned<String>, what: &str) {
        let name = value.get_ref();
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !ok {
            self.of(
                value,
                format!("{what} '{name}' must be 1 to 64 letters, digits, '-', '_' or '.'"),
            );
        }
    }

    /// Checks that a number is finite and within `lo..=hi`.
    pub fn number(&mut self, value: &Spanned<f64>, what: &str, lo: f64, hi: f64) -> f64 {
        let v = *value.get_ref();
        if !(v.is_finite() && lo <= v && v <= hi) {
            self.of(
                value,
                format!("{what} must be between {lo} and {hi}, not {v}"),
            );
        }
        v
    }

    /// The value, or the problems found.
    pub fn finish<T>(self, value: T) -> Result<T, Error> {
        if self.problems.is_empty() {
            Ok(value)
        } else {
            Err(self.into_error())
        }
    }

    fn into_error(mut self) -> Error {
        self.problems.sort_by_key(|p| (p.line, p.column));
        Error::Invalid {
            kind: self.kind,
            problems: self.problems,
        }
    }
}
