//! `faceoff new-contestant DIR --stack node|python|rust`: writes a contestant folder that works
//! as it is (issue 13): a manifest declaring the endpoints it serves, a minimal server for
//! `/healthz` and those endpoints, and a suite file that measures them. The Node.js and Python
//! templates have no dependencies (`node:http`, the standard library); the Rust one uses the
//! crates of the rust-axum reference contestant. The user then puts their own app behind the
//! same paths.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};

use crate::cli::{NewContestantArgs, TemplateStack};
use crate::contract::Endpoint;

/// The contract endpoints every template serves and declares.
pub const TEMPLATE_ENDPOINTS: [Endpoint; 4] = [
    Endpoint::Plaintext,
    Endpoint::Json,
    Endpoint::Io,
    Endpoint::Compute,
];

const NODE_SERVER: &str = include_str!("new_contestant/node/server.js");
const PYTHON_SERVER: &str = include_str!("new_contestant/python/server.py");
const RUST_MAIN: &str = include_str!("new_contestant/rust/main.rs");

/// Runs `faceoff new-contestant`.
pub fn run(args: NewContestantArgs) -> anyhow::Result<ExitCode> {
    let name = match &args.name {
        Some(name) => name.clone(),
        None => name_from_dir(&args.dir)?,
    };
    if !valid_name(&name) {
        bail!("'{name}' is not a contestant name; use lowercase letters, digits and '-', starting with a letter or digit (--name)");
    }
    let files = template_files(&name, args.stack);
    write_new(&args.dir, &files)?;
    let dir = args.dir.display();
    println!(
        "wrote a {} contestant '{name}' in {dir}:",
        args.stack.label()
    );
    for (path, _) in &files {
        println!("  {dir}/{path}");
    }
    println!(
        "check it:   faceoff verify --contestant {dir}\n\
         measure it: faceoff run --contestant {dir} --suite {dir}/suite.toml\n\
         (add --only {name} to leave the reference contestants out)"
    );
    Ok(ExitCode::SUCCESS)
}

/// The folder's last component, lowercased, with anything outside `[a-z0-9-]` made `-`.
fn name_from_dir(dir: &Path) -> anyhow::Result<String> {
    let absolute = std::path::absolute(dir)
        .with_context(|| format!("could not resolve '{}'", dir.display()))?;
    let base = absolute
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_matches('-').to_string();
    if name.is_empty() {
        bail!(
            "cannot name a contestant after '{}'; give --name",
            dir.display()
        );
    }
    Ok(name)
}

/// `[a-z0-9][a-z0-9-]*`, as manifests require.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Writes `files` into `dir`, which must not exist or be empty; nothing is overwritten.
fn write_new(dir: &Path, files: &[(String, String)]) -> anyhow::Result<()> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .with_context(|| format!("could not read '{}'", dir.display()))?
            .next()
            .is_none();
        if !empty {
            bail!(
                "'{}' already exists and is not empty; give a new folder",
                dir.display()
            );
        }
    }
    for (rel, text) in files {
        let path: PathBuf = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("could not create '{}'", parent.display()))?;
        }
        std::fs::write(&path, text)
            .with_context(|| format!("could not write '{}'", path.display()))?;
    }
    Ok(())
}

