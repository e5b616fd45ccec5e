#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) for the DAXFS toolkit.
#   scripts/setup.sh         the tools: Node packages, libfuse for daxfs-fuse, a build of every package,
#                            the tools on PATH (wrappers in $DAXFS_BIN_DIR, default /usr/local/bin)
#   scripts/setup.sh --all   also what the tests and benchmarks need: the two Debian kernels and their
#                            headers, QEMU, busybox, erofs-utils (the reference for bench/mkdaxfs),
#                            debootstrap (the rootfs of test/e2e, made by test/rootfs/make-rootfs.sh), and
#                            erofsfuse built from Debian's erofs-utils source (bench/fuse/rootfs.ts)
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=12.21.0
# zstd, xz-utils, bzip2: mkdaxfs --tar decodes those layers with the programs (docs/mkdaxfs.md).
# gcc, libc6-dev: daxfs-fuse's patched FUSE binding is compiled here (scripts/build-fuse-binding.mjs).
TOOL_PACKAGES=(libfuse2 fuse3 ca-certificates zstd xz-utils bzip2 gcc libc6-dev)
TEST_PACKAGES=(
  make python3 tar libarchive-tools lz4
  qemu-system-x86 busybox-static cpio xz-utils zstd kmod
  linux-image-6.12.117+deb12-amd64 linux-headers-6.12.117+deb12-amd64
  linux-image-amd64 linux-headers-amd64
  erofs-utils tmux
  debootstrap
  # erofsfuse, built by scripts/build-erofsfuse.sh (Debian 12 has no package for it)
  libfuse-dev autoconf automake libtool uuid-dev pkg-config
)

packages=("${TOOL_PACKAGES[@]}")
[[ "${1:-}" == "--all" ]] && packages+=("${TEST_PACKAGES[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
  echo "setup: Node 20.19 or newer is required (found $(node --version))" >&2
  exit 1
fi
if [[ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]]; then
  echo "setup: installing pnpm $PNPM_VERSION"
  npm install -g --silent "pnpm@$PNPM_VERSION" >/dev/null 2>&1
fi

install_log=$(mktemp)
if ! pnpm install --frozen-lockfile --reporter=append-only >"$install_log" 2>&1; then
  cat "$install_log" >&2
  exit 1
fi
rm -f "$install_log"
# fuse-native from its patched source (names as bytes, docs/fuse.md "Names"); if that cannot be
# built, daxfs-fuse runs on the shipped prebuild, which refuses names that are not UTF-8.
node scripts/build-fuse-binding.mjs >/dev/null ||
  echo "setup: daxfs-fuse keeps fuse-native's prebuild (names that are not UTF-8 are refused)" >&2
pnpm run -s build
if [[ "${1:-}" == "--all" ]]; then
  scripts/build-erofsfuse.sh || echo "setup: erofsfuse could not be built; bench/fuse/rootfs.ts needs it" >&2
fi

# The tools on PATH: one small wrapper per tool in $DAXFS_BIN_DIR (default /usr/local/bin), running
# this checkout's build (mkdaxfs, daxfs-inspect and daxfs-compact as their start-up bundles; docs/cli.md).
bin_dir=${DAXFS_BIN_DIR:-/usr/local/bin}
repo=$(pwd)
declare -A TOOLS=(
  [mkdaxfs]=packages/mkdaxfs/dist/bundle/cli.cjs
  [daxfs-inspect]=packages/inspect/dist/bundle/cli.cjs
  [daxfs-compact]=packages/compact/dist/bundle/cli.cjs
  [daxfs-branch]=packages/branch/dist/cli.js
  [daxfs-fuse]=packages/fuse-ref/dist/cli.js
  [daxfs-tui]=packages/tui/dist/cli.js
)
if mkdir -p "$bin_dir" 2>/dev/null && [[ -w "$bin_dir" ]]; then
  for tool in "${!TOOLS[@]}"; do
    printf '#!/bin/sh\n# %s from the DAXFS toolkit at %s (written by scripts/setup.sh)\nexec node "%s" "$@"\n' \
      "$tool" "$repo" "$repo/${TOOLS[$tool]}" >"$bin_dir/$tool"
    chmod 755 "$bin_dir/$tool"
  done
  echo "setup: mkdaxfs, daxfs-inspect, daxfs-compact, daxfs-branch, daxfs-fuse and daxfs-tui are in $bin_dir"
  # Man pages beside the default wrappers; a setup with its own DAXFS_BIN_DIR (a second checkout, a
  # user's ~/bin) leaves the system's man links to the checkout that owns them unless DAXFS_MAN_DIR says.
  man_dir=${DAXFS_MAN_DIR:-}
  [[ -z $man_dir && -z ${DAXFS_BIN_DIR:-} ]] && man_dir=/usr/local/share/man/man1
  if [[ -n $man_dir ]] && mkdir -p "$man_dir" 2>/dev/null && [[ -w "$man_dir" ]]; then
    for tool in "${!TOOLS[@]}"; do ln -sf "$repo/docs/man/$tool.1" "$man_dir/$tool.1"; done
    echo "setup: man pages linked in $man_dir"
  fi
else
  echo "setup: $bin_dir is not writable; run the tools as node packages/*/dist/cli.js (or set DAXFS_BIN_DIR)" >&2
fi
echo "setup: done"
