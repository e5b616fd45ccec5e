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

# Try a change in a writable branch over FUSE, keep it, and see it land on main.
if [[ -c /dev/fuse && $(id -u) == 0 ]]; then
  mnt=$(mktemp -d /tmp/daxfs-mnt.XXXXXX)
  node packages/fuse-ref/dist/cli.js "$image" "$mnt" --branch demo --parent main &
  fuse_pid=$!
  for _ in $(seq 100); do grep -q " $mnt fuse.daxfs " /proc/mounts && break; sleep 0.1; done
  echo "branch 'demo' mounted at $mnt"
  echo "written in branch demo" >"$mnt/from-branch.txt"
  ls -l "$mnt"
  node packages/branch/dist/cli.js list
  node packages/branch/dist/cli.js commit -m "$mnt"
  fusermount -u "$mnt"
  wait "$fuse_pid" || true
  rmdir "$mnt"
  echo "main after the commit:"
  node packages/inspect/dist/cli.js "$image" tree
  node packages/inspect/dist/cli.js "$image" cat /from-branch.txt
else
  echo "(run as root with /dev/fuse to try a writable branch over FUSE)"
fi
