#!/usr/bin/env bash
# Rebuilds fuse-native's addon with packages/fuse-ref/native/fuse-native-utimens.patch applied
# (docs/fuse.md "Times"): upstream 2.2.6 passes the atime as both utimens times and cannot tell
# UTIME_NOW from UTIME_OMIT, so `tar x`, `cp -p` and `touch -m` cannot keep an mtime through
# daxfs-fuse. The addon goes to fuse-native's build/Release, which node-gyp-build loads before the
# prebuilt one. Run by scripts/setup.sh after `pnpm install`; needs gcc and Node's headers. Without
# them the upstream addon stays and daxfs-fuse falls back to its documented one-time reading.
set -euo pipefail
cd "$(dirname "$0")/.."

fuse_dir=$(cd packages/fuse-ref && node -p 'require("path").dirname(require.resolve("fuse-native/package.json"))')
# These packages print their paths when required (binding.gyp runs them the same way).
printed() { (cd "$fuse_dir" && realpath "$(node -e "require('$1')")"); }
lib_dir=$(dirname "$(printed fuse-shared-library/lib)")
include_dir=$(printed fuse-shared-library/include)
macros_dir=$(printed napi-macros)
node_include=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node
[[ -f "$node_include/node_api.h" ]] || node_include=/usr/include/node

if ! command -v gcc >/dev/null || [[ ! -f "$node_include/node_api.h" || ! -f "$node_include/uv.h" ]]; then
  echo "build-fuse-native: gcc or Node's headers missing; keeping fuse-native's prebuilt addon" >&2
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$fuse_dir/fuse-native.c" "$work/"
patch -s -d "$work" -p1 <packages/fuse-ref/native/fuse-native-utimens.patch
mkdir -p "$fuse_dir/build/Release"
gcc -shared -fPIC -O2 -D_FILE_OFFSET_BITS=64 -Wall -Wno-unused-result -Wno-unused-variable -Wno-unused-function \
  -I"$node_include" -I"$macros_dir" -I"$include_dir" \
  -o "$work/fuse.node" "$work/fuse-native.c" \
  -L"$lib_dir" -lfuse -Wl,-rpath,"$lib_dir" -lpthread
mv "$work/fuse.node" "$fuse_dir/build/Release/fuse.node"
(cd "$fuse_dir" && node -e 'if (require("node-gyp-build")(".").daxfs_utimens_fixed !== 1) process.exit(1)')
echo "build-fuse-native: $fuse_dir/build/Release/fuse.node (utimens fixed)"
