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

/// The names in a manifest's `[dependencies]` table.
fn dependencies(krate: &str) -> Vec<String> {
    let manifest = fs::read_to_string(root().join(krate).join("Cargo.toml")).expect("a manifest");
    let table = manifest
        .split("\n[dependencies]")
        .nth(1)
        .unwrap_or_default();
    let table = table.split("\n[").next().unwrap_or_default();
    table
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            line.split(['=', ' ', '.'])
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[test]
fn the_core_depends_on_no_io_crate() {
    let allowed = [
        "chrono",
        "chrono-tz",
        "croner",
        "serde",
        "serde_json",
        "thiserror",
        "utoipa",
    ];
    for name in dependencies("app") {
        assert!(
            allowed.contains(&name.as_str()),
            "app may not depend on `{name}` (allowed: {allowed:?})"
        );
    }
}

#[test]
fn server_and_worker_share_only_the_core() {
    assert!(
        !dependencies("worker").iter().any(|d| d == "server"),
        "the worker must not depend on the server"
    );
    // The server embeds the worker only to run it in standalone mode (main.rs and standalone.rs).
    assert!(dependencies("server").iter().any(|d| d == "worker"));
    let mut files = Vec::new();
    rust_files(&root().join("server/src"), &mut files);
    for file in files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name == "main.rs" || name == "standalone.rs" {
            continue;
        }
        let text = fs::read_to_string(&file).unwrap_or_default();
        assert!(
            !text.contains("worker::"),
            "{}: only main.rs and standalone.rs use the worker crate",
            file.display()
        );
    }
    for krate in ["frontend", "app"] {
        let deps = dependencies(krate);
        assert!(
            !deps.iter().any(|d| d == "server" || d == "worker"),
            "{krate} depends on server or worker"
        );
    }
}
