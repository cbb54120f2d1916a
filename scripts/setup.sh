#!/usr/bin/env bash
# Installs what building and testing Hera needs, skipping whatever is already there:
#   scripts/setup.sh          the wasm32 target, trunk, wasm-bindgen-cli (to build and run)
#   scripts/setup.sh --test   also Debian's chromium, postgresql and mariadb-server (for the
#                             test suite; the tests start their own servers on loopback)
# Versions are the ones verified in docs/toolchain notes: trunk 0.21.14, wasm-bindgen 0.2.130.
set -euo pipefail

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

if ! trunk --version 2>/dev/null | grep -q '0.21.14'; then
    cargo install trunk --version 0.21.14 --locked
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q '0.2.130'; then
    # Its lockfile names a crate version the registry lacks, so no --locked here.
    cargo install wasm-bindgen-cli --version 0.2.130
fi

if [[ $want_test == 1 ]]; then
    missing=()
    command -v chromium >/dev/null || missing+=(chromium chromium-driver)
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
    [[ -x /usr/sbin/mariadbd ]] || missing+=(mariadb-server)
    if (( ${#missing[@]} )); then
        sudo=""
        [[ $(id -u) == 0 ]] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
fi
