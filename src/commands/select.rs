//! Which contestants a command works on, from `--contestant DIR`, `--only NAME` and
//! `--skip NAME`: one rule for `run`, `verify` and `audit` (issue 13).
//!
//! The candidates are the reference contestants ([`crate::bundled::contestants_dir`]) and the
//! user's folders. `--only` keeps exactly the contestants it names, the user's or reference
//! ones; without it, `run` keeps every reference contestant beside the user's (the point of a
//! run is the comparison) and `verify`/`audit` check only the user's folders when some are
//! given. `--skip` then leaves contestants out. A user's contestant with the name of a
//! reference contestant stands in for it.

use std::path::{Path, PathBuf};

use anyhow::bail;

use crate::contestant::{self, Contestant, MANIFEST_FILE};

/// Whether the reference contestants stay beside the user's folders when `--only` is not
/// given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithOwn {
    /// Keep them (`run`: the user's app against the references).
    KeepReferences,
    /// Only the user's folders (`verify`, `audit`: check what you name).
    OwnOnly,
}

/// The contestants chosen, each loaded (so a manifest typo fails before any slow install), in
/// the order references first (by folder), then the user's folders as given.
pub fn choose(
    own: &[PathBuf],
    only: &[String],
    skip: &[String],
    with_own: WithOwn,
) -> anyhow::Result<Vec<Contestant>> {
    let mut own_loaded = Vec::with_capacity(own.len());
    for dir in own {
        if dir.is_dir() && !dir.join(MANIFEST_FILE).is_file() {
            bail!(
                "'{}' has no {MANIFEST_FILE}; a contestant is a folder with a manifest (see docs/contestants.md, or create one with `faceoff new-contestant`)",
                dir.display()
            );
        }
        own_loaded.push(Contestant::load(dir)?);
    }
    let needs_references =
        own.is_empty() || with_own == WithOwn::KeepReferences || !only.is_empty();
    let references = if needs_references {
        references()?
    } else {
        Vec::new()
    };
    let mut candidates: Vec<(Contestant, bool)> = references
        .into_iter()
        .filter(|r| !own_loaded.iter().any(|o| o.name() == r.name()))
        .map(|r| (r, false))
        .collect();
    candidates.extend(own_loaded.into_iter().map(|o| (o, true)));
    for name in only.iter().chain(skip) {
        if !candidates.iter().any(|(c, _)| c.name() == name) {
            let known: Vec<&str> = candidates.iter().map(|(c, _)| c.name()).collect();
            bail!(
                "there is no contestant '{name}'; they are {}",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            );
        }
    }
    let chosen: Vec<Contestant> = candidates
        .into_iter()
        .filter(|(c, is_own)| {
            let kept = if !only.is_empty() {
                only.iter().any(|n| n == c.name())
            } else {
                *is_own || own.is_empty() || with_own == WithOwn::KeepReferences
            };
            kept && !skip.iter().any(|n| n == c.name())
        })
        .map(|(c, _)| c)
        .collect();
    if chosen.is_empty() {
        bail!("no contestants chosen: --skip left none; name one with --only or --contestant DIR");
    }
    Ok(chosen)
}

/// The reference contestants, loaded, sorted by folder.
pub fn references() -> anyhow::Result<Vec<Contestant>> {
    let root = crate::bundled::contestants_dir(&contestant::cache_dir())?;
    reference_dirs(&root)?
        .iter()
        .map(|d| Contestant::load(d).map_err(anyhow::Error::from))
        .collect()
}

/// The folders under `root` with a manifest; an empty set is an error (a broken install).
fn reference_dirs(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let found = contestant::discover(root)?;
    if found.is_empty() {
        bail!(
            "no folder under '{}' has a {MANIFEST_FILE}; name a contestant with --contestant DIR",
            root.display()
        );
    }
    Ok(found)
}
