//! Copies the built UI (`dist/`, made by `trunk build`) into OUT_DIR so rust-embed can embed it,
//! or writes a one-page placeholder when the UI has not been built. Reruns on migration changes
//! (sqlx embeds them) and UI rebuilds.

use std::{fs, io, path::Path};

fn main() -> io::Result<()> {
    println!("cargo:rerun-if-changed=../migrations");
    println!("cargo:rerun-if-changed=../dist");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("ui");
    if out.exists() {
        fs::remove_dir_all(&out)?;
    }
    fs::create_dir_all(&out)?;
    let dist = Path::new("../dist");
    if dist.join("index.html").exists() {
        copy_dir(dist, &out)?;
    } else {
        println!(
            "cargo:warning=dist/ has no index.html: the binary serves a placeholder page (run `trunk build --release` first)"
        );
        fs::write(
            out.join("index.html"),
            "<!doctype html><title>Hera</title><p>The Hera web UI was not built into this binary. \
             Run <code>trunk build --release</code> and rebuild; the REST API under /api works.</p>",
        )?;
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            fs::create_dir_all(&target)?;
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
