#!/usr/bin/env bash
# Runs the browser tests against a fresh `hera standalone`:
#   end2end/run.sh target/debug/hera [playwright arguments, e.g. tests/ide.spec.mjs]
# Installs the npm packages, starts the server on a free port with a temporary data directory,
# waits for /api/health, runs Playwright (Debian's Chromium) as admin with the generated password,
# stops the server and exits with Playwright's status. Screenshots go to end2end/screenshots/.
set -euo pipefail

hera="${1:?usage: end2end/run.sh <path-to-hera-binary>}"
hera="$(realpath "$hera")"
shift # the rest, if any, goes to Playwright (e.g. one spec file: tests/ide.spec.mjs)
cd "$(dirname "$0")"

npm ci --no-audit --no-fund --loglevel=error
mkdir -p screenshots

data="$(mktemp -d)"
port="$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
url="http://127.0.0.1:${port}"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid"
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$data"
}
trap cleanup EXIT

"$hera" standalone --data-dir "$data" --listen "127.0.0.1:${port}" >"$data/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 120); do
    if curl -fsS "${url}/api/health" >/dev/null 2>&1; then
        break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "hera exited before it answered:" >&2
        cat "$data/server.log" >&2
        exit 1
    fi
    sleep 0.5
done
if ! curl -fsS "${url}/api/health" >/dev/null; then
    echo "hera did not answer /api/health within 60 s:" >&2
    cat "$data/server.log" >&2
    exit 1
fi
if [[ ! -s "$data/initial-admin-password" ]]; then
    echo "no $data/initial-admin-password" >&2
    exit 1
fi

status=0
HERA_URL="$url" HERA_PASSWORD="$(cat "$data/initial-admin-password")" npx playwright test "$@" || status=$?
if [[ $status -ne 0 ]]; then
    echo "--- server log ---" >&2
    tail -n 200 "$data/server.log" >&2
fi
exit "$status"
