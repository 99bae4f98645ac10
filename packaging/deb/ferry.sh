#!/bin/sh
# /usr/bin/ferry: runs Ferry with the Node.js runtime shipped in this package.
exec /usr/lib/ferry/node/bin/node /usr/lib/ferry/dist/src/cli/main.js "$@"
