#!/usr/bin/env bash
# A Debian bookworm minbase rootfs for the end-to-end tests (test/e2e/apt-fuse.test.ts), made
# once by debootstrap and cached: later runs print the cached directory without downloading.
#   test/rootfs/make-rootfs.sh            prints the rootfs directory (made if missing or stale)
#   DAXFS_ROOTFS_CACHE=DIR                cache root (default /var/cache/daxfs-test/rootfs)
#   DAXFS_ROOTFS_MAX_AGE_DAYS=N           remake a rootfs older than N days (default 30)
#   DAXFS_ROOTFS_MIRROR=URL               the mirror (default: the one apt uses on this machine)
# The cache key is suite + variant + architecture; the date it was made is in its .stamp file.
# Progress goes to stderr, the directory alone to stdout (docs/testing.md "A real rootfs").
set -euo pipefail

SUITE=bookworm
VARIANT=minbase
ARCH=$(dpkg --print-architecture)
CACHE=${DAXFS_ROOTFS_CACHE:-/var/cache/daxfs-test/rootfs}
MAX_AGE_DAYS=${DAXFS_ROOTFS_MAX_AGE_DAYS:-30}
dir="$CACHE/$SUITE-$VARIANT-$ARCH"
stamp="$dir.stamp"

# shellcheck source=../../scripts/lib/apt-mirror.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/apt-mirror.sh"

fresh() {
  [[ -f "$stamp" && -x "$dir/usr/bin/dpkg" ]] || return 1
  local made now
  made=$(stat -c %Y "$stamp")
  now=$(date +%s)
  ((now - made < MAX_AGE_DAYS * 86400))
}

command -v debootstrap >/dev/null || {
  echo "make-rootfs: debootstrap is not installed (scripts/setup.sh --all installs it)" >&2
  exit 1
}
mkdir -p "$CACHE"
# One maker at a time machine-wide; a second caller waits and then finds the cache fresh.
exec 9>"$CACHE/.lock"
flock 9
if ! fresh; then
  mirror=${DAXFS_ROOTFS_MIRROR:-$(apt_mirror "$SUITE")}
  tmp="$dir.tmp.$$"
  rm -rf "$tmp"
  echo "make-rootfs: debootstrap --variant=$VARIANT $SUITE from $mirror (once; cached in $dir)" >&2
  start=$(date +%s)
  if ! debootstrap --variant="$VARIANT" --arch="$ARCH" "$SUITE" "$tmp" "$mirror" >"$tmp.log" 2>&1; then
    echo "make-rootfs: debootstrap failed (last lines of $tmp.log):" >&2
    tail -n 5 "$tmp.log" >&2
    exit 1
  fi
  # The downloaded .debs are not part of a rootfs a container would ship.
  rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages
  rm -rf "$dir" "$stamp"
  mv "$tmp" "$dir"
  mv "$tmp.log" "$dir.log"
  echo "$SUITE $VARIANT $ARCH from $mirror in $(($(date +%s) - start)) s" >"$stamp"
  echo "make-rootfs: made in $(($(date +%s) - start)) s" >&2
fi
echo "$dir"
