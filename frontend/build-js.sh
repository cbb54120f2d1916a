#!/bin/sh
# Bundles js/entry.js (cytoscape + dagre, CodeMirror) into bundle/hera.js with esbuild, installing the npm
# packages first when they are missing. Trunk runs this as its pre_build hook; the file is only
# replaced when its content changed, so cargo does not rebuild the crate needlessly.
set -eu
cd "$(dirname "$0")"
if [ ! -x node_modules/.bin/esbuild ]; then
    npm ci --no-audit --no-fund
fi
mkdir -p bundle
node_modules/.bin/esbuild js/entry.js --bundle --format=esm --minify --log-level=warning \
    --outfile=bundle/hera.js.tmp
if cmp -s bundle/hera.js.tmp bundle/hera.js; then
    rm bundle/hera.js.tmp
else
    mv bundle/hera.js.tmp bundle/hera.js
fi
