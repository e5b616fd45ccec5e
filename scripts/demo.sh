#!/usr/bin/env bash
# The main job: build a DAXFS image from a directory (default: a small sample tree) and browse it.
#   scripts/demo.sh [DIR] [IMAGE]
# Suits a large tree (a whole rootfs): the tree is listed once, at most $DEMO_LINES lines (default 40).
# Leaves nothing in /tmp: the sample tree, the mount point and the default image are removed on exit
# (give IMAGE to keep the image).
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${DEMO_LINES:-40}
scratch=$(mktemp -d /tmp/daxfs-demo.XXXXXX)
fuse_pid=
cleanup() {
  if [[ -n "$fuse_pid" ]]; then
    fusermount -u "$scratch/mnt" 2>/dev/null || true
    wait "$fuse_pid" 2>/dev/null || true
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT

src=${1:-}
image=${2:-$scratch/demo.daxfs}
if [[ -z "$src" ]]; then
  src=$scratch/sample
  mkdir -p "$src/etc" "$src/usr/share/doc"
  echo "hello from daxfs" >"$src/etc/motd"
  cp README.md "$src/usr/share/doc/README.md"
  ln -s ../etc/motd "$src/usr/motd"
  ln "$src/etc/motd" "$src/etc/motd.hardlink"
fi
inspect() { node packages/inspect/dist/bundle/cli.cjs "$@"; }

node packages/mkdaxfs/dist/bundle/cli.cjs -d "$src" -o "$image" -b
inspect "$image"
echo
# The tree once, bounded: a rootfs has tens of thousands of entries.
# From a here-string, not a pipe: head leaves a pipe after $lines lines, and under pipefail the
# writer's SIGPIPE (status 141) would end the script on any tree longer than the pipe's buffer.
tree=$(inspect "$image" tree)
total=$(wc -l <<<"$tree")
head -n "$lines" <<<"$tree"
((total > lines)) && echo "... ($((total - lines)) more lines: daxfs-inspect $image tree)"
echo
inspect "$image" validate

# Try a change in a writable branch over FUSE, keep it, and see it land on main.
if [[ -c /dev/fuse && $(id -u) == 0 ]]; then
  mnt=$scratch/mnt
  mkdir "$mnt"
  node packages/fuse-ref/dist/cli.js "$image" "$mnt" --branch demo --parent main &
  fuse_pid=$!
  for _ in $(seq 100); do grep -q " $mnt fuse.daxfs " /proc/mounts && break; sleep 0.1; done
  echo "branch 'demo' mounted at $mnt"
  echo "written in branch demo" >"$mnt/from-branch.txt"
  listing=$(ls -l "$mnt")
  head -n "$lines" <<<"$listing"
  entries=$(wc -l <<<"$listing")
  ((entries > lines)) && echo "... ($((entries - lines)) more lines)"
  node packages/branch/dist/cli.js list
  node packages/branch/dist/cli.js commit -m "$mnt"
  fusermount -u "$mnt"
  wait "$fuse_pid" || true
  fuse_pid=
  echo "main after the commit (only the new file; the rest is as above):"
  inspect "$image" stat /from-branch.txt
  inspect "$image" cat /from-branch.txt
else
  echo "(run as root with /dev/fuse to try a writable branch over FUSE)"
fi
[[ -n "${2:-}" ]] || echo "(the image was a temporary file; give IMAGE to keep it: scripts/demo.sh DIR IMAGE)"
