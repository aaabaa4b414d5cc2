//! The answer (issue 12): the article's claims judged on a stored run, the monthly cost of each
//! contestant at the user's load, and a ranking per project profile.
//!
//! Everything here works on [`Facts`], a typed digest of one run (`facts.rs` fills it from the
//! report's figures, so one rule decides which trials count). Judging (`judge.rs`), cost
//! (`cost.rs`) and ranking (`profile.rs`) are pure functions of `Facts` and the data files, so
//! tests build `Facts` for every outcome and the reports render any past run again.
//!
//! The data files are TOML the user can copy and edit: `claims/*.toml`, `profiles/*.toml` and
//! `pricing/*.toml`. The ones in the repository are built into the binary; a name finds a
//! built-in file, a path (with a `/` or ending in `.toml`) reads a file. As with suites, every
//! problem of a file is reported at once with its file:line:column.

pub mod answer;
pub mod claims;
pub mod cost;
pub mod facts;
mod figures;
pub mod judge;
pub mod profile;
mod toml_file;

use std::path::PathBuf;

pub use answer::Answer;
pub use claims::ClaimsFile;
pub use cost::{CostEstimate, Pricing};
pub use facts::Facts;
pub use judge::{ClaimsReport, JudgedClaim, Outcome};
pub use profile::{Profile, ProfileVerdict};

use crate::suite::Problem;

/// The kinds of data file this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `claims/*.toml`.
    Claims,
    /// `profiles/*.toml`.
    Profile,
    /// `pricing/*.toml`.
    Pricing,
}

impl FileKind {
    /// The folder of the repository the built-in files of this kind come from.
    pub fn folder(self) -> &'static str {
        self.bundled().name()
    }

    /// What a file of this kind is called in messages.
    pub fn noun(self) -> &'static str {
        match self {
            FileKind::Claims => "claims file",
            FileKind::Profile => "profile",
            FileKind::Pricing => "pricing file",
        }
    }

    /// The names of the built-in files of this kind, in the order they are listed; their text
    /// comes from [`crate::bundled`] (the repository's folder when run there, else the
    /// binary's copy).
    fn builtin(self) -> &'static [&'static str] {
        match self {
            FileKind::Claims => &[claims::DEFAULT_CLAIMS],
            FileKind::Profile => &["realtime-chat", "rest-crud", "data-api", "mixed"],
            FileKind::Pricing => &[cost::DEFAULT_PRICING, "aws-fargate-arm-us-east-1"],
        }
    }

    /// The folder of these files among faceoff's data folders.
    fn bundled(self) -> crate::bundled::Folder {
        match self {
            FileKind::Claims => crate::bundled::Folder::Claims,
            FileKind::Profile => crate::bundled::Folder::Profiles,
            FileKind::Pricing => crate::bundled::Folder::Pricing,
        }
    }

    /// Names of the built-in files of this kind.
    pub fn builtin_names(self) -> Vec<&'static str> {
        self.builtin().to_vec()
    }
}

/// A data file's text and where it came from.
#[derive(Debug, Clone)]
pub struct Source {
    /// `builtin:NAME`, or the path as given.
    pub label: String,
    /// The path shown in problems: `claims/NAME.toml` for a built-in file.
    pub path: PathBuf,
    /// The text.
    pub text: String,
}

/// Finds `name_or_path`: a bare name is a built-in file of `kind`; anything with a `/` or
/// ending in `.toml` is read from disk.
pub fn source(kind: FileKind, name_or_path: &str) -> Result<Source, Error> {
    if name_or_path.contains('/') || name_or_path.ends_with(".toml") {
        let path = PathBuf::from(name_or_path);
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
            kind,
            path: path.clone(),
            source,
        })?;
        return Ok(Source {
            label: name_or_path.to_string(),
            path,
            text,
        });
    }
    let (path, text) = kind
        .builtin()
        .contains(&name_or_path)
        .then(|| crate::bundled::data_file(kind.bundled(), name_or_path))
        .flatten()
        .ok_or_else(|| Error::UnknownBuiltin {
            kind,
            name: name_or_path.to_string(),
        })?;
    Ok(Source {
        label: format!("builtin:{name_or_path}"),
        path,
        text: text.into_owned(),
    })
}

/// Why a data file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read {} '{}'", kind.noun(), path.display())]
    Read {
        /// What kind of file.
        kind: FileKind,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML, does not follow the format, or breaks a rule; every problem
    /// found is listed, one per line.
    #[error("{}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// What kind of file.
        kind: FileKind,
        /// The problems, in file order.
        problems: Vec<Problem>,
    },
    /// No built-in file of this kind has the name.
    #[error("there is no built-in {} named '{name}' (built in: {})", kind.noun(), kind.builtin_names().join(", "))]
    UnknownBuiltin {
        /// What kind of file.
        kind: FileKind,
        /// The name asked for.
        name: String,
    },
}

impl crate::hint::Hint for Error {
    fn hint(&self) -> Option<String> {
        let kind = match self {
            Error::Read { kind, .. } | Error::Invalid { kind, .. } => *kind,
            Error::UnknownBuiltin { .. } => {
                return Some("to use your own file, give its path, e.g. ./my-file.toml".into())
            }
        };
        let example = kind.builtin()[0];
        Some(format!(
            "{}/{example}.toml in the faceoff repository shows every field in use",
            kind.folder()
        ))
    }
}

#[cfg(test)]
mod tests;
