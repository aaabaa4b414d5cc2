//! The one resolver of faceoff's data folders: the reference contestants (`contestants/`),
//! suites, claims, profiles and pricing.
//!
//! `build.rs` embeds all of them in the binary, so `cargo install --path .` gives a `faceoff`
//! that works from any folder (issue 13). Which copy is used:
//! - inside the faceoff repository (the current directory holds its `Cargo.toml`), the
//!   repository's own folders, so a developer's edits apply without a rebuild;
//! - anywhere else, the embedded copy. Data files are read straight from the binary; the
//!   contestants are written out on first use to `<cache>/bundled/<version>-<hash>/`, keyed by
//!   a hash of every embedded file so two faceoff versions never share (or mix) a folder.
//!   Their install cache is keyed by content, so an upgrade that leaves a contestant alone
//!   reuses its install.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sha2::{Digest, Sha256};

mod table {
    include!(concat!(env!("OUT_DIR"), "/bundled_files.rs"));
}

/// One of the data folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    /// `contestants/`: one reference contestant per folder, plus `_shared/`.
    Contestants,
    /// `suites/*.toml`.
    Suites,
    /// `claims/*.toml`.
    Claims,
    /// `profiles/*.toml`.
    Profiles,
    /// `pricing/*.toml`.
    Pricing,
}

impl Folder {
    /// The folder's name in the repository.
    pub fn name(self) -> &'static str {
        match self {
            Folder::Contestants => "contestants",
            Folder::Suites => "suites",
            Folder::Claims => "claims",
            Folder::Profiles => "profiles",
            Folder::Pricing => "pricing",
        }
    }
}

/// Where a data file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The repository's own folder (the current directory is the faceoff repository).
    Repository,
    /// The copy built into this binary.
    Embedded,
}

/// The current directory when it is the faceoff repository: it holds a `Cargo.toml` of the
/// package `faceoff` and the `contestants/` folder.
fn repository() -> Option<PathBuf> {
    let manifest = std::fs::read_to_string("Cargo.toml").ok()?;
    let is_faceoff = manifest
        .lines()
        .any(|line| line.replace(' ', "") == "name=\"faceoff\"");
    (is_faceoff && Path::new(Folder::Contestants.name()).is_dir()).then(|| PathBuf::from("."))
}

/// Where the data files come from in this process: the repository, or the embedded copy.
pub fn origin() -> Origin {
    if repository().is_some() {
        Origin::Repository
    } else {
        Origin::Embedded
    }
}

/// The text of `<folder>/<name>.toml`: the repository's file when faceoff runs in the
/// repository and has it, else the embedded one; `None` when neither exists. The path returned
/// is the one shown in messages (relative to the repository).
pub fn data_file(folder: Folder, name: &str) -> Option<(PathBuf, Cow<'static, str>)> {
    if name.contains('/') || name.starts_with('.') {
        return None;
    }
    let rel = format!("{}/{name}.toml", folder.name());
    if let Some(text) = repository().and_then(|root| std::fs::read_to_string(root.join(&rel)).ok())
    {
        return Some((PathBuf::from(rel), Cow::Owned(text)));
    }
    let (_, bytes, _) = table::FILES.iter().find(|(path, _, _)| *path == rel)?;
    let text = std::str::from_utf8(bytes).ok()?;
    Some((PathBuf::from(rel), Cow::Borrowed(text)))
}

/// The folder of the reference contestants: the repository's `contestants/`, or the embedded
/// copy written out under `cache` (see the module docs).
pub fn contestants_dir(cache: &Path) -> anyhow::Result<PathBuf> {
    if let Some(root) = repository() {
        return Ok(root.join(Folder::Contestants.name()));
    }
    let dir = extract(cache)?;
    Ok(dir.join(Folder::Contestants.name()))
}

/// The folder name of this binary's embedded files: version and a hash of every file.
pub fn version_key() -> String {
    let mut hash = Sha256::new();
    for (path, bytes, executable) in table::FILES {
        hash.update(path.as_bytes());
        hash.update([0, u8::from(*executable)]);
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    }
    let digest = hash.finalize();
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{hex}", env!("CARGO_PKG_VERSION"))
}

/// Writes the embedded files out to `<cache>/bundled/<version_key>/` unless they are there,
/// and returns that folder. A temporary folder renamed into place keeps two faceoff processes
/// from seeing a half-written copy.
pub fn extract(cache: &Path) -> anyhow::Result<PathBuf> {
    let parent = std::path::absolute(cache.join("bundled"))
        .with_context(|| format!("could not resolve the cache folder '{}'", cache.display()))?;
    let dir = parent.join(version_key());
    if dir.is_dir() {
        return Ok(dir);
    }
    let tmp = parent.join(format!(".{}.{}.tmp", version_key(), std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    write_files(&tmp).with_context(|| {
        format!(
            "could not write faceoff's reference contestants to '{}'",
            tmp.display()
        )
    })?;
    match std::fs::rename(&tmp, &dir) {
        Ok(()) => Ok(dir),
        // Another faceoff put its identical copy in place first.
        Err(_) if dir.is_dir() => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(dir)
        }
        Err(e) => Err(e).with_context(|| format!("could not create '{}'", dir.display())),
    }
}

/// Writes every embedded file under `root`.
fn write_files(root: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for (path, bytes, executable) in table::FILES {
        let target = root.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, bytes)?;
        let mode = if *executable { 0o755 } else { 0o644 };
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_folder_is_embedded() {
        for folder in [
            Folder::Contestants,
            Folder::Suites,
            Folder::Claims,
            Folder::Profiles,
            Folder::Pricing,
        ] {
            let prefix = format!("{}/", folder.name());
            assert!(
                table::FILES.iter().any(|(p, _, _)| p.starts_with(&prefix)),
                "nothing embedded from {prefix}"
            );
        }
        assert!(table::FILES
            .iter()
            .any(|(p, _, x)| *p == "contestants/_shared/node/install.sh" && *x));
        assert!(!table::FILES
            .iter()
            .any(|(p, _, _)| p.contains("/node_modules/") || p.contains("/target/")));
    }

    #[test]
    fn extraction_matches_the_repository() {
        let cache = tempfile::tempdir().unwrap();
        let dir = extract(cache.path()).unwrap();
        assert_eq!(
            extract(cache.path()).unwrap(),
            dir,
            "a second call reuses it"
        );
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(env!("CARGO_PKG_VERSION")), "{name}");
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        for rel in ["contestants/node-http/app.js", "suites/quick.toml"] {
            assert_eq!(
                std::fs::read(dir.join(rel)).unwrap(),
                std::fs::read(repo.join(rel)).unwrap(),
                "{rel}"
            );
        }
    }
}
