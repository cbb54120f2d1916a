//! Repository tasks. `cargo test -p xtask` runs the tidy checks in `tidy.rs`.

#[cfg(test)]
mod tidy;

fn main() {
    println!("usage: cargo test -p xtask   (runs the repository's tidy checks)");
}
