#!/bin/sh
# Installs a Node.js contestant from the npm registry only:
# 1. `npm ci --ignore-scripts`: its packages and its pinned Node.js runtime (the `node-linux-*`
#    package in its lockfile, which ships the binary and its headers); no install scripts run.
# 2. better-sqlite3's native addon, compiled against that runtime's headers (node-gyp pointed at
#    the package's include/ folder, never a download; no prebuilt binaries) once per
#    (better-sqlite3 version, runtime version, platform, ABI) in $FACEOFF_BUILDS_DIR, under a lock,
#    and copied from there by every contestant that needs the same one.
set -eu

npm ci --no-audit --no-fund --ignore-scripts

node="$PWD/node_modules/.bin/node"
[ -x "$node" ] || { echo "install.sh: no node_modules/.bin/node: the lockfile pins no Node.js runtime package for $(uname -sm)" >&2; exit 1; }
# The runtime package's folder: bin/node and include/node/.
nodedir=$(cd "$(dirname "$(readlink -f "$node")")/.." && pwd)
runtime=$("$node" -p 'process.version + "-" + process.platform + "-" + process.arch + "-abi" + process.versions.modules')
sqlite=$("$node" -p 'require("./node_modules/better-sqlite3/package.json").version')
echo "runtime: node $runtime from $nodedir"

builds="${FACEOFF_BUILDS_DIR:-$PWD/.builds}"
key="better-sqlite3-$sqlite-node-$runtime"
addon=node_modules/better-sqlite3/build/Release/better_sqlite3.node
mkdir -p "$builds"
(
    flock 9
    if [ -f "$builds/$key/better_sqlite3.node" ]; then
        echo "better-sqlite3: reusing $builds/$key"
    else
        echo "better-sqlite3: compiling $key"
        PATH="$(dirname "$node"):$PATH" \
            npm_config_nodedir="$nodedir" npm_config_build_from_source=true \
            npm rebuild better-sqlite3 --foreground-scripts
        rm -rf "$builds/$key.tmp"
        mkdir -p "$builds/$key.tmp"
        cp "$addon" "$builds/$key.tmp/"
        mv "$builds/$key.tmp" "$builds/$key"
    fi
) 9>"$builds/$key.lock"
mkdir -p "$(dirname "$addon")"
cp "$builds/$key/better_sqlite3.node" "$addon"
"$node" -e 'new (require("better-sqlite3"))(":memory:").prepare("select 1").get()'
echo "better-sqlite3: loads in node $runtime"
