#!/bin/bash
# DAXFS QEMU bench: build daxfs.ko for a kernel, boot it under TCG with a pack
# of images as an emulated NVDIMM, run guest scenarios, collect the results.
#
#   test/qemu/run.sh --kernel 6.12 --image base=img.bin [--image ...] \
#       --scenario walk.sh [--scenario ...] [--out DIR] [--timeout SEC] [--host-root]
#
# Each --image NAME=FILE is copied into the pack at a 2 MiB aligned offset; in
# the guest, daxmount NAME MNT mounts it (guest/daxlib.sh). Scenarios run in
# file name order, one shell each; --host-root shares the host's root read-only
# over virtio-9p so that scenarios can run the host's programs (node, our CLIs)
# with host_run (guest/daxlib.sh); their stdout+stderr go to DIR/results.txt
# between "@@BEGIN name" and "@@END name RC". DIR/console.log is the serial
# console. Exit status: 0 when the guest finished, no scenario failed and the
# console and dmesg show no oops, BUG, WARNING, KASAN report or general
# protection fault; 1 otherwise (the console tail is printed); 2 on usage or
# build errors. Built artifacts are cached in test/qemu/.cache/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache="$here/.cache"
kernel="" out="" timeout=300 mem=1G
images=() scenarios=()

die() { echo "qemu bench: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--image) images+=("$2"); shift 2 ;;
	--scenario) scenarios+=("$2"); shift 2 ;;
	--out) out=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--build-only) build_only=1; shift ;;
	--host-root) host_root=1; shift ;;
	*) die "unknown argument '$1'" ;;
	esac
done
[ -n "$kernel" ] || die "--kernel VERSION is required (6.1, 6.12 or a full uname -r)"

# shellcheck source=build.sh
. "$here/build.sh"
kver=$(resolve_kernel "$kernel") || die "no kernel image and headers for '$kernel' under /boot and /usr/src"
[ -n "$out" ] || out=$(mktemp -d "${TMPDIR:-/tmp}/daxfs-qemu.XXXXXX")
mkdir -p "$out" "$cache/$kver"

# Test files run in parallel and share the build cache of a kernel: build under an exclusive
# lock and take private copies of the module and base initramfs before letting go.
exec 9>"$cache/$kver/build.lock"
flock 9
module=$(build_module "$kver") || die "module build failed for $kver"
base_cpio=$(build_base_initramfs "$kver") || die "initramfs build failed for $kver"
cp "$module" "$out/daxfs.ko" && cp "$base_cpio" "$out/base.cpio" || die "cannot copy the build to $out"
flock -u 9
exec 9>&-
[ -z "${build_only:-}" ] || { echo "$module"; exit 0; }
module="$out/daxfs.ko" base_cpio="$out/base.cpio"

run_dir="$out/run"
rm -rf "$run_dir" && mkdir -p "$run_dir/root/scenarios"

# The pack: every image at a 2 MiB boundary, the total a multiple of 2 MiB
# (the NVDIMM backend needs aligned sizes).
align=$((2 * 1024 * 1024))
pack="$out/pack.img"
: >"$pack"
offset=0
: >"$run_dir/root/pack.env"
for spec in "${images[@]}"; do
	name=${spec%%=*} file=${spec#*=}
	[[ "$name" =~ ^[A-Za-z0-9_]+$ ]] || die "image name '$name' must match [A-Za-z0-9_]+"
	[ -f "$file" ] || die "image file '$file' does not exist"
	size=$(stat -c %s "$file")
	dd if="$file" of="$pack" bs=1M seek=$((offset / 1048576)) conv=notrunc status=none
	echo "IMG_${name}_OFF=$offset IMG_${name}_SIZE=$size" >>"$run_dir/root/pack.env"
	offset=$(((offset + size + align - 1) / align * align))
done
[ "$offset" -gt 0 ] || offset=$align
truncate -s "$offset" "$pack"

i=0
for s in "${scenarios[@]}"; do
	[ -f "$s" ] || die "scenario '$s' does not exist"
	cp "$s" "$run_dir/root/scenarios/$(printf '%03d' $i)-$(basename "$s")"
	i=$((i + 1))
done
cp "$module" "$run_dir/root/daxfs.ko"
virtfs=()
if [ -n "${host_root:-}" ]; then
	# The guest mounts it on /hostroot; host_run chroots there and starts in the repo (the same path).
	echo "DAXFS_REPO=$(realpath "$repo")" >"$run_dir/root/hostroot.env"
	virtfs=(-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap")
fi
(cd "$run_dir/root" && find . | cpio -o -H newc -R 0:0 --quiet) >"$run_dir/run.cpio"
cat "$base_cpio" "$run_dir/run.cpio" >"$run_dir/initramfs.cpio"

console="$out/console.log" results="$out/results.txt"
: >"$console"; : >"$results"
# Several developers (or worktrees) on one 2-core machine: DAXFS_GUEST_LOCK=FILE boots one guest
# at a time machine-wide (TCG guests starve each other). Off by default: vitest's timeouts would
# count the wait.
if [ -n "${DAXFS_GUEST_LOCK:-}" ]; then
	exec 8>"$DAXFS_GUEST_LOCK"
	flock 8
fi
set +e
timeout --kill-after=5 "$timeout" qemu-system-x86_64 \
	-accel tcg -cpu max -smp 2 \
	-machine pc,nvdimm=on -m "$mem,slots=2,maxmem=4G" \
	-object "memory-backend-file,id=m1,share=on,mem-path=$pack,size=$offset" \
	-device nvdimm,id=nv1,memdev=m1 \
	"${virtfs[@]}" \
	-kernel "/boot/vmlinuz-$kver" -initrd "$run_dir/initramfs.cpio" \
	-append "console=ttyS0 rdinit=/init panic=-1 oops=panic loglevel=5" \
	-display none -monitor none -no-reboot \
	-serial "file:$console" -serial "file:$results"
qemu_rc=$?
set -e

failed=0
if [ "$qemu_rc" -eq 124 ] || [ "$qemu_rc" -eq 137 ]; then
	echo "qemu bench: guest timed out after ${timeout}s" >&2
	failed=1
elif grep -q '^@@BENCH hostroot failed' "$results"; then
	echo "qemu bench: the guest could not mount the host root (--host-root):" >&2
	grep '^@@BENCH hostroot' "$results" >&2
	failed=1
elif ! grep -q '^@@BENCH done' "$results"; then
	echo "qemu bench: guest stopped before finishing (qemu exit $qemu_rc)" >&2
	failed=1
fi
if grep -qE 'Oops|BUG:|WARNING:|KASAN|general protection' "$console" "$results"; then
	echo "qemu bench: kernel reported a problem:" >&2
	grep -m5 -E 'Oops|BUG:|WARNING:|KASAN|general protection' "$console" "$results" >&2 || true
	failed=1
fi
while read -r _ name rc; do
	if [ "$rc" = 0 ]; then echo "PASS $name"; else echo "FAIL $name (exit $rc)"; failed=1; fi
done < <(grep '^@@END ' "$results")
grep -q '^@@BENCH rmmod ok' "$results" || { echo "qemu bench: rmmod daxfs failed" >&2; failed=1; }

if [ "$failed" -ne 0 ]; then
	echo "---- console tail ($console) ----" >&2
	tail -n 40 "$console" >&2
	echo "---- results: $results ----" >&2
	exit 1
fi
echo "results: $results"
