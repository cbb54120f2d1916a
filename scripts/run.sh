#!/usr/bin/env bash
# Builds Hera with its web UI and runs `hera standalone` (server + local worker + SQLite in
# ./hera-data). Extra arguments go to `hera standalone`, e.g. `--listen 0.0.0.0:8080`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
frontend/build.sh
cargo build --release -p server
exec target/release/hera standalone "$@"
