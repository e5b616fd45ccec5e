#!/usr/bin/env bash
# Builds erofsfuse, the reference bench/fuse/rootfs.ts compares daxfs-fuse with, from Debian's own
# erofs-utils source: Debian 12 ships mkfs.erofs (erofs-utils 1.5) but no erofsfuse package (it
# starts with erofs-utils 1.6 in Debian 13), and bookworm-backports has none either. The source
# list is private to this script (a temporary deb-src list), so the system's apt sources are left
# alone. Installs /usr/local/bin/erofsfuse (or $DAXFS_BIN_DIR/erofsfuse). Run as root by
# scripts/setup.sh --all; needs libfuse-dev, autoconf, automake, libtool, uuid-dev, pkg-config, gcc.
set -euo pipefail

bin_dir=${DAXFS_BIN_DIR:-/usr/local/bin}
if [[ -x "$bin_dir/erofsfuse" ]]; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
# shellcheck source=lib/apt-mirror.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-mirror.sh"
echo "deb-src $(apt_mirror bookworm) bookworm main" >"$work/sources.list"
apt_private=(
  -o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=-"
  -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "APT::Sandbox::User=root"
)
apt-get "${apt_private[@]}" update -qq
(cd "$work" && apt-get "${apt_private[@]}" source --download-only -qq erofs-utils >/dev/null 2>&1)
tar -xzf "$work"/erofs-utils_*.orig.tar.gz -C "$work"
src=$(find "$work" -maxdepth 1 -type d -name 'erofs-utils-*' | head -n1)
(
  cd "$src"
  ./autogen.sh >/dev/null 2>&1
  ./configure --enable-fuse --disable-lz4 --without-selinux -q
  make -s -j"$(nproc)" >/dev/null
)
install -m 755 "$src/fuse/erofsfuse" "$bin_dir/erofsfuse"
echo "build-erofsfuse: $bin_dir/erofsfuse ($(basename "$src"))"