/// The files of a `stack` template named `name`: relative path and text.
pub fn template_files(name: &str, stack: TemplateStack) -> Vec<(String, String)> {
    let endpoints = TEMPLATE_ENDPOINTS
        .iter()
        .map(|e| format!("\"{}\"", e.name()))
        .collect::<Vec<_>>()
        .join(", ");
    let (identity, sections, sources): (&str, String, Vec<(String, String)>) = match stack {
        TemplateStack::Node => (
            "stack = \"Node.js\"\nlanguage = \"JavaScript\"\nframework = \"node:http\"\n\
             framework_version = \"built in\"\nrequires = [\"node\"]\n\
             description = \"Node's own http module in one process, no dependencies\"",
            "[start]\ncommand = \"exec node server.js\"\nhealth_timeout = \"30s\"\nworkers_max = 1\n\n\
             [versions]\ncommand = \"node -p '\\\"node=\\\" + process.versions.node'\"\n\n\
             [env]\nNODE_ENV = \"production\"\n"
                .to_string(),
            vec![("server.js".into(), NODE_SERVER.into())],
        ),
        TemplateStack::Python => (
            "stack = \"Python\"\nlanguage = \"Python\"\nframework = \"http.server\"\n\
             framework_version = \"standard library\"\nrequires = [\"python3\"]\n\
             description = \"The standard library's ThreadingHTTPServer in one process, no dependencies\"",
            "[start]\ncommand = \"exec python3 server.py\"\nhealth_timeout = \"30s\"\nworkers_max = 1\n\n\
             [versions]\ncommand = \"python3 -c 'import platform; print(\\\"python=\\\" + platform.python_version())'\"\n"
                .to_string(),
            vec![("server.py".into(), PYTHON_SERVER.into())],
        ),
        TemplateStack::Rust => (
            "stack = \"Rust\"\nlanguage = \"Rust\"\nframework = \"axum\"\n\
             framework_version = \"0.8\"\nrequires = [\"cargo\"]\n\
             description = \"axum on a tokio multi-thread runtime with WORKERS threads\"",
            "[install]\ncommand = \"cargo build --release\"\n\
             cache_key = [\"Cargo.toml\", \"src/main.rs\"]\n\n\
             [start]\ncommand = \"exec ./target/release/server\"\nhealth_timeout = \"60s\"\n\n\
             [versions]\ncommand = \"rustc --version | awk '{ print \\\"rustc=\\\" $2 }'\"\n"
                .to_string(),
            vec![
                ("Cargo.toml".into(), rust_cargo_toml()),
                ("src/main.rs".into(), RUST_MAIN.into()),
            ],
        ),
    };
    let manifest = format!(
        "# A faceoff contestant (docs/contestants.md). Put your own app behind the same paths,\n\
         # and list in `endpoints` the contract endpoints it serves; verify and the workloads skip\n\
         # the others and say so.\n\
         name = \"{name}\"\ndisplay_name = \"{name}\"\n{identity}\nendpoints = [{endpoints}]\n\n\
         {sections}"
    );
    let mut files = vec![("contestant.toml".to_string(), manifest)];
    files.extend(sources);
    files.push(("suite.toml".into(), suite(name)));
    files
}

/// The Rust template's package: the crates rust-axum uses, at the same versions.
fn rust_cargo_toml() -> String {
    "[package]\nname = \"contestant\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
     # A standalone package: never part of a parent workspace.\n[workspace]\n\n\
     [[bin]]\nname = \"server\"\npath = \"src/main.rs\"\n\n\
     [dependencies]\n\
     axum = { version = \"0.8\", default-features = false, features = [\"http1\", \"json\", \"query\", \"tokio\"] }\n\
     serde_json = \"1\"\n\
     tokio = { version = \"1\", features = [\"rt-multi-thread\", \"net\", \"time\"] }\n"
        .to_string()
}

/// A suite with one workload per template endpoint.
fn suite(name: &str) -> String {
    let mut text = format!(
        "# Workloads for the endpoints '{name}' declares: measure it with\n\
         #   faceoff run --contestant DIR --suite DIR/suite.toml\n\
         # (beside the reference contestants; add --only {name} for it alone). The fields are those\n\
         # of suites/standard.toml in the faceoff repository.\n\
         name = \"{name}\"\n\
         description = \"The contract endpoints {name} serves, short trials\"\n\n\
         [defaults]\nwarmup = \"1s\"\ntrial = \"2s\"\nmin_rounds = 3\nmax_rounds = 6\n\
         target_ci = 0.05\nconnections = 64\n"
    );
    for (workload, path, connections) in [
        ("plaintext", "/plaintext", None),
        ("json", "/json", None),
        ("io", "/io?ms=50", Some(256)),
        ("compute", "/compute?n=10000", None),
    ] {
        text.push_str(&format!("\n[[workload]]\nname = \"{workload}\"\n"));
        if let Some(c) = connections {
            text.push_str(&format!("connections = {c}\n"));
        }
        text.push_str(&format!("[[workload.request]]\npath = \"{path}\"\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_a_valid_contestant_with_a_valid_suite() {
        for stack in [
            TemplateStack::Node,
            TemplateStack::Python,
            TemplateStack::Rust,
        ] {
            let dir = tempfile::tempdir().unwrap();
            let app = dir.path().join("My App");
            write_new(&app, &template_files("my-app", stack)).unwrap();
            let c = crate::contestant::Contestant::load(&app).unwrap();
            assert_eq!(c.name(), "my-app");
            assert_eq!(
                c.manifest.endpoints.as_deref(),
                Some(&TEMPLATE_ENDPOINTS[..])
            );
            let plan = crate::suite::load_plan(&app.join("suite.toml")).unwrap();
            assert_eq!(plan.workloads.len(), TEMPLATE_ENDPOINTS.len());
            assert!(
                write_new(&app, &[]).is_err(),
                "a non-empty folder is refused"
            );
        }
        assert_eq!(
            name_from_dir(Path::new("/tmp/My App_2")).unwrap(),
            "my-app-2"
        );
        assert!(!valid_name("-x") && !valid_name("A") && valid_name("a-1"));
    }
}
