#!/usr/bin/env bash
# Runs every check CI runs: generated-file drift, lint, typecheck/build, then the whole test suite
# (format, image model, tools, FUSE mounts, the kernel module in QEMU guests).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== generated files (format/daxfs.ksy -> kernel/daxfs_format.h, packages/format, docs/format.md)"
pnpm run -s gen:check
echo "== lint"
pnpm run -s lint
echo "== build"
pnpm run -s build
echo "== CLI reference (docs/cli.md and docs/man/ from the tools' --help)"
pnpm run -s cli-doc --check
echo "== typecheck (tests and scripts included)"
pnpm run -s typecheck
echo "== tests"
pnpm exec vitest run "$@"
