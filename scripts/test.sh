#!/usr/bin/env bash
# Runs every check and test Hera has, the same way CI does:
# formatting, clippy (native and wasm32), the wasm32 build of the core, all Rust tests (the store
# suite on SQLite and on a throwaway PostgreSQL cluster), and the browser end-to-end test in
# headless Chromium against a real `hera standalone`, and a smoke run of `hera bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n==> %s\n' "$*"; }

step "tools"
scripts/setup.sh --test

step "rustfmt"
cargo fmt --all -- --check

step "web UI build (trunk, release)"
frontend/build.sh

step "clippy"
cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

step "the core compiles for wasm32"
cargo check -p app --target wasm32-unknown-unknown

step "Rust tests (SQLite, PostgreSQL and MariaDB)"
HERA_REQUIRE_PG=1 HERA_REQUIRE_MYSQL=1 cargo test --workspace --exclude frontend
cargo test -p frontend

step "end-to-end in Chromium"
cargo build -p server
end2end/run.sh target/debug/hera

step "benchmark harness (smoke sizes: checks it works, not the timings)"
target/debug/hera bench --smoke --json target/bench-smoke.json

step "all green"
