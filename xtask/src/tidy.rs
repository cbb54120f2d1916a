//! Tidy: rules of the repository enforced as tests, so they hold without review.

use std::{
    fs,
    path::{Path, PathBuf},
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target"
                && name != "node_modules"
                && !name.to_string_lossy().starts_with('.')
            {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

fn sources() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for krate in ["app", "server", "worker", "frontend", "xtask"] {
        rust_files(&root().join(krate), &mut files);
    }
    files
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let missing: Vec<String> = sources()
        .into_iter()
        .filter(|path| {
            !fs::read_to_string(path)
                .unwrap_or_default()
                .starts_with("//!")
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a `//!` module doc: {missing:#?}"
    );
}

#[test]
fn no_should_panic_or_ignored_tests() {
    let needles = [concat!("#[should", "_panic"), concat!("#[ig", "nore")];
    let offenders: Vec<String> = sources()
        .into_iter()
        .filter(|path| {
            let text = fs::read_to_string(path).unwrap_or_default();
            needles.iter().any(|n| text.contains(n))
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "assert the behaviour instead: {offenders:#?}"
    );
}

#[test]
fn the_core_depends_on_no_io_crate() {
    let manifest = fs::read_to_string(root().join("app/Cargo.toml")).expect("app/Cargo.toml");
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .expect("a dependencies table");
    let deps = deps.split("\n[").next().unwrap_or_default();
    let allowed = [
        "chrono",
        "chrono-tz",
        "croner",
        "serde",
        "serde_json",
        "thiserror",
        "utoipa",
    ];
    for line in deps
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let name = line.split(['=', ' ', '.']).next().unwrap_or_default();
        assert!(
            allowed.contains(&name),
            "app may not depend on `{name}` (allowed: {allowed:?})"
        );
    }
}

#[test]
fn server_and_worker_share_only_the_core() {
    let server = fs::read_to_string(root().join("server/Cargo.toml")).expect("server/Cargo.toml");
    let worker = fs::read_to_string(root().join("worker/Cargo.toml")).expect("worker/Cargo.toml");
    assert!(
        !worker.contains("server"),
        "the worker must not depend on the server"
    );
    // The server embeds the worker only to run it in standalone mode.
    assert!(
        fs::read_to_string(root().join("server/src/lib.rs"))
            .unwrap_or_default()
            .lines()
            .all(|l| !l.contains("worker::"))
    );
    assert!(server.contains("worker.workspace"));
}
