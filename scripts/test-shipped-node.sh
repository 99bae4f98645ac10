#!/bin/sh
# The whole mocha suite once more on the Node.js runtime the .deb ships (CI, after
# `npm run test:package`, which builds better-sqlite3 for that runtime into build/cache). For the
# run, node_modules' better-sqlite3 binary (built for the system Node) is replaced by the shipped
# one; the original is put back on exit. Child processes (ferry serve) inherit the shipped Node.
set -eu
cd "$(dirname "$0")/.."
node_dir="$(sh packaging/deb/fetch-node.sh)"
shipped_addon="$(ls build/cache/node_modules-*/node_modules/better-sqlite3/build/Release/better_sqlite3.node 2>/dev/null | head -n 1)"
if [ -z "$shipped_addon" ]; then
  echo "test-shipped-node: no better-sqlite3 built for the shipped Node in build/cache; run npm run package:deb first" >&2
  exit 1
fi
target=node_modules/better-sqlite3/build/Release/better_sqlite3.node
backup="$(mktemp)"
cp "$target" "$backup"
trap 'cp "$backup" "$target"; rm -f "$backup"' EXIT
trap 'exit 130' INT TERM
cp "$shipped_addon" "$target"
echo "test-shipped-node: mocha on $("$node_dir/bin/node" --version)"
"$node_dir/bin/node" node_modules/mocha/bin/mocha.js
