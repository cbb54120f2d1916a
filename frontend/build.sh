#!/bin/sh
# Builds the web UI into dist/ at the repository root, which the server embeds at compile time:
#   frontend/build.sh           release build (wasm-release profile, wasm-opt -Oz)
#   frontend/build.sh --debug   fast debug build
# Needs trunk 0.21.14 and wasm-bindgen-cli 0.2.130 on PATH and the wasm32-unknown-unknown target;
# installs the npm packages (esbuild, binaryen's wasm-opt, cytoscape) and fetches the crates first,
# because Trunk builds offline and never downloads tools.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/frontend"
# Reinstall when the lock file changed since the last install (new packages such as CodeMirror).
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -x node_modules/.bin/esbuild ] ||
    [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
fi
cd "$root"
cargo fetch --quiet
PATH="$root/frontend/node_modules/.bin:$PATH"
TRUNK_SKIP_VERSION_CHECK=true
export PATH TRUNK_SKIP_VERSION_CHECK
if [ "${1:-}" = "--debug" ]; then
    exec trunk build
else
    exec trunk build --release
fi
