//! Embeds the repository's data folders (reference contestants, suites, claims, profiles,
//! pricing) in the binary, so an installed `faceoff` works outside the repository
//! (`src/bundled.rs` extracts them on first use).
//!
//! It writes `$OUT_DIR/bundled_files.rs`: one `(path, bytes, executable)` row per file, in
//! path order, with `include_bytes!` so cargo tracks every file's contents.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The folders embedded, relative to the package root.
const FOLDERS: &[&str] = &["contestants", "suites", "claims", "profiles", "pricing"];

/// Folder names never embedded: dependencies and build outputs of a developer's own install
/// (kept in step with `contestant::install::SKIPPED_DIRS`).
const SKIPPED_DIRS: &[&str] = &[
    "node_modules",
    ".venv",
    "target",
    "__pycache__",
    ".git",
    ".faceoff-cache",
];

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut files: Vec<(String, PathBuf, bool)> = Vec::new();
    for folder in FOLDERS {
        println!("cargo:rerun-if-changed={folder}");
        walk(&root, &root.join(folder), &mut files);
    }
    files.sort();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let mut text = String::from("/// Every embedded file: path relative to the repository, bytes, executable.\npub static FILES: &[(&str, &[u8], bool)] = &[\n");
    for (rel, path, executable) in &files {
        text.push_str(&format!(
            "    ({rel:?}, include_bytes!({:?}), {executable}),\n",
            path.display().to_string()
        ));
    }
    text.push_str("];\n");
    let mut file = fs::File::create(out.join("bundled_files.rs")).expect("write to OUT_DIR");
    file.write_all(text.as_bytes()).expect("write to OUT_DIR");
}

/// Adds every file under `dir` (skipping [`SKIPPED_DIRS`] and compiled Python) to `files`.
fn walk(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf, bool)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if !SKIPPED_DIRS.contains(&name.as_str()) {
                walk(root, &path, files);
            }
        } else if meta.is_file() && !name.ends_with(".pyc") {
            let rel = path
                .strip_prefix(root)
                .expect("walked from the root")
                .to_string_lossy()
                .into_owned();
            let executable = meta.permissions().mode() & 0o111 != 0;
            files.push((rel, path, executable));
        }
    }
}
