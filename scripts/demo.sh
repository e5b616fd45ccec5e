#!/usr/bin/env bash
# The main job: build a DAXFS image from a directory (default: a small sample tree) and browse it.
#   scripts/demo.sh [DIR] [IMAGE]
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-}
image=${2:-/tmp/daxfs-demo.img}
if [[ -z "$src" ]]; then
  src=$(mktemp -d /tmp/daxfs-sample.XXXXXX)
  mkdir -p "$src/etc" "$src/usr/share/doc"
  echo "hello from daxfs" >"$src/etc/motd"
  cp README.md "$src/usr/share/doc/README.md"
  ln -s ../etc/motd "$src/usr/motd"
  ln "$src/etc/motd" "$src/etc/motd.hardlink"
fi
node packages/mkdaxfs/dist/cli.js -d "$src" -o "$image" -b
node packages/inspect/dist/cli.js "$image"
node packages/inspect/dist/cli.js "$image" tree
node packages/inspect/dist/cli.js "$image" validate
